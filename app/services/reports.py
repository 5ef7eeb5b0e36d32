"""The answer to an access (Art. 15) or portability (Art. 20) request.

Built from what the connectors collected (sealed at rest) and the facts each connector
declares about its data categories (Art. 15(1)(a)-(h), 15(2)), in the request's language
throughout. What staff found by hand (a manual task's findings) is sealed like collected
data and answered the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from babel import Locale
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.connectors.protocol import DataCategory
from app.db.models import CollectedData, DsrRequest
from app.db.models.tasks import collected_purpose
from app.domain import file_names, kinds, letter_words, refusals, report_values
from app.domain import report_words as w
from app.domain.errors import InvalidTransition
from app.domain.holds import HoldStatus
from app.runtime import Runtime
from app.schemas.report import (
    Attachment,
    CategoryAnswer,
    CategoryFacts,
    KeptItem,
    Party,
    RefusedPart,
    Report,
    ReportField,
    ReportRecord,
    RequestFacts,
    Right,
    SummaryItem,
    SystemAnswer,
    TransferOut,
)
from app.schemas.review import Redaction
from app.services import collected_files, holds, partial_refusals, redactions
from app.services.collected_files import StoredFile

# Fields that describe a record rather than hold the person's data: shown another way.
_META = frozenset({"body_truncated", "attachments", "currency"})


async def build(rt: Runtime, session: AsyncSession, request: DsrRequest) -> Report:
    """The structured answer; portability keeps only the data the person provided."""
    if not kinds.policy(request.kind).answered_with_report:
        raise InvalidTransition("only access and portability requests have a report")
    language = letter_words.lang(request.language)
    portable_only = kinds.policy(request.kind).portable_only
    rows = await session.exec(
        select(CollectedData)
        .where(CollectedData.request_id == request.id)
        .order_by(col(CollectedData.connector))
    )
    stored = await collected_files.complete(rt, session, request.id)
    files = _Files(stored, set())
    systems = []
    for row in rows:
        found = rt.cipher.open(row.ciphertext, purpose=collected_purpose(request.id, row.task_id))
        instance = rt.connectors.get(row.connector)
        declared = {c.name: c for c in instance.connector.categories()} if instance else {}
        systems.append(_system(row.connector, found, declared, language, portable_only, files))
    kept = [
        _kept(rt, h, language)
        for h in await holds.for_request(rt, session, request)
        if h.status == HoldStatus.active
    ]
    report = _report(rt, request, language, systems, kept)
    _withhold(report, redactions.of(rt, request), language)
    _refuse_parts(rt, request, report, language)
    return report


def _refuse_parts(rt: Runtime, request: DsrRequest, report: Report, language: str) -> None:
    """D9: a category refused in part gives no records, and says why."""
    for part in partial_refusals.with_explanations(rt, request):
        if part.get("category") is None:
            continue
        reason = refusals.REASONS[refusals.RefusalReason(part["reason_code"])]
        refused = RefusedPart(
            reason=reason.text(language),
            law=reason.reference(language),
            explanation=str(part.get("explanation") or ""),
        )
        system = next((s for s in report.systems if s.system == part["system"]), None)
        if system is None:
            continue
        category = next((c for c in system.categories if c.category == part["category"]), None)
        if category is not None:
            category.records = []
            category.attachments = []
            category.refused = refused


_WITHHELD = {"nb": "Holdt tilbake: {reason}", "en": "Withheld: {reason}"}


def _withhold(report: Report, withheld: list[Redaction], language: str) -> None:
    """Art. 15(4): what an approver withheld shows as withheld, with the reason, in every
    format built from the report; the value itself is gone."""
    for item in withheld:
        for system in report.systems:
            for category in system.categories:
                if (system.system, category.category) != (item.system, item.category):
                    continue
                if item.record >= len(category.records):
                    continue
                if item.field is None:  # a withheld item's files are withheld with it
                    category.attachments = [
                        a for a in category.attachments if a.record != item.record
                    ]
                for field in category.records[item.record].fields:
                    if item.field is None or field.key == item.field:
                        field.redacted = True
                        field.value = None
                        field.text = _WITHHELD[language].format(reason=item.reason)


def _system(
    name: str,
    found: dict[str, Any],
    declared: dict[str, DataCategory],
    language: str,
    portable_only: bool,
    files: _Files,
) -> SystemAnswer:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for record in found.get("records", []):
        category = declared.get(record["category"])
        if portable_only and category is not None and not category.provided_by_subject:
            continue
        grouped.setdefault(record["category"], []).append(record)
    return SystemAnswer(
        system=name,
        title=_capital(letter_words.system(name, language)),
        external_controller=found.get("external_controller"),
        self_service_url=found.get("self_service_url"),
        categories=[
            _category(
                cat,
                declared.get(cat),
                records,
                language,
                [a for i, r in enumerate(records) for a in files.of(name, cat, r, i, language)],
            )
            for cat, records in sorted(grouped.items())
        ],
    )


@dataclass(frozen=True)
class _Files:
    """The request's complete files, and the zip paths given out so far."""

    stored: dict[str, StoredFile]
    taken: set[str]

    def of(
        self, system: str, category: str, record: dict[str, Any], index: int, language: str
    ) -> list[Attachment]:
        """A record's files: stored ones with their place in the zip (a half-written one is
        left out), and names only where the connector gave no content."""
        out = []
        for ref in record.get("files") or []:
            if "id" not in ref:
                out.append(Attachment(name=str(ref.get("name")), media_type=ref.get("media_type")))
                continue
            file = self.stored.get(str(ref["id"]))
            if file is None:
                continue
            one = Attachment(
                name=file.name,
                size=file.size,
                size_text=report_values.as_size(file.size, language),
                media_type=file.media_type,
                path=file_names.zip_path(system, category, file.name, self.taken),
            )
            one._stored = (file.id, file.crc32)
            out.append(one)
        names = record["data"].get("attachments") or []
        out += [Attachment(name=str(n)) for n in names if isinstance(names, list)]
        for one in out:
            one._record = index
        return out


def _category(
    name: str,
    declared: DataCategory | None,
    records: list[dict[str, Any]],
    language: str,
    attachments: list[Attachment],
) -> CategoryAnswer:
    return CategoryAnswer(
        category=name,
        title=_capital(letter_words.category(name, language)),
        facts=_facts(declared, language),
        provided_by_subject=declared.provided_by_subject if declared else True,
        records=[_record(r["data"], declared, language) for r in records],
        attachments=attachments,
        cut=any(bool(r["data"].get("body_truncated")) for r in records),
    )


def _record(data: dict[str, Any], declared: DataCategory | None, language: str) -> ReportRecord:
    currency = data.get("currency") if isinstance(data.get("currency"), str) else None
    fields = []
    for key, value in data.items():
        if key in _META:
            continue
        label = (declared.label(key, language) if declared else None) or w.field_label(
            key, language
        )
        text = report_values.show(key, value, language, currency=currency)
        fields.append(ReportField(key=key, label=label, text=text, value=value))
    return ReportRecord(fields=fields)


def _facts(category: DataCategory | None, language: str) -> CategoryFacts:
    unknown = w.word("not_declared", language)
    if category is None:
        return CategoryFacts(
            purpose=unknown,
            description=unknown,
            legal_basis=unknown,
            recipients=[],
            retention=unknown,
            source=unknown,
            automated_decisions=unknown,
            transfers=[],
            transfers_stated=False,
        )
    return CategoryFacts(
        purpose=category.text("purpose", language),
        description=category.text("description", language),
        legal_basis=category.text("legal_basis", language),
        recipients=category.recipients_in(language),
        retention=category.text("retention", language),
        source=_source(category, language),
        automated_decisions=category.automated_decisions_in(language) or unknown,
        transfers=[
            TransferOut(
                country_code=t.country,
                country=_country(t.country, language),
                safeguard=t.safeguard_in(language),
                recipient=t.recipient,
            )
            for t in category.transfers or []
        ],
        transfers_stated=category.transfers is not None,
    )


def _source(category: DataCategory, language: str) -> str:
    given = category.translations.get(language, {}).get("source")
    if given is not None:
        return given
    if category.source == "the data subject":
        return "deg" if language == "nb" else "you"
    return category.source


def _country(code: str, language: str) -> str:
    names = Locale.parse(report_values.locale(language)).territories
    return str(names.get(code, code))


def _kept(rt: Runtime, hold: Any, language: str) -> KeptItem:
    basis = rt.hold_catalogue.get(hold.basis_code)
    reason = basis.explain(language) if basis else None
    return KeptItem(
        system=_capital(letter_words.system(hold.connector, language)),
        categories=[letter_words.category(c, language) for c in hold.categories],
        reason=reason or w.word("not_declared", language),
        law=hold.law,
        until=hold.until,
        until_text=(
            f"{w.word('kept_until', language)} {report_values.as_date(hold.until, language)}"
            if hold.until
            else w.word("kept_open", language)
        ),
    )


def _report(
    rt: Runtime,
    request: DsrRequest,
    language: str,
    systems: list[SystemAnswer],
    kept: list[KeptItem],
) -> Report:
    s = rt.settings
    contact = s.controller_contact or s.mail_from
    controller = Party(
        name=s.controller_name or ("personvernteamet" if language == "nb" else "the privacy team"),
        contact=contact,
    )
    found = any(c.records for system in systems for c in system.categories)
    received = request.received_at
    return Report(
        language="en" if language == "en" else "nb",
        title=w.word("title", language),
        request=RequestFacts(
            id=request.id,
            kind=request.kind,
            received_at=received,
            completed_at=request.completed_at,
            received_text=report_values.as_date(
                received.astimezone(report_values.OSLO).date(), language
            ),
            completed_text=(
                report_values.as_date(
                    request.completed_at.astimezone(report_values.OSLO).date(), language
                )
                if request.completed_at
                else None
            ),
        ),
        controller=controller,
        dpo=Party(name=w.word("dpo", language), contact=s.dpo_contact) if s.dpo_contact else None,
        confirmation=w.word("confirmation_yes" if found else "confirmation_no", language),
        found_data=found,
        summary=_summary(systems, language),
        systems=systems,
        kept=kept,
        rights=[
            Right(
                code=code,
                title=w.pick(title, language),
                text=w.pick(text, language),
                url=_right_url(s.public_base_url, code),
            )
            for code, title, text in w.RIGHTS
        ],
        how_to_use_rights=w.pick(w.HOW_TO, language).format(contact=contact),
        complaint=w.pick(w.COMPLAINT, language),
    )


def _right_url(base: str, code: str) -> str:
    """The privacy centre's form (``/personvern/``) with this right already chosen."""
    return f"{base.rstrip('/')}/personvern/?{urlencode({'right': code})}"


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _summary(systems: list[SystemAnswer], language: str) -> list[SummaryItem]:
    """The Art. 15(1)(a)-(h) and 15(2) facts over all categories, each under its heading."""
    cats = [c for s in systems for c in s.categories]

    def per(fact: str) -> list[str]:
        return _unique(f"{c.title}: {getattr(c.facts, fact)}" for c in cats)

    transfers = _unique(
        f"{c.title}: {t.country} ({w.word('safeguard', language).lower()}: {t.safeguard})"
        for c in cats
        for t in c.facts.transfers
    )
    if not transfers:
        stated = all(c.facts.transfers_stated for c in cats)
        transfers = [w.word("no_transfers" if stated else "not_declared", language)]
    recipients = _unique(r for c in cats for r in c.facts.recipients) or [
        w.word("no_recipients", language)
    ]
    lines = {
        "a": _unique(f"{c.facts.purpose} ({c.facts.legal_basis})" for c in cats),
        "b": _unique(f"{c.title}: {c.facts.description}" for c in cats),
        "c": recipients,
        "d": per("retention"),
        "e": [w.pick(title, language) for _, title, _ in w.RIGHTS],
        "f": [w.pick(w.COMPLAINT, language)],
        "g": per("source"),
        "h": per("automated_decisions"),
        "2": transfers,
    }
    return [
        SummaryItem(
            article="15(2)" if letter == "2" else f"15(1)({letter})",
            heading=w.pick(w.ARTICLE[letter], language),
            lines=lines[letter] or [w.word("none_found", language)],
        )
        for letter in ("a", "b", "c", "d", "e", "f", "g", "h", "2")
    ]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
