# syntax=docker/dockerfile:1
# The Ticket Service image. By default it runs the API (gunicorn on 8082); the same image runs
# every other process by its command (see docker-compose.yml):
#   migrate                                   create the database if missing, then `flask db upgrade`
#   python -m consumers QUEUE                 one consumer: event-published, hold-tickets,
#                                             reserve-tickets, release-tickets or create-event-ticket
#   python -m consumers relay                 the outbox relay
#   flask --app wsgi tickets sweep-holds      the hold sweeper
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# --- builder: the pinned runtime requirements in a virtualenv, from wheels only -------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
# Wheels only: the slim image has no compiler, and every pinned package ships a wheel.
RUN /opt/venv/bin/pip install --no-cache-dir --only-binary=:all: --requirement /tmp/requirements.txt

# --- runtime: the virtualenv and the code, run as an unprivileged user ------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    FLASK_APP=wsgi \
    APP_ENV=production \
    PORT=8082
RUN groupadd --system --gid 10001 ticketservice \
    && useradd --system --uid 10001 --gid ticketservice --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin ticketservice
WORKDIR /srv/ticket-service
COPY --from=builder /opt/venv /opt/venv
# The code stays owned by root: the service writes only to /tmp (the metrics directory).
COPY config.py wsgi.py ./
COPY app ./app
COPY consumers ./consumers
COPY migrations ./migrations
COPY deploy ./deploy
USER 10001:10001
EXPOSE 8082
# Liveness of the API. Other processes from this image get their own check in docker-compose.yml.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8082')}/health/live\", timeout=4)"]
ENTRYPOINT ["/srv/ticket-service/deploy/docker-entrypoint.sh"]
CMD ["gunicorn", "--config", "deploy/gunicorn.conf.py", "wsgi:app"]
