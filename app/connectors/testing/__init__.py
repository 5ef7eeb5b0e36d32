"""The connector contract test kit, shipped with Innsyn for connector authors.

Use it from your own tests::

    from app.connectors.testing import ConnectorContract

    class TestMyConnector(ConnectorContract):
        kind = "my_kind"
        ...  # fixtures: connector, seed_subject, other_subject

``ConnectorContract`` needs pytest and pytest-asyncio (``asyncio_mode = "auto"``); it is
imported on first use, so the loopback server and the fake peers (used by the demo) work
without pytest installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.connectors.testing.server import closed_url, serve_app

if TYPE_CHECKING:
    from app.connectors.testing.contract import ConnectorContract

__all__ = ["ConnectorContract", "closed_url", "serve_app"]


def __getattr__(name: str) -> Any:
    if name == "ConnectorContract":
        import pytest

        # Plain `assert`s in the kit then give pytest's detailed failure messages.
        pytest.register_assert_rewrite(
            "app.connectors.testing.checks",
            "app.connectors.testing.contract",
            "app.connectors.testing.helpers",
        )
        from app.connectors.testing.contract import ConnectorContract

        return ConnectorContract
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
