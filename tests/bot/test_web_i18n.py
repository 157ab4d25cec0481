"""The sandbox and portal pages in Welsh: every element marked for translation is listed in
texts.web (so it reaches the catalog, and the catalog test makes sure it is translated), and
GET /i18n/{language}.json serves a page's wording from the same catalog as the bot's."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.pages import WEB_DIR, mount_pages
from texts import web as web_texts

Client = TestClient[web.Request, web.Application]
MARKS = {
    "data-i18n": None,
    "data-i18n-placeholder": "placeholder",
    "data-i18n-title": "title",
    "data-i18n-label": "aria-label",
}


class _Marked(HTMLParser):
    """(attribute, English) for each marked element, as bot/web/i18n.js reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self._open: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for mark, target in MARKS.items():
            if mark in values and target is not None:
                self.found.append((mark, values.get(target) or ""))
        if "data-i18n" in values:
            self._open.append([])
        elif self._open:
            self._open.append(["<nested>"])

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            text = self._open.pop()
            if text != ["<nested>"] and "<nested>" not in text:
                self.found.append(("data-i18n", " ".join("".join(text).split())))


def marked(page: str) -> list[tuple[str, str]]:
    parser = _Marked()
    parser.feed((WEB_DIR / f"{page}.html").read_text(encoding="utf-8"))
    return parser.found


@pytest.mark.parametrize(
    ("page", "listed"), [("sandbox", web_texts.SANDBOX), ("portal", web_texts.PORTAL)]
)
def test_every_marked_element_is_in_the_catalog(page: str, listed: tuple[str, ...]) -> None:
    found = marked(page)
    assert len(found) > 20
    english = {str.__str__(s) for s in listed}
    missing = [(mark, text) for mark, text in found if text not in english]
    assert not missing, f"{page}.html marks text that texts/web.py doesn't list: {missing}"


# t("English {placeholder}", ...) in a page's scripts: the literal, a JSON-style string.
_T_CALL = re.compile(r'\bt\(\s*("(?:[^"\\]|\\.)*")')
_SCRIPTS = {
    "sandbox": ("sandbox.js", "sandbox_tools.js"),
    "portal": ("portal.js",),
}


def runtime_strings(page: str) -> list[str]:
    found = []
    for name in _SCRIPTS[page]:
        source = (WEB_DIR / name).read_text(encoding="utf-8")
        found += [json.loads(literal) for literal in _T_CALL.findall(source)]
    return found


@pytest.mark.parametrize(
    ("page", "listed"),
    [
        ("sandbox", web_texts.SANDBOX + web_texts.SANDBOX_RUNTIME),
        ("portal", web_texts.PORTAL + web_texts.PORTAL_RUNTIME),
    ],
)
def test_every_string_a_script_builds_is_in_the_catalog(page: str, listed: tuple[str, ...]) -> None:
    """What the scripts word at runtime goes through t() with its English as the key: each key
    must be listed in texts/web.py, or a Welsh reader would see it in English."""
    found = runtime_strings(page)
    assert len(found) > 30
    english = {str.__str__(s) for s in listed}
    missing = [text for text in found if text not in english]
    assert not missing, f"{page}'s scripts word text that texts/web.py doesn't list: {missing}"


def test_the_portal_words_every_status_and_count_through_the_catalog() -> None:
    source = (WEB_DIR / "portal.js").read_text(encoding="utf-8")
    english = {str.__str__(s) for s in web_texts.PORTAL_RUNTIME + web_texts.PORTAL}
    labels = re.findall(r'^  [a-z]+: "([A-Z][a-z]+)",$', source, re.MULTILINE)
    field_messages = re.findall(r'^  \[/.*/, "(.+)"\],$', source, re.MULTILINE)
    assert len(labels) == 13 and len(field_messages) > 15
    assert not [text for text in labels + field_messages if text not in english]


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    app = web.Application()
    mount_pages(app)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_a_pages_wording_in_welsh_and_english(client: Client) -> None:
    welsh = await client.get("/i18n/cy.json", params={"page": "portal"})
    assert welsh.status == 200
    body = await welsh.json()
    assert body["strings"]["Sign in"] == "Mewngofnodi"
    assert body["switch_to"] == {"language": "en", "label": "English"}
    english = await (await client.get("/i18n/en.json", params={"page": "sandbox"})).json()
    assert english["strings"]["Nothing reaches Telegram."] == "Nothing reaches Telegram."
    assert english["switch_to"] == {"language": "cy", "label": "Cymraeg"}


async def test_bad_requests_for_page_wording(client: Client) -> None:
    response = await client.get("/i18n/cy.json", params={"page": "nowhere"})
    assert response.status == 400
    assert (await response.json())["field"] == "page"
    assert (await client.get("/i18n/fr.json", params={"page": "portal"})).status == 404


async def test_the_home_page_wording(client: Client) -> None:
    page = await (await client.get("/")).text()
    assert "data-i18n>Sponsor portal</a>" in page and "/static/home.js" in page
    welsh = (await (await client.get("/i18n/cy.json", params={"page": "home"})).json())["strings"]
    assert welsh["Sponsor portal"] == "Porth noddwyr"
    assert welsh["database reachability and mode"] != "database reachability and mode"
    marked = re.findall(r"data-i18n>([^<]+)<", page)
    assert len(marked) >= 8 and all(text in welsh for text in marked)


@pytest.mark.parametrize(
    ("chosen", "accept", "language"),
    [
        (None, "", "en"),
        (None, "cy-GB,cy;q=0.9,en;q=0.5", "cy"),
        (None, "en-GB,cy;q=0.5", "en"),
        ("en", "cy", "en"),
        ("cy", "en-GB", "cy"),
        ("fr", "cy", "cy"),
    ],
)
def test_the_boost_pages_language(chosen: str | None, accept: str, language: str) -> None:
    """The switch's choice (lang), else the browser's first language, else English."""
    from aiohttp.test_utils import make_mocked_request

    from bot.pages import boost_language

    headers = {"Accept-Language": accept} if accept else {}
    request = make_mocked_request("GET", "/boost/signup", headers=headers)
    assert boost_language(request, chosen) == language
