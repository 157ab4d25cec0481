"""What the bot says for disputes: to the citizen who contests, and to the reviewers."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Only for annotations: services.disputes words its refusals and notices through here.
    from services.disputes import QueueItem

NOT_ADMIN = "/review is for Britizen's reviewers. To contest something yourself, send /dispute."


START_TEXT = (
    "What would you like to contest? A person at Britizen reviews every dispute and you'll "
    "hear the outcome here. A payment record you contest stops counting towards your score "
    "until it has been reviewed."
)


DECISIONS = {
    "loan": "A refused loan or my loan limit",
    "band": "A change of my band",
    "other": "Another automated decision",
}
"""The automated decisions a person can ask to be reviewed, by key, as their buttons say them."""


# -- refusals --------------------------------------------------------------------------------

NOT_DISPUTABLE = "That can't be contested any more. Send /dispute to start again."
NOT_REVIEWABLE = "That dispute has already been decided or no longer exists."


def too_many_open(max_open: int) -> str:
    return (
        f"You already have {max_open} disputes waiting for review. We'll answer those "
        "first; you can raise another once one is decided."
    )


def statement_too_short(minimum: int) -> str:
    return (
        f"Please say a little more (at least {minimum} characters): what is wrong, "
        "and what you think is right."
    )


def statement_too_long(length: int, maximum: int) -> str:
    return (
        f"That's {length} characters; please keep it to {maximum}. A reviewer can ask you for more."
    )


# -- what is contested, in words --------------------------------------------------------------

UNNAMED_PARTNER = "a partner"
"""A record's source when its partner has gone from the partners table."""
OWN_LOAN = "your Britizen loan"


def words(value: str) -> str:
    """A stored kind or outcome as words: 'loan_instalment' -> 'loan instalment'."""
    return value.replace("_", " ")


def dimension_label(dimension_name: str) -> str:
    return f"the {dimension_name.lower()} part of your score"


def decision_label(decision: str) -> str:
    """The decision's button label turned round to speak to the person ('my' -> 'your')."""
    return DECISIONS[decision].replace("my ", "your ").lower()


def event_label(outcome: str, kind: str, occurred_on: date, source: str) -> str:
    return f"the {words(outcome)} {words(kind)} of {occurred_on:%d %b %Y} reported by {source}"


def batch_label(events: int, received_on: date, source: str) -> str:
    records = "record" if events == 1 else "records"
    return f"the batch of {events} payment {records} {source} sent on {received_on:%d %b %Y}"


# -- notices through the outbox ---------------------------------------------------------------


def new_dispute_text(dispute_id: int, kind: str) -> str:
    """Told to every reviewer when a dispute is opened."""
    return f"New dispute #{dispute_id} waiting for review ({kind}). Send /review."


def outcome_text(
    dispute_id: int,
    label: str,
    upheld: bool,
    note: str,
    *,
    about_a_record: bool,
    about_a_batch: bool = False,
) -> str:
    """Told to the citizen once their dispute is decided; ``about_a_record`` when it
    contested a payment record, ``about_a_batch`` a partner's whole batch (whose place in
    the score the decision settles)."""
    if upheld:
        head = f"Your dispute #{dispute_id} about {label} was upheld: you were right."
        if about_a_record:
            head += " That record no longer counts towards your score."
        if about_a_batch:
            head += " None of those records counts towards your score."
    else:
        head = f"Your dispute #{dispute_id} about {label} was reviewed and not upheld."
        if about_a_record:
            head += " The record counts towards your score again from the next update."
        if about_a_batch:
            head += (
                " Those records count towards your score again from the next update (any "
                "you have contested one by one wait for that decision)."
            )
    tail = f"\n\nThe reviewer's note: {note}" if note else ""
    return head + tail + "\n\nIf you disagree, you can send /dispute again with more detail."


def queue_text(item: QueueItem) -> str:
    lines = [
        f"Dispute #{item.id} ({item.waiting} waiting) from {item.citizen_name}",
        f"About: {item.subject_label}",
        f"Statement: {item.statement}",
    ]
    if item.kind == "batch":
        lines.append("Every record in the batch is left out of scoring while open.")
    if item.event is not None:
        lines.append(
            f"Record: {words(item.event.kind)}, {words(item.event.outcome)}"
            f" on {item.event.occurred_on.isoformat()}, from {item.event.source} "
            "(left out of scoring while open)"
        )
    lines.append("\nUphold (the citizen is right) or reject? You'll be asked for a note.")
    return "\n".join(lines)
