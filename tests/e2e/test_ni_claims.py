""" "Someone registered with my NI number", through the real bot against the stand-in, on SQLite
and PostgreSQL: a person told their number is in use reports it (contact, optional document),
the account holding it is frozen for borrowing and sharing and its owner told; a reviewer moves
the number to the claimant or rejects the report, and both are told. The document is stored
encrypted and deleted after review; the number is never logged nor echoed.

Dates come from the ManualClock, never from the wall clock."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from datetime import timedelta

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from sqlalchemy import select

from bot.logs import configure_logging
from bot.service import BritizenService
from services.clock import ManualClock
from services.secrets import ni_number_hash
from standin import BotApiStandIn
from storage.models import (
    AccessRequest,
    DialogState,
    Erasure,
    NiClaim,
    NiClaimEvent,
    ShareCode,
)
from storage.models import Citizen as CitizenRow
from storage.statuses import AccessRequestStatus, NiClaimStatus
from tests.e2e.conftest import TEST_SECRET, ServiceFactory, register
from tests.e2e.test_loans import answer_to
from tests.standin.driver import Citizen

ADMIN = 990
NI = "AB 12 34 56 C"
CANONICAL = "AB123456C"
MASKED = "AB •• •• •• C"
MARKER = "PAYSLIP-OF-ALICE-OWNER-7731"
EMAIL = "alice.owner@example.com"


def document_png() -> bytes:
    """A real PNG whose bytes carry MARKER in clear (a tEXt chunk): if the stored bytes were
    not encrypted, the marker would be found in them."""
    info = PngInfo()
    info.add_text("Comment", MARKER * 4)
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def the_hash() -> str:
    return ni_number_hash(TEST_SECRET.encode(), CANONICAL)


async def claim_row(service: BritizenService) -> NiClaim:
    async with service.db.transaction() as session:
        row = await session.scalar(select(NiClaim).order_by(NiClaim.id.desc()).limit(1))
    assert row is not None
    return row


async def account(service: BritizenService, telegram_id: int) -> CitizenRow | None:
    async with service.db.transaction() as session:
        return await session.scalar(select(CitizenRow).where(CitizenRow.telegram_id == telegram_id))


async def told_in_use(person: Citizen, standin: BotApiStandIn) -> None:
    """Registration up to the number, which is already in use: the answer offers a report."""
    await person.send("/start")
    await person.expect("Welcome to Britizen")
    await person.press("I agree")
    await person.expect("National Insurance number")
    deletes = len(standin.calls_of("deleteMessage"))
    await person.send(NI.lower())
    refusal = await person.expect("already linked to a Britizen account", "Report this")
    assert person.buttons(refusal) == ["🚩 Report this"]
    assert "123456" not in refusal.text
    # The message with the number is removed from the chat, as when it's accepted.
    assert len(standin.calls_of("deleteMessage")) == deletes + 1


async def frozen(person: Citizen) -> None:
    await person.send("/loan")
    await person.expect("Borrowing and sharing your score are paused", "/nireply")
    await person.send("/share")
    await person.expect("Borrowing and sharing your score are paused")


async def my_data(person: Citizen) -> dict[str, object]:
    await person.send("/mydata")
    export = await person.expect_document()
    assert export.document is not None
    document: dict[str, object] = json.loads(export.document)
    return document


def every_text(standin: BotApiStandIn) -> list[str]:
    """Everything the bot sent anyone: message texts and captions."""
    texts = []
    for call in standin.calls:
        for key in ("text", "caption"):
            value = call.params.get(key)
            if isinstance(value, str):
                texts.append(value)
    return texts


async def test_report_freeze_then_the_number_is_moved_to_its_owner(
    start_service: ServiceFactory,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure_logging("DEBUG")  # the most verbose an operator can ask for
    caplog.set_level(logging.DEBUG)
    service = await start_service(admin_ids=[ADMIN])
    admin = citizen(ADMIN, "Reviewer")
    mallory = citizen(501, "Mallory")
    await register(mallory, NI)
    await mallory.send("/share")
    await mallory.expect("Your one-time code")

    alice = citizen(502, "Alice")
    await told_in_use(alice, standin)
    await alice.press("Report this")
    await alice.expect("how can our team reach you", "email address or a phone number")
    await alice.send("not a way to reach anyone")
    await alice.expect("doesn't look like an email address or a phone number")
    await alice.send(f"  {EMAIL}  ")
    asked = await alice.expect("photo of a document", "payslip", "encrypted", "Skip")
    assert alice.buttons(asked) == ["Skip"]
    await alice.send("here it comes")
    await alice.expect("Please send a photo or a file")
    await alice.send_file(b"just text", "notes.txt", "text/plain")
    await alice.expect("JPEG or PNG image, or a PDF")
    await alice.send_file(b"%PDF-1.4 big", "big.pdf", "application/pdf", file_size=6 * 2**20)
    await alice.expect("too big", "5 MB")
    get_files = len(standin.calls_of("getFile"))
    png = document_png()
    await alice.send_photo(png)
    opened = await alice.expect("report #", "is with our team", "can't borrow or share")
    assert "email address" in opened.text
    assert len(standin.calls_of("getFile")) == get_files + 1, "the photo was fetched once"

    # Stored: the number only as its keyed hash, the photo and contact encrypted.
    claim = await claim_row(service)
    assert claim.status == NiClaimStatus.OPEN
    assert claim.ni_hash == the_hash()
    assert claim.document_encrypted is not None and claim.contact_encrypted is not None
    assert MARKER.encode() not in claim.document_encrypted
    assert b"PNG" not in claim.document_encrypted
    assert png not in claim.document_encrypted
    assert EMAIL.encode() not in claim.contact_encrypted
    async with service.db.transaction() as session:
        assert await session.get(DialogState, 502) is None  # the conversation is over
        code = await session.scalar(select(ShareCode))
    assert code is not None and code.expires_at is not None  # the live code was retired

    # The holder is told at once, with how to reply, and is frozen for borrowing and sharing.
    notice = await mallory.expect(
        "Someone has reported that the National Insurance number", MASKED, "paused"
    )
    assert mallory.buttons(notice) == ["✍️ Reply to this report"]
    await frozen(mallory)
    await mallory.press("Reply to this report", message=notice)
    await mallory.expect("why this NI number is yours")
    await mallory.send("I bought it fair and square")
    await mallory.expect("our team will read it")
    await admin.expect("NI-number report #", "waiting in /review")

    # One open report per number: someone else reporting it meanwhile is told so.
    eve = citizen(503, "Eve")
    await told_in_use(eve, standin)
    await eve.press("Report this")
    await eve.expect("already being looked at")

    await admin.send("/review")
    shown = await admin.expect(
        "NI-number report #",
        "(1 waiting)",
        "by Alice",
        EMAIL,
        "attached below",
        f"({MASKED}) is on the account of Mallory",
        "Holder's reply: I bought it fair and square",
    )
    assert admin.buttons(shown) == ["Move number to claimant", "Reject report"]
    photo = await admin.expect_photo("Document for report")
    assert photo.photo is not None and MARKER.encode() in photo.photo
    await admin.press("Move number to claimant", message=shown)
    await admin.expect("moving the number to the claimant", "Type a short note")
    await admin.send("Checked with HMRC.")
    await admin.expect("the number was moved", "Both people have been told")
    await admin.expect("last NI-number report")

    # The claimant finishes registering with the number; the old account keeps nothing of it.
    await alice.expect("was upheld", "the NI number is yours now", "Checked with HMRC.")
    await alice.send("14/03/1990")
    await alice.expect("postcode district")
    await alice.press("Skip")
    done = await alice.expect("You're registered, Alice", MASKED)
    assert "123456" not in done.text
    await alice.expect("would you like offers")
    await mallory.expect("given back to its owner", "no longer linked to your account")

    alice_row, mallory_row = await account(service, 502), await account(service, 501)
    assert alice_row is not None and mallory_row is not None
    assert alice_row.ni_hash == the_hash() and alice_row.ni_masked == MASKED
    assert mallory_row.ni_hash != the_hash() and mallory_row.ni_masked == "—"
    claim = await claim_row(service)
    assert claim.status == NiClaimStatus.MOVED and claim.reviewer_telegram_id == ADMIN
    assert claim.document_encrypted is None and claim.contact_encrypted is None
    assert claim.document_deleted_at is not None
    # Without a number the old account stays unable to borrow or share.
    await frozen(mallory)
    # Alice's own loans work.
    await alice.send("/loan")
    await alice.expect("Borrow with Britizen")

    # Every step is in each person's /mydata.
    alice_log = (await my_data(alice))["ni_number_reports"]
    mallory_log = (await my_data(mallory))["ni_number_reports"]
    assert isinstance(alice_log, list) and isinstance(mallory_log, list)
    assert [e["what"] for e in alice_log] == [
        "You started a report that your NI number was used by someone else.",
        "You sent a document (stored encrypted).",
        "Your report was sent for review.",
        "The document you sent was deleted.",
        "The report was upheld: the NI number was moved to you.",
    ]
    assert [e["what"] for e in mallory_log] == [
        "Someone reported that your account's NI number is theirs; "
        "borrowing and sharing were paused.",
        "You replied to the report about your NI number.",
        "The report was upheld: the NI number was moved to its owner.",
    ]

    # The number never reached the logs, nor any message the bot sent.
    assert caplog.records, "logging was captured"
    logged = caplog.text.replace(" ", "").upper()
    assert CANONICAL not in logged
    sent = every_text(standin)
    assert sent and all("123456" not in text for text in sent)


async def test_a_rejected_report_lifts_the_freeze_and_cools_down(
    start_service: ServiceFactory,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
    clock: ManualClock,
) -> None:
    service = await start_service(admin_ids=[ADMIN])
    admin = citizen(ADMIN, "Reviewer")
    holder = citizen(601, "Hana")
    await register(holder, NI)
    claimant = citizen(602, "Carl")
    await told_in_use(claimant, standin)
    # The typed route does what the button does.
    await claimant.send("/reportni")
    await claimant.expect("how can our team reach you")
    await claimant.send("07700 900123")
    await claimant.expect("photo of a document")
    await claimant.press("Skip")
    await claimant.expect("is with our team", "phone number")
    claim = await claim_row(service)
    assert claim.document_encrypted is None and claim.contact_kind == "phone"
    assert claim.contact_encrypted is not None and b"07700900123" not in claim.contact_encrypted

    await holder.expect("Someone has reported", MASKED)
    await frozen(holder)
    # A partner asking meanwhile can't be allowed: the Allow button says why.
    partner, _key = await service.services.partners.create("Lend Well")
    await service.services.sharing.request_access(partner.id, CANONICAL)
    await holder.expect("Lend Well asks to see your Britizen score")
    alert = await answer_to(standin, lambda: holder.press("Allow"))
    assert "Borrowing and sharing your score are paused" in alert
    async with service.db.transaction() as session:
        request = await session.scalar(select(AccessRequest))
    assert request is not None and request.status == AccessRequestStatus.PENDING
    await admin.expect("waiting in /review")
    await admin.send("/review")
    shown = await admin.expect("NI-number report #", "07700900123", "none sent", "none yet")
    await admin.press("Reject report", message=shown)
    await admin.expect("rejecting the report")
    await admin.send("-")
    await admin.expect("rejected, the freeze is lifted")
    await admin.expect("last NI-number report")
    await admin.send("/review")
    await admin.expect("No disputes are waiting for review")

    await claimant.expect("not upheld", "stays with the account")
    cleared = await holder.expect("was not upheld", "borrowing and sharing work again")
    assert "From our team" not in cleared.text  # "-" means no note
    await holder.send("/loan")
    await holder.expect("Borrow with Britizen")
    await holder.send("/share")
    await holder.expect("Your one-time code")
    holder_row = await account(service, 601)
    assert holder_row is not None and holder_row.ni_hash == the_hash()
    assert (await claim_row(service)).status == NiClaimStatus.REJECTED

    # A rejected claimant can't report again at once; after the cool-down they can.
    await told_in_use(claimant, standin)
    await claimant.press("Report this")
    await claimant.expect("not upheld, so a new one can be made from")
    clock.now = clock.now + timedelta(days=15)
    await claimant.send("/reportni")
    await claimant.expect("how can our team reach you")
    await claimant.send("/cancel")
    await claimant.expect("Cancelled")
    # Nothing to report without being told the number is in use.
    await claimant.send("/reportni")
    await claimant.expect("nothing to report")


async def test_housekeeping_deletes_a_document_left_too_long(
    start_service: ServiceFactory,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
    clock: ManualClock,
) -> None:
    service = await start_service(admin_ids=[ADMIN])
    await register(citizen(701, "Holly"), NI)
    claimant = citizen(702, "Colm")
    await told_in_use(claimant, standin)
    await claimant.press("Report this")
    await claimant.expect("how can our team reach you")
    await claimant.send("+44 7700 900456")
    await claimant.expect("photo of a document")
    await claimant.send_file(b"%PDF-1.4 " + MARKER.encode(), "p60.pdf", "application/pdf")
    await claimant.expect("is with our team")
    claim = await claim_row(service)
    assert claim.document_encrypted is not None
    assert MARKER.encode() not in claim.document_encrypted
    # A PDF reaches the reviewer as a file.
    admin = citizen(ADMIN, "Reviewer")
    await admin.expect("waiting in /review")
    await admin.send("/review")
    await admin.expect("NI-number report #", "+447700900456", "attached below")
    pdf = await admin.expect_document("Document for report", filename=f"report-{claim.id}.pdf")
    assert pdf.document is not None and MARKER.encode() in pdf.document

    clock.now = clock.now + timedelta(days=29)
    await service.run_housekeeping()
    assert (await claim_row(service)).document_encrypted is not None  # not yet
    clock.now = clock.now + timedelta(days=2)
    await service.run_housekeeping()
    claim = await claim_row(service)
    assert claim.document_encrypted is None and claim.document_deleted_at is not None
    assert claim.status == NiClaimStatus.OPEN  # the report itself still waits
    async with service.db.transaction() as session:
        actions = list(
            (
                await session.scalars(
                    select(NiClaimEvent.action).where(NiClaimEvent.telegram_id == 702)
                )
            ).all()
        )
    assert actions[-1] == "document_deleted"


async def test_reports_per_person_are_limited(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
    clock: ManualClock,
) -> None:
    await register(citizen(801, "Hal"), NI)
    # Three earlier reports this month (about other numbers, since decided).
    async with service.db.transaction() as session:
        for n in range(3):
            session.add(
                NiClaim(
                    ni_hash=f"{n}" * 64,
                    status=NiClaimStatus.MOVED,
                    claimant_telegram_id=802,
                    claimant_chat_id=802,
                    claimant_name="Cy",
                    created_at=clock.now - timedelta(days=n + 1),
                    decided_at=clock.now,
                )
            )
    cy = citizen(802, "Cy")
    await told_in_use(cy, standin)
    await cy.press("Report this")
    await cy.expect("You've sent 3 reports in the last 30 days")
    async with service.db.transaction() as session:
        assert len((await session.scalars(select(NiClaim))).all()) == 3


async def test_the_holder_erasing_meanwhile_leaves_the_number_free_to_register(
    start_service: ServiceFactory,
    citizen: Callable[..., Citizen],
    standin: BotApiStandIn,
) -> None:
    service = await start_service(admin_ids=[ADMIN])
    admin = citizen(ADMIN, "Reviewer")
    holder = citizen(901, "Ian")
    await register(holder, NI)
    claimant = citizen(902, "Jane")
    await told_in_use(claimant, standin)
    await claimant.press("Report this")
    await claimant.expect("how can our team reach you")
    await claimant.send("jane@example.org")
    await claimant.expect("photo of a document")
    await claimant.press("Skip")
    await claimant.expect("is with our team")
    await holder.expect("Someone has reported")
    await admin.expect("waiting in /review")

    await holder.send("/delete")
    await holder.expect("Erase your Britizen account?")
    await holder.press("Yes, erase everything")
    await holder.expect("Your account has been erased")
    claim = await claim_row(service)
    assert claim.holder_citizen_id is None and claim.status == NiClaimStatus.OPEN
    async with service.db.transaction() as session:
        assert await session.get(Erasure, the_hash()) is not None
    async with service.db.transaction() as session:
        left = (await session.scalars(select(NiClaimEvent.telegram_id))).all()
    assert 901 not in left, "the erased person's own log went with the account"

    await admin.send("/review")
    shown = await admin.expect("NI-number report #", "an account since erased")
    await admin.press("Move number to claimant", message=shown)
    await admin.expect("moving the number")
    await admin.send("Holder gone.")
    await admin.expect("the number was moved")
    await claimant.expect("no longer linked to any account", "Send /start")
    async with service.db.transaction() as session:
        assert await session.get(Erasure, the_hash()) is None, "the holder's erasure is dropped"
    # Registered as anyone new: asked about offers (an erased number's rejoin isn't).
    await register(claimant, NI)
    jane = await account(service, 902)
    assert jane is not None and jane.ni_hash == the_hash()
