"""The web pages served beside the API: the sponsor portal (always) and their static assets.

The pages are plain HTML, CSS and JavaScript in ``bot/web`` (no build step). They call the same
``/api/v1`` routes as any sponsor's program, so the portal has no rules of its own. The sandbox
chat page (bot/sandbox.py) is mounted only in sandbox mode.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

WEB_DIR = Path(__file__).parent / "web"
# The pages load only their own scripts and styles: a sponsor key in sessionStorage is worth
# keeping away from anything injected.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Served from the package: a new release must not be hidden behind a stale cache.
    "Cache-Control": "no-cache",
}


def page_response(name: str) -> web.FileResponse:
    response = web.FileResponse(WEB_DIR / name)
    response.headers.update(_SECURITY_HEADERS)
    return response


async def portal(_request: web.Request) -> web.FileResponse:
    return page_response("portal.html")


async def asset(request: web.Request) -> web.FileResponse:
    name = request.match_info["name"]
    # Only the page files themselves: no directories, no dot files, nothing outside bot/web.
    if name.startswith(".") or not name.endswith((".css", ".js", ".svg", ".png")):
        raise web.HTTPNotFound()
    path = WEB_DIR / name
    if not path.is_file():
        raise web.HTTPNotFound()
    return page_response(name)


def mount_pages(app: web.Application) -> None:
    app.router.add_get("/portal", portal)
    app.router.add_get("/portal/", portal)
    app.router.add_get(r"/static/{name:[A-Za-z0-9_.-]+}", asset)
