"""The sandbox chat page in headless Chromium: a person registers and sees a score, friends
meet through an invite link, and photos render as pictures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import expect

from bot.sandbox import CITIZENS, REVIEWERS
from tests.support.sandbox import RunningSandbox

ALICE, BEN = CITIZENS[0], CITIZENS[1]


def bot_message(page: Any, text: str) -> Any:
    """The newest bot bubble containing ``text``."""
    return page.locator(".msg.bot", has_text=text).last


async def send(page: Any, text: str) -> None:
    await page.fill("#text", text)
    await page.press("#text", "Enter")
    await expect(page.locator(".msg.me").last).to_contain_text(text)


async def press(page: Any, message: Any, label: str) -> None:
    await message.locator(".inline-keyboard button", has_text=label).click()


async def register(page: Any, name: str, *, started: bool = False) -> None:
    """The registration conversation, typed and clicked as a person would."""
    if not started:
        await send(page, "/start")
    welcome = bot_message(page, "Welcome to Britizen")
    await expect(welcome).to_be_visible()
    await press(page, welcome, "I agree")
    await expect(bot_message(page, "National Insurance number")).to_be_visible()
    # The page offers the citizen's invented details: a click puts one in the message box.
    await page.locator("#sample button", has_text="NI number").click()
    await page.press("#text", "Enter")
    await expect(bot_message(page, "saved as")).to_be_visible()
    await page.locator("#sample button", has_text="born").click()
    await page.press("#text", "Enter")
    postcode = bot_message(page, "postcode district")
    await expect(postcode).to_be_visible()
    await press(page, postcode, "Skip")
    await expect(bot_message(page, f"You're registered, {name}")).to_be_visible()


async def test_register_in_the_sandbox_and_see_a_score(
    sandbox_service: RunningSandbox, page: Any
) -> None:
    await page.goto(f"{sandbox_service.url}/sandbox")
    await expect(page.locator("#notice")).to_contain_text("Nothing reaches Telegram")
    await expect(page.locator("#me")).to_have_text(f"{ALICE.first_name} {ALICE.last_name}")
    await expect(page.locator("#empty")).to_be_visible()

    await register(page, ALICE.first_name)
    # The NI number never comes back in full, not even on the page.
    masked = bot_message(page, "You're registered")
    await expect(masked).to_contain_text("AB •• •• •• C")

    # /score from the command menu, then the score and its buttons as in Telegram.
    await page.click("#menu-button")
    await page.locator("#commands button", has_text="/score").click()
    score = bot_message(page, "Your Britizen score")
    await expect(score).to_contain_text("Your Britizen score: 600")
    await expect(score).to_contain_text("Good")
    buttons = score.locator(".inline-keyboard button")
    await expect(buttons).to_have_text(["Why?", "History", "Benefits"])
    await press(page, score, "Why?")
    await expect(bot_message(page, "payment history").last).to_be_visible()

    # What the page showed is what the bot sent through the stand-in.
    sent = [m.text for m in sandbox_service.sandbox.standin.sent_to(ALICE.user_id)]
    assert any(text.startswith("Your Britizen score: 600") for text in sent)


async def test_an_invite_link_opened_as_another_citizen_makes_friends(
    sandbox_service: RunningSandbox, page: Any
) -> None:
    await page.goto(f"{sandbox_service.url}/sandbox")
    await register(page, ALICE.first_name)
    await send(page, "/invite")
    invite = page.locator(".msg.bot", has=page.locator("img.photo")).last
    # The QR code is a real picture the browser decoded, not a broken image.
    image = invite.locator("img.photo")
    await expect(image).to_be_visible()
    assert await image.evaluate("img => img.complete && img.naturalWidth") > 100

    # Clicking the t.me link asks who opens it; Ben does, and registers through it.
    await invite.locator("a", has_text="t.me/").click()
    await page.locator("#picker-options label", has_text=BEN.first_name).click()
    await page.click("#picker-ok")
    await expect(page.locator("#me")).to_have_text(f"{BEN.first_name} {BEN.last_name}")
    await expect(page.locator(".msg.me").last).to_contain_text("/start inv_")
    await register(page, BEN.first_name, started=True)
    await expect(bot_message(page, "You're registered")).to_contain_text("Alice's invite")

    # Back to Alice: the request is waiting, with an unread badge beside her name.
    alice = page.locator(f"button.citizen[data-user='{ALICE.user_id}']")
    await expect(alice.locator(".unread")).to_be_visible()
    await alice.click()
    request = bot_message(page, "would like to be your friend")
    await expect(request).to_contain_text(f"{BEN.first_name} joined Britizen with your invite")
    await press(page, request, "Accept")
    await expect(bot_message(page, "now friends")).to_contain_text(BEN.first_name)


async def test_a_loan_repaid_through_an_invoice_on_the_page(
    sandbox_service: RunningSandbox, page: Any
) -> None:
    await page.goto(f"{sandbox_service.url}/sandbox")
    await register(page, ALICE.first_name)
    await send(page, "/loan")
    offer = bot_message(page, "Borrow with Britizen")
    await press(page, offer, "£100.00")
    terms = bot_message(page, "£100.00 it is")
    await press(page, terms, "6 months")
    summary = bot_message(page, "please check it before you confirm")
    await press(page, summary, "Confirm")
    # A stolen phone can't borrow: the NI number is asked for again (and deleted at once).
    await expect(bot_message(page, "type your National Insurance number")).to_be_visible()
    await page.locator("#sample button", has_text="NI number").click()
    await page.press("#text", "Enter")
    await expect(bot_message(page, "Loan confirmed")).to_contain_text("£100.00 over 6 months")

    await send(page, "/loans")
    # Paid a month early, the first instalment costs less than its £17.65 (the rebate).
    await press(page, bot_message(page, "left to pay"), "Pay £17.")
    # The invoice as Telegram draws it: title, description, amount, and a Pay button.
    invoice = page.locator(".msg.bot[data-kind=invoice]").last
    await expect(invoice).to_contain_text("Britizen loan repayment")
    amount = await invoice.locator(".amount").inner_text()
    assert amount.startswith("£17.") and amount <= "£17.65"
    await invoice.locator(".inline-keyboard button", has_text="Pay").click()
    # Pre-checkout answered by the bot, then the payment message, then the bot's thanks.
    await expect(page.locator(".msg.me").last).to_contain_text(f"Paid {amount}")
    await expect(bot_message(page, "Thank you")).to_contain_text(
        f"{amount} received for instalment 1"
    )


async def test_a_document_renders_as_a_file_to_download(
    sandbox_service: RunningSandbox, page: Any, tmp_path: Path
) -> None:
    await page.goto(f"{sandbox_service.url}/sandbox")
    await expect(page.locator("#empty")).to_be_visible()
    # What a data export does: the bot sends a file (here straight through the bot's own client).
    payload = b'{"citizen": "Alice", "scores": [600]}\n'
    await sandbox_service.service.application.bot.send_document(
        ALICE.user_id, payload, filename="britizen-data.json", caption="Your data, as JSON."
    )
    document = page.locator(".msg.bot[data-kind=document]")
    await expect(document).to_contain_text("Your data, as JSON.")
    await expect(document.locator(".file-name")).to_have_text("britizen-data.json")
    await expect(document.locator(".file-size")).to_contain_text(f"{len(payload)} B")
    async with page.expect_download() as downloading:
        await document.locator("a.document").click()
    download = await downloading.value
    assert download.suggested_filename == "britizen-data.json"
    saved = tmp_path / "saved.json"
    await download.save_as(saved)
    assert saved.read_bytes() == payload


async def test_the_sandbox_tools_show_the_partner_key_the_reviewer_and_run_the_pass(
    sandbox_service: RunningSandbox, page: Any
) -> None:
    sandbox = sandbox_service.sandbox
    await page.goto(f"{sandbox_service.url}/sandbox")
    assert sandbox.partner_key is not None and sandbox.sponsor_key is not None
    await expect(page.locator("#sponsor-key")).to_have_text(sandbox.sponsor_key)
    await expect(page.locator("#partner-key")).to_have_text(sandbox.partner_key)
    reviewer = page.locator(f"button.citizen[data-user='{REVIEWERS[0]}']")
    await expect(reviewer.locator(".badge")).to_have_text("Reviewer")

    await register(page, ALICE.first_name)
    await page.click("#run-pass")
    await expect(page.locator("#pass-result")).to_contain_text("Scored 1 citizen; 0 band changes")
    # The pass added a point to Alice's history: /history now spans two calculations.
    await send(page, "/history")
    await expect(bot_message(page, "over 2 calculations")).to_be_visible()
