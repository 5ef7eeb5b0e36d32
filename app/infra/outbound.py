"""HTTP to URLs an admin configured (webhooks, Art. 19 recipient webhooks), safe from SSRF.

The host is resolved once per connection; every address it resolves to must be public
(``app.domain.addresses.is_public``: IPv4 embedded in IPv6 counts as IPv4), and the
connection goes to the address that was checked. Checking a name and then letting the HTTP
client resolve it again would let a rebinding DNS server answer "public" to the check and
"127.0.0.1" to the connect. The URL's host stays in the ``Host`` header and is the TLS server
name (SNI and certificate check), so virtual hosts and certificates work as usual.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import httpx

from app.domain.addresses import IPAddress, is_public, parse

Resolver = Callable[[str, int], Awaitable[list[str]]]


class BlockedAddress(httpx.TransportError):
    """The host resolves to an address webhooks may not reach (private, loopback...)."""


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's answer (getaddrinfo), without the event loop blocking."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def resolve_checked(
    host: str, port: int, *, allow_private: bool, resolve: Resolver = system_resolver
) -> IPAddress:
    """The one address to connect to; ``BlockedAddress`` if any answer is not public (a
    name with one private answer among public ones could be steered to it)."""
    literal = parse(host)
    if literal is not None:
        candidates = [literal]
    else:
        try:
            answers = await resolve(host, port)
        except OSError as exc:
            raise httpx.ConnectError("the host does not resolve") from exc
        candidates = [a for a in (parse(answer) for answer in answers) if a is not None]
    if not candidates:
        raise httpx.ConnectError("the host does not resolve")
    if not allow_private and not all(is_public(a) for a in candidates):
        raise BlockedAddress("the host resolves to a private address")
    return candidates[0]


class PinnedTransport(httpx.AsyncBaseTransport):
    """Resolves and checks each request's host, then sends it to exactly that address."""

    def __init__(
        self,
        *,
        allow_private: bool,
        resolve: Resolver = system_resolver,
        inner: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.resolve = resolve
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        address = await resolve_checked(
            host, port, allow_private=self.allow_private, resolve=self.resolve
        )
        # The Host header was set from the original URL when the request was built.
        request.url = request.url.copy_with(host=str(address))
        if request.url.scheme == "https" and parse(host) is None:
            request.extensions = {**request.extensions, "sni_hostname": host}
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def pinned_client(
    *,
    allow_private: bool,
    timeout: float,
    resolve: Resolver = system_resolver,
    inner: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """A client for admin-configured URLs: pinned, checked, never following redirects."""
    transport = PinnedTransport(allow_private=allow_private, resolve=resolve, inner=inner)
    return httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False)
