"""Holds that last while a condition holds end by themselves once the connector stops finding it.

An unpaid invoice holds the invoice "until it is settled"; nobody should have to remember to
release that hold. The scheduler asks each such hold's connector again, at most every
``INNSYN_HOLD_RECHECK_HOURS``; a hold it no longer finds (same basis and reference, covering
the same categories) ends as ``ended``, which files the follow-up erasure of exactly what it
kept (unless another active hold still keeps it).

No database transaction stays open while a connector is asked: a short transaction claims due
holds by stamping ``last_checked_at`` (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, and a stamped
hold is not due, so two replicas never ask about the same hold), the connectors are asked
outside it, and each hold they no longer find ends in its own short transaction. An error
never ends a hold: the stamp is put back, so the next run asks again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import structlog
from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.connectors.protocol import Capability, HoldFinding, SubjectRef
from app.connectors.registry import ConnectorInstance
from app.db.models import LegalHold
from app.db.models.tasks import TaskAction
from app.domain.errors import Conflict, InvalidTransition, NotFound
from app.domain.holds import HoldStatus
from app.domain.identity import present_kinds
from app.jobs.execute import Failed, Succeeded, attempt, subject_ref
from app.jobs.policy import Failure
from app.runtime import Runtime
from app.security import SYSTEM, Principal
from app.services import flows, holds
from app.store.locks import skip_locked

log = structlog.get_logger(__name__)

BATCH = 100
"""At most this many holds per connector and run, so a run stays short."""

_HANDED_TO_A_PERSON = Failure("manual", "the connector handed the check to a person", True)


@dataclass(frozen=True)
class Claim:
    """One hold claimed for one check, with what the check needs (read when claimed)."""

    hold_id: str
    basis_code: str
    reference: str | None
    categories: tuple[str, ...]
    instance: ConnectorInstance
    subject: SubjectRef
    claimed_at: datetime
    previous: datetime | None  # last_checked_at before the claim: put back after an error


Answer = list[HoldFinding] | Failure
Settled = Literal["held", "ended", "failed", "gone"]


async def recheck_conditions(rt: Runtime, *, limit: int = BATCH) -> int:
    """Ask the connectors again about the condition holds that are due; how many ended."""
    claims = await _claim_due(rt, limit)
    answers = await _ask_all(claims)
    ended = 0
    for claim, answer in zip(claims, answers, strict=True):
        # One by one: each ending sees the holds ended before it (the follow-up's coverage).
        if await _settle(rt, claim, answer, actor=SYSTEM.actor) == "ended":
            ended += 1
    return ended


async def recheck_one(rt: Runtime, hold_id: str, *, principal: Principal) -> LegalHold:
    """Staff ask now about one hold, whenever it was last checked (operator role)."""
    async with rt.db.session() as session:
        hold = await holds.get(session, hold_id)
        claim = _claim(rt, session, hold, _eligible(rt, hold))
    answer = await _ask(claim)
    await _settle(rt, claim, answer, actor=principal.actor)
    if isinstance(answer, Failure):
        raise Conflict(
            f"the connector {claim.instance.name!r} could not be asked ({answer.message}); "
            "the hold stays active",
            error_kind=answer.kind,
        )
    async with rt.db.session() as session:
        checked = await session.get(LegalHold, hold_id)
        if checked is None:
            raise NotFound(f"no hold with id {hold_id}")
        return checked


def still_found(
    basis_code: str,
    reference: str | None,
    categories: Sequence[str],
    findings: Sequence[HoldFinding],
) -> bool:
    """Whether the connector still finds the hold: same basis and reference, same categories."""
    wanted = set(categories)
    return any(
        f.basis_code == basis_code and f.reference == reference and wanted <= set(f.categories)
        for f in findings
    )


def _able(rt: Runtime) -> list[ConnectorInstance]:
    return [i for i in rt.connectors.active() if Capability.holds in i.capabilities]


def _eligible(rt: Runtime, hold: LegalHold) -> ConnectorInstance:
    if hold.status != HoldStatus.active:
        raise InvalidTransition(f"the hold is already {hold.status}")
    if hold.source != "connector" or hold.condition is None:
        raise InvalidTransition("only holds a connector found, with a condition, are re-checked")
    instance = rt.connectors.get(hold.connector)
    if instance is None or Capability.holds not in instance.capabilities:
        raise InvalidTransition(f"no configured connector {hold.connector!r} finds holds")
    return instance


async def _claim_due(rt: Runtime, limit: int) -> list[Claim]:
    """Stamp the due holds in one short transaction; a stamped hold is not due elsewhere."""
    now = rt.clock.now()
    due_before = now - timedelta(hours=rt.settings.hold_recheck_hours)
    claims: list[Claim] = []
    async with rt.db.session() as session:
        for instance in _able(rt):
            query = (
                select(LegalHold)
                .where(
                    LegalHold.status == HoldStatus.active,
                    LegalHold.source == "connector",
                    LegalHold.connector == instance.name,
                    col(LegalHold.condition).is_not(None),
                    or_(
                        col(LegalHold.last_checked_at).is_(None),
                        col(LegalHold.last_checked_at) <= due_before,
                    ),
                )
                .order_by(col(LegalHold.last_checked_at).asc().nulls_first(), col(LegalHold.id))
                .limit(limit)
            )
            due = await session.exec(skip_locked(query, rt.db))
            claims += [_claim(rt, session, h, instance) for h in due]
    return claims


def _claim(
    rt: Runtime, session: AsyncSession, hold: LegalHold, instance: ConnectorInstance
) -> Claim:
    claim = Claim(
        hold_id=hold.id,
        basis_code=hold.basis_code,
        reference=hold.reference,
        categories=tuple(hold.categories),
        instance=instance,
        subject=_subject(rt, hold),
        claimed_at=rt.clock.now(),
        previous=hold.last_checked_at,
    )
    hold.last_checked_at = claim.claimed_at
    session.add(hold)
    return claim


def _subject(rt: Runtime, hold: LegalHold) -> SubjectRef:
    """A hold keeps only identifiers that were proven (or that staff vouched for)."""
    subject = holds.subject_of(rt, hold)
    return subject_ref(hold.request_id or hold.id, subject, present_kinds(subject))


async def _ask_all(claims: Sequence[Claim]) -> list[Answer]:
    """Ask concurrently, at most the instance's concurrency at a time per connector."""
    gates: dict[str, asyncio.Semaphore] = {}

    async def one(claim: Claim) -> Answer:
        name = claim.instance.name
        gate = gates.setdefault(name, asyncio.Semaphore(max(1, claim.instance.concurrency)))
        async with gate:
            return await _ask(claim)

    return list(await asyncio.gather(*(one(c) for c in claims)))


async def _ask(claim: Claim) -> Answer:
    """The connector's current findings, or why it could not answer (time limit included)."""
    outcome = await attempt(claim.instance, TaskAction.holds, {}, claim.subject, {})
    if isinstance(outcome, Succeeded):
        return [HoldFinding.model_validate(f) for f in outcome.result["findings"]]
    return outcome.failure if isinstance(outcome, Failed) else _HANDED_TO_A_PERSON


async def _settle(rt: Runtime, claim: Claim, answer: Answer, *, actor: str) -> Settled:
    """End the hold if the connector no longer finds it; on an error, leave it for next run."""
    if isinstance(answer, Failure):
        log.warning(
            "hold_recheck_failed",
            hold_id=claim.hold_id,
            connector=claim.instance.name,
            error_kind=answer.kind,
            error=answer.message,
        )
        await _put_back(rt, claim)
        return "failed"
    if still_found(claim.basis_code, claim.reference, claim.categories, answer):
        return "held"
    async with rt.db.session() as session:
        hold = await session.get(LegalHold, claim.hold_id, with_for_update=True)
        if hold is None or hold.status != HoldStatus.active:
            return "gone"  # released by staff meanwhile
        await flows.end_lapsed_hold(rt, session, hold, actor=actor)
    log.info(
        "hold_ended",
        hold_id=claim.hold_id,
        connector=claim.instance.name,
        basis_code=claim.basis_code,
    )
    return "ended"


async def _put_back(rt: Runtime, claim: Claim) -> None:
    """Undo the claim's stamp (unless someone checked since), so the next run asks again."""
    async with rt.db.session() as session:
        hold = await session.get(LegalHold, claim.hold_id, with_for_update=True)
        if hold is not None and hold.last_checked_at == claim.claimed_at:
            hold.last_checked_at = claim.previous
            session.add(hold)
