"""Debt help and payment plans: /debthelp, "I can't pay this" (in /loans and on overdue
reminders), and the reviewers' Agree / Decline in /review. Wording in texts.payment_plans and
texts.debt_help, logic in services.payment_plans.

    plan:ask:<instalment id>    "I can't pay this" (only the presser's own, unpaid, due soon)
    plan:help                   the free debt help list
    ppr:ok:<id>  ppr:no:<id>    a reviewer agrees or declines a request (then types a note)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

import texts.common as common_texts
from handlers.context import BotContext
from handlers.guards import registered_only
from handlers.ui import edit_in_place
from services.callbacks import PAYMENT_PLAN, PLAN_REVIEW
from services.dialogs import Dialog
from services.loans import LoanView
from services.payment_plans import PlanError, PlanQueueItem, can_ask
from texts import payment_plans as texts
from texts.debt_help import DEBT_HELP_BUTTON, debt_help_text
from texts.disputes import NOT_ADMIN

PLAN_REVIEW_FLOW = "plan_review"


def _row(text: str, data: str) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(text, callback_data=data)]


def with_plan_buttons(
    markup: InlineKeyboardMarkup | None, loans: list[LoanView], held: Mapping[int, str], today: date
) -> InlineKeyboardMarkup | None:
    """/loans' keyboard plus "I can't pay this" for each loan whose next instalment is due soon
    or overdue (and not already under a request), and then the free debt help button."""
    rows = [list(row) for row in markup.inline_keyboard] if markup is not None else []
    base = len(rows)
    active = [loan for loan in loans if not loan.repaid and loan.next_due is not None]
    for loan in active:
        due = loan.next_due
        assert due is not None
        if loan.id not in held and can_ask(due.due_on, today):
            label = texts.plan_button(loan.principal_pence, several=len(active) > 1)
            rows.append(_row(label, PAYMENT_PLAN.encode("ask", due.id)))
    # Only when something is due soon or a plan is asked for: /loans stays short otherwise.
    if len(rows) > base or any(loan.id in held for loan in active):
        rows.append(_row(DEBT_HELP_BUTTON, PAYMENT_PLAN.encode("help")))
    return InlineKeyboardMarkup(rows) if rows else None


@registered_only
async def show_debt_help(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(debt_help_text())


async def on_plan_button(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    press = PAYMENT_PLAN.decode(query.data)
    if press.action == "help":
        await query.answer()
        await context.bot.send_message(user.id, debt_help_text())
        return
    try:
        asked = await context.services.payment_plans.ask(user.id, press.number)
    except PlanError as refusal:
        await query.answer(str(refusal), show_alert=True)
        return
    await query.answer()
    await context.bot.send_message(user.id, texts.asked_text(asked))


# --- reviewers ----------------------------------------------------------------------------------


def review_markup(item: PlanQueueItem) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts.AGREE_BUTTON, callback_data=PLAN_REVIEW.encode("ok", item.id)
                ),
                InlineKeyboardButton(
                    texts.DECLINE_BUTTON, callback_data=PLAN_REVIEW.encode("no", item.id)
                ),
            ]
        ]
    )


async def show_next_request(message: Message, context: BotContext, reviewer_id: int) -> bool:
    """/review's payment plan part: the oldest open request, if any (True if one was shown)."""
    item = await context.services.payment_plans.next_in_queue(reviewer_id)
    if item is None:
        return False
    await message.reply_text(
        texts.queue_text(item, context.timezone), reply_markup=review_markup(item)
    )
    return True


async def on_review_button(update: Update, context: BotContext) -> None:
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    if not context.services.payment_plans.is_reviewer(user.id):
        await query.answer(common_texts.STALE_BUTTON, show_alert=True)
        return
    press = PLAN_REVIEW.decode(query.data)
    agreed, request_id = press.action == "ok", press.number
    await context.services.dialogs.set(
        user.id, Dialog(PLAN_REVIEW_FLOW, "note", {"id": request_id, "agreed": agreed})
    )
    await query.answer()
    await edit_in_place(update, texts.ask_note(request_id, agreed=agreed))


async def on_review_text(update: Update, context: BotContext, dialog: Dialog) -> None:
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None and message.text is not None
    await context.services.dialogs.clear(user.id)
    plans = context.services.payment_plans
    if not plans.is_reviewer(user.id):
        await message.reply_text(NOT_ADMIN)
        return
    try:
        decision = await plans.review(
            int(dialog.data["id"]), user.id, bool(dialog.data["agreed"]), message.text
        )
    except PlanError as refusal:
        await message.reply_text(str(refusal))
        return
    await message.reply_text(texts.decided(decision.id, agreed=decision.agreed))
    if not await show_next_request(message, context, user.id):
        await message.reply_text(texts.LAST_ONE)
