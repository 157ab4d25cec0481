"""What if…: how a loan would move the score (in the loan summary) and the /why previews."""

from __future__ import annotations

from scoring.rules import FRIEND_INFLUENCE_CAP, STARTING_SCORE
from scoring.whatif import Change, LoanPreview, Projection, WhatIf
from texts.format import money, plural


def _change(then: Projection, now: Projection) -> str:
    difference = then.score - now.score
    if difference == 0:
        return "no change"
    return f"{'up' if difference > 0 else 'down'} {plural(abs(difference), 'point')}"


def _at(p: Projection) -> str:
    return f"{p.score} ({p.band})"


def loan_preview_lines(preview: LoanPreview | None) -> list[str]:
    """The summary's lines on the score: empty when there is no preview."""
    if preview is None:
        return []
    now = preview.now
    return [
        "",
        "What it does to your score:",
        f"• Now: {_at(now)}",
        f"• Right after borrowing: {_at(preview.borrowed)}, {_change(preview.borrowed, now)}",
        f"• After a year of paying on time: {_at(preview.year_on_time)}, "
        f"{_change(preview.year_on_time, now)}",
        f"• With one missed payment: {_at(preview.one_missed)}, {_change(preview.one_missed, now)}",
        "Worked out by the score model from what it knows today; a year on assumes nothing "
        "else changes.",
    ]


# --------------------------------------------------------------------------------------------
# /why


WHAT_IF_BUTTONS: dict[Change, str] = {
    Change.PAY_OFF: "What if I paid it all off?",
    Change.MISS: "What if I missed a payment?",
    Change.FRIEND: "What if I added a verified friend?",
}

_QUESTIONS: dict[Change, str] = {
    Change.PAY_OFF: "If you paid off everything you owe today",
    Change.MISS: "If you missed your next payment",
    Change.FRIEND: "If you added one more verified friend",
}


def what_if_text(result: WhatIf, late_fee_pence: int) -> str:
    """ "If you …, your score would be 642 (Good), up 12." and what the preview assumes."""
    then, now = result.then, result.now
    lines = [
        f"{_QUESTIONS[result.change]}, your score would be {_at(then)}, "
        f"{_change(then, now)} on {now.score}."
    ]
    if result.change is Change.MISS:
        lines.append(
            f"A missed loan instalment also adds a {money(late_fee_pence)} late fee; missed "
            "payments count most while they are recent."
        )
    elif result.change is Change.FRIEND:
        lines.append(
            f"A new friend starts at {STARTING_SCORE}. Friends can move your score by at most "
            f"{FRIEND_INFLUENCE_CAP} points up or down, whoever they are."
        )
    else:
        lines.append("Instalments paid on or before their due date count as paid on time.")
    lines.append("This is only a preview: nothing has changed.")
    return "\n".join(lines)
