"""The public connector API: what a connector declares, receives and returns.

A connector is a class with a ``kind`` slug, a pydantic ``config_model``, the data
``categories`` it holds, and one async method per declared capability. It is registered
under the entry-point group ``innsyn.connectors`` and configured per instance in the
connectors file. Capabilities are declared, never implied by stub methods.

Construction: the loader builds one object per configured instance with
``ConnectorClass(name=<instance name>, config=<validated config_model instance>)``, so
``__init__`` takes exactly those two arguments (extra ones need defaults). A class may set
``api_version = 1`` (the ``API_VERSION`` it was written against); without it, the current
version is assumed.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Mapping, Sequence
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, model_validator

API_VERSION = 1
SUPPORTED_API_VERSIONS = frozenset({1})
"""The ``api_version`` values a connector class may declare and still be loaded."""


class Capability(StrEnum):
    collect = "collect"
    erase = "erase"
    rectify = "rectify"
    restrict = "restrict"
    holds = "holds"


_TEXTS = ("description", "purpose", "legal_basis", "retention", "source")
LANGUAGES = ("nb", "en")


class Transfer(BaseModel):
    """Art. 15(2): data of this category goes to a country outside the EEA, and on what
    safeguard (Art. 45 adequacy, Art. 46 standard contractual clauses, ...)."""

    model_config = ConfigDict(frozen=True)

    country: str = Field(
        pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code of the country, e.g. 'US'."
    )
    safeguard: str | dict[str, str] = Field(
        description="The safeguard in plain words, or per language ({nb: ..., en: ...})."
    )
    recipient: str | None = Field(default=None, description="Who receives the data there.")

    def safeguard_in(self, language: str) -> str:
        return _in(self.safeguard, language)


def _in(text: str | dict[str, str], language: str) -> str:
    if isinstance(text, str):
        return text
    return text.get(language) or text.get("nb") or text.get("en") or next(iter(text.values()))


class DataCategory(BaseModel):
    """A kind of personal data a system holds, with the facts an Art. 15(1) answer must give.

    Texts (``description``, ``purpose``, ``legal_basis``, ``retention``, ``source``) may be
    given per language, ``{nb: ..., en: ...}``: the field then keeps one of them (the rules
    read ``legal_basis``), and ``translations`` keeps every language for the answer.
    """

    model_config = ConfigDict(frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _texts_per_language(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        translations: dict[str, dict[str, str]] = {
            lang: dict(texts) for lang, texts in (data.get("translations") or {}).items()
        }
        for name in _TEXTS:
            value = data.get(name)
            if isinstance(value, dict):
                for lang, text in value.items():
                    translations.setdefault(str(lang), {})[name] = str(text)
                data[name] = _in({str(k): str(v) for k, v in value.items()}, "en")
        if translations:
            data["translations"] = translations
        return data

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str
    purpose: str
    legal_basis: str = Field(description="e.g. 'GDPR 6(1)(b) contract'")
    recipients: list[str] = Field(default_factory=list)
    retention: str
    source: str = "the data subject"
    provided_by_subject: bool = Field(
        default=True, description="Given or observed from the person: in scope for portability."
    )
    marketing: bool = Field(default=False, description="Used for direct marketing (Art. 21(2)).")
    consent_based: bool = Field(default=False, description="Processed on consent (Art. 7(3)).")
    published_to: list[str] = Field(
        default_factory=list,
        description="Art. 17(2): controllers known to process what this category made public "
        "(a published register, a listing); told of an erasure to erase links and copies.",
    )
    automated_decisions: str | dict[str, str] | None = Field(
        default=None,
        description="Art. 15(1)(h): automated decisions or profiling on this data, their logic "
        "and consequences, in plain words (or per language); e.g. 'none'. Unset: not declared.",
    )
    transfers: list[Transfer] | None = Field(
        default=None,
        description="Art. 15(2): transfers outside the EEA with their safeguards; [] says the "
        "data stays within the EEA. Unset: not declared.",
    )
    labels: dict[str, str | dict[str, str]] = Field(
        default_factory=dict,
        description="Plain names of record fields for the answer, e.g. {total: {nb: Beløp, "
        "en: Amount}}; a field without a label is shown by a built-in word or its name.",
    )
    translations: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Texts per language ({nb: {purpose: ...}}); filled from texts given as "
        "{nb: ..., en: ...}.",
    )
    recipient_labels: dict[str, str | dict[str, str]] = Field(
        default_factory=dict,
        description="How a recipient is named in the answer, per language, e.g. {'your grid "
        "company': {nb: nettselskapet ditt}}; ``recipients`` keep the names that Art. 19 "
        "notices are routed by.",
    )

    def text(self, name: str, language: str) -> str:
        """A text in the answer's language, else the one given for all."""
        given = self.translations.get(language, {}).get(name)
        return given if given is not None else str(getattr(self, name))

    def automated_decisions_in(self, language: str) -> str | None:
        if self.automated_decisions is None:
            return None
        return _in(self.automated_decisions, language)

    def recipients_in(self, language: str) -> list[str]:
        """The recipients as the answer names them in ``language`` (else by their names)."""
        named = []
        for recipient in self.recipients:
            label = self.recipient_labels.get(recipient, recipient)
            named.append(label.get(language, recipient) if isinstance(label, dict) else label)
        return named

    def label(self, field: str, language: str) -> str | None:
        given = self.labels.get(field)
        return None if given is None else _in(given, language)


class Identifiers(BaseModel):
    """Identifiers of one person, by kind."""

    model_config = ConfigDict(frozen=True)

    emails: list[str] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list)
    national_id: str | None = None
    customer_ids: dict[str, str] = Field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.emails or self.phones or self.national_id or self.customer_ids)


_PROVEN_FIELDS = frozenset({"emails", "phones", "national_id", "customer_ids"})


class SubjectRef(BaseModel):
    """The person, as the identifiers a connector may look them up by.

    ``proven`` holds the identifiers the person proved (an e-mail by a code sent there, a
    national id by an ID token, what staff checked): only these may find data. ``claimed``
    holds what the form named but nobody proved: use it only to narrow a match that a proven
    identifier already made (pick the right customer among rows found by the proven e-mail),
    never to find more. ``emails``, ``phones``, ``national_id`` and ``customer_ids`` are the
    proven ones, so a connector that reads only those can never search by a claim. ``name``
    is never proof of anything: narrowing only.

    ``SubjectRef(emails=[...])`` (the version 1 shape) builds a subject whose given
    identifiers are all proven, as in tests and tools that act on a known person.

    ``attempt_key`` is unique per task attempt (``<task id>.<attempt>``), so a system that
    supports idempotency keys can refuse a change sent twice by the same attempt. A later
    attempt of the same task has another key: it may find the work already done, and
    erase, rectify and restrict must stay idempotent. None outside the task queue.
    """

    model_config = ConfigDict(frozen=True)

    request_id: str
    proven: Identifiers = Field(default_factory=Identifiers)
    claimed: Identifiers = Field(default_factory=Identifiers)
    name: str | None = None
    attempt_key: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _version_1_shape(cls, data: Any) -> Any:
        if isinstance(data, dict) and _PROVEN_FIELDS & data.keys():
            if "proven" in data:
                raise ValueError("give either proven=Identifiers(...) or the identifiers, not both")
            data = dict(data)
            data["proven"] = {k: data.pop(k) for k in list(data) if k in _PROVEN_FIELDS}
        return data

    @property
    def emails(self) -> list[str]:
        return self.proven.emails

    @property
    def phones(self) -> list[str]:
        return self.proven.phones

    @property
    def national_id(self) -> str | None:
        return self.proven.national_id

    @property
    def customer_ids(self) -> dict[str, str]:
        return self.proven.customer_ids


class FileStream(BaseModel):
    """A file that belongs to a record (a mail attachment, a scan), handed over as a stream.

    ``open`` is called once per attempt, after ``collect`` returned, and yields the file's
    bytes in pieces of any size; Innsyn writes each piece, sealed, as it arrives, so a file
    of any size never sits in memory whole. There is no limit on the whole stream, but each
    piece must come within the instance's ``timeout_seconds``. A stream that raises (or
    stalls) leaves the file incomplete: it is never shown, and the attempt fails like any
    other collect (a transient error is retried).

    Args:
        name: the file name as the person knows it, e.g. ``kvittering.pdf``.
        media_type: e.g. ``application/pdf``.
        size: the size in bytes if known beforehand (a hint; the stored size is what came).
        open: a function that starts the stream: ``async def`` generator or any async
            iterable of ``bytes``.
    """

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1, max_length=500)
    media_type: str = Field(default="application/octet-stream", max_length=200)
    size: int | None = Field(default=None, ge=0)
    open: Callable[[], AsyncIterable[bytes]] = Field(exclude=True, repr=False)


class Record(BaseModel):
    """One item of the person's data, in one category, with any files that belong to it."""

    category: str
    id: str = Field(description="Stable id of the item inside the system (row key, UID, …)")
    data: dict[str, Any]
    files: list[FileStream] = Field(
        default_factory=list,
        exclude=True,
        description="Files of this item (attachments, scans), streamed and stored apart; "
        "the answer lists them and the zip download holds them.",
    )


class CollectResult(BaseModel):
    records: list[Record] = Field(default_factory=list)
    external_controller: str | None = Field(
        default=None, description="Another controller also holds this data (e.g. Elhub)."
    )
    self_service_url: str | None = None

    def by_category(self) -> dict[str, list[Record]]:
        grouped: dict[str, list[Record]] = {}
        for record in self.records:
            grouped.setdefault(record.category, []).append(record)
        return grouped


class ErasureOutcome(StrEnum):
    erased = "erased"
    anonymised = "anonymised"
    not_found = "not_found"
    held = "held"
    not_erasable = "not_erasable"


class CategoryErasure(BaseModel):
    category: str
    outcome: ErasureOutcome
    count: int = 0
    basis_code: str | None = Field(default=None, description="Hold basis code (held)")
    reason: str | None = Field(default=None, description="Why (not_erasable, held)")
    until: date | None = None
    fields: list[str] = Field(
        default_factory=list,
        description="The fields this entry is about when only part of the category was kept: "
        "held, the fields kept; erased or anonymised, the fields removed.",
    )


class ErasureResult(BaseModel):
    categories: list[CategoryErasure] = Field(default_factory=list)


class HoldBasis(StrEnum):
    """The built-in hold catalogue (rules.md §4; ``app.domain.holds.CATALOGUE`` has the law,
    the end rule and the wording per code): why data must be kept despite an erasure."""

    bookkeeping_primary = "bookkeeping_primary"
    """Invoices, vouchers: bokføringsloven §13 (1) nr. 1, 5 years after the financial year."""
    bookkeeping_secondary = "bookkeeping_secondary"
    """Agreements, correspondence: bokføringsloven §13 (1) nr. 2, 3.5 years after the FY."""
    outstanding_claim = "outstanding_claim"
    """An unpaid invoice or other open claim: GDPR 17(3)(e), foreldelsesloven."""
    debt_collection = "debt_collection"
    """The claim is with debt collection (inkasso): GDPR 17(3)(e)."""
    shareholder_register = "shareholder_register"
    """Aksjeeierbok entries while the person holds shares: aksjeloven §4-5."""
    regulatory_registry = "regulatory_registry"
    """A statutory registry (Elhub, FOR-1999-03-11-301): GDPR 17(3)(b)."""
    b2b_contact = "b2b_contact"
    """The registered contact person on an active B2B contract: GDPR 6(1)(f) until replaced."""
    legal_claim = "legal_claim"
    """Needed to establish, exercise or defend a legal claim: GDPR 17(3)(e)."""
    consumer_complaint = "consumer_complaint"
    """The complaint period for goods sold: forbrukerkjøpsloven §27."""

    # Short names for the same codes (aliases: same value, same member).
    bookkeeping = "bookkeeping_primary"
    regulatory = "regulatory_registry"


HOLD_BASIS_CODES: frozenset[str] = frozenset(b.value for b in HoldBasis)


class HoldFinding(BaseModel):
    """A legal reason, found in the system, to keep some categories of the person's data."""

    basis_code: str = Field(description="A code from the hold catalogue, e.g. 'outstanding_claim'")
    categories: list[str]
    until: date | None = None
    condition: str | None = Field(default=None, description="e.g. 'until the invoice is settled'")
    reference: str | None = Field(
        default=None, description="Non-personal reference, e.g. an invoice number"
    )
    fields: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Per category, the only fields the law keeps (e.g. billing: name, address); "
        "a category not named here is kept whole. The rest is erased at once.",
    )
    customer_ids: dict[str, str] = Field(
        default_factory=dict,
        description="The system's own key for the person, stored encrypted with the hold: the "
        "erasure after the hold ends finds the kept rows by it once e-mail and phone are gone.",
    )


class CategoryChange(BaseModel):
    category: str
    outcome: Literal["rectified", "restricted", "lifted", "not_found", "not_supported"]
    count: int = 0
    fields: list[str] = Field(default_factory=list)


class ChangeResult(BaseModel):
    """The outcome of rectify or restrict, per category."""

    categories: list[CategoryChange] = Field(default_factory=list)


class ManualWork(BaseModel):
    """Returned instead of a result when a person must do the work (a paper archive)."""

    instructions: str
    checklist: list[str]


class Health(BaseModel):
    ok: bool
    detail: str = ""


@runtime_checkable
class Connector(Protocol):
    """What every connector has. Capability methods are in the protocols below."""

    kind: ClassVar[str]
    config_model: ClassVar[type[BaseModel]]
    capabilities: ClassVar[frozenset[Capability]]

    name: str

    def categories(self) -> Sequence[DataCategory]: ...

    async def check(self) -> Health: ...

    async def aclose(self) -> None: ...


class Collector(Connector, Protocol):
    async def collect(self, subject: SubjectRef) -> CollectResult | ManualWork: ...


class Eraser(Connector, Protocol):
    async def erase(
        self, subject: SubjectRef, categories: Sequence[str]
    ) -> ErasureResult | ManualWork:
        """Erase (or anonymise) the person's data in exactly ``categories``; idempotent."""
        ...


class Rectifier(Connector, Protocol):
    async def rectify(
        self, subject: SubjectRef, changes: Mapping[str, Any]
    ) -> ChangeResult | ManualWork:
        """Apply corrections (field -> new value); idempotent."""
        ...


class Restrictor(Connector, Protocol):
    async def restrict(
        self, subject: SubjectRef, *, lift: bool = False
    ) -> ChangeResult | ManualWork:
        """Mark the person's data storage-only (Art. 18), or lift that; idempotent."""
        ...


class HoldFinder(Connector, Protocol):
    async def find_holds(self, subject: SubjectRef) -> list[HoldFinding]: ...


CAPABILITY_METHODS: dict[Capability, str] = {
    Capability.collect: "collect",
    Capability.erase: "erase",
    Capability.rectify: "rectify",
    Capability.restrict: "restrict",
    Capability.holds: "find_holds",
}
