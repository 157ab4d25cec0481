"""The sponsor portal in headless Chromium, over the real /api/v1: sign in with the demo
sponsor's key from the sandbox page, see the API's validation beside each field, create a
promotion and watch the sandbox citizen receive it, redeem it, and cancel another."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from playwright.async_api import expect

from bot.sandbox import CITIZENS
from tests.browser.test_sandbox_page import bot_message, press, register
from tests.support.sandbox import RunningSandbox

ALICE = CITIZENS[0]


async def open_portal(page: Any) -> Any:
    """The sandbox page's "Open the portal" link: a new tab, signed in with the demo key."""
    async with page.context.expect_page() as opened:
        await page.click("#portal-link")
    portal = await opened.value
    await portal.wait_for_load_state()
    await expect(portal.locator("#who")).to_have_text("Signed in as Sandbox demo sponsor")
    return portal


async def test_a_promotion_made_in_the_portal_reaches_the_sandbox_citizen(
    sandbox_service: RunningSandbox, page: Any
) -> None:
    await page.goto(f"{sandbox_service.url}/sandbox")
    await register(page, ALICE.first_name)
    question = bot_message(page, "would you like offers")
    await press(page, question, "Yes, send me offers")
    await expect(bot_message(page, "Offers are on")).to_be_visible()

    portal = await open_portal(page)
    # The key moved from the link's fragment into this tab's sessionStorage only.
    assert "key=" not in portal.url
    key = sandbox_service.sandbox.sponsor_key
    assert await portal.evaluate("() => sessionStorage.getItem('britizen.sponsorKey')") == key
    assert await portal.evaluate("() => localStorage.length") == 0
    await expect(portal.locator("#no-promotions")).to_be_visible()

    # The API's 422 answer, each message beside its own field; nothing is created.
    await portal.fill("#title", "Winter energy deal")
    await portal.fill("#button-label", "See the deal")
    await portal.fill("#button-url", "http://example.co.uk/deal")
    await portal.fill("#min-score", "1000")
    await portal.click("#create-button")
    await expect(portal.locator("[data-field='text'] .field-error")).not_to_be_empty()
    await expect(portal.locator("[data-field='button.url'] .field-error")).to_contain_text("https")
    await expect(portal.locator("[data-field='audience.min_score'] .field-error")).to_contain_text(
        "950"
    )
    await expect(portal.locator("[data-field='title'] .field-error")).to_be_empty()
    await expect(portal.locator("#no-promotions")).to_be_visible()

    # Corrected, with a shared voucher code: created, and it targets Alice.
    await portal.fill("#text", "Switch this winter and save 10% on your energy bill.")
    await portal.fill("#button-url", "https://example.co.uk/deal")
    await portal.fill("#min-score", "")
    await portal.select_option("#min-band", "Good")
    await portal.check("input[name=voucher_kind][value=shared]")
    await portal.fill("#voucher-code", "WINTER10")
    await portal.click("#create-button")
    await expect(portal.locator("#toast")).to_contain_text("1 person targeted")
    await expect(portal.locator("[data-field] .field-error:not(:empty)")).to_have_count(0)

    # Live counts: the progress bar and the chart fill in as the dispatcher sends.
    item = portal.locator(".promotion", has_text="Winter energy deal")
    await expect(item.locator(".count-sent")).to_have_text("1 / 1 sent", timeout=20_000)
    await expect(item.locator(".progress")).to_have_attribute("aria-valuenow", "1")
    detail = portal.locator("#detail")
    await expect(detail.locator("[data-count=sent] .n")).to_have_text("1")
    await expect(detail.locator("svg.chart rect.bar")).to_have_count(1)

    # The sandbox citizen got it, labelled, with the sponsor's button and Redeem.
    await page.bring_to_front()
    offer = bot_message(page, "Sponsored by Sandbox demo sponsor")
    await expect(offer).to_contain_text("Winter energy deal")
    await expect(offer.locator(".inline-keyboard button")).to_contain_text(
        ["See the deal", "Redeem", "Stop offers"]
    )
    await expect(offer.locator(".inline-keyboard button.url")).to_have_attribute(
        "title", "https://example.co.uk/deal"
    )
    await press(page, offer, "Redeem")
    await expect(bot_message(page, "WINTER10")).to_be_visible()

    # ... and the sponsor sees the redemption.
    await portal.bring_to_front()
    await expect(detail.locator("[data-count=redeemed] .n")).to_have_text("1", timeout=20_000)


async def test_cancel_a_scheduled_promotion_and_a_wrong_key_is_refused(
    sandbox_service: RunningSandbox, page: Any
) -> None:
    await page.goto(f"{sandbox_service.url}/portal")
    await page.fill("#api-key", "bz_sp_not-a-real-key")
    await page.click("#sign-in-button")
    await expect(page.locator("#api-key-error")).to_contain_text("not accepted")
    await expect(page.locator("#workspace")).to_be_hidden()

    assert sandbox_service.sandbox.sponsor_key is not None
    await page.fill("#api-key", sandbox_service.sandbox.sponsor_key)
    await page.click("#sign-in-button")
    await expect(page.locator("#who")).to_contain_text("Sandbox demo sponsor")

    tomorrow = datetime.now() + timedelta(days=1)
    await page.fill("#title", "Spring offer")
    await page.fill("#text", "Early bird prices for spring.")
    await page.fill("#starts-at", tomorrow.strftime("%Y-%m-%dT%H:%M"))
    await page.fill("#expires-at", (tomorrow + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"))
    await page.check("input[name=voucher_kind][value=unique]")
    await page.fill("#voucher-count", "50")
    await page.click("#create-button")
    detail = page.locator("#detail")
    await expect(detail.locator("#detail-status")).to_have_text("Scheduled")
    await expect(detail).to_contain_text("50 unique codes")

    await page.click("#cancel-promotion")
    await page.click("#confirm-cancel")
    await expect(detail.locator("#detail-status")).to_have_text("Cancelled")
    await expect(page.locator(".promotion .status")).to_have_text(["Cancelled"])
    await expect(detail.locator("#cancel-promotion")).to_have_count(0)

    # Reloading keeps the tab signed in (sessionStorage), and signing out forgets the key.
    await page.reload()
    await expect(page.locator("#who")).to_contain_text("Sandbox demo sponsor")
    await page.click("#sign-out")
    await expect(page.locator("#sign-in")).to_be_visible()
    assert await page.evaluate("() => sessionStorage.length") == 0
