"""What /score, /why, /history and /benefits say."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from texts.credit import under_18_benefits
from texts.format import day, local_day, local_time, signed

if TYPE_CHECKING:
    from services.scores import BenefitsView, Explanation, History, ScoreView


def _points(n: int) -> str:
    return f"{n} point" if n == 1 else f"{n} points"


def score_text(view: ScoreView, tz: ZoneInfo) -> str:
    lines = [f"Your Britizen score: {view.score} — {view.band}"]
    if view.change:
        arrow = "▲" if view.change > 0 else "▼"
        lines.append(f"{arrow} {abs(view.change)} since the last calculation")
    elif view.change == 0:
        lines.append("No change since the last calculation")
    lines.append(f"Computed {local_time(view.computed_at, tz)}")
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
        f"Calculated {local_time(e.computed_at, tz)}.",
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
            f"\n{dimension.name}: {signed(dimension.points)} of up to "
            f"{signed(dimension.max_points)}"
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
    first = day(local_day(history.points[0].computed_at, tz))
    last = day(local_day(latest.computed_at, tz))
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
    started = local_day(latest.computed_at, tz)
    when = "today" if started == today else f"on {day(started)}"
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
    if view.credit_from is not None:
        lines.append(under_18_benefits(view.credit_from))
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
# The buttons under /score and /benefits (handlers.score)

WHY_BUTTON = "Why?"
HISTORY_BUTTON = "History"
BENEFITS_BUTTON = "Benefits"
HOW_TO_IMPROVE_BUTTON = "How to improve"
BOOST_BUTTON = "➕ Add rent or council tax"


def button_expired(command: str) -> str:
    """A score button pressed on a message Telegram no longer shows the bot."""
    return f"This button has expired. Send /{command} instead."
