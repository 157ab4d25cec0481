"""/score: the current score, band, change since the last pass and when it was computed."""

from __future__ import annotations

from telegram import Update

from handlers.context import BotContext
from handlers.guards import registered_only
from handlers.texts import format_time


@registered_only
async def show_score(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    view = await context.services.scores.current_for_telegram_user(update.effective_user.id)
    lines = [f"Your Britizen score: {view.score} — {view.band}"]
    if view.change:
        arrow = "▲" if view.change > 0 else "▼"
        lines.append(f"{arrow} {abs(view.change)} since the last calculation")
    elif view.change == 0:
        lines.append("No change since the last calculation")
    lines.append(f"Computed {format_time(view.computed_at, context.timezone)}")
    if view.breakdown.get("starting"):
        lines.append(
            "\nThis is the starting score every new citizen gets. It's recalculated every night "
            "from your payments and activity."
        )
    await update.effective_message.reply_text("\n".join(lines))
