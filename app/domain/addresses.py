"""Rules about IP addresses: which client a rate limit counts, and which addresses are public.

Pure functions (no DNS, no sockets): the callers resolve names and pass the addresses here.
"""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv6Address, IPv6Network

IPAddress = IPv4Address | IPv6Address

# IPv6 prefixes that carry an IPv4 address inside them; a private IPv4 address reached this
# way is as private as the plain one.
NAT64 = IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix
NAT64_LOCAL = IPv6Network("64:ff9b:1::/48")  # RFC 8215 local-use prefix
SIX_TO_FOUR = IPv6Network("2002::/16")  # RFC 3056
TEREDO = IPv6Network("2001::/32")  # RFC 4380
# An IPv6 client controls a whole /64, so limits count the /64, not the single address.
CLIENT_PREFIX_V6 = 64


def parse(value: str) -> IPAddress | None:
    """The address in ``value`` (a scope id such as ``%eth0`` is dropped), or None."""
    try:
        return ipaddress.ip_address(value.split("%", 1)[0].strip())
    except ValueError:
        return None


def embedded_ipv4(address: IPv6Address) -> list[IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: IPv4-mapped, IPv4-compatible, NAT64, 6to4,
    and Teredo (its server and its obfuscated client)."""
    found: list[IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    value = int(address)
    if address in NAT64 or address in NAT64_LOCAL or ((value >> 32) == 0 and value > 1):
        found.append(IPv4Address(value & 0xFFFFFFFF))
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    return found


def is_public(address: IPAddress) -> bool:
    """True only for a globally routable address that embeds no non-global IPv4 address."""
    if not address.is_global or address.is_multicast:
        return False
    if isinstance(address, IPv6Address):
        return all(v4.is_global and not v4.is_multicast for v4 in embedded_ipv4(address))
    return True


def client_bucket(address: IPAddress) -> str:
    """What a per-client limit counts: the IPv4 address, or the IPv6 /64 (an IPv4-mapped
    address counts as its IPv4 address)."""
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(IPv6Network((address, CLIENT_PREFIX_V6), strict=False))
    return str(address)
