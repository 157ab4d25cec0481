"""What the pages' scripts build at runtime, in Welsh (issue 20), in headless Chromium: the
sandbox tools, the sponsor portal (sign in, an API error, create a promotion, its estimate, the
live list and detail), the Boost sign-up page and the home page. Each walk asserts Welsh text and
then scans the visible text the page built for English words that must not show."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlparse

from playwright.async_api import expect

from bot.sandbox import CITIZENS, REVIEWERS
from tests.browser.test_portal import open_portal
from tests.browser.test_sandbox_page import bot_message, press, register
from tests.support.sandbox import RunningSandbox
from texts import boost as boost_texts
from texts.i18n import WELSH, gettext

ALICE = CITIZENS[0]

# Words of the English wording the scripts build; none of them is Welsh.
ENGLISH_WORDS = (
    "Signed in",
    "sent",
    "queued",
    "redeemed",
    "failed",
    "unreachable",
    "ends",
    "Delivery",
    "about",
    "finishing",
    "Audience",
    "Runs",
    "Button",
    "Vouchers",
    "None",
    "Cancel",
    "Keep it",
    "Updated",
    "Created",
    "targeted",
    "people",
    "Scheduled",
    "Sending",
    "Completed",
    "unique codes",
    "Opted-in",
    "opted-in",
    "Every",
    "minute",
    "Nothing",
    "must",
    "Field required",
    "Input should",
    "at most",
    "At most",
    "band change",
    "Scored",
    "citizen",
    "Running",
    "No messages",
    "You:",
    "Reviewer",
    "reviewer",
    "Invented details",
    "born",
    "postcode",
    "typing",
    "Key copied",
    "Select the key",
    "Sign",
    "key",
    "the",
    "and",
    "with",
)
_ENGLISH = re.compile(r"\b(" + "|".join(re.escape(w) for w in ENGLISH_WORDS) + r")\b")


async def assert_no_english(locator: Any, *, allowed: tuple[str, ...] = ()) -> None:
    """The visible text of `locator` holds none of ENGLISH_WORDS (`allowed`: text that is not
    the page's own wording, such as a sponsor's title, taken out first)."""
    text = await locator.inner_text()
    for words in allowed:
        text = text.replace(words, "")
    found = sorted(set(_ENGLISH.findall(text)))
    assert not found, f"English left on the Welsh page: {found}\n---\n{text}"


def test_the_scan_finds_english() -> None:
    """The scan can fail: the English wording it guards is caught, the Welsh passes."""
    assert _ENGLISH.search("1 / 1 sent") and _ENGLISH.search("Signed in as X")
    assert not _ENGLISH.search("1 / 1 wedi'u hanfon · Wedi mewngofnodi fel X")


async def to_welsh(page: Any) -> None:
    switch = page.locator("#language-switch")
    await expect(switch).to_have_text("Cymraeg")
    await switch.click()
    await expect(page.locator("html")).to_have_attribute("lang", "cy")
    await expect(switch).to_have_text("English")


async def test_the_sandbox_tools_in_welsh(sandbox_service: RunningSandbox, page: Any) -> None:
    await page.goto(f"{sandbox_service.url}/sandbox")
    # Registered in English first: the bot's own messages are not what this test reads.
    await register(page, ALICE.first_name)
    await to_welsh(page)

    reviewer = page.locator(f"button.citizen[data-user='{REVIEWERS[0]}']")
    await expect(reviewer.locator(".badge")).to_have_text("Adolygydd")
    await expect(reviewer.locator(".preview")).to_have_text("Dim negeseuon eto")
    await expect(page.locator("#status")).to_have_text("Bot")
    await expect(page.locator("#sample")).to_contain_text(
        f"Manylion dychmygol ar gyfer {ALICE.first_name}"
    )
    await expect(page.locator("#sample button").first).to_contain_text("Rhif YG")

    await page.click("#run-pass")
    await expect(page.locator("#pass-result")).to_have_text(
        "Sgoriwyd 1 dinesydd; 0 o newidiadau band. Rhowch gynnig ar /history."
    )
    # A toast (the clipboard may refuse in a headless browser: either answer is Welsh).
    await page.click("#copy-key")
    await expect(page.locator("#toast")).to_have_text(
        re.compile("^(Copïwyd yr allwedd.|Dewiswch yr allwedd a'i chopïo.)$")
    )
    keys = (sandbox_service.sandbox.sponsor_key or "", sandbox_service.sandbox.partner_key or "")
    await assert_no_english(page.locator("aside.sidebar"), allowed=keys)
    await assert_no_english(page.locator(".chat-header"), allowed=(ALICE.last_name,))
    await assert_no_english(page.locator("#sample"))

    # Back in English, the same text is English again (built anew, not left Welsh).
    await page.locator("#language-switch").click()
    await expect(reviewer.locator(".badge")).to_have_text("Reviewer")
    await expect(reviewer.locator(".preview")).to_have_text("No messages yet")


async def test_the_portal_in_welsh_end_to_end(sandbox_service: RunningSandbox, page: Any) -> None:
    await page.goto(f"{sandbox_service.url}/sandbox")
    await register(page, ALICE.first_name)
    await press(page, bot_message(page, "would you like offers"), "Yes, send me offers")
    await expect(bot_message(page, "Offers are on")).to_be_visible()

    portal = await open_portal(page)
    await to_welsh(portal)
    await expect(portal.locator("#who")).to_have_text("Wedi mewngofnodi fel Sandbox demo sponsor")
    await expect(portal.locator("#min-band option[value=Good]")).to_have_text("Da")

    # The API's 422: each field's message in Welsh, matched from the API's English.
    await portal.fill("#title", "Bargen ynni'r gaeaf")
    await portal.fill("#button-label", "Gweld y fargen")
    await portal.fill("#button-url", "http://example.co.uk/deal")
    await portal.fill("#min-score", "1000")
    await portal.click("#create-button")
    await expect(portal.locator("[data-field='text'] .field-error")).to_have_text("Llenwch hwn.")
    await expect(portal.locator("[data-field='button.url'] .field-error")).to_have_text(
        "Rhaid i'r ddolen ddechrau gyda https://."
    )
    await expect(portal.locator("[data-field='audience.min_score'] .field-error")).to_have_text(
        "Dim mwy na 950."
    )
    await assert_no_english(portal.locator("#create-form"))

    # Created: the toast with its delivery estimate, then the live list and detail.
    await portal.fill("#text", "Newidiwch y gaeaf hwn ac arbed 10% ar eich bil ynni.")
    await portal.fill("#button-url", "https://example.co.uk/deal")
    await portal.fill("#min-score", "")
    await portal.select_option("#min-band", "Good")
    await portal.check("input[name=voucher_kind][value=shared]")
    await portal.fill("#voucher-code", "GAEAF10")
    await portal.click("#create-button")
    toast = portal.locator("#toast")
    await expect(toast).to_contain_text("Crëwyd “Bargen ynni'r gaeaf”: 1 person yn y gynulleidfa.")
    await expect(toast).to_contain_text("Dosbarthu: tua")
    await expect(toast).to_contain_text("yr eiliad, yn gorffen tua")
    await assert_no_english(toast, allowed=("Bargen ynni'r gaeaf",))

    item = portal.locator(".promotion", has_text="Bargen ynni'r gaeaf")
    await expect(item.locator(".count-sent")).to_have_text("1 / 1 wedi'u hanfon", timeout=20_000)
    detail = portal.locator("#detail")
    await expect(detail.locator("[data-count=sent] .l")).to_have_text("Wedi'u hanfon")
    await expect(detail.locator("dt").first).to_have_text("Cynulleidfa")
    await expect(detail).to_contain_text("band Da neu well")
    await expect(detail).to_contain_text("Un cod i bawb: GAEAF10")
    await expect(detail.locator("svg.chart rect.bar")).to_have_count(1)
    await expect(detail.locator("svg.chart")).to_contain_text("negeseuon y funud")
    await expect(portal.locator("#refreshed")).to_contain_text("Diweddarwyd")
    sponsor_words = (
        "Bargen ynni'r gaeaf",
        "Newidiwch y gaeaf hwn ac arbed 10% ar eich bil ynni.",
        "Gweld y fargen → https://example.co.uk/deal",
        "Sandbox demo sponsor",
    )
    await assert_no_english(portal.locator("#workspace"), allowed=sponsor_words)
    await assert_no_english(portal.locator("header.topbar"), allowed=sponsor_words)

    # A refused key: the API's error code, worded in Welsh on the sign-in form.
    await portal.click("#sign-out")
    await portal.fill("#api-key", "bz_sp_not-a-real-key")
    await portal.click("#sign-in-button")
    await expect(portal.locator("#api-key-error")).to_have_text(
        "Ni chafodd yr allwedd honno ei derbyn. Gwiriwch hi a rhowch gynnig arall arni."
    )
    await assert_no_english(portal.locator("#sign-in"))


async def test_the_boost_sign_up_page_in_welsh(
    sandbox_service: RunningSandbox, page: Any, browser: Any
) -> None:
    await page.goto(f"{sandbox_service.url}/sandbox")
    await register(page, ALICE.first_name)
    invitation = await sandbox_service.service.services.boost.invite(ALICE.user_id, "landlord")
    token = parse_qs(urlparse(invitation.url).query)["token"][0]
    welsh = lambda text: gettext(text, WELSH)  # noqa: E731

    await page.goto(f"{sandbox_service.url}/boost/signup?token={token}")
    await expect(page.locator("h1")).to_have_text(str.__str__(boost_texts.PAGE_TITLE))
    await page.click("#language-switch")
    await expect(page.locator("html")).to_have_attribute("lang", "cy")
    await expect(page.locator("h1")).to_have_text(welsh(boost_texts.PAGE_TITLE))
    await expect(page.locator("label[for=name]")).to_have_text(welsh(boost_texts.NAME_LABEL))
    await expect(page.locator("#language-switch")).to_have_text("English")
    await assert_no_english(page.locator("main"))

    # A refusal from the service, in Welsh, and the form keeps its language.
    await page.click("button[type=submit]")
    await expect(page.locator(".error")).to_have_text(welsh(boost_texts.NAME_MISSING))
    await page.fill("#name", "Landlordiaid Caerdydd")
    await page.click("button[type=submit]")
    await expect(page.locator("h2")).to_have_text(welsh(boost_texts.DONE_TITLE))
    await expect(page.locator("#api-key")).to_have_text(re.compile(r"^bz_"))
    await assert_no_english(page.locator("main > p:not(.key)"))

    # A browser set to Welsh gets it without the switch; the link is now used (410).
    context = await browser.new_context(locale="cy-GB")
    try:
        welsh_page = await context.new_page()
        response = await welsh_page.goto(f"{sandbox_service.url}/boost/signup?token={token}")
        assert response is not None and response.status == 410
        await expect(welsh_page.locator(".error")).to_have_text(welsh(boost_texts.LINK_USED))
        response = await welsh_page.goto(f"{sandbox_service.url}/boost/signup?token=nonsense")
        assert response is not None and response.status == 404
        await expect(welsh_page.locator(".error")).to_have_text(welsh(boost_texts.LINK_UNKNOWN))
    finally:
        await context.close()


async def test_the_home_page_in_welsh(sandbox_service: RunningSandbox, page: Any) -> None:
    await page.goto(sandbox_service.url)
    await expect(page.locator("a[href='/portal']")).to_have_text("Sponsor portal")
    await to_welsh(page)
    await expect(page.locator("a[href='/portal']")).to_have_text("Porth noddwyr")
    await expect(page.locator("main")).to_contain_text("does dim byd yn cyrraedd Telegram")
    await assert_no_english(page.locator("main"))
    # Remembered across pages: the portal opens in Welsh.
    await page.goto(f"{sandbox_service.url}/portal")
    await expect(page.locator("#sign-in h1")).to_have_text("Mewngofnodi")
