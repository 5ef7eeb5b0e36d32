"""A hook for embedding and tests: build the connector registry in code.

``INNSYN_CONNECTOR_FACTORY="package.module:function"`` names a function that takes no
arguments and returns a ``ConnectorRegistry``. When it is set, every process built from the
environment (``innsyn serve``, ``innsyn worker``) uses that registry instead of the one from
the connectors file; unset, nothing changes.
"""

from __future__ import annotations

import importlib
import os

from app.connectors.registry import ConnectorRegistry

ENV_VAR = "INNSYN_CONNECTOR_FACTORY"


def registry_from_env() -> ConnectorRegistry | None:
    spec = os.environ.get(ENV_VAR, "").strip()
    if not spec:
        return None
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"{ENV_VAR} must look like 'package.module:function'")
    factory = getattr(importlib.import_module(module_name), attribute)
    registry = factory()
    if not isinstance(registry, ConnectorRegistry):
        raise TypeError(f"{spec} returned {type(registry).__name__}, not a ConnectorRegistry")
    return registry
