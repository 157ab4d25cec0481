"""What /dispute and /review say in the chat (handlers.disputes), beyond texts.disputes: the
buttons, the questions that lead to a statement or a note, and the acknowledgements."""

from __future__ import annotations

from datetime import date

from texts.disputes import words
from texts.format import Dated, plural_s
from texts.i18n import _

# /dispute: what can be contested
DIMENSION_BUTTON = "A part of my score"
EVENT_BUTTON = "A payment record"
DECISION_BUTTON = "An automated decision (human review)"
BATCH_BUTTON = "A whole batch from a partner"

WHICH_DIMENSION = "Which part of your score? /why explains each."
WHICH_DECISION = "Which decision should a person look at?"
WHICH_EVENT = "Which payment record? The most recent are listed."
NO_EVENTS = (
    "There are no payment records on your account yet, so there's nothing of "
    "that kind to contest. /dispute offers the other choices."
)

WHICH_BATCH = (
    "Which batch? Each is everything one partner sent about you at once; contesting it "
    "takes all of its records out of your score until it has been reviewed."
)
NO_BATCHES = (
    "No partner has sent payment records about you yet, so there's no batch to "
    "contest. /dispute offers the other choices."
)

# /review
UPHOLD_BUTTON = "Uphold"
REJECT_BUTTON = "Reject"
QUEUE_EMPTY = "No disputes are waiting for review, and no payment plan requests."
LAST_ONE = "That was the last one: no disputes are waiting."


def event_button(occurred_on: date, source: str, outcome: str, *, disputed: bool) -> str:
    """'05 Mar 2026 · OpenBank · paid late (contested)': a payment record to pick."""
    # Zero-padded day, unlike texts.format.day: the labels line up in a column of buttons.
    return f"{Dated(occurred_on):%d %b %Y} · {source} · {words(outcome)}" + (
        _(" (contested)") if disputed else ""
    )


def batch_button(
    received_on: date, source: str, events: int, adverse: int, *, held: bool, disputed: bool
) -> str:
    """'05 Mar 2026 · OpenBank · 300 records, 300 late or missed (held)': a batch to pick."""
    notes = [note for note, on in ((_("held for review"), held), (_("contested"), disputed)) if on]
    return _(
        "{received_on:%d %b %Y} · {source} · {events} record{value}, {adverse} late or missed"
    ).format(
        received_on=Dated(received_on),
        source=source,
        events=events,
        value=plural_s(events),
        adverse=adverse,
    ) + (f" ({', '.join(map(str, notes))})" if notes else "")


def ask_statement(label: str, max_chars: int) -> str:
    return _(
        "You're contesting {label}.\n\nIn a few sentences (up to {max_chars} "
        "characters), tell us what is wrong and what you believe is right. "
        "/cancel stops here."
    ).format(label=label, max_chars=max_chars)


def dispute_opened(
    dispute_id: int, subject_label: str, *, about_event: bool, about_batch: bool = False
) -> str:
    extra = (
        _(" That record no longer counts towards your score until it has been reviewed.")
        if about_event
        else ""
    )
    if about_batch:
        extra = _(" None of its records counts towards your score until it has been reviewed.")
    return _(
        "Thank you. Dispute #{dispute_id} about {subject_label} is with our "
        "reviewers.{extra} You'll hear the outcome here."
    ).format(dispute_id=dispute_id, subject_label=subject_label, extra=extra)


def ask_note(dispute_id: int, *, upheld: bool) -> str:
    return _(
        "{value} dispute #{dispute_id}. Type a short note for the citizen "
        "explaining the decision (they will see it). /cancel to decide later."
    ).format(value=_("Upholding") if upheld else _("Rejecting"), dispute_id=dispute_id)


def decided(dispute_id: int, *, upheld: bool) -> str:
    return _("Dispute #{dispute_id} {value}; the citizen has been told, with your note.").format(
        dispute_id=dispute_id, value="upheld" if upheld else "rejected"
    )
