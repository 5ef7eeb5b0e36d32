"""The real ``innsyn`` command: migrate, serve on a free loopback port, drive it over HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

INNSYN = [sys.executable, "-m", "app.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(base: str, server: subprocess.Popen[Any], *, seconds: float = 30) -> None:
    """Until the served app answers /readyz (the guard only turns a hang into a failure)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert server.poll() is None, "server exited early"
        assert time.monotonic() < deadline, "server did not become ready"
        time.sleep(0.1)


@contextmanager
def serving(env: dict[str, str]) -> Iterator[str]:
    """A real ``innsyn serve`` on a free loopback port; yields its base URL once ready."""
    port = free_port()
    server = subprocess.Popen(
        [*INNSYN, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, server)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [*INNSYN, *args], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


def test_serve_process_end_to_end(service_env):
    env = service_env
    run(env, "migrate")
    token = run(env, "token", "--role", "operator")
    api_key = run(env, "apikey", "create", "--name", "website").splitlines()[-1]
    port = free_port()
    server = subprocess.Popen(
        [*INNSYN, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, server)
        body = {"kind": "access", "subject": {"email": "smoke@example.no"}}
        created = httpx.post(f"{base}/v1/requests", json=body, headers={"X-API-Key": api_key})
        assert created.status_code == 201, created.text
        request_id = created.json()["id"]
        staff = {"Authorization": f"Bearer {token}"}
        view = httpx.get(f"{base}/v1/requests/{request_id}", headers=staff)
        assert view.status_code == 200
        assert view.json()["subject"]["email"] == "smoke@example.no"
        assert (
            httpx.get(f"{base}/v1/requests", headers=staff).json()["items"][0]["id"] == request_id
        )
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "Innsyn"
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status reports it.
    assert server.returncode in (0, -15), output
    assert "innsyn token --role operator" in output
    assert "smoke@example.no" not in output  # no personal data in the logs
