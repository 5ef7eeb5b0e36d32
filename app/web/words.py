"""The words on the pages, per language, from ``texts/<area>.<lang>.yaml`` and
``texts/<area>-<part>.<lang>.yaml`` (one file per group of pages, so pages grow apart).

Templates read ``w.key``; a key missing in one language fails loudly (StrictUndefined in the
templates, and a test that every area has the same keys in both languages), so a page is never
half Norwegian, half English.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

import yaml

from app.web.language import Lang

AREAS = ("common", "centre", "console")


@cache
def words(area: str, lang: Lang) -> dict[str, str]:
    """``common`` words merged with the ``area``'s words in ``lang``; a key repeated across
    files is an error, so no file silently overrides another."""
    merged: dict[str, str] = {}
    for file in files(area, lang):
        loaded = yaml.safe_load(file.read_text("utf-8")) or {}
        clash = set(merged) & set(loaded)
        if clash:
            raise ValueError(f"{file.name} repeats {sorted(clash)}")
        merged.update({str(k): str(v) for k, v in loaded.items()})
    return merged


def files(area: str, lang: Lang) -> list[Traversable]:
    """``common`` first, then the area's own files in name order."""
    texts = resources.files("app.web").joinpath("texts")
    common = texts.joinpath(f"common.{lang}.yaml")
    if area == "common":
        return [common]
    suffix = f".{lang}.yaml"
    own = [
        f
        for f in texts.iterdir()
        if f.name.endswith(suffix)
        and (f.name == f"{area}{suffix}" or f.name.startswith(f"{area}-"))
    ]
    return [common, *sorted(own, key=lambda f: f.name)]
