"""The operator page in headless Chromium, over the real /api/v1 in sandbox mode: a sponsor's
key is refused by name, the sandbox's demo operator key signs in, and the growth report is
drawn (registrations over time, adoption share by area in its stage's colour, the funnel) with
small areas suppressed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from playwright.async_api import expect

from storage.models import Citizen
from tests.support.sandbox import RunningSandbox


async def seed(sandbox: RunningSandbox) -> None:
    """12 people in SO (shown), 3 in PO (suppressed), spread over the last weeks."""
    now = datetime.now(UTC)
    async with sandbox.service.db.transaction() as session:
        for n in range(15):
            session.add(
                Citizen(
                    telegram_id=880_000 + n, chat_id=880_000 + n, display_name=f"Seed {n}",
                    ni_hash=f"{n:064d}", ni_masked="AB •• •• •• C",
                    date_of_birth=date(1990, 1, 1),
                    postcode_district="SO17" if n < 12 else "PO1",
                    registered_at=now - timedelta(days=3 * n + 1),
                    unreachable_at=now,  # never messaged
                )
            )  # fmt: skip


async def test_the_operator_page_signs_in_with_an_operator_key_and_draws_the_report(
    sandbox_service: RunningSandbox, page: Any
) -> None:
    await seed(sandbox_service)
    await page.goto(f"{sandbox_service.url}/")
    await page.click("text=Operator page")
    await expect(page.locator("#sign-in")).to_be_visible()

    # A sponsor's key is the wrong kind: the API's words say so, and nothing is shown.
    await page.fill("#api-key", sandbox_service.sandbox.sponsor_key or "")
    await page.click("#sign-in-button")
    await expect(page.locator("#api-key-error")).to_contain_text("a sponsor key")
    await expect(page.locator("#api-key-error")).to_contain_text("an operator key")
    await expect(page.locator("#report")).to_be_hidden()

    # The sandbox offers its demo operator key.
    await page.click("#demo-key")
    await expect(page.locator("#who")).to_have_text("Signed in as Sandbox demo operator")
    key = sandbox_service.sandbox.operator_key
    assert key is not None and key.startswith("bz_op_")
    assert await page.evaluate("() => sessionStorage.getItem('britizen.operatorKey')") == key
    assert await page.evaluate("() => localStorage.length") == 0

    await expect(page.locator("#totals")).to_have_text("15 registered · 15 verified")
    # Registrations over time: a line with a point per week, and weekly-active bars.
    chart = page.locator("#over-time-chart svg")
    await expect(chart.locator("polyline.line")).to_have_count(1)
    await expect(chart.locator("circle.dot")).to_have_count(12)
    # Adoption share by area, coloured by stage: SO 12 of 1,200 (1 %) is innovators.
    so_bar = page.locator("#share-chart rect[data-area='SO']")
    await expect(so_bar).to_have_class("stage-innovators")
    assert float(await so_bar.get_attribute("width") or 0) > 1
    await expect(page.locator("#share-chart")).to_contain_text("1.0 %")
    # PO has 3 people: its bar is empty and says suppressed, its table row shows "< 10".
    await expect(page.locator("#share-chart rect[data-area='PO']")).to_have_attribute("width", "0")
    await expect(page.locator("#share-chart")).to_contain_text("< 10 people")
    await expect(page.locator("#areas tr[data-area='PO'] td").nth(1)).to_have_text("< 10")
    await expect(page.locator("#areas tr[data-area='SO'] td").nth(1)).to_have_text("12")
    await expect(page.locator("#areas tr[data-area='SO'] .pill")).to_have_text("Innovators")
    # The funnel: four steps (nobody used an invite link here).
    await expect(page.locator("#funnel-chart rect.funnel")).to_have_count(4)
    await expect(page.locator("#legend li")).to_have_count(5)
    # The median is 0 (most demo areas have nobody), so nobody is below it.
    await expect(page.locator("#median")).to_have_text("Median adoption share: 0.0 %")

    # Signing out forgets the key.
    await page.click("#sign-out")
    await expect(page.locator("#sign-in")).to_be_visible()
    assert await page.evaluate("() => sessionStorage.getItem('britizen.operatorKey')") is None
