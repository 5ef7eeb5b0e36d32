"""The FastAPI application: wiring only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from app import openapi_doc, problems
from app.jobs.runner import Worker
from app.jobs.service import BackgroundWorker
from app.middleware import AccessLog, BodySizeLimit
from app.middleware_not_modified import NotModified
from app.middleware_nul import RefuseNul
from app.routers import answers as answers_router
from app.routers import apikeys as apikeys_router
from app.routers import audit as audit_router
from app.routers import completion as completion_router
from app.routers import connectors as connectors_router
from app.routers import docs, ops
from app.routers import holds as holds_router
from app.routers import letters as letters_router
from app.routers import recipients as recipients_router
from app.routers import requests as requests_router
from app.routers import suppression as suppression_router
from app.routers import tasks as tasks_router
from app.routers import webhooks as webhooks_router
from app.runtime import Runtime
from app.scheduler import build_scheduler
from app.settings import Settings, get_settings
from app.web import install as web

API_VERSION = "1.0.0"


def _operation_id(route: APIRoute) -> str:
    """Stable operation ids (``tag-name``) so generated clients do not churn."""
    tag = str(route.tags[0]) if route.tags else "default"
    return f"{tag}-{route.name}"


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or (runtime.settings if runtime else get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime or Runtime.build(settings)
        app.state.runtime = rt
        workers = BackgroundWorker(Worker(rt)).start() if rt.settings.run_workers else None
        scheduler = build_scheduler(rt) if rt.settings.run_scheduler else None
        if scheduler is not None:
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            if workers is not None:
                await workers.stop()
            if runtime is None:
                await rt.connectors.aclose()
                await rt.db.dispose()

    app = FastAPI(
        title="Innsyn",
        version=API_VERSION,
        summary="GDPR data-subject requests, answered within the month.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        docs_url=None,  # served from the installed package (app/routers/docs.py), no CDN
        redoc_url=None,
    )
    docs.install(app)
    if runtime is not None:
        app.state.runtime = runtime
    problems.install(app)
    app.include_router(requests_router.router)
    app.include_router(answers_router.router)
    app.include_router(tasks_router.router)
    app.include_router(letters_router.router)
    app.include_router(completion_router.router)
    app.include_router(holds_router.router)
    app.include_router(recipients_router.router)
    app.include_router(suppression_router.router)
    app.include_router(audit_router.router)
    app.include_router(apikeys_router.router)
    app.include_router(webhooks_router.router)
    app.include_router(connectors_router.router)
    app.include_router(ops.router)
    web.install(app)
    app.add_middleware(RefuseNul)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(NotModified)  # a GET it answers has no body and a plain-id path
    app.add_middleware(AccessLog)
    _add_problem_schema(app)
    return app


def _add_problem_schema(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        app.openapi_schema = openapi_doc.complete(original())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
