"""/score, /why, /history and /benefits, and the buttons under /score that do the same.

The services return plain data; everything a citizen reads is worded here.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers.context import BotContext
from handlers.guards import registered_only
from handlers.texts import format_time
from services.callbacks import SCORE
from services.scores import BenefitsView, Explanation, History, ScoreView

WHY = SCORE.encode("why")
HISTORY = SCORE.encode("history")
BENEFITS = SCORE.encode("benefits")

SCORE_BUTTONS = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Why?", callback_data=WHY),
            InlineKeyboardButton("History", callback_data=HISTORY),
            InlineKeyboardButton("Benefits", callback_data=BENEFITS),
        ]
    ]
)
HOW_TO_IMPROVE_BUTTON = InlineKeyboardMarkup(
    [[InlineKeyboardButton("How to improve", callback_data=WHY)]]
)


# --------------------------------------------------------------------------------------------
# Wording


def _signed(points: int) -> str:
    return f"{points:+d}" if points else "0"


def _points(n: int) -> str:
    return f"{n} point" if n == 1 else f"{n} points"


def _day(moment: date) -> str:
    return f"{moment.day} {moment:%b %Y}"


def _local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def score_text(view: ScoreView, tz: ZoneInfo) -> str:
    lines = [f"Your Britizen score: {view.score} — {view.band}"]
    if view.change:
        arrow = "▲" if view.change > 0 else "▼"
        lines.append(f"{arrow} {abs(view.change)} since the last calculation")
    elif view.change == 0:
        lines.append("No change since the last calculation")
    lines.append(f"Computed {format_time(view.computed_at, tz)}")
    if view.starting:
        lines.append(
            "\nThis is the starting score every new citizen gets. It's recalculated every night "
            "from your payments and activity."
        )
    return "\n".join(lines)


def why_text(explanation: Explanation, tz: ZoneInfo) -> str:
    e, result = explanation, explanation.result
    lines = [
        f"Why your score is {e.score} ({e.band})",
        f"Calculated {format_time(e.computed_at, tz)}.",
    ]
    if e.starting:
        lines.append(
            "This is the starting score everyone gets when they join; the nightly calculation "
            "updates it from your payments and activity."
        )
    if e.pending_change:
        total = "" if result.score == e.score else f", so it adds up to {result.score}"
        lines.append(
            "\nNew activity has arrived since then. The breakdown below already includes "
            f"it{total}; it counts towards your score at the next nightly calculation."
        )
    parts = e.base_score + sum(d.points for d in result.dimensions)
    # Only at the very bottom does the 350 floor make the parts add up to less than the score.
    floor = f" (no score goes below {result.score})" if parts < result.score else ""
    lines.append(
        f"\nEveryone starts from {e.base_score}. These five parts add to that or take away "
        f"from it{floor}."
    )
    for dimension in result.dimensions:
        lines.append(
            f"\n{dimension.name}: {_signed(dimension.points)} of up to "
            f"{_signed(dimension.max_points)}"
        )
        lines += [f"• {reason}" for reason in dimension.reasons]
        if dimension.key == "connections":
            lines.append(
                f"Friends can move your score by at most {e.friend_influence_cap} points up or "
                "down, whoever they are."
            )
    lines.append("\nHelping you most")
    lines += [f"• {reason}" for reason in result.reasons_up] or ["• Nothing yet — see below."]
    lines.append("\nHolding you back")
    lines += [f"• {reason}" for reason in result.reasons_down] or ["• Nothing at the moment."]
    lines.append("\nWhat you can do")
    lines += [f"{number}. {tip}" for number, tip in enumerate(result.tips, start=1)]
    return "\n".join(lines)


def history_caption(history: History, tz: ZoneInfo) -> str:
    latest = history.latest
    assert latest is not None
    first = _day(_local_day(history.points[0].computed_at, tz))
    last = _day(_local_day(latest.computed_at, tz))
    span = "the last " if history.truncated else ""
    return (
        f"Your score over {span}{len(history.points)} calculations, {first} to {last}.\n"
        f"Latest: {latest.score} ({latest.band})."
    )


def history_text(history: History, tz: ZoneInfo, today: date) -> str:
    """What to say instead of a chart (no chart with fewer than two points)."""
    latest = history.latest
    if latest is None:
        return "Your history starts with your next nightly calculation."
    started = _local_day(latest.computed_at, tz)
    when = "today" if started == today else f"on {_day(started)}"
    return (
        f"Your history starts {when}: {latest.score} ({latest.band}). "
        "The chart appears after the next nightly calculation."
    )


def benefits_text(view: BenefitsView) -> str:
    tier, nxt = view.tier, view.next_tier
    lines = [
        f"Your tier: {tier.title} ({tier.band.name}, score {view.score})",
        tier.summary,
        "",
        "What you have now",
    ]
    lines += [f"• {benefit}" for benefit in tier.benefits]
    if nxt is None or view.points_to_next is None:
        lines.append(
            f"\n{tier.title} is the top tier: you have everything Britizen offers. "
            "Keep paying on time to stay here."
        )
        return "\n".join(lines)
    lines.append(
        f"\n{_points(view.points_to_next)} to {nxt.band.name} "
        f"({nxt.title}, from {nxt.min_score}). It adds:"
    )
    lines += [f"• {benefit}" for benefit in view.next_adds]
    lines.append("\nSend /why to see how to raise your score.")
    return "\n".join(lines)


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
    await update.effective_message.reply_text(why_text(explanation, context.timezone))


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
        await query.answer(f"This button has expired. Send /{command} instead.", show_alert=True)
        return
    # Answer first so the button stops spinning while the reply (maybe a chart) is prepared.
    await query.answer()
    await action(update, context)
