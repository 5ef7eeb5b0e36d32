"""Structured JSON logs. Log event names and ids, never personal data."""

from __future__ import annotations

import logging
import sys

import structlog


# Libraries that log request URLs (which may carry identifiers) are kept to warnings.
QUIET_LOGGERS = ("httpx", "httpcore", "pymap", "aiosqlite", "asyncio")


def configure(level: str = "INFO", *, json: bool = True) -> None:
    logging.basicConfig(level=level, format="%(levelname)s %(name)s %(message)s")
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
