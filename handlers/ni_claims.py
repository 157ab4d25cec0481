""" "Someone registered with my NI number": the claimant's report, the holder's reply and the
reviewers' Move / Reject in /review. Wording in texts.ni_claims, logic in services.ni_claims.

    nic:report          "Report this" on the "already linked" answer (or /reportni)
    nic:skip            send the report without a document
    nic:resp:<id>       the holder's "Reply to this report" (or /nireply)
    nir:mv:<id>  nir:rej:<id>   a reviewer moves the number or rejects the report (then a note)
"""

from __future__ import annotations

import io

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError

import texts.common as common_texts
from handlers import chats
from handlers.context import BotContext
from handlers.ui import edit_in_place
from services.callbacks import NI_CLAIM, NI_REVIEW
from services.dialogs import Dialog
from services.ni_claims import FLOW as NI_CLAIM_FLOW
from services.ni_claims import (
    MAX_DOCUMENT_BYTES,
    MAX_STATEMENT,
    STEP_CONTACT,
    STEP_DOCUMENT,
    STEP_STATEMENT,
    BadDocument,
    ClaimDocument,
    ClaimError,
    ClaimQueueItem,
)
from texts import ni_claims as texts
from texts.disputes import NOT_ADMIN

REVIEW_FLOW = "ni_claim_review"
MAX_MB = MAX_DOCUMENT_BYTES // (1024 * 1024)

REPORT_MARKUP = InlineKeyboardMarkup(
    [[InlineKeyboardButton(texts.REPORT_BUTTON, callback_data=NI_CLAIM.encode("report"))]]
)
SKIP_MARKUP = InlineKeyboardMarkup(
    [[InlineKeyboardButton(texts.SKIP_BUTTON, callback_data=NI_CLAIM.encode("skip"))]]
)


# --- the claimant -----------------------------------------------------------------------------


async def start_report(update: Update, context: BotContext) -> None:
    """/reportni: the typed route to "Report this"."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    dialog = await claimant_dialog(context, user.id)
    if dialog is not None:
        await remind_claim_step(message, dialog)
        return
    try:
        await context.services.ni_claims.start(user.id)
    except ClaimError as refusal:
        await message.reply_text(str(refusal))
        return
    await message.reply_text(texts.ASK_CONTACT)


async def on_button(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    press = NI_CLAIM.decode(query.data)
    claims = context.services.ni_claims
    try:
        if press.action == "report":
            if await claimant_dialog(context, user.id) is not None:
                # "Report this" again, mid-report: the report goes on where it was.
                await query.answer(texts.ALREADY_REPORTING, show_alert=True)
                return
            await claims.start(user.id)
            await query.answer()
            await query.edit_message_reply_markup(None)
            await context.bot.send_message(user.id, texts.ASK_CONTACT)
        elif press.action == "skip":
            if not await claims.at_document_step(user.id):
                await query.answer(common_texts.STALE_BUTTON, show_alert=True)
                return
            await query.answer()
            await query.edit_message_reply_markup(None)
            await _open(update, context, None, None)
        else:
            await claims.start_statement(user.id)
            await query.answer()
            await context.bot.send_message(user.id, texts.ask_statement(MAX_STATEMENT))
    except ClaimError as refusal:
        await query.answer()
        await context.bot.send_message(user.id, str(refusal))


async def on_claim_text(update: Update, context: BotContext, dialog: Dialog) -> None:
    """Typed text in the claim conversation: the contact, a nudge, or the holder's reply."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and message.text is not None
    claims = context.services.ni_claims
    try:
        if dialog.step == STEP_CONTACT:
            await claims.submit_contact(user.id, message.text)
            await message.reply_text(texts.ask_document(MAX_MB), reply_markup=SKIP_MARKUP)
        elif dialog.step == STEP_DOCUMENT:
            await message.reply_text(texts.DOCUMENT_NEEDED, reply_markup=SKIP_MARKUP)
        elif dialog.step == STEP_STATEMENT:
            await claims.submit_statement(user.id, message.text)
            await message.reply_text(texts.STATEMENT_SAVED)
    except ClaimError as refusal:
        await message.reply_text(str(refusal))


async def on_file(update: Update, context: BotContext) -> None:
    """A photo or file in the private chat: the claim's document at that step, otherwise what
    any other non-text message gets."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    if not await context.services.ni_claims.at_document_step(user.id):
        await chats.on_not_text(update, context)
        return
    mime: str | None
    if message.photo:
        largest = message.photo[-1]
        file_id, size, mime = largest.file_id, largest.file_size, "image/jpeg"
    elif message.document is not None:
        doc = message.document
        file_id, size, mime = doc.file_id, doc.file_size, doc.mime_type
    else:
        await message.reply_text(texts.DOCUMENT_WRONG_KIND, reply_markup=SKIP_MARKUP)
        return
    try:
        context.services.ni_claims.check_document(size, mime)
        content = await _download(context, file_id)
    except BadDocument as refusal:
        await message.reply_text(str(refusal), reply_markup=SKIP_MARKUP)
        return
    if content is None:
        await message.reply_text(texts.DOCUMENT_UNREADABLE, reply_markup=SKIP_MARKUP)
        return
    await _open(update, context, content, mime)


async def _download(context: BotContext, file_id: str) -> bytes | None:
    try:
        telegram_file = await context.bot.get_file(file_id)
        return bytes(await telegram_file.download_as_bytearray())
    except TelegramError:
        return None


async def _open(
    update: Update, context: BotContext, content: bytes | None, mime: str | None
) -> None:
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    try:
        opened = await context.services.ni_claims.open(
            user.id, chat.id, user.first_name, content, mime
        )
    except BadDocument as refusal:
        await context.bot.send_message(chat.id, str(refusal), reply_markup=SKIP_MARKUP)
        return
    except ClaimError as refusal:
        await context.bot.send_message(chat.id, str(refusal))
        return
    await context.bot.send_message(chat.id, texts.claim_opened(opened.id, opened.contact_kind))


async def remind_claim_step(message: Message, dialog: Dialog) -> None:
    """Someone mid-report (not registered: a claimant has no account) sent a command we can't
    serve: say where they are, and keep the report as it was."""
    markup = SKIP_MARKUP if dialog.step == STEP_DOCUMENT else None
    await message.reply_text(texts.mid_claim(dialog.step), reply_markup=markup)


async def claimant_dialog(context: BotContext, telegram_id: int) -> Dialog | None:
    """The claimant's report in progress (contact or document step), if any."""
    dialog = await context.services.dialogs.get(telegram_id)
    if dialog is None or dialog.flow != NI_CLAIM_FLOW or dialog.step == STEP_STATEMENT:
        return None
    return dialog


# --- the holder -------------------------------------------------------------------------------


async def start_reply(update: Update, context: BotContext) -> None:
    """/nireply: the holder tells the reviewers their side."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    try:
        await context.services.ni_claims.start_statement(user.id)
    except ClaimError as refusal:
        await message.reply_text(str(refusal))
        return
    await message.reply_text(texts.ask_statement(MAX_STATEMENT))


# --- reviewers --------------------------------------------------------------------------------


def review_markup(item: ClaimQueueItem) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts.MOVE_BUTTON, callback_data=NI_REVIEW.encode("mv", item.id)
                )
            ],
            [
                InlineKeyboardButton(
                    texts.REJECT_BUTTON, callback_data=NI_REVIEW.encode("rej", item.id)
                )
            ],
        ]
    )


async def show_next_claim(message: Message, context: BotContext, reviewer_id: int) -> bool:
    """/review's NI-number part: the oldest open claim and its document (True if shown)."""
    claims = context.services.ni_claims
    if not claims.is_reviewer(reviewer_id):
        return False
    item = await claims.next_in_queue(reviewer_id)
    if item is None:
        return False
    await message.reply_text(
        texts.queue_text(
            claim_id=item.id,
            waiting=item.waiting,
            made=item.made.astimezone(context.timezone),
            claimant=item.claimant,
            contact_kind=item.contact_kind,
            contact=item.contact,
            has_document=item.has_document,
            masked=item.masked,
            holder=item.holder,
            since=None
            if item.holder_since is None
            else item.holder_since.astimezone(context.timezone),
            statement=item.statement,
        ),
        reply_markup=review_markup(item),
    )
    document = await claims.document(reviewer_id, item.id) if item.has_document else None
    if document is not None:
        await _send_document(message, item.id, document)
    return True


async def _send_document(message: Message, claim_id: int, document: ClaimDocument) -> None:
    caption = texts.document_caption(claim_id)
    extension = {"image/jpeg": "jpg", "image/png": "png"}.get(document.mime, "pdf")
    if extension != "pdf":
        try:
            await message.reply_photo(io.BytesIO(document.content), caption=caption)
            return
        except BadRequest:
            pass  # an image Telegram won't show as a photo (odd dimensions): as a file
    await message.reply_document(
        io.BytesIO(document.content), filename=f"report-{claim_id}.{extension}", caption=caption
    )


async def on_review_button(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    if not context.services.ni_claims.is_reviewer(user.id):
        await query.answer(common_texts.STALE_BUTTON, show_alert=True)
        return
    press = NI_REVIEW.decode(query.data)
    move, claim_id = press.action == "mv", press.number
    await context.services.dialogs.set(
        user.id, Dialog(REVIEW_FLOW, "note", {"id": claim_id, "move": move})
    )
    await query.answer()
    await edit_in_place(update, texts.ask_note(claim_id, move=move))


async def on_review_text(update: Update, context: BotContext, dialog: Dialog) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and message.text is not None
    await context.services.dialogs.clear(user.id)
    claims = context.services.ni_claims
    if not claims.is_reviewer(user.id):
        await message.reply_text(NOT_ADMIN)
        return
    try:
        decision = await claims.decide(
            int(dialog.data["id"]), user.id, bool(dialog.data["move"]), message.text
        )
    except ClaimError as refusal:
        await message.reply_text(str(refusal))
        return
    await message.reply_text(texts.decided(decision.id, moved=decision.moved))
    if not await show_next_claim(message, context, user.id):
        await message.reply_text(texts.QUEUE_DONE)
