"""The web pages served beside the API: a home page, the sponsor portal and their static assets.

The pages are plain HTML, CSS and JavaScript in ``bot/web`` (no build step). They call the same
``/api/v1`` routes as any sponsor's program, so the portal has no rules of its own. The sandbox
chat page (bot/sandbox.py) is mounted only in sandbox mode.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from aiohttp import web

from texts import web as web_texts
from texts.i18n import ENGLISH, LANGUAGES, WELSH, gettext

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


# Where a person who opens the server's address may want to go (GET /).
_HOME_LINKS = (
    ("/sandbox", "Sandbox", "chat with the bot as test citizens; nothing reaches Telegram"),
    ("/portal", "Sponsor portal", "promotions and their reach, with a sponsor API key"),
    ("/api/v1/openapi.json", "API document", "OpenAPI 3.1 description of /api/v1"),
    ("/healthz", "Health", "database reachability and mode"),
)


def home_page(*, sandbox: bool) -> str:
    """The small page at ``/``: links to what this server serves (the sandbox only in sandbox
    mode, so a production server never advertises a route it lacks)."""
    items = "\n".join(
        f'    <li><a href="{href}">{escape(label)}</a>: {escape(what)}</li>'
        for href, label, what in _HOME_LINKS
        if sandbox or href != "/sandbox"
    )
    return f"""<!doctype html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Britizen</title>
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/static/common.css">
</head>
<body>
<main class="home">
  <h1>Britizen</h1>
  <ul>
{items}
  </ul>
</main>
</body>
</html>
"""


def home_route(*, sandbox: bool) -> web.RouteDef:
    body = home_page(sandbox=sandbox)

    async def home(_request: web.Request) -> web.Response:
        return web.Response(text=body, content_type="text/html", headers=_SECURITY_HEADERS)

    return web.get("/", home)


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


_PAGE_STRINGS = {"sandbox": web_texts.SANDBOX, "portal": web_texts.PORTAL}


async def page_strings(request: web.Request) -> web.Response:
    """A page's wording in one language, from the bot's own catalog: English -> text."""
    language = request.match_info["language"]
    if language not in LANGUAGES:
        raise web.HTTPNotFound()
    page = request.query.get("page", "")
    strings = _PAGE_STRINGS.get(page)
    if strings is None:
        return web.json_response(
            {"detail": f"page is one of {', '.join(_PAGE_STRINGS)}", "field": "page"}, status=400
        )
    other = ENGLISH if language == WELSH else WELSH
    body = {
        "language": language,
        "strings": {str.__str__(s): gettext(s, language) for s in strings},
        # The switch names the other language in that language.
        "switch_to": {"language": other, "label": "English" if other == ENGLISH else "Cymraeg"},
    }
    return web.json_response(body, headers=_SECURITY_HEADERS)


def mount_pages(app: web.Application, *, sandbox: bool = False) -> None:
    app.router.add_routes([home_route(sandbox=sandbox)])
    app.router.add_get("/portal", portal)
    app.router.add_get("/portal/", portal)
    app.router.add_get(r"/static/{name:[A-Za-z0-9_.-]+}", asset)
    app.router.add_get(r"/i18n/{language:[a-z]{2}}.json", page_strings)
