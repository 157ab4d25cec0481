"""What if…: how a loan would move the score (in the loan summary) and the /why previews."""

from __future__ import annotations

from scoring.rules import FRIEND_INFLUENCE_CAP, STARTING_SCORE
from scoring.whatif import Change, LoanPreview, Projection, WhatIf
from texts.format import money, plural
from texts.i18n import _


def _change(then: Projection, now: Projection) -> str:
    difference = then.score - now.score
    if difference == 0:
        return _("no change")
    points = plural(abs(difference), _("point"))
    return (_("up {points}") if difference > 0 else _("down {points}")).format(points=points)


def _at(p: Projection) -> str:
    return f"{p.score} ({_(p.band)})"


def loan_preview_lines(preview: LoanPreview | None) -> list[str]:
    """The summary's lines on the score: empty when there is no preview."""
    if preview is None:
        return []
    now = preview.now
    return [
        "",
        _("What it does to your score:"),
        _("• Now: {at}").format(at=_at(now)),
        _("• Right after borrowing: {at}, {change}").format(
            at=_at(preview.borrowed), change=_change(preview.borrowed, now)
        ),
        _("• After a year of paying on time: {at}, {change}").format(
            at=_at(preview.year_on_time), change=_change(preview.year_on_time, now)
        ),
        _("• With one missed payment: {at}, {change}").format(
            at=_at(preview.one_missed), change=_change(preview.one_missed, now)
        ),
        _(
            "Worked out by the score model from what it knows today; a year on "
            "assumes nothing else changes."
        ),
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
        _("{questions}, your score would be {at}, {change} on {score}.").format(
            questions=_QUESTIONS[result.change],
            at=_at(then),
            change=_change(then, now),
            score=now.score,
        )
    ]
    if result.change is Change.MISS:
        lines.append(
            _(
                "A missed loan instalment also adds a {late_fee_pence} late fee; "
                "missed payments count most while they are recent."
            ).format(late_fee_pence=money(late_fee_pence))
        )
    elif result.change is Change.FRIEND:
        lines.append(
            _(
                "A new friend starts at {starting_score}. Friends can move your score "
                "by at most {friend_influence_cap} points up or down, whoever they are."
            ).format(starting_score=STARTING_SCORE, friend_influence_cap=FRIEND_INFLUENCE_CAP)
        )
    else:
        lines.append(_("Instalments paid on or before their due date count as paid on time."))
    lines.append(_("This is only a preview: nothing has changed."))
    return "\n".join(map(str, lines))
