"""Files of collected records, written in sealed chunks as they stream and read back the same
way, so an answer of any size passes through Innsyn a chunk at a time.

Writing: the file's row first (incomplete), then each chunk in a short transaction of its own,
then the row marked complete. Reading: only complete files, one chunk per query.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.connectors.protocol import FileStream
from app.db.models import CollectedFile, CollectedFileChunk
from app.db.models.files import chunk_purpose, name_purpose
from app.ids import new_id
from app.runtime import Runtime

CHUNK_BYTES = 1 << 20
"""Bytes per sealed chunk: big enough for few rows, small enough to never matter in memory."""


@dataclass(frozen=True)
class StoredFile:
    """A complete file, as the answer lists it."""

    id: str
    name: str
    media_type: str
    size: int
    crc32: int

    def ref(self) -> dict[str, Any]:
        """What a record keeps of its file (inside the sealed record)."""
        return {"id": self.id, "name": self.name, "media_type": self.media_type, "size": self.size}


class _Writer:
    """Collects pieces into chunks and seals each one as it fills."""

    def __init__(self, rt: Runtime, file_id: str) -> None:
        self.rt, self.file_id = rt, file_id
        self.buffer = bytearray()
        self.seq = self.size = self.crc = 0

    async def add(self, piece: bytes) -> None:
        self.buffer += piece
        while len(self.buffer) >= CHUNK_BYTES:
            await self._flush(bytes(self.buffer[:CHUNK_BYTES]))
            del self.buffer[:CHUNK_BYTES]

    async def finish(self) -> None:
        if self.buffer or self.seq == 0:
            await self._flush(bytes(self.buffer))
            self.buffer.clear()

    async def _flush(self, chunk: bytes) -> None:
        sealed = self.rt.cipher.seal_bytes(chunk, purpose=chunk_purpose(self.file_id, self.seq))
        async with self.rt.db.session() as session:
            await session.exec(
                insert(CollectedFileChunk).values(file_id=self.file_id, seq=self.seq, data=sealed)
            )
        self.seq += 1
        self.size += len(chunk)
        self.crc = zlib.crc32(chunk, self.crc)


async def store_stream(
    rt: Runtime, *, request_id: str, task_id: str, attempt: int, file: FileStream
) -> StoredFile:
    """Write a connector's file as it streams; complete only once the last byte is in."""
    file_id = new_id("fil")
    async with rt.db.session() as session:
        session.add(_row(rt, file_id, request_id, task_id, attempt, file.name, file.media_type))
    writer = _Writer(rt, file_id)
    async for piece in _pieces(file.open()):
        await writer.add(piece)
    await writer.finish()
    async with rt.db.session() as session:
        await session.exec(
            update(CollectedFile)
            .where(col(CollectedFile.id) == file_id)
            .values(complete=True, size=writer.size, chunks=writer.seq, crc32=writer.crc)
        )
    return StoredFile(file_id, file.name, file.media_type, writer.size, writer.crc)


async def store_bytes(
    rt: Runtime,
    session: AsyncSession,
    *,
    request_id: str,
    task_id: str,
    name: str,
    media_type: str,
    content: bytes,
) -> StoredFile:
    """A file already in hand (a scan sent with a manual task), stored in the caller's unit
    of work: complete when that commits, absent when it rolls back."""
    file_id = new_id("fil")
    row = _row(rt, file_id, request_id, task_id, 0, name, media_type)
    chunks = [content[i : i + CHUNK_BYTES] for i in range(0, len(content), CHUNK_BYTES)] or [b""]
    row.complete, row.size, row.chunks = True, len(content), len(chunks)
    row.crc32 = zlib.crc32(content)
    session.add(row)
    await session.flush()
    await session.exec(
        insert(CollectedFileChunk),
        params=[
            {
                "file_id": file_id,
                "seq": seq,
                "data": rt.cipher.seal_bytes(chunk, purpose=chunk_purpose(file_id, seq)),
            }
            for seq, chunk in enumerate(chunks)
        ],
    )
    return StoredFile(file_id, name, media_type, row.size, row.crc32)


async def complete(rt: Runtime, session: AsyncSession, request_id: str) -> dict[str, StoredFile]:
    """The request's complete files by id; a half-written one is never among them."""
    rows = await session.exec(
        select(CollectedFile).where(
            col(CollectedFile.request_id) == request_id, col(CollectedFile.complete).is_(True)
        )
    )
    return {
        row.id: StoredFile(
            row.id,
            str(rt.cipher.open(row.name_ciphertext, purpose=name_purpose(row.id))),
            row.media_type,
            row.size,
            row.crc32,
        )
        for row in rows
    }


async def content(rt: Runtime, file_id: str) -> AsyncIterator[bytes]:
    """A complete file's bytes, one chunk per short read, so no connection is held between."""
    async with rt.db.session() as session:
        row = await session.get(CollectedFile, file_id)
        count = row.chunks if row is not None and row.complete else 0
    for seq in range(count):
        async with rt.db.session() as session:
            sealed = await session.scalar(
                select(CollectedFileChunk.data).where(
                    col(CollectedFileChunk.file_id) == file_id, col(CollectedFileChunk.seq) == seq
                )
            )
        if sealed is None:
            raise LookupError("a chunk of a complete file is missing")
        yield rt.cipher.open_bytes(sealed, purpose=chunk_purpose(file_id, seq))


async def drop_other_attempts(session: AsyncSession, task_id: str, keep: Iterable[str]) -> None:
    """A task's files not kept by its written result (an earlier attempt, a writer that died
    half-way) are removed with their chunks."""
    kept = list(keep)
    stale = select(CollectedFile.id).where(
        col(CollectedFile.task_id) == task_id, col(CollectedFile.id).not_in(kept)
    )
    await _drop(session, stale)


async def drop_for_request(session: AsyncSession, request_id: str) -> None:
    await _drop(
        session, select(CollectedFile.id).where(col(CollectedFile.request_id) == request_id)
    )


async def _drop(session: AsyncSession, ids: Any) -> None:
    await session.exec(delete(CollectedFileChunk).where(col(CollectedFileChunk.file_id).in_(ids)))
    await session.exec(delete(CollectedFile).where(col(CollectedFile.id).in_(ids)))


def _row(
    rt: Runtime,
    file_id: str,
    request_id: str,
    task_id: str,
    attempt: int,
    name: str,
    media_type: str,
) -> CollectedFile:
    return CollectedFile(
        id=file_id,
        request_id=request_id,
        task_id=task_id,
        attempt=attempt,
        name_ciphertext=rt.cipher.seal(name, purpose=name_purpose(file_id)),
        media_type=media_type,
        created_at=rt.clock.now(),
    )


async def _pieces(stream: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    async for piece in stream:
        if not isinstance(piece, bytes | bytearray | memoryview):
            raise TypeError("a file stream must yield bytes")
        if piece:
            yield bytes(piece)
