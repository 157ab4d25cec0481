"""What the bot says for disputes: to the citizen who contests, and to the reviewers."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from texts.format import Dated
from texts.i18n import _

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
    return _(
        "You already have {max_open} disputes waiting for review. We'll answer "
        "those first; you can raise another once one is decided."
    ).format(max_open=max_open)


def statement_too_short(minimum: int) -> str:
    return _(
        "Please say a little more (at least {minimum} characters): what is "
        "wrong, and what you think is right."
    ).format(minimum=minimum)


def statement_too_long(length: int, maximum: int) -> str:
    return _(
        "That's {length} characters; please keep it to {maximum}. A reviewer can ask you for more."
    ).format(length=length, maximum=maximum)


# -- what is contested, in words --------------------------------------------------------------

UNNAMED_PARTNER = "a partner"
"""A record's source when its partner has gone from the partners table."""
OWN_LOAN = "your Britizen loan"


OUTCOME_WORDS = {"on_time": "on time", "late": "late", "missed": "missed"}
"""A stored outcome as the words for it ('the missed bill')."""
KIND_WORDS = {
    "bill": "bill",
    "loan_instalment": "loan instalment",
    "rent": "rent",
    "council_tax": "council tax",
}
"""A stored payment kind as the words for it."""


def words(value: str) -> str:
    """A stored kind or outcome as words in the reader's language: 'loan_instalment' ->
    'loan instalment' (an unknown one as it is stored, underscores spaced)."""
    known = OUTCOME_WORDS.get(value) or KIND_WORDS.get(value)
    return _(str.__str__(known)) if known is not None else value.replace("_", " ")


def _one_word_names() -> tuple[str, ...]:
    """The words above of one lowercase word, which the catalog takes only marked by hand."""
    return (_("late"), _("missed"), _("bill"), _("rent"))


def dimension_label(dimension_name: str) -> str:
    return _("the {lower} part of your score").format(lower=dimension_name.lower())


def decision_label(decision: str) -> str:
    """The decision's button label turned round to speak to the person ('my' -> 'your')."""
    return DECISIONS[decision].replace(_("my "), _("your ")).lower()


def event_label(outcome: str, kind: str, occurred_on: date, source: str) -> str:
    return _("the {words} {words2} of {occurred_on:%d %b %Y} reported by {source}").format(
        words=words(outcome), words2=words(kind), occurred_on=Dated(occurred_on), source=source
    )


def batch_label(events: int, received_on: date, source: str) -> str:
    records = _("record") if events == 1 else _("records")
    return _(
        "the batch of {events} payment {records} {source} sent on {received_on:%d %b %Y}"
    ).format(events=events, records=records, source=source, received_on=Dated(received_on))


# -- notices through the outbox ---------------------------------------------------------------


def new_dispute_text(dispute_id: int, kind: str) -> str:
    """Told to every reviewer when a dispute is opened."""
    return _("New dispute #{dispute_id} waiting for review ({kind}). Send /review.").format(
        dispute_id=dispute_id, kind=kind
    )


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
        head = _("Your dispute #{dispute_id} about {label} was upheld: you were right.").format(
            dispute_id=dispute_id, label=label
        )
        if about_a_record:
            head += _(" That record no longer counts towards your score.")
        if about_a_batch:
            head += _(" None of those records counts towards your score.")
    else:
        head = _("Your dispute #{dispute_id} about {label} was reviewed and not upheld.").format(
            dispute_id=dispute_id, label=label
        )
        if about_a_record:
            head += _(" The record counts towards your score again from the next update.")
        if about_a_batch:
            head += _(
                " Those records count towards your score again from the next update "
                "(any you have contested one by one wait for that decision)."
            )
    tail = _("\n\nThe reviewer's note: {note}").format(note=note) if note else ""
    return head + tail + _("\n\nIf you disagree, you can send /dispute again with more detail.")


def queue_text(item: QueueItem) -> str:
    lines = [
        _("Dispute #{id} ({waiting} waiting) from {citizen_name}").format(
            id=item.id, waiting=item.waiting, citizen_name=item.citizen_name
        ),
        _("About: {subject_label}").format(subject_label=item.subject_label),
        _("Statement: {statement}").format(statement=item.statement),
    ]
    if item.kind == "batch":
        lines.append(_("Every record in the batch is left out of scoring while open."))
    if item.event is not None:
        lines.append(
            _(
                "Record: {words}, {words2} on {isoformat}, from {source} (left out of "
                "scoring while open)"
            ).format(
                words=words(item.event.kind),
                words2=words(item.event.outcome),
                isoformat=item.event.occurred_on.isoformat(),
                source=item.event.source,
            )
        )
    lines.append(_("\nUphold (the citizen is right) or reject? You'll be asked for a note."))
    return "\n".join(map(str, lines))
