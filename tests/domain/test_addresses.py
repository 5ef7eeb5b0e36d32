"""Which addresses are public (webhooks) and which client a limit counts."""

from __future__ import annotations

import pytest

from app.domain.addresses import client_bucket, embedded_ipv4, is_public, parse

# 127.0.0.1, 10.0.0.1 and 169.254.169.254 (cloud metadata) hidden inside IPv6.
PRIVATE = [
    "127.0.0.1",
    "10.0.0.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "::1",
    "fe80::1",
    "fc00::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:a9fe:a9fe",  # IPv4-mapped metadata address
    "::127.0.0.1",  # IPv4-compatible (deprecated)
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b:1::a00:1",  # local-use NAT64 of 10.0.0.1
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "224.0.0.1",
    "ff02::1",
]
PUBLIC = ["1.1.1.1", "8.8.8.8", "2606:4700::1111", "64:ff9b::808:808", "2002:808:808::1"]


@pytest.mark.parametrize("value", PRIVATE)
def test_private_addresses_and_their_ipv6_disguises_are_not_public(value):
    address = parse(value)
    assert address is not None
    assert not is_public(address)


@pytest.mark.parametrize("value", PUBLIC)
def test_public_addresses_are_public(value):
    address = parse(value)
    assert address is not None
    assert is_public(address)


def test_teredo_yields_server_and_client():
    address = parse("2001:0:4136:e378:8000:63bf:3fff:fdd2")
    assert address is not None and address.version == 6
    assert [str(a) for a in embedded_ipv4(address)] == ["65.54.227.120", "192.0.2.45"]


def test_client_bucket_counts_ipv6_per_64_and_mapped_as_ipv4():
    first, second = parse("2001:db8:1:2::1"), parse("2001:db8:1:2:ffff::9")
    assert first is not None and second is not None
    assert client_bucket(first) == client_bucket(second) == "2001:db8:1:2::/64"
    mapped = parse("::ffff:198.51.100.7")
    assert mapped is not None and client_bucket(mapped) == "198.51.100.7"


@pytest.mark.parametrize("value", ["", "example.no", "1.2.3.4, 5.6.7.8", "300.1.1.1"])
def test_parse_refuses_what_is_not_one_address(value):
    assert parse(value) is None
