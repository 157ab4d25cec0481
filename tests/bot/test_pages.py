"""The static pages: served with a strict Content-Security-Policy, and nothing else from disk."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.pages import CONTENT_SECURITY_POLICY, WEB_DIR, mount_pages

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    app = web.Application()
    mount_pages(app)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_the_portal_page_and_its_assets(client: Client) -> None:
    response = await client.get("/portal")
    assert response.status == 200
    assert response.content_type == "text/html"
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    page = await response.text()
    for asset in ("common.css", "portal.css", "portal.js", "favicon.svg"):
        assert f"/static/{asset}" in page
        served = await client.get(f"/static/{asset}")
        assert served.status == 200, asset
        assert await served.read() == (WEB_DIR / asset).read_bytes()
    script = await client.get("/static/portal.js")
    assert script.content_type in ("application/javascript", "text/javascript")
    assert script.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "/static/__init__.py",
        "/static/portal.html",
        "/static/.hidden.js",
        "/static/..%2Fpages.py",
        "/static/missing.js",
        "/static/../pages.py",
    ],
)
async def test_nothing_else_is_served(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status == 404


async def test_pages_have_no_inline_script_or_style() -> None:
    # The policy would block them; this keeps a future edit from silently breaking a page.
    for page in WEB_DIR.glob("*.html"):
        text = page.read_text()
        assert "<script>" not in text and " style=" not in text and "<style" not in text, page
        assert " on" + "click=" not in text, page


async def test_the_home_page_outside_the_sandbox_links_only_what_exists(client: Client) -> None:
    response = await client.get("/")
    assert response.status == 200
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    page = await response.text()
    assert 'href="/portal"' in page and 'href="/api/v1/openapi.json"' in page
    # No sandbox without sandbox mode: the page never links a route the server lacks.
    assert "/sandbox" not in page
