"""The recipient directory from the connectors file's ``recipients:`` section.

It sits beside the connectors because the categories there name the recipients. Secrets use
``${VAR}`` as connector configs do. A broken section stops startup: a legal duty to notify
must not fail silently.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError

from app.connectors.loader import (
    ConnectorsFileError,
    describe_validation_error,
    expand_env,
    read_section,
)
from app.domain.recipients import Directory, RecipientSpec


def load_directory(path: Path | None, environ: Mapping[str, str] | None = None) -> Directory:
    """Parse and validate every recipient; an empty directory without a file.

    Raises:
        ConnectorsFileError: the section is malformed, a recipient invalid or named twice.
    """
    if path is None:
        return Directory()
    env = os.environ if environ is None else environ
    specs = []
    for index, raw in enumerate(read_section(path, "recipients", what="recipients")):
        label = (
            f"recipient {raw.get('name')!r}" if isinstance(raw.get("name"), str) else "recipient"
        )
        try:
            specs.append(RecipientSpec.model_validate(expand_env(raw, env, where=label)))
        except ValidationError as exc:
            detail = describe_validation_error(exc)
            raise ConnectorsFileError(f"{path}: recipients[{index}]: {detail}") from None
    try:
        return Directory.of(specs)
    except ValueError as exc:
        raise ConnectorsFileError(f"{path}: {exc}") from None
