"""The legal-hold catalogue: why data must be kept, under which law, and until when.

Each entry names the law it rests on, the GDPR exemption it invokes and how its end is
computed. Companies add their own documented retention policies through configuration
(``INNSYN_HOLD_POLICIES``), never by editing this file. Sources: rules.md §4.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from app.domain import retention
from app.domain.deadlines import add_months
from app.domain.errors import InvalidTransition


class HoldStatus(StrEnum):
    """A hold's life: active until released by staff, expired by its date, or ended because
    its connector no longer finds the reason. Every end is final."""

    active = "active"
    released = "released"
    expired = "expired"
    ended = "ended"


_ENDS = frozenset({HoldStatus.released, HoldStatus.expired, HoldStatus.ended})


def end(current: HoldStatus | str, to: HoldStatus) -> HoldStatus:
    """The status a hold ends in; raises when it has already ended (or ``to`` is no end)."""
    if to not in _ENDS:
        raise InvalidTransition(f"{to.value} is not how a hold ends")
    if HoldStatus(current) is not HoldStatus.active:
        raise InvalidTransition(f"the hold is already {HoldStatus(current).value}")
    return to


class EndRule(StrEnum):
    """How a hold's end is computed."""

    fy_plus_5y = "fy_plus_5y"  # end of the financial year + 5 years
    fy_plus_3y6m = "fy_plus_3y6m"  # end of the financial year + 3 years 6 months
    # until settled or written off, at most until time-barred (app.domain.limitation)
    settled_plus_limitation = "settled_plus_limitation"
    condition = "condition"  # while a condition holds (a connector or staff re-checks)
    fixed_months = "fixed_months"  # a documented period after the event
    date = "date"  # a date decided by staff


@dataclass(frozen=True)
class HoldBasis:
    code: str
    law: str
    gdpr_exemption: str
    end_rule: EndRule
    nb: str
    en: str
    months: int | None = None
    blocks_erasure: bool = True  # a law (Art. 17(3)); a policy without a ground does not
    fields: tuple[str, ...] = ()  # what the law requires kept; () = the categories whole

    def until(self, event: date) -> date | None:
        """The last day data must be kept, counted from ``event``; None while conditional."""
        if self.end_rule is EndRule.fy_plus_5y:
            return retention.bookkeeping_primary_until(event)
        if self.end_rule is EndRule.fy_plus_3y6m:
            return retention.bookkeeping_secondary_until(event)
        if self.end_rule is EndRule.settled_plus_limitation:
            return retention.limitation_until(event)
        if self.end_rule is EndRule.fixed_months and self.months is not None:
            return add_months(event, self.months)
        return None

    def explain(self, language: str) -> str:
        """The basis in plain words for the person (Art. 15(1)(d), Art. 12(4))."""
        return self.en if language == "en" else self.nb


INVOICE_FIELDS = ("name", "address", "invoice_number", "amount", "dates", "description")
"""What an invoice must show (bokføringsforskriften § 5-1-1) and a claim needs: the parties'
names and addresses, number, amount and dates. Not the person's e-mail or phone: contacting
them is not accounting documentation, and a claim is pursued at the address."""

CATALOGUE: tuple[HoldBasis, ...] = (
    HoldBasis(
        "bookkeeping_primary",
        "bokføringsloven § 13 første ledd nr. 1",
        "GDPR art. 17(3)(b)",
        EndRule.fy_plus_5y,
        "Bokføringsloven pålegger oss å oppbevare fakturaer og andre bilag i fem år etter "
        "regnskapsårets slutt.",
        "The Bookkeeping Act requires us to keep invoices and other vouchers for five years "
        "after the end of the financial year.",
        fields=INVOICE_FIELDS,
    ),
    HoldBasis(
        "bookkeeping_secondary",
        "bokføringsloven § 13 første ledd nr. 2",
        "GDPR art. 17(3)(b)",
        EndRule.fy_plus_3y6m,
        "Bokføringsloven pålegger oss å oppbevare avtaler og korrespondanse som dokumenterer "
        "posteringer i tre og et halvt år etter regnskapsårets slutt.",
        "The Bookkeeping Act requires us to keep agreements and correspondence that document "
        "postings for three and a half years after the end of the financial year.",
        fields=("name", "address", "date", "content"),
    ),
    HoldBasis(
        "outstanding_claim",
        "foreldelsesloven §§ 2, 3, 14, 15, 20 og 21",
        "GDPR art. 17(3)(e)",
        EndRule.settled_plus_limitation,
        "Du har en ubetalt faktura. Vi beholder opplysningene som trengs for kravet til det "
        "er oppgjort, og høyst til kravet er foreldet.",
        "You have an unpaid invoice. We keep the data the claim needs until it is settled, and "
        "at most until the claim is time-barred.",
        fields=INVOICE_FIELDS,
    ),
    HoldBasis(
        "debt_collection",
        "foreldelsesloven §§ 2, 3, 14, 15, 20 og 21 (inkasso avbryter ikke foreldelse)",
        "GDPR art. 17(3)(e)",
        EndRule.settled_plus_limitation,
        "Et krav mot deg er sendt til inkasso. Vi beholder opplysningene som trengs for kravet "
        "til det er oppgjort, og høyst til kravet er foreldet.",
        "A claim against you has been sent to debt collection. We keep the data the claim needs "
        "until it is settled, and at most until the claim is time-barred.",
        fields=INVOICE_FIELDS,
    ),
    HoldBasis(
        "shareholder_register",
        "aksjeloven § 4-5",
        "GDPR art. 17(3)(b)",
        EndRule.condition,
        "Aksjeloven krever at aksjeeierboken viser hvem som eier aksjer i selskapet.",
        "The Companies Act requires the shareholder register to show who owns shares.",
    ),
    HoldBasis(
        "regulatory_registry",
        "avregningsforskriften (FOR-1999-03-11-301)",
        "GDPR art. 17(3)(b)",
        EndRule.condition,
        "Forskrift pålegger oss å rapportere kundeopplysninger til Elhub, som er selvstendig "
        "behandlingsansvarlig.",
        "Regulation requires us to report customer data to Elhub, an independent controller.",
    ),
    HoldBasis(
        "b2b_contact",
        "GDPR art. 6(1)(f) og 21(1)",
        "GDPR art. 17(1)(c) (tvingende berettigede grunner)",
        EndRule.condition,
        "Du er registrert kontaktperson for en kundeavtale. Vi beholder det som trengs mens du "
        "er kontaktperson; vi kan bytte kontaktperson og slette deg.",
        "You are the registered contact for a customer agreement. We keep what that needs while "
        "you are the contact; we can replace the contact and erase your data.",
    ),
    HoldBasis(
        "legal_claim",
        "GDPR art. 17(3)(e)",
        "GDPR art. 17(3)(e)",
        EndRule.date,
        "Opplysningene er nødvendige for å fastsette, gjøre gjeldende eller forsvare rettskrav.",
        "The data is needed to establish, exercise or defend legal claims.",
    ),
    HoldBasis(
        "consumer_complaint",
        "forbrukerkjøpsloven § 27",
        "GDPR art. 17(3)(e)",
        EndRule.fixed_months,
        "Vi beholder kjøpsopplysningene så lenge du kan reklamere på varen.",
        "We keep the purchase data while you can still complain about the goods.",
        months=24,
    ),
)


class HoldCatalogue:
    """The built-in bases plus a company's own documented policies."""

    def __init__(self, extra: Iterable[HoldBasis] = ()) -> None:
        self._by_code = {basis.code: basis for basis in CATALOGUE}
        for basis in extra:
            if basis.code in self._by_code:
                raise ValueError(f"hold basis {basis.code!r} is already defined")
            self._by_code[basis.code] = basis

    def get(self, code: str) -> HoldBasis | None:
        return self._by_code.get(code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def all(self) -> list[HoldBasis]:
        return list(self._by_code.values())

    def blocks_erasure(self, code: str) -> bool:
        """Whether a hold under ``code`` keeps data despite an erasure request; an unknown
        code blocks (a connector's own finding is never dropped silently)."""
        basis = self._by_code.get(code)
        return basis is None or basis.blocks_erasure


def policy(
    code: str,
    *,
    months: int,
    justification: str,
    nb: str,
    en: str,
    ground: str | None = None,
    statute: str | None = None,
) -> HoldBasis:
    """A company's documented retention policy, e.g. "chat kept 5 years" (Art. 5(1)(e)).

    With a ground (``legal_obligation`` and its statute, Art. 17(3)(b); ``legal_claim``,
    17(3)(e)) it keeps data despite an erasure request; without one it is a retention
    schedule the report shows and an erasure request overrides.
    """
    if ground == "legal_obligation" and statute:
        law, exemption = statute, "GDPR art. 17(3)(b)"
    elif ground == "legal_claim":
        law, exemption = justification, "GDPR art. 17(3)(e)"
    elif ground is None:
        law, exemption = justification, "ingen (lagringsplan, GDPR art. 5(1)(e))"
    else:
        raise ValueError("a policy's ground is legal_obligation (with a statute) or legal_claim")
    return HoldBasis(
        code,
        law,
        exemption,
        EndRule.fixed_months,
        nb,
        en,
        months=months,
        blocks_erasure=ground is not None,
    )
