"""The ``registry`` connector: an Elhub-style statutory registry reached over REST.

The supplier reports the end user's master data to the registry, which holds it (and the
metering points) as an independent controller under a legal obligation. So: ``collect``
returns the master data and metering-point ids (GSRN) with ``external_controller`` and a
self-service link for the Art. 15 answer; ``rectify`` sends corrected master data (which is
also the Art. 19 notice to the registry); ``erase`` never deletes and reports every category
``not_erasable`` under GDPR 17(3)(b); ``find_holds`` reports that hold; restriction is not
supported. The API shape is the one of ``innsyn_peers.elhub``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, Field, SecretStr

from app.connectors.errors import ConnectorPermanentError, map_httpx_errors
from app.connectors.protocol import (
    API_VERSION,
    Capability,
    CategoryChange,
    CategoryErasure,
    ChangeResult,
    CollectResult,
    DataCategory,
    ErasureOutcome,
    ErasureResult,
    Health,
    HoldBasis,
    HoldFinding,
    Record,
    SubjectRef,
)

LEGAL_REFERENCE = "GDPR 17(3)(b); FOR-1999-03-11-301 (avregningsforskriften)"
MASTER_DATA = "master_data"
METERING_POINTS = "metering_points"
# Record field -> registry wire field, for the master data a supplier may correct.
CORRECTABLE = {
    "name": "name",
    "email": "email",
    "mobile": "mobile",
    "phone": "phone",
    "postal_address": "postalAddress",
    "invoice_address": "invoiceAddress",
}


class RegistryConfig(BaseModel):
    """Where the registry is and how to authenticate (a Maskinporten-style bearer token)."""

    base_url: str = Field(pattern=r"^https?://", description="API root, e.g. https://api.elhub.no")
    token: SecretStr = Field(description="Bearer token for the registry API.")
    controller: str = Field(default="Elhub", description="The registry, as named in answers.")
    self_service_url: str = Field(
        default="https://plugin.elhub.no", description="Where people see their own data."
    )
    timeout_seconds: float = Field(default=10.0, gt=0)
    aliases: dict[str, str] = Field(
        default_factory=lambda: {"address": "postal_address"},
        description="Names of corrections in requests -> master-data field names.",
    )


class RegistryConnector:
    """Collect and rectify in an Elhub-style registry; erasure is a legal hold by law."""

    kind: ClassVar[str] = "registry"
    api_version: ClassVar[int] = API_VERSION
    config_model: ClassVar[type[BaseModel]] = RegistryConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.collect, Capability.erase, Capability.rectify, Capability.holds}
    )
    # Found by national identity number only, and it holds metering and master data: an
    # e-mail code is not enough to see it (EDPB 01/2022 § 70, proportionate step-up).
    required_identity: ClassVar[frozenset[str]] = frozenset({"national_id"})

    def __init__(self, name: str, config: RegistryConfig) -> None:
        self.name = name
        self.config = config
        self._client: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"RegistryConnector(name={self.name!r}, base_url={self.config.base_url!r})"

    def categories(self) -> Sequence[DataCategory]:
        registry = self.config.controller
        basis = f"GDPR 6(1)(c) legal obligation (FOR-1999-03-11-301, reporting to {registry})"
        recipients = [f"{registry} (independent controller)", "your grid company"]
        named = {
            recipients[0]: {"nb": f"{registry} (selvstendig behandlingsansvarlig)"},
            recipients[1]: {"nb": "nettselskapet ditt"},
        }
        # A statutory registry in Norway: reported as the law says, decided on by nobody.
        facts: dict[str, Any] = {
            "automated_decisions": {
                "nb": "Ingen. Opplysningene rapporteres slik loven krever; ingen avgjørelser "
                "tas automatisk og ingen profilering skjer.",
                "en": "None. The data is reported as the law requires; no decision is made "
                "automatically and there is no profiling.",
            },
            "transfers": [],
        }
        norwegian = {
            MASTER_DATA: {
                "description": "Fødselsnummer, navn, e-post, telefonnumre og post- og "
                "fakturaadresse, slik de er rapportert til registeret.",
                "purpose": f"Å rapportere deg som kunde til {registry}, slik loven krever.",
                "legal_basis": "personvernforordningen art. 6(1)(c), rettslig plikt "
                f"(FOR-1999-03-11-301, rapportering til {registry})",
                "retention": f"Så lenge du er kunde hos oss; {registry} lagrer sin kopi etter "
                "egne regler (se selvbetjeningssiden deres).",
                "source": "Deg, da du inngikk strømavtalen.",
            },
            METERING_POINTS: {
                "description": "Målepunktene dine (GSRN-ID), adressen og nettselskapet.",
                "purpose": f"Avregning av strømleveransen din gjennom {registry}.",
                "legal_basis": "personvernforordningen art. 6(1)(c), rettslig plikt "
                f"(FOR-1999-03-11-301, rapportering til {registry})",
                "retention": f"Så lenge du er kunde hos oss; måleverdier lagres av {registry} "
                "i 3 år.",
                "source": f"{registry} og nettselskapet ditt.",
            },
        }
        return [
            DataCategory(
                name=MASTER_DATA,
                description="National identity number, name, e-mail, phone numbers and "
                "postal and invoice address, as reported to the registry.",
                purpose=f"Reporting you as our customer to {registry}, as the law requires.",
                legal_basis=basis,
                recipients=recipients,
                recipient_labels=named,
                retention=f"As long as you are our customer; {registry} keeps its copy under "
                "its own rules (see its self-service page).",
                source="You, when you signed the supply contract.",
                translations={"nb": norwegian[MASTER_DATA]},
                **facts,
            ),
            DataCategory(
                name=METERING_POINTS,
                description="Your metering points (GSRN ids), their address and grid owner.",
                purpose="Settlement of your electricity supply through the registry.",
                legal_basis=basis,
                recipients=recipients,
                recipient_labels=named,
                retention=f"As long as you are our customer; metering values are kept by "
                f"{registry} for 3 years.",
                source=f"{registry} and your grid company.",
                provided_by_subject=False,
                translations={"nb": norwegian[METERING_POINTS]},
                **facts,
            ),
        ]

    async def check(self) -> Health:
        with map_httpx_errors(self.config.controller):
            response = await self._http().get("/v1/health")
            response.raise_for_status()
        return Health(ok=True, detail=f"{self.config.controller} API answers")

    async def collect(self, subject: SubjectRef) -> CollectResult:
        result = CollectResult(
            external_controller=self.config.controller,
            self_service_url=self.config.self_service_url,
        )
        user = await self._lookup(subject)
        if user is None:
            return result
        end_user_id = str(user["endUserId"])
        master = {field: user.get(wire) for field, wire in CORRECTABLE.items()}
        result.records.append(
            Record(
                category=MASTER_DATA,
                id=end_user_id,
                data={"national_id": user.get("nationalId"), **master},
            )
        )
        for point in await self._metering_points(end_user_id):
            result.records.append(Record(category=METERING_POINTS, id=point["gsrn"], data=point))
        return result

    async def erase(
        self,
        subject: SubjectRef,  # noqa: ARG002 - the protocol's signature; refusing needs no lookup
        categories: Sequence[str],
    ) -> ErasureResult:
        """Never deletes: the registry keeps the data under its own legal obligation."""
        return ErasureResult(
            categories=[
                CategoryErasure(
                    category=category,
                    outcome=ErasureOutcome.not_erasable,
                    basis_code=HoldBasis.regulatory.value,
                    reason=LEGAL_REFERENCE,
                )
                for category in categories
            ]
        )

    async def find_holds(self, subject: SubjectRef) -> list[HoldFinding]:
        user = await self._lookup(subject)
        if user is None:
            return []
        return [
            HoldFinding(
                basis_code=HoldBasis.regulatory.value,
                categories=[MASTER_DATA, METERING_POINTS],
                condition=f"kept by {self.config.controller} under FOR-1999-03-11-301 "
                "(avregningsforskriften)",
            )
        ]

    async def rectify(self, subject: SubjectRef, changes: Mapping[str, Any]) -> ChangeResult:
        """Send corrected master data to the registry (PUT of the correctable fields)."""
        wanted = {self.config.aliases.get(k, k): v for k, v in changes.items()}
        fields = sorted(f for f in wanted if f in CORRECTABLE)
        if not fields:
            return ChangeResult(
                categories=[CategoryChange(category=MASTER_DATA, outcome="not_supported")]
            )
        user = await self._lookup(subject)
        if user is None:
            return ChangeResult(
                categories=[CategoryChange(category=MASTER_DATA, outcome="not_found")]
            )
        body = {wire: user.get(wire) for wire in CORRECTABLE.values()}
        body.update({CORRECTABLE[f]: wanted[f] for f in fields})
        with map_httpx_errors(self.config.controller):
            response = await self._http().put(
                f"/v1/end-users/{user['endUserId']}/master-data", json=body
            )
            response.raise_for_status()
        return ChangeResult(
            categories=[
                CategoryChange(category=MASTER_DATA, outcome="rectified", count=1, fields=fields)
            ]
        )

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self.config.base_url,
                timeout=self.config.timeout_seconds,
                headers={"Authorization": f"Bearer {self.config.token.get_secret_value()}"},
            )
        return self._client

    async def _lookup(self, subject: SubjectRef) -> dict[str, Any] | None:
        """The end user by national id (sent in a POST body, never in a URL)."""
        if not subject.national_id:
            return None
        with map_httpx_errors(self.config.controller):
            response = await self._http().post(
                "/v1/end-users/lookup", json={"nationalId": subject.national_id}
            )
            if response.status_code == 404:
                return None
            response.raise_for_status()
        return _json(response, self.config.controller)

    async def _metering_points(self, end_user_id: str) -> list[dict[str, Any]]:
        with map_httpx_errors(self.config.controller):
            response = await self._http().get(f"/v1/end-users/{end_user_id}/metering-points")
            response.raise_for_status()
        points = _json(response, self.config.controller).get("meteringPoints")
        if not isinstance(points, list):
            raise ConnectorPermanentError(
                f"{self.config.controller} answered without meteringPoints"
            )
        return points


def _json(response: httpx.Response, system: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ConnectorPermanentError(
            f"{system} answered with something other than a JSON object",
            internal_message=f"{response.request.method} {response.request.url.path}",
        )
    return body
