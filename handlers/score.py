"""/score, /why, /history and /benefits, and the buttons under /score that do the same.

The services return plain data; everything a citizen reads is worded in texts.score.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers.context import BotContext
from handlers.guards import registered_only
from scoring.whatif import Change
from services.callbacks import BOOST, SCORE, WHAT_IF
from services.loan_terms import LATE_FEE_PENCE
from services.scores import Explanation
from texts import score as words
from texts.boost import why_boost_lines
from texts.score import (
    benefits_text,
    history_caption,
    history_text,
    score_text,
    why_text,
)
from texts.whatif import WHAT_IF_BUTTONS, what_if_text

WHY = SCORE.encode("why")
HISTORY = SCORE.encode("history")
BENEFITS = SCORE.encode("benefits")

SCORE_BUTTONS = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton(words.WHY_BUTTON, callback_data=WHY),
            InlineKeyboardButton(words.HISTORY_BUTTON, callback_data=HISTORY),
            InlineKeyboardButton(words.BENEFITS_BUTTON, callback_data=BENEFITS),
        ]
    ]
)
HOW_TO_IMPROVE_BUTTON = InlineKeyboardMarkup(
    [[InlineKeyboardButton(words.HOW_TO_IMPROVE_BUTTON, callback_data=WHY)]]
)


def what_if_markup(explanation: Explanation) -> InlineKeyboardMarkup:
    """What if… under /why, one a row; paying off only while something is owed; then Boost."""
    changes = [c for c in Change if c is not Change.PAY_OFF or explanation.owes]
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(WHAT_IF_BUTTONS[c], callback_data=WHAT_IF.encode(c.value))]
            for c in changes
        ]
        + [[InlineKeyboardButton(words.BOOST_BUTTON, callback_data=BOOST.encode("open"))]]
    )


# --------------------------------------------------------------------------------------------
# Handlers


@registered_only
async def show_score(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    assert context.citizen_id is not None  # set by registered_only
    view = await context.services.scores.current(context.citizen_id)
    await update.effective_message.reply_text(
        score_text(view, context.timezone), reply_markup=SCORE_BUTTONS
    )


@registered_only
async def show_why(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    explanation = await context.services.scores.explain(update.effective_user.id)
    boosted = await context.services.boost.added(update.effective_user.id)
    await update.effective_message.reply_text(
        why_text(explanation, context.timezone) + why_boost_lines(boosted),
        reply_markup=what_if_markup(explanation),
    )


@registered_only
async def show_history(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    scores, tz = context.services.scores, context.timezone
    history = await scores.history(update.effective_user.id)
    if not history.chartable:
        today = context.services.clock().astimezone(tz).date()
        await update.effective_message.reply_text(history_text(history, tz, today))
        return
    png = await scores.history_chart(history)
    await update.effective_message.reply_photo(
        png, caption=history_caption(history, tz), filename="score-history.png"
    )


@registered_only
async def show_benefits(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    view = await context.services.scores.benefits(update.effective_user.id)
    markup = HOW_TO_IMPROVE_BUTTON if view.next_tier is not None else None
    await update.effective_message.reply_text(benefits_text(view), reply_markup=markup)


Action = Callable[[Update, BotContext], Coroutine[Any, Any, None]]
_BUTTONS: dict[str, tuple[str, Action]] = {
    WHY: ("why", show_why),
    HISTORY: ("history", show_history),
    BENEFITS: ("benefits", show_benefits),
}


async def on_button(update: Update, context: BotContext) -> None:
    """[Why?] [History] [Benefits]: the same as the commands, sent as a new message."""
    query = update.callback_query
    assert query is not None
    command, action = _BUTTONS[SCORE.encode(SCORE.decode(query.data).action)]
    if update.effective_message is None:
        # Telegram stops showing bots messages older than 48 hours, so there is nowhere to
        # reply under; the command still works.
        await query.answer(words.button_expired(command), show_alert=True)
        return
    # Answer first so the button stops spinning while the reply (maybe a chart) is prepared.
    await query.answer()
    await action(update, context)


async def on_what_if(update: Update, context: BotContext) -> None:
    """A What if… under /why: the preview as a new message; nothing changes. Nothing owed any
    more (pay off) or a forged press is a StaleAction for the error map."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    change = Change(WHAT_IF.decode(query.data).action)
    result = await context.services.whatif.what_if(user.id, change)
    await query.answer()
    await context.bot.send_message(user.id, what_if_text(result, LATE_FEE_PENCE))
