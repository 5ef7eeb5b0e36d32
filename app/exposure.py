"""Development keys stay on this machine: refuse to serve them on a network address.

Outside production the keys are generated under ``var/`` and locally signed staff tokens are
accepted, which is fine on loopback and dangerous anywhere else.
"""

from __future__ import annotations

import ipaddress

from app.settings import Settings

FLAG = "--allow-dev-keys-on-network"
SETTING = "INNSYN_ALLOW_DEV_KEYS_ON_NETWORK"


class ExposedDevelopmentKeys(Exception):
    """Serving development keys on a non-loopback address without saying so explicitly."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name (or "0.0.0.0"-like wildcard spelled oddly): assume public


def check_listen_address(settings: Settings, host: str, *, allow: bool = False) -> None:
    """Raise unless ``host`` is loopback, the service runs in production, or it is allowed."""
    if settings.env == "production" or is_loopback(host):
        return
    if allow or settings.allow_dev_keys_on_network:
        return
    raise ExposedDevelopmentKeys(
        f"refusing to listen on {host} with development keys (INNSYN_ENV={settings.env}: keys "
        "generated under the var folder, locally signed staff tokens accepted). Run with "
        f"INNSYN_ENV=production and real keys, listen on 127.0.0.1, or pass {FLAG} "
        f"(or set {SETTING}=true) if this network is yours alone."
    )
