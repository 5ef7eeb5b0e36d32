"""The answer in the formats a person or a machine takes: HTML (styled, printable), PDF,
portable JSON (Art. 20) and a zip of CSV files per category."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from app.domain import report_words as w
from app.schemas.report import Report, SystemAnswer

_ENV = Environment(
    loader=PackageLoader("app.domain", "templates/report"),
    undefined=StrictUndefined,
    autoescape=select_autoescape(default=True),  # source data is text, never markup
    trim_blocks=True,
    lstrip_blocks=True,
)
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)
PORTABLE_SCHEMA_ID = "https://innsyn.invalid/schemas/portable-export.schema.json"


def _style_hash() -> str:
    source = _ENV.loader.get_source(_ENV, "report.html")[0] if _ENV.loader else ""
    match = _STYLE.search(source)
    digest = hashlib.sha256((match.group(1) if match else "").encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


STYLE_SRC = _style_hash()


def html(report: Report) -> str:
    """A page that reads on a phone, prints, and carries its language and landmarks."""
    language = report.language

    def external(system: SystemAnswer) -> str:
        return w.word("external", language).format(
            who=system.external_controller, url=system.self_service_url or ""
        )

    words = {key: w.word(key, language) for key in w.WORDS}
    article = {key: w.pick(pair, language) for key, pair in w.ARTICLE.items()}
    return _ENV.get_template("report.html").render(
        r=report, words=words, article=article, external=external
    )


def pdf(report: Report) -> bytes:
    """The same page as PDF, with fonts from the system (Debian's), nothing fetched."""
    from weasyprint import HTML  # type: ignore[import-untyped]  # heavy: only for a PDF

    document: bytes = HTML(string=html(report), base_url=None).write_pdf()
    return document


def portable(report: Report) -> dict[str, Any]:
    """Art. 20: the data the person provided or that was observed, as plain JSON values."""
    return {
        "$schema": PORTABLE_SCHEMA_ID,
        "request_id": report.request.id,
        "controller": report.controller.name,
        "systems": [
            {
                "system": s.system,
                "categories": [
                    {
                        "category": c.category,
                        "records": [
                            {f.key: f.value for f in r.fields if not f.redacted} for r in c.records
                        ],
                    }
                    for c in s.categories
                    if c.provided_by_subject and c.records
                ],
            }
            for s in report.systems
        ],
    }


def csv_members(report: Report) -> list[tuple[str, bytes]]:
    """One CSV per system and category (labels as headers), the portable JSON beside them:
    the small part of the zip download (the files stream in beside them)."""
    members = []
    for s in report.systems:
        for c in s.categories:
            if not c.records:
                continue
            keys = list(dict.fromkeys(f.key for r in c.records for f in r.fields))
            labels = {f.key: f.label for r in c.records for f in r.fields}
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow([labels[k] for k in keys])
            for r in c.records:
                by_key = {f.key: f for f in r.fields}
                writer.writerow(
                    [
                        w.word("redacted", report.language)
                        if k in by_key and by_key[k].redacted
                        else (by_key[k].text if k in by_key else "")
                        for k in keys
                    ]
                )
            # BOM: spreadsheets then read the Norwegian letters right
            members.append((f"{s.system}/{c.category}.csv", ("\ufeff" + out.getvalue()).encode()))
    data = json.dumps(portable(report), ensure_ascii=False, indent=2, default=str)
    members.append(("data.json", data.encode()))
    return members
