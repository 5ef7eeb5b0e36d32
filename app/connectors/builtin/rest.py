"""``rest``: a declarative connector for SaaS HTTP APIs (Intercom-, HubSpot-style).

The configuration (``rest_config.RestConfig``) describes categories of data as request
templates; this module runs them: it finds the person's items (following pagination and
parent -> child lookups such as contact -> conversations), erases them child-first, and
writes corrections. Errors are classified by ``rest_http`` so the orchestrator knows when a
retry helps; nothing it says or logs contains the credential or the person's identifiers.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import httpx
import jmespath
import structlog
from jmespath.parser import ParsedResult
from pydantic import BaseModel

from app.connectors.builtin.rest_config import (
    BearerAuth,
    CursorPaging,
    HeaderAuth,
    PagePaging,
    RequestTemplate,
    RestCategory,
    RestConfig,
)
from app.connectors.builtin.rest_erase import Plan, descendants, plan_erasure
from app.connectors.builtin.rest_http import (
    SecretHeaderAuth,
    json_body,
    map_httpx_errors,
    raise_for_status,
    render,
    render_json,
    same_origin_url,
    set_path,
)
from app.connectors.errors import (
    ConnectorConfigError,
    ConnectorPermanentError,
    ConnectorTransientError,
)
from app.connectors.protocol import (
    Capability,
    CategoryChange,
    CategoryErasure,
    ChangeResult,
    CollectResult,
    DataCategory,
    ErasureOutcome,
    ErasureResult,
    Health,
    Record,
    SubjectRef,
)

log = structlog.get_logger(__name__)


@lru_cache(maxsize=512)
def _compiled(expression: str) -> ParsedResult:
    return jmespath.compile(expression)


def _search(expression: str, document: Any) -> Any:
    return _compiled(expression).search(document)


@dataclass(frozen=True)
class _Item:
    id: str
    raw: Any
    parent_id: str | None = None

    def values(self) -> dict[str, str]:
        return {"id": self.id, "parent_id": self.parent_id or ""}


class RestConnector:
    """A SaaS API described in configuration; see ``rest_config`` and examples/connectors."""

    kind: ClassVar[str] = "rest"
    api_version: ClassVar[int] = 1
    config_model: ClassVar[type[BaseModel]] = RestConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.collect, Capability.erase, Capability.rectify}
    )

    def __init__(self, name: str, config: RestConfig) -> None:
        self.name = name
        self.config = config
        self._categories = tuple(c.as_category() for c in config.categories)
        self._by_name = {c.name: c for c in config.categories}
        self._order = _parents_first(config.categories)
        self._client = httpx.AsyncClient(
            base_url=config.base_url,
            headers=config.headers,
            auth=_auth(config),
            timeout=httpx.Timeout(config.timeout_seconds, connect=config.connect_timeout_seconds),
            verify=config.verify_tls,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"RestConnector(name={self.name!r}, base_url={self.config.base_url!r})"

    def categories(self) -> Sequence[DataCategory]:
        return self._categories

    async def aclose(self) -> None:
        await self._client.aclose()

    async def check(self) -> Health:
        """Sends the configured check request: proves the URL and the credentials work."""
        spec = self.config.check
        response = await self._send(spec, {}, render(spec.path, {}), dict(spec.params), spec.body)
        status = response.status_code if response is not None else 0
        return Health(ok=True, detail=f"{spec.method} {spec.path}: HTTP {status}")

    async def collect(self, subject: SubjectRef) -> CollectResult:
        found = await self._find(subject, self._by_name)
        records = [
            self._record(category, item)
            for category in self.config.categories
            for item in found.get(category.name, [])
        ]
        log.info("rest_collected", connector=self.name, records=len(records))
        return CollectResult(records=records)

    async def erase(self, subject: SubjectRef, categories: Sequence[str]) -> ErasureResult:
        """Erases children before parents; refuses a parent whose kept children it would orphan."""
        requested = self._known(categories)
        found = await self._find(subject, self._with_descendants(requested))
        has_items = {name: bool(items) for name, items in found.items()}
        plans = plan_erasure(self._order, requested, has_items)
        done: dict[str, CategoryErasure] = {}
        for category in reversed(self._order):
            if category.name in requested:
                items = found.get(category.name, [])
                done[category.name] = await self._erase_category(
                    category, items, plans[category.name], subject.attempt_key
                )
        removed = [n for n in requested if plans[n].action != "keep" and found.get(n)]
        if removed and self.config.verify_erasure:
            await self._verify_erased(subject, removed, found)
        log.info("rest_erased", connector=self.name, categories=len(done))
        return ErasureResult(categories=[done[name] for name in requested])

    async def _verify_erased(
        self, subject: SubjectRef, names: list[str], before: dict[str, list[_Item]]
    ) -> None:
        """Search again: an item still listed means a wrong erase path (its 404 read as
        "already gone") or a search index that lags; both must not pass as erased."""
        after = await self._find(subject, names)
        left = sorted(
            name
            for name in names
            if {i.id for i in after.get(name, [])} & {i.id for i in before.get(name, [])}
        )
        if left:
            raise ConnectorTransientError(
                f"erased items are still listed in {', '.join(left)}",
                internal_message="erase verification found items still present: check the "
                "erase request, or the system's search lags behind",
            )

    async def rectify(self, subject: SubjectRef, changes: Mapping[str, Any]) -> ChangeResult:
        """Writes each changed field a category maps, into every item of that category."""
        targets = [
            c.name
            for c in self.config.categories
            if c.rectify is not None and set(changes) & set(c.rectify.fields)
        ]
        found = await self._find(subject, targets) if targets else {}
        results: list[CategoryChange] = []
        for category in self.config.categories:
            spec = category.rectify
            if spec is None or category.name not in targets:
                results.append(CategoryChange(category=category.name, outcome="not_supported"))
                continue
            fields = sorted(set(changes) & set(spec.fields))
            items = found.get(category.name, [])
            for item in items:
                body = render_json(spec.body, item.values())
                document = body if isinstance(body, dict) else {}
                for field in fields:
                    set_path(document, spec.fields[field], changes[field])
                path = render(spec.path, item.values(), quote_values=True)
                await self._send(
                    spec, item.values(), path, dict(spec.params), document, key=subject.attempt_key
                )
            outcome = "rectified" if items else "not_found"
            results.append(
                CategoryChange(
                    category=category.name, outcome=outcome, count=len(items), fields=fields
                )
            )
        return ChangeResult(categories=results)

    # ----- finding items -----

    async def _find(self, subject: SubjectRef, wanted: Iterable[str]) -> dict[str, list[_Item]]:
        """Items per category for ``wanted`` and the parents needed to reach them."""
        needed: set[str] = set()
        for name in wanted:
            category: RestCategory | None = self._by_name[name]
            while category is not None and category.name not in needed:
                needed.add(category.name)
                category = self._by_name[category.parent] if category.parent else None
        found: dict[str, list[_Item]] = {}
        for category in self._order:
            if category.name not in needed:
                continue
            if category.parent is not None:
                contexts = [{"parent_id": item.id} for item in found[category.parent]]
            else:
                contexts = self._subject_values(subject, category.search.used())
            items: dict[str, _Item] = {}
            for values in contexts:
                async for page in self._pages(category, values):
                    for raw in page:
                        item = self._item(category, raw, values.get("parent_id"))
                        items.setdefault(item.id, item)
            found[category.name] = list(items.values())
        return found

    def _subject_values(self, subject: SubjectRef, used: set[str]) -> list[dict[str, str]]:
        """One value set per combination of the person's identifiers the search uses."""
        options: dict[str, list[str]] = {
            "email": _unique(subject.emails),
            "phone": _unique(subject.phones),
            "national_id": [subject.national_id] if subject.national_id else [],
            "customer_id": [subject.customer_ids[self.name]]
            if self.name in subject.customer_ids
            else [],
            "name": [subject.name] if subject.name else [],
        }
        keys = sorted(used)
        return [
            dict(zip(keys, combo, strict=True))
            for combo in itertools.product(*(options[k] for k in keys))
        ]

    async def _pages(
        self, category: RestCategory, values: dict[str, str]
    ) -> AsyncIterator[list[Any]]:
        """The item lists of every page of one search."""
        spec, paging = category.search, category.paging
        what = f"{spec.method} {spec.path}"
        url: str | httpx.URL = render(spec.path, values, quote_values=True)
        params = {k: render(v, values) for k, v in spec.params.items()}
        body = render_json(spec.body, values)
        page = paging.start if isinstance(paging, PagePaging) else 0
        if isinstance(paging, PagePaging):
            params[paging.param] = str(page)
        for _ in range(category.max_pages):
            response = await self._send(
                spec, values, url, params, body, tolerated=category.empty_statuses
            )
            if response is None:
                return
            document = json_body(response, what)
            items = _search(category.items_path, document)
            if items is None:
                items = []
            if not isinstance(items, list):
                raise ConnectorConfigError(
                    f"items_path of {category.name} does not select a list",
                    internal_message=f"{what}: items_path selected {type(items).__name__}",
                )
            yield items
            if paging is None:
                return
            if isinstance(paging, CursorPaging):
                cursor = _search(paging.cursor_path, document)
                if cursor is None or cursor == "":
                    return
                if paging.location == "query":
                    params[paging.param] = str(cursor)
                else:
                    body = body if isinstance(body, dict) else {}
                    set_path(body, paging.param, cursor)
            elif isinstance(paging, PagePaging):
                total = (
                    _search(paging.total_pages_path, document) if paging.total_pages_path else None
                )
                if not items or (isinstance(total, int) and page - paging.start + 1 >= total):
                    return
                page += 1
                params[paging.param] = str(page)
            else:
                link = (
                    _search(paging.next_url_path, document)
                    if paging.next_url_path
                    else response.links.get("next", {}).get("url")
                )
                if not link:
                    return
                url, params = same_origin_url(self._client.base_url, str(link), what), {}
        raise ConnectorPermanentError(
            f"{category.name}: more than {category.max_pages} pages of results",
            internal_message=f"{what}: max_pages reached",
        )

    def _item(self, category: RestCategory, raw: Any, parent_id: str | None) -> _Item:
        ident = _search(category.id_path, raw)
        if ident is None or isinstance(ident, dict | list) or ident == "":
            raise ConnectorConfigError(
                f"an item of {category.name} has no id; check id_path",
                internal_message=f"{category.name}: id_path selected {type(ident).__name__}",
            )
        return _Item(id=str(ident), raw=raw, parent_id=parent_id)

    def _record(self, category: RestCategory, item: _Item) -> Record:
        if category.fields:
            data = {key: _search(path, item.raw) for key, path in category.fields.items()}
        else:
            data = item.raw if isinstance(item.raw, dict) else {"value": item.raw}
        return Record(category=category.name, id=item.id, data=data)

    # ----- erasure -----

    def _known(self, categories: Sequence[str]) -> list[str]:
        unknown = sorted(set(categories) - set(self._by_name))
        if unknown:
            raise ConnectorConfigError(f"{self.name} has no categories {unknown}")
        return list(dict.fromkeys(categories))

    def _with_descendants(self, names: Iterable[str]) -> set[str]:
        return {
            n for name in names for n in [name, *(d.name for d in descendants(self._order, name))]
        }

    async def _erase_category(
        self, category: RestCategory, items: list[_Item], plan: Plan, key: str | None
    ) -> CategoryErasure:
        if not items:
            return CategoryErasure(category=category.name, outcome=ErasureOutcome.not_found)
        if plan.action == "keep":
            return CategoryErasure(
                category=category.name, outcome=ErasureOutcome.not_erasable, reason=plan.reason
            )
        if plan.action == "parent":
            return CategoryErasure(
                category=category.name, outcome=ErasureOutcome.erased, count=len(items)
            )
        spec = category.erase
        assert spec is not None  # plan "own" is only chosen with an erase request
        erased = 0
        for item in items:
            path = render(spec.path, item.values(), quote_values=True)
            body = render_json(spec.body, item.values())
            params = {k: render(v, item.values()) for k, v in spec.params.items()}
            response = await self._send(
                spec, item.values(), path, params, body, tolerated=spec.gone_statuses, key=key
            )
            erased += response is not None
        outcome = ErasureOutcome(spec.outcome) if erased else ErasureOutcome.not_found
        return CategoryErasure(category=category.name, outcome=outcome, count=erased)

    # ----- HTTP -----

    async def _send(
        self,
        spec: RequestTemplate,
        values: Mapping[str, str],
        url: str | httpx.URL,
        params: Mapping[str, str],
        body: Any,
        *,
        tolerated: Iterable[int] = (),
        key: str | None = None,
    ) -> httpx.Response | None:
        """One request; None when its status is ``tolerated`` (gone, or no such person).
        A change sent with the task attempt's ``key`` carries an idempotency key (when the
        instance names the header): the same attempt sending the same call again is one
        call to a system that honours it."""
        what = f"{spec.method} {spec.path}"
        headers = {k: render(v, values) for k, v in spec.headers.items()}
        if key and self.config.idempotency_header:
            call = hashlib.sha256(f"{spec.method} {url}".encode()).hexdigest()[:16]
            headers[self.config.idempotency_header] = f"{key}-{call}"
        with map_httpx_errors(what):
            response = await self._client.request(
                spec.method, url, params=params or None, json=body, headers=headers or None
            )
        return response if raise_for_status(response, what, tolerated=tolerated) else None


def _auth(config: RestConfig) -> httpx.Auth | None:
    if isinstance(config.auth, BearerAuth):
        return SecretHeaderAuth("Authorization", config.auth.token, prefix="Bearer ")
    if isinstance(config.auth, HeaderAuth):
        return SecretHeaderAuth(config.auth.header, config.auth.value, prefix=config.auth.prefix)
    return None


def _parents_first(categories: Sequence[RestCategory]) -> list[RestCategory]:
    by_name = {c.name: c for c in categories}

    def depth(category: RestCategory) -> int:
        return 0 if category.parent is None else 1 + depth(by_name[category.parent])

    return sorted(categories, key=depth)


def _unique(values: Iterable[str]) -> list[str]:
    return list({v.strip().lower(): v.strip() for v in values if v.strip()}.values())
