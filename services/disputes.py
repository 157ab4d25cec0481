"""Disputes: a citizen contests a part of their score, a payment record or an automated
decision, and a person (an admin, ``BRITIZEN_ADMIN_IDS``) reviews it.

Contesting a payment record sets its ``disputed`` flag at once, which both the scoring pass
(storage reads ``WHERE disputed = false``) and /why leave out, so a contested record stops
counting from the next pass until someone has looked. Upheld (the citizen is right) keeps it
out for good; rejected puts it back. The citizen hears the outcome, with the reviewer's note,
through the outbox; admins are told of each new dispute the same way.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.model import DIMENSIONS
from services.accounts import citizen_for
from services.clock import Clock, as_aware_utc
from services.errors import NotAllowed
from storage.db import Database
from storage.models import Citizen, Dispute, Partner, PaymentEvent
from storage.repositories import outbox

MIN_STATEMENT = 10
MAX_STATEMENT = 500
MAX_OPEN = 5
DISPUTE_PRIORITY = 5
EVENTS_OFFERED = 8
DIMENSION_NAMES = {d.key: d.name for d in DIMENSIONS}
DECISIONS = {
    "loan": "A refused loan or my loan limit",
    "band": "A change of my band",
    "other": "Another automated decision",
}


class DisputeError(Exception):
    """A refusal fit to show; the message is plain English."""


class NotDisputable(DisputeError):
    def __init__(self) -> None:
        super().__init__("That can't be contested any more. Send /dispute to start again.")


class BadStatement(DisputeError):
    pass


class TooManyOpen(DisputeError):
    def __init__(self) -> None:
        super().__init__(
            f"You already have {MAX_OPEN} disputes waiting for review. We'll answer those "
            "first; you can raise another once one is decided."
        )


class NotReviewable(DisputeError):
    def __init__(self) -> None:
        super().__init__("That dispute has already been decided or no longer exists.")


@dataclass(frozen=True)
class EventChoice:
    id: int
    occurred_on: date
    source: str
    kind: str
    outcome: str
    disputed: bool


@dataclass(frozen=True)
class OpenedDispute:
    id: int
    kind: str
    subject_label: str


@dataclass(frozen=True)
class QueueItem:
    id: int
    citizen_name: str
    kind: str
    subject_label: str
    statement: str
    created_at: datetime
    event: EventChoice | None
    waiting: int
    """How many open disputes there are in all, this one included."""


@dataclass(frozen=True)
class Decision:
    id: int
    upheld: bool
    subject_label: str


def check_statement(raw: str) -> str:
    text = " ".join(raw.split())
    if len(text) < MIN_STATEMENT:
        raise BadStatement(
            f"Please say a little more (at least {MIN_STATEMENT} characters): what is wrong, "
            "and what you think is right."
        )
    if len(text) > MAX_STATEMENT:
        raise BadStatement(
            f"That's {len(text)} characters; please keep it to {MAX_STATEMENT}. A reviewer "
            "can ask you for more."
        )
    return text


def _source_label(source: str, partners: dict[int, str]) -> str:
    if source.startswith("partner:"):
        return partners.get(int(source.split(":", 1)[1]), "a partner")
    return "your Britizen loan" if source == "loan" else source


def _queue(
    session: AsyncSession, chat_id: int, citizen_id: int | None, text: str, kind: str, now: datetime
) -> None:
    outbox.enqueue(
        session,
        chat_id=chat_id,
        citizen_id=citizen_id,
        kind=kind,
        priority=DISPUTE_PRIORITY,
        text=text,
        now=now,
    )


class DisputeService:
    def __init__(self, db: Database, clock: Clock, admin_ids: Collection[int] = ()) -> None:
        self._db = db
        self._clock = clock
        self._admins = tuple(sorted(admin_ids))

    async def _partners(self, session: AsyncSession) -> dict[int, str]:
        return dict((await session.execute(select(Partner.id, Partner.name))).all())

    async def events(self, telegram_id: int) -> list[EventChoice]:
        """The citizen's most recent payment records, newest first."""
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            partners = await self._partners(session)
            rows = await session.scalars(
                select(PaymentEvent)
                .where(PaymentEvent.citizen_id == me.id)
                .order_by(PaymentEvent.occurred_on.desc(), PaymentEvent.id.desc())
                .limit(EVENTS_OFFERED)
            )
            return [
                EventChoice(
                    e.id,
                    e.occurred_on,
                    _source_label(e.source, partners),
                    e.kind,
                    e.outcome,
                    e.disputed,
                )
                for e in rows
            ]

    async def label(self, telegram_id: int, kind: str, subject: str) -> str:
        """What is being contested, in words; raises NotDisputable for anything unknown."""
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            return await self._label(session, me, kind, subject)

    async def _label(self, session: AsyncSession, me: Citizen, kind: str, subject: str) -> str:
        if kind == "dimension" and subject in DIMENSION_NAMES:
            return f"the {DIMENSION_NAMES[subject].lower()} part of your score"
        if kind == "decision" and subject in DECISIONS:
            return DECISIONS[subject].replace("my ", "your ").lower()
        if kind == "event" and subject.isdigit():
            event = await session.get(PaymentEvent, int(subject))
            if event is not None and event.citizen_id == me.id:
                partners = await self._partners(session)
                return (
                    f"the {event.outcome.replace('_', ' ')} {event.kind.replace('_', ' ')} of "
                    f"{event.occurred_on:%d %b %Y} reported by "
                    f"{_source_label(event.source, partners)}"
                )
        raise NotDisputable()

    async def open(
        self, telegram_id: int, kind: str, subject: str, statement: str
    ) -> OpenedDispute:
        text = check_statement(statement)
        now = self._clock()
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            label = await self._label(session, me, kind, subject)
            open_count = await session.scalar(
                select(func.count())
                .select_from(Dispute)
                .where(Dispute.citizen_id == me.id, Dispute.status == "open")
            )
            if (open_count or 0) >= MAX_OPEN:
                raise TooManyOpen()
            event_id = int(subject) if kind == "event" else None
            if event_id is not None:
                event = await session.get(PaymentEvent, event_id)
                assert event is not None
                event.disputed = True  # out of scoring until reviewed
            dispute = Dispute(
                citizen_id=me.id,
                kind=kind,
                subject=subject,
                payment_event_id=event_id,
                statement=text,
                status="open",
                created_at=now,
            )
            session.add(dispute)
            await session.flush()
            for admin in self._admins:
                _queue(
                    session,
                    admin,
                    None,
                    f"New dispute #{dispute.id} waiting for review ({kind}). Send /review.",
                    "dispute_admin",
                    now,
                )
            return OpenedDispute(dispute.id, kind, label)

    def is_reviewer(self, telegram_id: int) -> bool:
        return telegram_id in self._admins

    def _require_reviewer(self, telegram_id: int) -> None:
        # The service checks the right itself: a handler forgetting to is not a way in.
        if not self.is_reviewer(telegram_id):
            raise NotAllowed()

    async def next_in_queue(self, reviewer_id: int) -> QueueItem | None:
        """The oldest open dispute, for a reviewer (NotAllowed for anyone else)."""
        self._require_reviewer(reviewer_id)
        async with self._db.transaction() as session:
            waiting = await session.scalar(
                select(func.count()).select_from(Dispute).where(Dispute.status == "open")
            )
            row = await session.scalar(
                select(Dispute)
                .where(Dispute.status == "open")
                .order_by(Dispute.created_at, Dispute.id)
                .limit(1)
            )
            if row is None:
                return None
            citizen = await session.get(Citizen, row.citizen_id)
            assert citizen is not None
            event: EventChoice | None = None
            if row.payment_event_id is not None:
                e = await session.get(PaymentEvent, row.payment_event_id)
                if e is not None:
                    partners = await self._partners(session)
                    event = EventChoice(
                        e.id,
                        e.occurred_on,
                        _source_label(e.source, partners),
                        e.kind,
                        e.outcome,
                        e.disputed,
                    )
            label = await self._label(session, citizen, row.kind, row.subject)
            return QueueItem(
                row.id,
                citizen.display_name,
                row.kind,
                label,
                row.statement,
                as_aware_utc(row.created_at),
                event,
                int(waiting or 0),
            )

    async def review(self, dispute_id: int, reviewer_id: int, upheld: bool, note: str) -> Decision:
        """Uphold or reject an open dispute; only a reviewer may (NotAllowed otherwise)."""
        self._require_reviewer(reviewer_id)
        note = " ".join(note.split())[:MAX_STATEMENT]
        now = self._clock()
        async with self._db.transaction() as session:
            row = await session.get(Dispute, dispute_id)
            if row is None or row.status != "open":
                raise NotReviewable()
            citizen = await session.get(Citizen, row.citizen_id)
            assert citizen is not None
            label = await self._label(session, citizen, row.kind, row.subject)
            row.status = "upheld" if upheld else "rejected"
            row.reviewed_at = now
            row.reviewer_telegram_id = reviewer_id
            row.review_note = note or None
            if row.payment_event_id is not None and not upheld:
                others = await session.scalar(
                    select(func.count())
                    .select_from(Dispute)
                    .where(
                        Dispute.payment_event_id == row.payment_event_id,
                        Dispute.status.in_(("open", "upheld")),
                        Dispute.id != row.id,
                    )
                )
                if not others:
                    event = await session.get(PaymentEvent, row.payment_event_id)
                    if event is not None:
                        event.disputed = False  # counts again from the next pass
            if citizen.unreachable_at is None:
                _queue(
                    session,
                    citizen.chat_id,
                    citizen.id,
                    outcome_text(row.id, label, upheld, row.kind, note),
                    "dispute_outcome",
                    now,
                )
            return Decision(row.id, upheld, label)


def outcome_text(dispute_id: int, label: str, upheld: bool, kind: str, note: str) -> str:
    if upheld:
        head = f"Your dispute #{dispute_id} about {label} was upheld: you were right."
        if kind == "event":
            head += " That record no longer counts towards your score."
    else:
        head = f"Your dispute #{dispute_id} about {label} was reviewed and not upheld."
        if kind == "event":
            head += " The record counts towards your score again from the next update."
    tail = f"\n\nThe reviewer's note: {note}" if note else ""
    return head + tail + "\n\nIf you disagree, you can send /dispute again with more detail."
