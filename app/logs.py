"""Process-wide logging: one line per record on stderr, at `LOG_LEVEL`."""

import logging


def configure_logging(level):
    """Log to stderr at `level` unless the process (gunicorn, pytest) configured logging already."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(process)d %(name)s %(message)s")
    logging.getLogger("pika").setLevel(max(logging.WARNING, root.level))
