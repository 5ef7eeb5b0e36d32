"""The checked-in OpenAPI document, rendered deterministically from the app."""

from __future__ import annotations

import json

from app.main import create_app
from app.settings import Settings


def render() -> str:
    app = create_app(Settings(env="test", signing_key="x" * 32, data_key="A" * 43))
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
