"""What staff found by hand (a paper archive): structured findings and attached files, turned
into records shaped like a connector's, so the report shows them like any system's data.

Pure rules, no I/O: the caller seals the records at rest like collected data.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.domain.errors import InvalidInput


@dataclass(frozen=True)
class Finding:
    """One item found: its category, what it is, and any structured values."""

    category: str
    description: str
    values: Mapping[str, Any]


@dataclass(frozen=True)
class Attachment:
    """A file (a scan): name, media type and its bytes as standard base64."""

    category: str
    file_name: str
    content_type: str
    content_base64: str
    description: str | None = None


def records(
    findings: Sequence[Finding], files: Sequence[Attachment], declared: Collection[str]
) -> list[dict[str, Any]]:
    """Records (``category``, ``id``, ``data``) for the report; every category must be one
    the system declares (its purpose, legal basis and retention go into the answer). A file's
    record is ``file-<n>`` (n from 1, in the order given); its bytes are stored apart."""
    used = {f.category for f in findings} | {f.category for f in files}
    unknown = sorted(used - set(declared))
    if unknown:
        raise InvalidInput(
            f"categories the system does not declare: {', '.join(unknown)}",
            field="findings",
            unknown_categories=unknown,
            declared=sorted(declared),
        )
    out: list[dict[str, Any]] = [
        {
            "category": f.category,
            "id": f"finding-{n}",
            "data": {"description": f.description, **dict(f.values)},
        }
        for n, f in enumerate(findings, start=1)
    ]
    for n, file in enumerate(files, start=1):
        out.append(
            {
                "category": file.category,
                "id": f"file-{n}",
                "data": {
                    "file_name": file.file_name,
                    "content_type": file.content_type,
                    "size_bytes": len(content(file, n)),
                    "description": file.description,
                },
            }
        )
    return out


def counts(found: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Records per category: what the task result and the outcome show (no personal data)."""
    per: dict[str, int] = {}
    for record in found:
        per[record["category"]] = per.get(record["category"], 0) + 1
    return per


def content(file: Attachment, n: int) -> bytes:
    """The file's bytes: stored as a file of its own, never inline in the record."""
    try:
        return base64.b64decode(file.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(
            f"file {n} ({file.file_name}) is not standard base64", field="files"
        ) from None
