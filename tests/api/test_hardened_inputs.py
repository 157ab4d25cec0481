"""Issue 18: inputs that once answered 500 (found by fuzzing the API from outside and by the
Schemathesis leg) now get a clean 4xx JSON error naming the field, on SQLite and PostgreSQL.
Each case here is a regression test for one finding."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.errors import ERROR_CODES, json_too_deep
from api.openapi import API_PREFIX, openapi_document
from bot.server import MAX_WEBHOOK_BODY
from bot.service import BritizenService
from services.promotions import PromotionDraft
from services.sponsor_text import LINE_PATTERN, TEXT_PATTERN, URL_PATTERN
from services.validation import NI_NUMBER_PATTERN, InvalidNINumber, normalise_ni_number
from tests.api.rights_helpers import new_partner
from tests.api.test_sponsor_api import NESTED, Reply, assert_json_error, call, new_sponsor

PROMOTIONS = f"{API_PREFIX}/promotions"
EVENTS = f"{API_PREFIX}/events"
REQUESTS = f"{API_PREFIX}/access-requests"
DEEP_OBJECTS = b'{"a":' * 6000


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def promotion(**fields: Any) -> bytes:
    body = {"title": "10% off", "text": "At any Acme store.", "expires_at": "2026-11-28T12:00:00Z"}
    return json.dumps({**body, **fields}).encode()


async def post(http: aiohttp.ClientSession, service: BritizenService, data: bytes) -> Reply:
    key = await new_sponsor(service, f"Sponsor {len(data)} {hash(data) % 10_000}")
    return await call(http, service, PROMOTIONS, method="POST", key=key, data=data)


# -- bodies that are not usable JSON: 400 -------------------------------------------------------


@pytest.mark.parametrize("data", [NESTED, DEEP_OBJECTS, b"{not json", b"\xff\xfe", b"1" * 5000])
async def test_a_body_that_is_not_usable_json_is_400_on_every_body_route(
    service: BritizenService, http: aiohttp.ClientSession, data: bytes
) -> None:
    sponsor = await new_sponsor(service)
    _id, partner = await new_partner(service)
    for path, key in ((PROMOTIONS, sponsor), (EVENTS, partner), (REQUESTS, partner)):
        reply = await call(http, service, path, method="POST", key=key, data=data)
        assert_json_error(reply, 400, "bad_request")


async def test_the_webhook_answers_deep_nesting_with_400(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    url = f"http://127.0.0.1:{service.http_port}/telegram/webhook"
    for data in (NESTED, DEEP_OBJECTS, b"9" * 5000):
        assert len(data) < MAX_WEBHOOK_BODY
        async with http.post(url, data=data) as response:
            assert response.status == 400
            assert response.content_type == "application/json"


def test_depth_is_counted_outside_strings() -> None:
    assert json_too_deep(b"[" * 65) and not json_too_deep(b"[" * 64 + b"]" * 64)
    assert not json_too_deep(json.dumps({"title": "[" * 1000 + '\\"{'}).encode())
    assert json_too_deep(b'{"a": "]]]", "b": ' + b"[" * 70)


# -- ids that no row can have: 404 --------------------------------------------------------------


@pytest.mark.parametrize("raw", ["%C2%B2", "%D9%A1", "2147483648", "0", "99999999999999999999"])
async def test_an_id_that_cannot_exist_is_404(
    service: BritizenService, http: aiohttp.ClientSession, raw: str
) -> None:
    sponsor = await new_sponsor(service)
    _id, partner = await new_partner(service)
    assert_json_error(await call(http, service, f"{REQUESTS}/{raw}", key=partner), 404, "not_found")
    for method in ("GET", "DELETE"):
        reply = await call(http, service, f"{PROMOTIONS}/{raw}", method=method, key=sponsor)
        assert_json_error(reply, 404, "not_found")


# -- a wrong method: 405 with Allow, before the key check ---------------------------------------


@pytest.mark.parametrize("method", ["TRACE", "PUT", "PATCH"])
@pytest.mark.parametrize("path", ["/openapi.json", "/open-data/score-bands", "/sponsor", "/events"])
async def test_a_wrong_method_is_405_with_allow_whoever_asks(
    service: BritizenService, http: aiohttp.ClientSession, method: str, path: str
) -> None:
    reply = await call(http, service, f"{API_PREFIX}{path}", method=method)
    assert_json_error(reply, 405, "method_not_allowed")
    assert reply.headers["Allow"]


# -- promotions: moments, plain text, safe links: 422 naming the field --------------------------


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"starts_at": "0001-01-01T00:00:00+14:00"}, "starts_at"),
        ({"expires_at": "9999-12-31T23:59:59-14:00"}, "expires_at"),
        ({"title": "10%\x00 off"}, "title"),
        ({"text": "At any\x00 store"}, "text"),
        ({"text": "Pay at evil\u202etxt.exe"}, "text"),
        ({"title": "\u2066Acme\u2069"}, "title"),
        ({"text": "a\u200fb"}, "text"),
        ({"text": "bell \x07"}, "text"),
        ({"text": "C1 \x85 inside"}, "text"),
        ({"title": "two\nlines"}, "title"),
        ({"button": {"label": "Shop\x00", "url": "https://acme.example/"}}, "button.label"),
        ({"button": {"label": "Shop", "url": "https://bank.co.uk@evil.example/"}}, "button.url"),
        ({"button": {"label": "Shop", "url": "https://192.168.0.1/"}}, "button.url"),
        ({"button": {"label": "Shop", "url": "https://[::1]/"}}, "button.url"),
        ({"button": {"label": "Shop", "url": "https://acme.example:8443/"}}, "button.url"),
        ({"button": {"label": "Shop", "url": "https://bаnk.co.uk/"}}, "button.url"),  # Cyrillic а
        ({"button": {"label": "Shop", "url": "https://acme.example/a b"}}, "button.url"),
        ({"button": {"label": "Shop", "url": "https://acme.example/\x00"}}, "button.url"),
        ({"button": {"label": "Shop", "url": "HTTPS://acme.example/"}}, "button.url"),
        ({"vouchers": {"kind": "shared", "code": "AB\u202eC"}}, "vouchers.code"),
    ],
)
async def test_unsafe_promotion_fields_are_422_naming_the_field(
    service: BritizenService, http: aiohttp.ClientSession, fields: dict[str, Any], bad: str
) -> None:
    reply = await post(http, service, promotion(**fields))
    assert_json_error(reply, 422, "validation")
    assert set(reply.json["fields"]) == {bad}


async def test_plain_text_with_line_breaks_and_punycode_links_is_accepted(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    reply = await post(
        http,
        service,
        promotion(
            text="Line one.\nLine two: 20% off. Ünïcödé and emoji 🎉 are fine.",
            button={"label": "Shop", "url": "https://xn--bnk-7cd.co.uk/offer?x=1&y=%20#top"},
        ),
    )
    assert reply.status == 201, reply.body
    assert reply.json["text"].count("\n") == 1


# -- the document says what the server enforces ---------------------------------------------------


def test_the_document_carries_the_patterns_the_server_enforces() -> None:
    schemas = openapi_document()["components"]["schemas"]
    draft, button = schemas["PromotionDraft"]["properties"], schemas["ButtonIn"]["properties"]
    assert draft["title"]["pattern"] == LINE_PATTERN
    assert draft["text"]["pattern"] == TEXT_PATTERN
    assert button["label"]["pattern"] == LINE_PATTERN
    assert button["url"]["pattern"] == URL_PATTERN
    for model in ("EventIn", "AccessRequestBody"):
        assert schemas[model]["properties"]["ni_number"]["pattern"] == NI_NUMBER_PATTERN
    paths = openapi_document()["paths"]
    for path in (f"{API_PREFIX}/promotions/{{id}}", f"{API_PREFIX}/access-requests/{{id}}"):
        [param] = paths[path]["get"]["parameters"]
        assert param["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}


@given(st.from_regex(NI_NUMBER_PATTERN, fullmatch=True))
def test_every_ni_number_the_document_allows_is_accepted(number: str) -> None:
    assert normalise_ni_number(number) == number


@given(st.from_regex(re.compile(r"[A-Z]{2}[0-9]{6}[A-D]"), fullmatch=True))
def test_the_ni_pattern_is_exactly_the_accepted_canonical_numbers(number: str) -> None:
    try:
        normalise_ni_number(number)
        accepted = True
    except InvalidNINumber:
        accepted = False
    assert accepted == bool(re.fullmatch(NI_NUMBER_PATTERN, number))


@given(
    title=st.from_regex(LINE_PATTERN[1:-1], fullmatch=True).filter(lambda t: len(t) <= 60),
    text=st.from_regex(TEXT_PATTERN[1:-1], fullmatch=True).filter(lambda t: len(t) <= 1000),
    url=st.from_regex(URL_PATTERN[1:-1], fullmatch=True).filter(lambda u: len(u) <= 2048),
)
def test_text_and_links_the_document_allows_are_accepted(title: str, text: str, url: str) -> None:
    body = {
        "title": title,
        "text": text,
        "button": {"label": "Shop", "url": url},
        "expires_at": "2026-11-28T12:00:00Z",
    }
    PromotionDraft.model_validate(body)


def test_the_readme_lists_every_error_code() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    missing = {code for code in ERROR_CODES if f"`{code}`" not in readme}
    assert missing == set()
