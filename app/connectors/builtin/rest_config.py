"""The declarative configuration of the ``rest`` connector (one YAML block per SaaS system).

A system is described as categories; each says how to find the person's items (a request
template with ``{email}``-style placeholders, pagination, JSON paths) and how to erase or
rectify one item (``{id}``). JSON paths are JMESPath expressions (``data``,
``pages.next.starting_after``), compiled when the configuration is loaded so a typo fails
at startup, not in the middle of a request. Examples: ``examples/connectors/*.yaml``.
"""

from __future__ import annotations

from typing import Annotated, Literal

import jmespath
from jmespath.exceptions import JMESPathError
from pydantic import BaseModel, ConfigDict, Field, JsonValue, SecretStr, field_validator
from pydantic import model_validator as _model_validator

from app.connectors.builtin.rest_http import placeholders
from app.connectors.protocol import DataCategory

SUBJECT_PLACEHOLDERS = frozenset({"email", "phone", "national_id", "customer_id", "name"})
"""What a search may be keyed on: the identifiers of ``SubjectRef``."""


def _check_path(expression: str) -> str:
    try:
        jmespath.compile(expression)
    except JMESPathError as exc:
        raise ValueError(f"invalid JMESPath expression {expression!r}: {exc}") from None
    return expression


JsonPath = Annotated[str, Field(min_length=1, description="A JMESPath expression")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BearerAuth(_Strict):
    type: Literal["bearer"] = "bearer"
    token: SecretStr = Field(title="Bearer token", description="Sent as `Authorization: Bearer`")


class HeaderAuth(_Strict):
    type: Literal["header"] = "header"
    header: str = Field(title="Header name", examples=["X-Api-Key"])
    value: SecretStr = Field(title="Header value")
    prefix: str = Field(default="", description="Put before the value, e.g. 'Token '")


Auth = Annotated[BearerAuth | HeaderAuth, Field(discriminator="type")]


class RequestTemplate(_Strict):
    """One HTTP request; strings may hold placeholders (path values are URL-encoded)."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    path: str = Field(description="Relative to base_url, e.g. '/contacts/{id}'")
    params: dict[str, str] = Field(default_factory=dict, description="Query parameters")
    body: JsonValue | None = Field(default=None, description="JSON body template")
    headers: dict[str, str] = Field(default_factory=dict)

    def used(self) -> set[str]:
        return placeholders(self.path, self.params, self.body, self.headers)


class CursorPaging(_Strict):
    """The answer holds a cursor; the next request sends it back (query or JSON body)."""

    type: Literal["cursor"] = "cursor"
    cursor_path: JsonPath
    param: str = Field(description="Query parameter, or dotted body path with location=body")
    location: Literal["query", "body"] = "query"

    _valid = field_validator("cursor_path")(_check_path)


class PagePaging(_Strict):
    """Numbered pages; stops at an empty page or at ``total_pages_path``."""

    type: Literal["page"] = "page"
    param: str = "page"
    start: int = 1
    total_pages_path: JsonPath | None = None

    @field_validator("total_pages_path")
    @classmethod
    def _valid(cls, value: str | None) -> str | None:
        return None if value is None else _check_path(value)


class LinkPaging(_Strict):
    """A next-page URL: from the ``Link: <…>; rel="next"`` header, or a JSON path."""

    type: Literal["link"] = "link"
    next_url_path: JsonPath | None = None

    @field_validator("next_url_path")
    @classmethod
    def _valid(cls, value: str | None) -> str | None:
        return None if value is None else _check_path(value)


Paging = Annotated[CursorPaging | PagePaging | LinkPaging, Field(discriminator="type")]


class EraseRequest(RequestTemplate):
    """Erases one item: ``DELETE /contacts/{id}`` or ``POST /gdpr-delete`` with a body."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "DELETE"
    outcome: Literal["erased", "anonymised"] = "erased"
    gone_statuses: list[int] = Field(
        default_factory=lambda: [404, 410], description="Answers meaning: already gone"
    )


class RectifyRequest(RequestTemplate):
    """Updates one item: the changed fields are written into the body at their paths."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "PATCH"
    fields: dict[str, str] = Field(
        description="Correctable field (as in collected records) -> dotted body path",
        examples=[{"name": "properties.firstname"}],
    )


class RestCategory(DataCategory):
    """A data category plus how to find, erase and rectify its items."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    search: RequestTemplate
    parent: str | None = Field(
        default=None, description="Search once per item of this category, with {parent_id}"
    )
    paging: Paging | None = None
    max_pages: int = Field(default=100, ge=1, description="More pages fail the request")
    items_path: JsonPath = Field(default="@", description="Where the item list is")
    id_path: JsonPath = "id"
    fields: dict[str, JsonPath] = Field(
        default_factory=dict, description="Record field -> JSON path in the item (empty: all)"
    )
    empty_statuses: list[int] = Field(
        default_factory=list,
        description="Search answers meaning 'no such person' (e.g. 404 for GET /by-email/…). "
        "Empty by default: a wrong path must fail, not report that nothing is held.",
    )
    erase: EraseRequest | None = None
    erased_with_parent: bool = Field(
        default=False, description="Erasing the parent item also removes these items"
    )
    rectify: RectifyRequest | None = None

    @field_validator("items_path", "id_path")
    @classmethod
    def _valid_path(cls, value: str) -> str:
        return _check_path(value)

    @field_validator("fields")
    @classmethod
    def _valid_fields(cls, value: dict[str, str]) -> dict[str, str]:
        for expression in value.values():
            _check_path(expression)
        return value

    @_model_validator(mode="after")
    def _placeholders(self) -> RestCategory:
        allowed = {"parent_id"} if self.parent else set(SUBJECT_PLACEHOLDERS)
        _only(f"{self.name}.search", self.search.used(), allowed)
        if not self.parent and not self.search.used() - {"name"}:
            # A name proves nothing and is shared by many: it may narrow a search, never
            # be the only key (only proven identifiers find a person).
            raise ValueError(
                f"{self.name}.search must use an identifier placeholder like {{email}} "
                "({name} may only narrow it)"
            )
        for label, request in (("erase", self.erase), ("rectify", self.rectify)):
            if request is not None:
                _only(f"{self.name}.{label}", request.used(), {"id", "parent_id"})
                if "id" not in request.used():
                    raise ValueError(f"{self.name}.{label} must use {{id}}")
        if self.erased_with_parent and not self.parent:
            raise ValueError(f"{self.name}.erased_with_parent needs a parent category")
        return self

    def as_category(self) -> DataCategory:
        return DataCategory.model_validate(self.model_dump(include=set(DataCategory.model_fields)))


def _only(where: str, used: set[str], allowed: set[str]) -> None:
    unknown = used - allowed
    if unknown:
        raise ValueError(
            f"{where} uses unknown placeholders {sorted(unknown)}; allowed {sorted(allowed)}"
        )


class RestConfig(_Strict):
    """A SaaS API described declaratively; see the module docstring."""

    base_url: str = Field(title="Base URL", examples=["https://api.intercom.io"])
    auth: Auth | None = None
    headers: dict[str, str] = Field(default_factory=dict, description="Sent with every request")
    idempotency_header: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9-]+$",
        description=(
            "e.g. Idempotency-Key: sent with every erase and rectify call, unique per task "
            "attempt and call, for systems that refuse a duplicate"
        ),
    )
    timeout_seconds: float = Field(default=30.0, gt=0)
    connect_timeout_seconds: float = Field(default=10.0, gt=0)
    verify_tls: bool = True
    check: RequestTemplate = Field(description="A cheap authenticated request, e.g. GET /me")
    verify_erasure: bool = Field(
        default=True,
        description="Search again after erasing; items still listed fail the erasure (retried)",
    )
    categories: list[RestCategory] = Field(min_length=1)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return value.rstrip("/")

    @_model_validator(mode="after")
    def _graph(self) -> RestConfig:
        if self.check.used():
            raise ValueError("the check request cannot use placeholders")
        names = [c.name for c in self.categories]
        if len(names) != len(set(names)):
            raise ValueError(f"category names repeat: {names}")
        by_name = {c.name: c for c in self.categories}
        for category in self.categories:
            seen = {category.name}
            parent = category.parent
            while parent is not None:
                if parent not in by_name:
                    raise ValueError(f"{category.name}.parent {parent!r} is not a category")
                if parent in seen:
                    raise ValueError(f"categories form a cycle through {parent!r}")
                seen.add(parent)
                parent = by_name[parent].parent
        return self
