"""The zip download, streamed: CSV files and the portable JSON first, then every stored file
(attachments, scans) a chunk at a time, so an answer of any size passes through in pieces.

Files go in uncompressed (they are mostly compressed already: PDF, JPEG, zip), with the size
and CRC-32 recorded when they were written, so nothing needs to be read twice.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterable, AsyncIterator
from datetime import datetime

from stream_zip import NO_COMPRESSION_64, ZIP_64, AsyncMemberFile, async_stream_zip

from app.runtime import Runtime
from app.schemas.report import Report
from app.services import collected_files, report_formats

_MODE = 0o600


async def stream(rt: Runtime, report: Report) -> AsyncIterator[bytes]:
    """The zip's bytes as they are made."""
    now = rt.clock.now().replace(tzinfo=None)
    async for piece in async_stream_zip(
        _members(rt, report, now), get_compressobj=lambda: zlib.compressobj(6, zlib.DEFLATED, -15)
    ):
        yield piece


async def _members(rt: Runtime, report: Report, now: datetime) -> AsyncIterator[AsyncMemberFile]:
    for name, data in report_formats.csv_members(report):
        yield name, now, _MODE, ZIP_64, _once(data)
    for system in report.systems:
        for category in system.categories:
            for file in category.attachments:
                if file.path is None or file.stored is None or file.size is None:
                    continue
                file_id, crc = file.stored
                method = NO_COMPRESSION_64(file.size, crc)
                yield file.path, now, _MODE, method, collected_files.content(rt, file_id)


async def _once(data: bytes) -> AsyncIterable[bytes]:
    yield data
