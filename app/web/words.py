"""The words on the pages, per language, from ``texts/<area>.<lang>.yaml``.

Templates read ``w.key``; a key missing in one language fails loudly (StrictUndefined in the
templates, and a test that every area has the same keys in both languages), so a page is never
half Norwegian, half English.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from app.web.language import Lang

AREAS = ("common", "centre", "console")


@cache
def words(area: str, lang: Lang) -> dict[str, str]:
    """``common`` words merged with the ``area``'s words in ``lang``."""
    merged: dict[str, str] = {}
    for name in ("common", area) if area != "common" else ("common",):
        text = (
            resources.files("app.web").joinpath("texts", f"{name}.{lang}.yaml").read_text("utf-8")
        )
        merged.update({str(k): str(v) for k, v in (yaml.safe_load(text) or {}).items()})
    return merged
