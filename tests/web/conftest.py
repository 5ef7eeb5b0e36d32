"""Pages are tried the way people meet them: a real ``innsyn demo`` process and Debian's
Chromium driven by Playwright (never a downloaded browser). Screenshots are kept as test
artifacts under ``test-artifacts/pages/``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import CHROMIUM, FLAGS, needs_chromium
from tests.demo.process import Demo, running_demo

ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "pages"
__all__ = ["needs_chromium"]


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """A real ``innsyn demo`` (its own SQLite, its own peers), one per test module."""
    with running_demo(tmp_path_factory.mktemp("demo-site")) as (demo, _, _):
        yield demo


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Headless Chromium from Debian's package."""
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield chromium
        finally:
            await chromium.close()


def screenshot_path(name: str) -> str:
    return str(ARTIFACTS / f"{name}.png")
