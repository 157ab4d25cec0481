"""/dispute for citizens and /review for admins. Wording in texts.disputes and
texts.disputes_ui, logic in services.disputes.

Both are short conversations kept as dialog rows: choose what to contest by buttons, then
type a statement; an admin chooses Uphold or Reject, then types a note for the citizen.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

import texts.common as texts
from handlers import ni_claims, payment_plans
from handlers.context import BotContext
from handlers.guards import registered_button, registered_only
from handlers.ui import edit_in_place
from services.callbacks import DISPUTE, REVIEW
from services.dialogs import Dialog
from services.disputes import (
    DECISIONS,
    DIMENSION_NAMES,
    MAX_STATEMENT,
    BadStatement,
    DisputeError,
    QueueItem,
)
from texts import disputes_ui as words
from texts.disputes import (
    NOT_ADMIN,
    START_TEXT,
    queue_text,
)

DISPUTE_FLOW = "dispute"
REVIEW_FLOW = "review"


def _button(text: str, data: str) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(text, callback_data=data)]


START_MARKUP = InlineKeyboardMarkup(
    [
        _button(words.DIMENSION_BUTTON, DISPUTE.encode("dim")),
        _button(words.EVENT_BUTTON, DISPUTE.encode("ev")),
        _button(words.DECISION_BUTTON, DISPUTE.encode("dec")),
        _button(words.BATCH_BUTTON, DISPUTE.encode("bat")),
    ]
)
KINDS = {"dim": "dimension", "ev": "event", "dec": "decision", "bat": "batch"}


@registered_only
async def start_dispute(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(START_TEXT, reply_markup=START_MARKUP)


async def _ask_statement(update: Update, context: BotContext, kind: str, subject: str) -> None:
    user = update.effective_user
    assert user is not None and update.callback_query is not None
    label = await context.services.disputes.label(user.id, kind, subject)
    await context.services.dialogs.set(
        user.id, Dialog(DISPUTE_FLOW, "statement", {"kind": kind, "subject": subject})
    )
    await update.callback_query.answer()
    await edit_in_place(update, words.ask_statement(label, MAX_STATEMENT))


@registered_button
async def on_button(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    press = DISPUTE.decode(query.data)
    try:
        if press.argument is not None:
            await _ask_statement(update, context, KINDS[press.action], press.argument)
            return
        await query.answer()
        if press.action == "dim":
            rows = [
                _button(name, DISPUTE.encode("dim", key)) for key, name in DIMENSION_NAMES.items()
            ]
            await edit_in_place(update, words.WHICH_DIMENSION, InlineKeyboardMarkup(rows))
        elif press.action == "dec":
            rows = [_button(label, DISPUTE.encode("dec", key)) for key, label in DECISIONS.items()]
            await edit_in_place(update, words.WHICH_DECISION, InlineKeyboardMarkup(rows))
        elif press.action == "bat":
            await _offer_batches(update, context, user.id)
        else:
            events = await context.services.disputes.events(user.id)
            if not events:
                await edit_in_place(update, words.NO_EVENTS)
                return
            rows = [
                _button(
                    words.event_button(e.occurred_on, e.source, e.outcome, disputed=e.disputed),
                    DISPUTE.encode("ev", e.id),
                )
                for e in events
            ]
            await edit_in_place(update, words.WHICH_EVENT, InlineKeyboardMarkup(rows))
    except DisputeError:
        # Not the presser's to contest (a forged subject, someone else's record).
        await query.answer(texts.STALE_BUTTON, show_alert=True)


async def _offer_batches(update: Update, context: BotContext, user_id: int) -> None:
    batches = await context.services.disputes.batches(user_id)
    if not batches:
        await edit_in_place(update, words.NO_BATCHES)
        return
    rows = [
        _button(
            words.batch_button(
                b.received_on, b.source, b.events, b.adverse, held=b.held, disputed=b.disputed
            ),
            DISPUTE.encode("bat", b.id),
        )
        for b in batches
    ]
    await edit_in_place(update, words.WHICH_BATCH, InlineKeyboardMarkup(rows))


async def on_dispute_text(update: Update, context: BotContext, dialog: Dialog) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and message.text is not None
    try:
        opened = await context.services.disputes.open(
            user.id, dialog.data["kind"], dialog.data["subject"], message.text
        )
    except DisputeError as refusal:
        await message.reply_text(str(refusal))
        if isinstance(refusal, BadStatement):
            return  # still at the statement step: they can send a better one
        await context.services.dialogs.clear(user.id)
        return
    await context.services.dialogs.clear(user.id)
    await message.reply_text(
        words.dispute_opened(
            opened.id,
            opened.subject_label,
            about_event=opened.kind == "event",
            about_batch=opened.kind == "batch",
        )
    )


# --- admins -----------------------------------------------------------------------------------


def _is_admin(context: BotContext, user_id: int) -> bool:
    return context.services.disputes.is_reviewer(user_id)


def queue_markup(item: QueueItem) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    words.UPHOLD_BUTTON, callback_data=REVIEW.encode("up", item.id)
                ),
                InlineKeyboardButton(
                    words.REJECT_BUTTON, callback_data=REVIEW.encode("rej", item.id)
                ),
            ]
        ]
    )


async def show_review(update: Update, context: BotContext) -> None:
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    if not _is_admin(context, user.id):
        await message.reply_text(NOT_ADMIN)
        return
    item = await context.services.disputes.next_in_queue(user.id)
    if item is not None:
        await message.reply_text(queue_text(item), reply_markup=queue_markup(item))
    # Payment plan requests ("I can't pay this") wait in /review too, after the disputes.
    shown = await payment_plans.show_next_request(message, context, user.id)
    # Then NI-number reports ("someone registered with my number").
    shown = await ni_claims.show_next_claim(message, context, user.id) or shown
    if item is None and not shown:
        await message.reply_text(words.QUEUE_EMPTY)


async def on_review_button(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    if not _is_admin(context, user.id):
        await query.answer(texts.STALE_BUTTON, show_alert=True)
        return
    press = REVIEW.decode(query.data)
    upheld, raw_id = press.action == "up", press.number
    await context.services.dialogs.set(
        user.id, Dialog(REVIEW_FLOW, "note", {"id": raw_id, "upheld": upheld})
    )
    await query.answer()
    await edit_in_place(update, words.ask_note(raw_id, upheld=upheld))


async def on_review_text(update: Update, context: BotContext, dialog: Dialog) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and message.text is not None
    await context.services.dialogs.clear(user.id)
    if not _is_admin(context, user.id):
        await message.reply_text(NOT_ADMIN)
        return
    try:
        decision = await context.services.disputes.review(
            int(dialog.data["id"]), user.id, bool(dialog.data["upheld"]), message.text
        )
    except DisputeError as refusal:
        await message.reply_text(str(refusal))
        return
    await message.reply_text(words.decided(decision.id, upheld=decision.upheld))
    item = await context.services.disputes.next_in_queue(user.id)
    if item is None:
        await message.reply_text(words.LAST_ONE)
    else:
        await message.reply_text(queue_text(item), reply_markup=queue_markup(item))
