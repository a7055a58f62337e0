"""Who is sending: MassTransit's HostInfo and endpoint addresses, for envelopes and fault headers."""

import os
import platform
import socket
import sys
from functools import cache
from urllib.parse import quote, unquote, urlsplit

from app.messaging.nodes import node_urls

ASSEMBLY = "ticket-service"
VERSION = "1.0.0.0"


@cache
def host_info():
    """Return this process's HostInfo, its properties as MassTransit names them (camelCase)."""
    return {
        "machineName": socket.gethostname(),
        "processName": os.path.basename(sys.argv[0]) or "python",
        "processId": os.getpid(),
        "assembly": ASSEMBLY,
        "assemblyVersion": VERSION,
        "frameworkVersion": platform.python_version(),
        "massTransitVersion": None,
        "operatingSystemVersion": f"{platform.system()} {platform.release()}",
    }


def host_headers():
    """Return the `MT-Host-*` headers MassTransit sets on a message it moves to an error or skipped queue."""
    return {f"MT-Host-{key[:1].upper()}{key[1:]}": "" if value is None else str(value)
            for key, value in host_info().items()}


def address(rabbitmq_url, name):
    """Return MassTransit's address of exchange or queue `name` on the broker of `rabbitmq_url`.

    `rabbitmq://host[:port]/[vhost/]name`: the port only when not 5672, the vhost only
    when not `/`; of a cluster's first node.
    """
    url = urlsplit(node_urls(rabbitmq_url)[0])
    host = url.hostname or "localhost"
    port = f":{url.port}" if url.port and url.port != 5672 else ""
    vhost = unquote(url.path[1:]) if url.path not in ("", "/") else "/"
    path = name if vhost == "/" else f"{quote(vhost, safe='')}/{name}"
    return f"rabbitmq://{host}{port}/{path}"
