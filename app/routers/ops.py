"""Liveness, readiness, metrics and the problem-type documentation."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse, JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.deps import RuntimeDep
from app.domain.errors import NotFound
from app.problems import all_types, problem
from app.store import health

router = APIRouter(tags=["ops"])


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness", responses={503: {"description": "Not ready"}})
async def readyz(rt: RuntimeDep) -> JSONResponse:
    """Ready when the database answers."""
    if not await health.answers(rt.db):
        return problem(503, "not-ready", "Not ready", "the database is not reachable")
    return JSONResponse({"status": "ready"})


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    """Prometheus text exposition."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/problems/{code}", include_in_schema=False)
async def problem_type(code: str) -> HTMLResponse:
    """Human-readable page for each problem ``type`` URI."""
    titles = all_types()
    if code not in titles:
        raise NotFound(f"no problem type {code}")
    return HTMLResponse(f"<h1>{titles[code]}</h1><p>Problem type <code>{code}</code>.</p>")
