"""The web pages served beside the API: a home page, the sponsor portal, the operator page
and their static assets.

The pages are plain HTML, CSS and JavaScript in ``bot/web`` (no build step). They call the same
``/api/v1`` routes as any sponsor's program, so the portal has no rules of its own. The sandbox
chat page (bot/sandbox.py) is mounted only in sandbox mode.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from string import Template
from urllib.parse import urlencode

from aiohttp import web

from services.boost import (
    CONFIRM_DAYS,
    INVITE_DAYS,
    MAX_NAME_LENGTH,
    BoostError,
    BoostService,
    InviteRefused,
    SignUpRefused,
)
from texts import boost as boost_texts
from texts import web as web_texts
from texts.i18n import ENGLISH, LANGUAGES, WELSH, gettext, normalise, use_language

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


def home_page(*, sandbox: bool) -> str:
    """The small page at ``/``: links to what this server serves (the sandbox only in sandbox
    mode, so a production server never advertises a route it lacks). Served in English with
    its wording marked; bot/web/home.js shows it in the reader's language like the others."""
    english = str.__str__
    items = "\n".join(
        f'    <li><a href="{href}" data-i18n>{escape(english(label))}</a>: '
        f"<span data-i18n>{escape(english(what))}</span></li>"
        for href, label, what in web_texts.HOME_LINKS
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
  <script src="/static/home.js" type="module"></script>
</head>
<body>
<main class="home">
  <button type="button" id="language-switch" class="secondary small language-switch"
          lang="cy">Cymraeg</button>
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


async def operator(_request: web.Request) -> web.FileResponse:
    return page_response("operator.html")


async def asset(request: web.Request) -> web.FileResponse:
    name = request.match_info["name"]
    # Only the page files themselves: no directories, no dot files, nothing outside bot/web.
    if name.startswith(".") or not name.endswith((".css", ".js", ".svg", ".png")):
        raise web.HTTPNotFound()
    path = WEB_DIR / name
    if not path.is_file():
        raise web.HTTPNotFound()
    return page_response(name)


# Each page's wording: what its HTML marks, and what its scripts build at runtime (t()).
_PAGE_STRINGS = {
    "sandbox": web_texts.SANDBOX + web_texts.SANDBOX_RUNTIME,
    "portal": web_texts.PORTAL + web_texts.PORTAL_RUNTIME,
    "home": web_texts.HOME,
}


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
    app.router.add_get("/operator", operator)
    app.router.add_get("/operator/", operator)
    app.router.add_get(r"/static/{name:[A-Za-z0-9_.-]+}", asset)
    app.router.add_get(r"/i18n/{language:[a-z]{2}}.json", page_strings)


# -- Boost's sign-up page (issue 20): server-rendered, no script ------------------------------

_BOOST_PAGE = Template((WEB_DIR / "boost.html").read_text(encoding="utf-8"))
_MAX_FORM_BYTES = 4096  # a token, a name and a key: anything bigger is not this form
_MAX_NAME = 100


def boost_language(request: web.Request, chosen: object = None) -> str:
    """The sign-up page's language: the one chosen with its switch (``lang``), else the
    browser's first choice (Accept-Language), else English."""
    if chosen in LANGUAGES:
        return str(chosen)
    preferred = request.headers.get("Accept-Language", "").split(",")[0].split(";")[0]
    return normalise(preferred)


def _language_switch(token: str, language: str) -> str:
    """A link to this page in the other language (the token stays: the page is the link)."""
    other = ENGLISH if language == WELSH else WELSH
    label, code = ("English", "en-GB") if other == ENGLISH else ("Cymraeg", "cy")
    query = urlencode({"token": token, "lang": other})
    return (
        f'  <p class="language"><a id="language-switch" href="/boost/signup?{escape(query)}" '
        f'lang="{code}" hreflang="{code}">{label}</a></p>\n'
    )


def _boost_page(
    body: str, status: int = 200, *, language: str = ENGLISH, token: str | None = None
) -> web.Response:
    # Worded in the page's language: the caller wraps the request in use_language(language).
    switch = _language_switch(token, language) if token is not None else ""
    html = _BOOST_PAGE.substitute(
        title=escape(boost_texts.PAGE_TITLE),
        body=switch + body,
        lang="cy" if language == WELSH else "en-GB",
    )
    # no-store: the answer to a sign-up holds an API key, shown once.
    headers = {**_SECURITY_HEADERS, "Cache-Control": "no-store"}
    return web.Response(text=html, status=status, content_type="text/html", headers=headers)


def _boost_form(
    token: str, role: str, days: int, error: str | None = None, name: str = "", language: str = ""
) -> str:
    kind = boost_texts.role_kind(role)
    intro = boost_texts.PAGE_INTRO.format(
        role=boost_texts.ROLE_NAMES.get(role, role), kind=kind, days=days
    )
    problem = f'  <p class="error" role="alert">{escape(error)}</p>\n' if error else ""
    return (
        f"  <p>{escape(intro)}</p>\n{problem}"
        '  <form method="post" action="/boost/signup">\n'
        f'    <input type="hidden" name="token" value="{escape(token)}">\n'
        f'    <input type="hidden" name="lang" value="{escape(language)}">\n'
        f'    <label for="name">{escape(boost_texts.NAME_LABEL)}</label>\n'
        f'    <input type="text" id="name" name="name" maxlength="{_MAX_NAME}" '
        f'value="{escape(name)}" autocomplete="organization">\n'
        f'    <label for="key">{escape(boost_texts.KEY_LABEL)}</label>\n'
        '    <input type="password" id="key" name="key" autocomplete="off">\n'
        f'    <button type="submit">{escape(boost_texts.SUBMIT)}</button>\n'
        "  </form>"
    )


def _reworded(problem: BoostError, name: str = "") -> str:
    """A refusal worded outside the page's language (a sign-up runs in the citizen's), in the
    page's: the service's messages compare as their English."""
    message = problem.args[0] if problem.args else ""
    for template, values in (
        (boost_texts.NAME_TAKEN, {"name": name}),
        (boost_texts.NAME_TOO_LONG, {"limit": MAX_NAME_LENGTH}),
        (boost_texts.LINK_EXPIRED, {"days": INVITE_DAYS}),
    ):
        if message == str.__str__(template).format(**values):
            return template.format(**values)
    return str(problem)


def _refused(refused: InviteRefused, language: str, token: str, name: str = "") -> web.Response:
    # 410 for a link that was good once (used, expired), 404 for one that never was (the
    # message compares as its English, whatever language it reads in).
    status = 404 if refused.args and refused.args[0] == boost_texts.LINK_UNKNOWN else 410
    body = f'  <p class="error" role="alert">{escape(_reworded(refused, name))}</p>'
    return _boost_page(body, status, language=language, token=token)


def mount_boost_pages(app: web.Application, boost: BoostService) -> None:
    """GET /boost/signup?token=... shows the form; POST makes the partner and shows its key."""

    async def show(request: web.Request) -> web.Response:
        token = request.query.get("token", "")
        language = boost_language(request, request.query.get("lang"))
        with use_language(language):
            try:
                info = await boost.invite_info(token)
            except InviteRefused as refused:
                return _refused(refused, language, token)
            form = _boost_form(token, info.role, CONFIRM_DAYS, language=language)
            return _boost_page(form, language=language, token=token)

    async def submit(request: web.Request) -> web.Response:
        if (request.content_length or 0) > _MAX_FORM_BYTES:
            raise web.HTTPRequestEntityTooLarge(_MAX_FORM_BYTES, request.content_length or 0)
        form = await request.post()
        token, name, key = (str(form.get(field, "")) for field in ("token", "name", "key"))
        language = boost_language(request, form.get("lang"))
        try:
            with use_language(language):
                info = await boost.invite_info(token)
            # Not in the page's language: signing up words a notice for the citizen who sent
            # the link, in theirs.
            done = await boost.sign_up(token, name, key)
        except InviteRefused as refused:
            with use_language(language):
                return _refused(refused, language, token, name)
        except SignUpRefused as problem:
            with use_language(language):
                message = _reworded(problem, name)
                again = _boost_form(
                    token, info.role, CONFIRM_DAYS, message, name[:_MAX_NAME], language
                )
                return _boost_page(again, 400, language=language, token=token)
        with use_language(language):
            return _signed_up_page(info.role, done.api_key, language)

    def _signed_up_page(role: str, api_key: str | None, language: str) -> web.Response:
        if api_key is None:
            body = f"  <h2>{escape(boost_texts.DONE_TITLE)}</h2>\n"
            body += f"  <p>{escape(boost_texts.DONE_LINKED)}</p>"
            return _boost_page(body, language=language)
        example = boost_texts.API_EXAMPLE.format(
            base=boost.public_url,
            key=api_key,
            kind="council_tax" if role == "council" else "rent",
        )
        body = (
            f"  <h2>{escape(boost_texts.DONE_TITLE)}</h2>\n"
            f"  <p>{escape(boost_texts.DONE_INTRO)}</p>\n"
            f'  <p class="key" id="api-key">{escape(api_key)}</p>\n'
            f"  <pre>{escape(example)}</pre>"
        )
        return _boost_page(body, language=language)

    app.router.add_get("/boost/signup", show)
    app.router.add_post("/boost/signup", submit)
