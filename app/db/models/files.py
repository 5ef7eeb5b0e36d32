"""Files that belong to collected records (mail attachments, scans), stored in sealed chunks.

A file is written as it streams: its row first (``complete`` false), then one row per chunk,
each sealed on its own and bound to its file and place, and last the row is marked complete
with its size, chunk count and CRC-32. A file whose writer died half-way stays incomplete and
is never shown; the next write-back of its task removes it. Chunks live in the database, not
on a local disk, so every API replica and worker sees the same files on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, LargeBinary
from sqlmodel import Field, SQLModel

from app.db.types import UTCDateTime


class CollectedFile(SQLModel, table=True):
    """One file of one task attempt; the name may name the person, so it is sealed."""

    __tablename__ = "collected_files"

    id: str = Field(primary_key=True, max_length=40)
    request_id: str = Field(foreign_key="requests.id", max_length=40, index=True)
    task_id: str = Field(max_length=40, index=True)
    attempt: int = 0
    name_ciphertext: str
    media_type: str = Field(max_length=200)
    complete: bool = False
    size: int = Field(default=0, sa_type=BigInteger)
    chunks: int = 0
    crc32: int = Field(default=0, sa_type=BigInteger)
    created_at: datetime = Field(sa_type=UTCDateTime)


class CollectedFileChunk(SQLModel, table=True):
    """One sealed piece of a file, bound to ``file_purpose(file_id, seq)``."""

    __tablename__ = "collected_file_chunks"

    file_id: str = Field(foreign_key="collected_files.id", primary_key=True, max_length=40)
    seq: int = Field(primary_key=True)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


def chunk_purpose(file_id: str, seq: int) -> str:
    """A chunk cannot be moved to another file or place in it."""
    return f"file-chunk:{file_id}:{seq}"


def name_purpose(file_id: str) -> str:
    return f"file-name:{file_id}"
