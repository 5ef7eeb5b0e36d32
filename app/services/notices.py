"""Telling the person the outcome when a request completes (Art. 12(3)-(4), 15(1)(d))."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import DsrRequest, Task
from app.db.models.tasks import TaskAction, TaskStatus
from app.domain import kinds, letters, objections, refusals
from app.domain.holds import HoldStatus
from app.domain.requests import Channel, RequestKind
from app.runtime import Runtime
from app.security import SYSTEM
from app.services import audit, holds, letter_outbox, letterhead, partial_refusals
from app.services.subjects import SubjectVault

# Requests the service files itself whose outcome the person still needs to hear: the
# erasure after an upheld objection says what legal holds keep.
_TOLD = {"objection_upheld"}
_GONE = {"erased", "anonymised"}


async def kept_data(
    rt: Runtime, session: AsyncSession, request: DsrRequest
) -> list[letters.KeptData]:
    """What the request could not erase, with the basis in plain words and the end date."""
    kept = []
    restricted = await _restricted_systems(session, request)
    for hold in await holds.for_request(rt, session, request):
        if hold.status != HoldStatus.active or not rt.hold_catalogue.blocks_erasure(
            hold.basis_code
        ):
            continue  # a retention schedule without an Art. 17(3) ground kept nothing
        basis = rt.hold_catalogue.get(hold.basis_code)
        fields = hold.fields or {}
        kept.append(
            letters.KeptData(
                system=hold.connector,
                categories=tuple(hold.categories),
                explanation=basis.explain(request.language) if basis else hold.basis_code,
                law=basis.law if basis else hold.basis_code,
                until=hold.until,
                fields=tuple((c, tuple(fields[c])) for c in hold.categories if fields.get(c)),
                restricted=hold.connector in restricted,
            )
        )
    return kept


async def _restricted_systems(session: AsyncSession, request: DsrRequest) -> set[str]:
    """Systems that marked what the request kept as restricted (storage only)."""
    rows = await session.exec(
        select(Task).where(
            Task.request_id == request.id,
            Task.action == TaskAction.restrict.value,
            Task.status == TaskStatus.succeeded.value,
        )
    )
    return {t.connector for t in rows if (t.params or {}).get("held") and not t.params["lift"]}


def _not_searched(request: DsrRequest) -> list[str]:
    """Systems left out because the person did not prove the identity they need."""
    connectors = (request.outcome or {}).get("connectors", {})
    return sorted(
        name
        for name, entry in connectors.items()
        if any("not_searched" in action for action in entry.get("actions", {}).values())
    )


def _not_possible(request: DsrRequest) -> list[tuple[str, str]]:
    """Systems where staff could not do the work, with the reason they gave."""
    connectors = (request.outcome or {}).get("connectors", {})
    return [
        (name, str(action["not_possible"]))
        for name, entry in sorted(connectors.items())
        for action in entry.get("actions", {}).values()
        if action.get("not_possible")
    ]


async def identity_needed(
    rt: Runtime, session: AsyncSession, request: DsrRequest, systems: list[str]
) -> None:
    """Tell the person which systems wait for a stronger proof, and how to give it."""
    if not systems:
        return
    await audit.append(
        session,
        at=rt.clock.now(),
        actor=SYSTEM.actor,
        action="request.identity_needed",
        request_id=request.id,
        detail={"systems": systems},
    )
    letter = letters.stronger_identity(
        request.language, request.id, systems, controller=letterhead.controller(rt)
    )
    await letter_outbox.tell(rt, session, request, letter, kind="identity_needed")


async def completed(rt: Runtime, session: AsyncSession, request: DsrRequest) -> None:
    """Send the completion letter: by e-mail, or printed for staff to post."""
    if request.channel == Channel.system.value and request.verification_method not in _TOLD:
        return  # e.g. a follow-up erasure when a hold ended: the person was told before
    download = None
    answer_is_a_report = kinds.policy(request.kind).answered_with_report
    if answer_is_a_report:
        download = f"{rt.settings.public_base_url}/v1/requests/{request.id}/report"
    kept = [] if answer_is_a_report else await kept_data(rt, session, request)
    vault = SubjectVault(rt.cipher)
    letter = letters.completion(
        request.language,
        request.id,
        request.kind,
        kept,
        download,
        _not_searched(request),
        erased=_erased(request),
        suppressed=request.kind == RequestKind.objection.value
        and objections.covers_marketing(objections.purposes_of(vault.details(request))),
        controller=letterhead.controller(rt),
        statement=(request.outcome or {}).get("statement"),
        not_possible=_not_possible(request),
        refused_parts=_refused_parts(rt, request),
    )
    await letter_outbox.tell(rt, session, request, letter, kind="completion")


def _refused_parts(rt: Runtime, request: DsrRequest) -> list[dict[str, str]]:
    """Each part refused (D9), with the reason in the letter's language and its law."""
    parts = []
    for part in partial_refusals.with_explanations(rt, request):
        reason = refusals.REASONS[refusals.RefusalReason(part["reason_code"])]
        parts.append(
            {
                "system": str(part.get("system") or ""),
                "category": str(part.get("category") or ""),
                "field": str(part.get("field") or ""),
                "reason": reason.text(request.language),
                "law": reason.reference(request.language),
                "explanation": str(part.get("explanation") or ""),
            }
        )
    return parts


def _erased(request: DsrRequest) -> list[letters.ErasedData]:
    """Per system, the categories an erase task actually removed (count > 0)."""
    erased = []
    for name, entry in sorted((request.outcome or {}).get("connectors", {}).items()):
        result = entry.get("actions", {}).get("erase", {})
        categories = tuple(
            c["category"]
            for c in result.get("categories", [])
            if isinstance(c, dict)
            and c.get("outcome") in _GONE
            # an interrupted attempt erased it: count unknown (app.domain.attempts)
            and ((c.get("count") or 0) > 0 or c.get("by_interrupted_attempt") is True)
        )
        if categories:
            erased.append(letters.ErasedData(system=name, categories=categories))
    return erased


async def closed_unverified(rt: Runtime, session: AsyncSession, request: DsrRequest) -> None:
    """Nobody confirmed who asked, so the request closed: tell the address it named (D9);
    without one the letter waits for staff to post it."""
    letter = letters.closed_unverified(
        request.language,
        request.id,
        rt.settings.unverified_close_days,
        controller=letterhead.controller(rt),
    )
    await letter_outbox.tell(rt, session, request, letter, kind="closed_unverified")
