"""The answer to an access (Art. 15) or portability (Art. 20) request.

Built from what the connectors collected (sealed at rest) and the facts each connector
declares about its data categories: purposes, legal basis, recipients, retention, source.
"""

from __future__ import annotations

import html
import json
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.connectors.protocol import DataCategory
from app.db.models import CollectedData, DsrRequest
from app.db.models.tasks import collected_purpose
from app.domain import kinds
from app.domain.errors import InvalidTransition
from app.runtime import Runtime
from app.services import holds
from app.services.request_views import summary

_RIGHTS = {
    "nb": (
        "Du kan be om retting (art. 16), sletting (art. 17), begrensning (art. 18) og "
        "dataportabilitet (art. 20), og protestere mot behandlingen (art. 21). Du kan klage til "
        "Datatilsynet (www.datatilsynet.no) og bringe saken inn for domstolene."
    ),
    "en": (
        "You may ask for rectification (Art. 16), erasure (Art. 17), restriction (Art. 18) and "
        "data portability (Art. 20), and object to the processing (Art. 21). You may complain "
        "to Datatilsynet (www.datatilsynet.no) and take the matter to court."
    ),
}


def _facts(category: DataCategory | None) -> dict[str, Any]:
    if category is None:
        return {}
    return category.model_dump(
        include={"description", "purpose", "legal_basis", "recipients", "retention", "source"}
    )


async def build(rt: Runtime, session: AsyncSession, request: DsrRequest) -> dict[str, Any]:
    """The structured answer; portability keeps only the data the person provided."""
    if not kinds.policy(request.kind).answered_with_report:
        raise InvalidTransition("only access and portability requests have a report")
    portable_only = kinds.policy(request.kind).portable_only
    rows = await session.exec(
        select(CollectedData)
        .where(CollectedData.request_id == request.id)
        .order_by(col(CollectedData.connector))
    )
    systems = []
    for row in rows:
        found = rt.cipher.open(row.ciphertext, purpose=collected_purpose(request.id, row.task_id))
        instance = rt.connectors.get(row.connector)
        declared = {c.name: c for c in instance.connector.categories()} if instance else {}
        grouped: dict[str, list[dict[str, Any]]] = {}
        for record in found.get("records", []):
            category = declared.get(record["category"])
            if portable_only and category is not None and not category.provided_by_subject:
                continue
            grouped.setdefault(record["category"], []).append(record["data"])
        systems.append(
            {
                "system": row.connector,
                "external_controller": found.get("external_controller"),
                "self_service_url": found.get("self_service_url"),
                "categories": [
                    {"category": name, **_facts(declared.get(name)), "records": records}
                    for name, records in sorted(grouped.items())
                ],
            }
        )
    view = summary(request, rt.clock.now())
    return {
        "request": {
            "id": request.id,
            "kind": request.kind,
            "received_at": view.received_at.isoformat(),
            "completed_at": request.completed_at.isoformat() if request.completed_at else None,
        },
        "systems": systems,
        "kept_under_legal_holds": [
            {
                "system": h.connector,
                "categories": h.categories,
                "basis": h.basis_code,
                "law": h.law,
                "until": h.until.isoformat() if h.until else None,
                "explanation": _explain(rt, h.basis_code, request.language),
            }
            for h in await holds.for_request(rt, session, request)
            if h.status == "active"
        ],
        "your_rights": _RIGHTS["en" if request.language == "en" else "nb"],
    }


def _explain(rt: Runtime, code: str, language: str) -> str | None:
    basis = rt.hold_catalogue.get(code)
    return basis.explain(language) if basis else None


def render_html(report: dict[str, Any], language: str) -> str:
    """A plain, readable page; every value is escaped."""
    e = html.escape
    title = "Dine personopplysninger" if language != "en" else "Your personal data"
    parts = [
        f"<!doctype html><html lang='{e(language)}'><meta charset='utf-8'>",
        f"<title>{e(title)}</title><h1>{e(title)}</h1>",
        f"<p>{e(report['request']['id'])}</p>",
    ]
    for system in report["systems"]:
        parts.append(f"<h2>{e(system['system'])}</h2>")
        if system.get("external_controller"):
            parts.append(
                f"<p>{e(str(system['external_controller']))}: "
                f"{e(str(system.get('self_service_url') or ''))}</p>"
            )
        for category in system["categories"]:
            facts = ", ".join(
                f"{k}: {v}" for k, v in category.items() if k not in ("category", "records")
            )
            parts.append(f"<h3>{e(category['category'])}</h3><p>{e(facts)}</p>")
            parts.append(
                f"<pre>{e(json.dumps(category['records'], ensure_ascii=False, indent=2))}</pre>"
            )
    if report["kept_under_legal_holds"]:
        parts.append("<h2>Lagret etter lov</h2>" if language != "en" else "<h2>Kept by law</h2>")
        for hold in report["kept_under_legal_holds"]:
            parts.append(
                f"<p>{e(hold['system'])}: {e(', '.join(hold['categories']))} — "
                f"{e(hold['explanation'] or hold['basis'])} ({e(str(hold['until']))})</p>"
            )
    parts.append(f"<p>{e(report['your_rights'])}</p></html>")
    return "\n".join(parts)
