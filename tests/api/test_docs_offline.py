"""``/docs`` works on a closed network: the page and every asset come from this server."""

from __future__ import annotations

import re


async def test_docs_page_and_assets_are_served_locally(client):
    page = await client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources, page.text
    assert all(s.startswith("/docs/assets/") for s in sources), sources
    assert "cdn" not in page.text.lower()
    assert "url: '/openapi.json'" in page.text
    for source in sources:
        asset = await client.get(source)
        assert asset.status_code == 200, source
        assert asset.content
    script = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert "javascript" in script.headers["content-type"]
