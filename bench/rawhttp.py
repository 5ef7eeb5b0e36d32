"""A raw asyncio HTTP/1.1 keep-alive client: cheap enough that the load generator is not what
a benchmark measures (an httpx request costs more CPU than a bare FastAPI hello)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    """One keep-alive connection; one request at a time."""

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None) -> None:
        self.host, self.port = host, port
        self.fixed = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Reply:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        data = b"" if body is None else json.dumps(body).encode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.fixed}{extra}"
            f"Content-Length: {len(data)}\r\n"
            + ("Content-Type: application/json\r\n" if data else "")
            + "\r\n"
        )
        self.writer.write(head.encode() + data)
        status_line = await self.reader.readline()
        if not status_line:  # the server closed an idle keep-alive connection: once more
            await self.close()
            return await self.request(method, path, body, headers)
        status = int(status_line.split(b" ", 2)[1])
        found: dict[str, str] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            found[name.strip().lower()] = value.strip()
        length = int(found.get("content-length", "0"))
        payload = await self.reader.readexactly(length) if length else b""
        return Reply(status, found, payload)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def load(
    host: str,
    port: int,
    make: Any,
    *,
    connections: int,
    seconds: float,
    headers: dict[str, str] | None = None,
    expect: int = 200,
) -> tuple[int, float]:
    """``connections`` connections send ``make(i)`` -> (method, path, body, headers) back to back
    for ``seconds``; returns (answers, elapsed)."""
    done = 0
    stop = time.perf_counter() + seconds

    async def one_connection(c: int) -> None:
        nonlocal done
        conn = Connection(host, port, headers)
        i = c
        try:
            while time.perf_counter() < stop:
                method, path, body, extra = make(i)
                reply = await conn.request(method, path, body, extra)
                if reply.status != expect:
                    raise RuntimeError(f"{method} {path}: {reply.status} {reply.body[:200]!r}")
                done += 1
                i += connections
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(one_connection(c) for c in range(connections)))
    return done, time.perf_counter() - started
