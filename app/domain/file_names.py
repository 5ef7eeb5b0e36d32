"""Where a file goes in the zip download: a safe, unique path per system and category.

Names come from mail senders and scanners; a name must never climb out of its folder
(``../``), hide (a leading dot), or break a zip reader (control characters).
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
MAX_NAME = 150


def safe_name(name: str) -> str:
    cleaned = _UNSAFE.sub("_", name).strip().lstrip(".").strip()
    if len(cleaned) > MAX_NAME:
        stem, dot, ext = cleaned.rpartition(".")
        keep = ext if dot and len(ext) <= 10 else ""
        cleaned = cleaned[: MAX_NAME - len(keep) - 1].rstrip() + ("." + keep if keep else "")
    return cleaned or "file"


def zip_path(system: str, category: str, name: str, taken: set[str]) -> str:
    """``files/<system>/<category>/<name>``; a second file of the same name gets `` (2)``."""
    folder = f"files/{safe_name(system)}/{safe_name(category)}"
    stem, dot, ext = safe_name(name).rpartition(".")
    if not dot:
        stem, ext = ext, ""
    path, n = f"{folder}/{safe_name(name)}", 1
    while path.casefold() in taken:
        n += 1
        path = f"{folder}/{stem} ({n}){'.' + ext if ext else ''}"
    taken.add(path.casefold())
    return path
