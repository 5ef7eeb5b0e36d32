"""Debian's Chromium for browser tests (never a downloaded browser), and the flags that keep
it off the network and quiet in a container."""

from __future__ import annotations

import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
needs_chromium = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None, reason="run scripts/system-packages.sh for chromium"
)
