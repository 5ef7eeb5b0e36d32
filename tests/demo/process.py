"""A real ``innsyn demo`` process for tests that drive it from outside (HTTP, a browser)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.test_smoke_serve import INNSYN, free_port, wait_ready

POLL_SECONDS = 60.0


@dataclass
class Demo:
    base: str
    staff: dict[str, str]
    var_dir: Path
    process: subprocess.Popen[bytes]
    approver: dict[str, str]

    def url(self, path: str) -> str:
        return self.base + path

    def get(self, path: str, **params: str) -> Any:
        response = httpx.get(self.url(path), headers=self.staff, params=params, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def post(
        self, path: str, body: dict[str, Any], expected: int = 200, *, approve: bool = False
    ) -> Any:
        headers = self.approver if approve else self.staff
        response = httpx.post(self.url(path), headers=headers, json=body, timeout=10)
        assert response.status_code == expected, response.text
        return response.json()

    def wait_for(self, request_id: str, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The staff view once ``done`` holds; fails after POLL_SECONDS."""
        deadline = time.monotonic() + POLL_SECONDS
        while True:
            view: dict[str, Any] = self.get(f"/v1/requests/{request_id}")
            if done(view):
                return view
            assert self.process.poll() is None, "the demo process exited"
            assert time.monotonic() < deadline, f"request stuck: {states(view)}"
            time.sleep(0.2)


def states(view: dict[str, Any]) -> list[tuple[str, str, str, str | None]]:
    return [(t["connector"], t["action"], t["status"], t["last_error"]) for t in view["tasks"]]


def settled(view: dict[str, Any]) -> bool:
    return bool(view["status"] in ("completed", "awaiting_manual"))


def completed(view: dict[str, Any]) -> bool:
    return bool(view["status"] == "completed")


@contextmanager
def running_demo(root: Path, *extra_env: tuple[str, str]) -> Iterator[tuple[Demo, Path, Path]]:
    """``innsyn demo`` on a free port under ``root``; yields it with its stdout and stderr
    files, and stops it with SIGTERM after."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INNSYN_", "DEMO_"))}
    env["INNSYN_VAR_DIR"] = str(root / "var")
    env.update(dict(extra_env))
    port = free_port()
    stdout, stderr = root / "stdout.txt", root / "stderr.txt"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [*INNSYN, "demo", "--port", str(port)], env=env, cwd=root, stdout=out, stderr=err
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, process, seconds=POLL_SECONDS)
        tokens = {
            role: subprocess.run(
                [*INNSYN, "token", "--role", role],
                env=env,
                cwd=root,
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            ).stdout.strip()
            for role in ("operator", "approver")
        }
        yield (
            Demo(
                base,
                {"Authorization": f"Bearer {tokens['operator']}"},
                root / "var",
                process,
                {"Authorization": f"Bearer {tokens['approver']}"},
            ),
            stdout,
            stderr,
        )
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
