"""The sandbox and the sponsor portal in Welsh, in headless Chromium: the switch turns the page
into Cymraeg (from the bot's own catalog), the bot answers the test citizen in Welsh, the
command menu is the Welsh one, and the choice is remembered when the page is opened again."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from bot.sandbox import CITIZENS
from tests.support.sandbox import RunningSandbox

ALICE = CITIZENS[0]


async def test_the_sandbox_in_welsh(sandbox_service: RunningSandbox, page: Any) -> None:
    await page.goto(f"{sandbox_service.url}/sandbox")
    await expect(page.locator("#notice")).to_contain_text("Nothing reaches Telegram")
    switch = page.locator("#language-switch")
    await expect(switch).to_have_text("Cymraeg")
    await switch.click()

    await expect(page.locator("#notice")).to_contain_text("Does dim byd yn cyrraedd Telegram")
    await expect(page.locator("html")).to_have_attribute("lang", "cy")
    await expect(page.locator("#send")).to_have_text("Anfon")
    await expect(page.locator("#text")).to_have_attribute("placeholder", "Neges")
    await expect(switch).to_have_text("English")

    # The test citizen's Telegram app is now in Welsh: the bot answers in Welsh.
    await page.fill("#text", "/start")
    await page.press("#text", "Enter")
    welcome = page.locator(".msg.bot", has_text="Croeso i Britizen").last
    await expect(welcome).to_be_visible()
    await expect(welcome.locator(".inline-keyboard button").first).to_have_text("✅ Rwy'n cytuno")
    await page.click("#menu-button")
    await expect(page.locator("#commands")).to_contain_text("Cymraeg / English")

    # Remembered: the page opens in Welsh next time.
    await page.reload()
    await expect(page.locator("#notice")).to_contain_text("Does dim byd yn cyrraedd Telegram")

    # And back to English.
    await page.locator("#language-switch").click()
    await expect(page.locator("#notice")).to_contain_text("Nothing reaches Telegram")
    await expect(page.locator("#send")).to_have_text("Send")


async def test_the_portal_in_welsh(sandbox_service: RunningSandbox, page: Any) -> None:
    await page.goto(f"{sandbox_service.url}/portal")
    await expect(page.locator("#sign-in h1")).to_have_text("Sign in")
    await page.locator("#language-switch").click()
    await expect(page.locator("#sign-in h1")).to_have_text("Mewngofnodi")
    await expect(page.locator("#sign-in-button")).to_have_text("Mewngofnodi")
    await expect(page.locator("label[for=api-key]")).to_have_text("Allwedd API")
    await expect(page).to_have_title("Porth noddwyr Britizen")
