"""What /score, /why, /history and /benefits say."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from texts.credit import under_18_benefits
from texts.format import day, local_day, local_time, signed
from texts.i18n import _

if TYPE_CHECKING:
    from services.scores import BenefitsView, Explanation, History, ScoreView


def _points(n: int) -> str:
    return _("{n} point").format(n=n) if n == 1 else _("{n} points").format(n=n)


def score_text(view: ScoreView, tz: ZoneInfo) -> str:
    lines = [_("Your Britizen score: {score} — {band}").format(score=view.score, band=_(view.band))]
    if view.change:
        arrow = "▲" if view.change > 0 else "▼"
        lines.append(
            _("{arrow} {change} since the last calculation").format(
                arrow=arrow, change=abs(view.change)
            )
        )
    elif view.change == 0:
        lines.append(_("No change since the last calculation"))
    lines.append(_("Computed {computed_at}").format(computed_at=local_time(view.computed_at, tz)))
    if view.starting:
        lines.append(
            _(
                "\nThis is the starting score every new citizen gets. It's recalculated "
                "every night from your payments and activity."
            )
        )
    return "\n".join(map(str, lines))


def why_text(explanation: Explanation, tz: ZoneInfo) -> str:
    e, result = explanation, explanation.result
    lines = [
        _("Why your score is {score} ({band})").format(score=e.score, band=_(e.band)),
        _("Calculated {computed_at}.").format(computed_at=local_time(e.computed_at, tz)),
    ]
    if e.starting:
        lines.append(
            _(
                "This is the starting score everyone gets when they join; the nightly "
                "calculation updates it from your payments and activity."
            )
        )
    if e.pending_change:
        total = (
            ""
            if result.score == e.score
            else _(", so it adds up to {score}").format(score=result.score)
        )
        lines.append(
            _(
                "\nNew activity has arrived since then. The breakdown below already "
                "includes it{total}; it counts towards your score at the next nightly "
                "calculation."
            ).format(total=total)
        )
    parts = e.base_score + sum(d.points for d in result.dimensions)
    # Only at the very bottom does the 350 floor make the parts add up to less than the score.
    floor = (
        _(" (no score goes below {score})").format(score=result.score)
        if parts < result.score
        else ""
    )
    lines.append(
        _(
            "\nEveryone starts from {base_score}. These five parts add to that or "
            "take away from it{floor}."
        ).format(base_score=e.base_score, floor=floor)
    )
    for dimension in result.dimensions:
        lines.append(
            _("\n{name}: {points} of up to {max_points}").format(
                name=_(dimension.name),
                points=signed(dimension.points),
                max_points=signed(dimension.max_points),
            )
        )
        lines += [f"• {reason}" for reason in dimension.reasons]
        if dimension.key == "connections":
            lines.append(
                _(
                    "Friends can move your score by at most {friend_influence_cap} points "
                    "up or down, whoever they are."
                ).format(friend_influence_cap=e.friend_influence_cap)
            )
    lines.append(_("\nHelping you most"))
    lines += [f"• {reason}" for reason in result.reasons_up] or [_("• Nothing yet — see below.")]
    lines.append(_("\nHolding you back"))
    lines += [f"• {reason}" for reason in result.reasons_down] or [_("• Nothing at the moment.")]
    lines.append(_("\nWhat you can do"))
    lines += [f"{number}. {tip}" for number, tip in enumerate(result.tips, start=1)]
    return "\n".join(map(str, lines))


def history_caption(history: History, tz: ZoneInfo) -> str:
    latest = history.latest
    assert latest is not None
    first = day(local_day(history.points[0].computed_at, tz))
    last = day(local_day(latest.computed_at, tz))
    span = _("the last ") if history.truncated else ""
    return _(
        "Your score over {span}{count} calculations, {first} to {last}.\nLatest: {score} ({band})."
    ).format(
        span=span,
        count=len(history.points),
        first=first,
        last=last,
        score=latest.score,
        band=_(latest.band),
    )


def history_text(history: History, tz: ZoneInfo, today: date) -> str:
    """What to say instead of a chart (no chart with fewer than two points)."""
    latest = history.latest
    if latest is None:
        return _("Your history starts with your next nightly calculation.")
    started = local_day(latest.computed_at, tz)
    when = "today" if started == today else _("on {started}").format(started=day(started))
    return _(
        "Your history starts {when}: {score} ({band}). The chart appears after "
        "the next nightly calculation."
    ).format(when=when, score=latest.score, band=_(latest.band))


def benefits_text(view: BenefitsView) -> str:
    tier, nxt = view.tier, view.next_tier
    lines = [
        _("Your tier: {title} ({name}, score {score})").format(
            title=_(tier.title), name=_(tier.band.name), score=view.score
        ),
        _(tier.summary),
        "",
        _("What you have now"),
    ]
    lines += [f"• {_(benefit)}" for benefit in tier.benefits]
    if view.credit_from is not None:
        lines.append(under_18_benefits(view.credit_from))
    if nxt is None or view.points_to_next is None:
        lines.append(
            _(
                "\n{title} is the top tier: you have everything Britizen offers. Keep "
                "paying on time to stay here."
            ).format(title=_(tier.title))
        )
        return "\n".join(map(str, lines))
    lines.append(
        _("\n{points} to {name} ({title}, from {min_score}). It adds:").format(
            points=_points(view.points_to_next),
            name=_(nxt.band.name),
            title=_(nxt.title),
            min_score=nxt.min_score,
        )
    )
    lines += [f"• {_(benefit)}" for benefit in view.next_adds]
    lines.append(_("\nSend /why to see how to raise your score."))
    return "\n".join(map(str, lines))


# --------------------------------------------------------------------------------------------
# The buttons under /score and /benefits (handlers.score)

WHY_BUTTON = "Why?"
HISTORY_BUTTON = "History"
BENEFITS_BUTTON = "Benefits"
HOW_TO_IMPROVE_BUTTON = "How to improve"
BOOST_BUTTON = "➕ Add rent or council tax"


def button_expired(command: str) -> str:
    """A score button pressed on a message Telegram no longer shows the bot."""
    return _("This button has expired. Send /{command} instead.").format(command=command)
