"""One answer, in the format asked for, with the headers that keep it private."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Response
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse

from app.routers.report_headers import report_headers
from app.runtime import Runtime
from app.schemas.report import Report
from app.services import answer_zip, report_formats

Format = Literal["json", "html", "pdf", "portable", "zip"]

CONTENT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The answer",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Report"}},
            "text/html": {},
            "application/pdf": {},
            "application/zip": {},
        },
    }
}


def respond(rt: Runtime, report: Report, format_: Format) -> Response:
    """The zip streams (its files may be large); the other formats are built whole."""
    name = f"innsyn-{report.request.id}"
    if format_ == "html":
        return HTMLResponse(
            report_formats.html(report), headers=report_headers(html=True, filename=f"{name}.html")
        )
    if format_ == "pdf":
        return Response(
            report_formats.pdf(report),
            media_type="application/pdf",
            headers=report_headers(html=False, filename=f"{name}.pdf"),
        )
    if format_ == "zip":
        return StreamingResponse(
            answer_zip.stream(rt, report),
            media_type="application/zip",
            headers=report_headers(html=False, filename=f"{name}.zip"),
        )
    if format_ == "portable":
        return JSONResponse(
            report_formats.portable(report),
            headers=report_headers(html=False, filename=f"{name}-data.json"),
        )
    return JSONResponse(
        report.model_dump(mode="json"), headers=report_headers(html=False, filename=f"{name}.json")
    )
