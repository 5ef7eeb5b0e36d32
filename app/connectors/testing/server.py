"""Serve an ASGI app on a real loopback port, so connector tests talk real HTTP.

Connector tests run against real peers, not mocks: a small Starlette app that speaks the
system's API, served by uvicorn on ``127.0.0.1`` and a free port, in a background thread
(so it works from sync and async code alike and survives a blocked event loop).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

_START_TIMEOUT = 10.0


@contextmanager
def serve_app(app: Any, *, host: str = "127.0.0.1") -> Iterator[str]:
    """Run ``app`` until the block ends; yields its base URL, e.g. ``http://127.0.0.1:54321``.

    Args:
        app: any ASGI application.
        host: the loopback address to bind.
    """
    config = uvicorn.Config(
        app, host=host, port=0, log_level="warning", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="loopback-peer", daemon=True)
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the loopback server did not start")
        time.sleep(0.005)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=_START_TIMEOUT)


def closed_url(host: str = "127.0.0.1") -> str:
    """A loopback URL where nothing listens (a port just freed), to test unreachable peers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port = sock.getsockname()[1]
    return f"http://{host}:{port}"
