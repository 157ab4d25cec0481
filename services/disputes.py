"""Disputes: a citizen contests a part of their score, a payment record or an automated
decision, and a person (an admin, ``BRITIZEN_ADMIN_IDS``) reviews it.

Contesting a payment record sets its ``disputed`` flag at once, which both the scoring pass
(storage reads ``WHERE disputed = false``) and /why leave out, so a contested record stops
counting from the next pass until someone has looked. Upheld (the citizen is right) keeps it
out for good; rejected puts it back.

A whole batch (one partner request's records about the citizen, storage.models.EventBatch)
can be contested in one dispute, whatever its size: every record in it is flagged the same
way, upheld keeps them all out, rejected puts back each one no other dispute still covers.

The citizen hears the outcome, with the reviewer's note, through the outbox; admins are told
of each new dispute the same way.
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
from services.languages import citizen_language, language_of
from storage.db import Database
from storage.models import Citizen, Dispute, EventBatch, Partner, PaymentEvent
from storage.repositories import event_batches, outbox
from storage.repositories import review_queues as queues
from storage.statuses import BatchStatus, DisputeKind, DisputeStatus
from texts import disputes as texts
from texts.i18n import use_language, worded_in

MIN_STATEMENT = 10
MAX_STATEMENT = 500
MAX_OPEN = 5
DISPUTE_PRIORITY = 5
EVENTS_OFFERED = 8
BATCHES_OFFERED = 8
DIMENSION_NAMES = {d.key: d.name for d in DIMENSIONS}
# The decisions' keys are what a dispute's subject may be; handlers.disputes reads them here.
DECISIONS = texts.DECISIONS


class DisputeError(Exception):
    """A refusal fit to show; the message is plain English."""


class NotDisputable(DisputeError):
    def __init__(self) -> None:
        super().__init__(texts.NOT_DISPUTABLE)


class BadStatement(DisputeError):
    pass


class TooManyOpen(DisputeError):
    def __init__(self) -> None:
        super().__init__(texts.too_many_open(MAX_OPEN))


class NotReviewable(DisputeError):
    def __init__(self) -> None:
        super().__init__(texts.NOT_REVIEWABLE)


@dataclass(frozen=True)
class EventChoice:
    id: int
    occurred_on: date
    source: str
    kind: str
    outcome: str
    disputed: bool


@dataclass(frozen=True)
class BatchChoice:
    id: int
    received_on: date
    source: str
    events: int
    adverse: int
    """Late or missed records in it."""
    held: bool
    """Held for review: not counting anyway until an admin releases it."""
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
        raise BadStatement(texts.statement_too_short(MIN_STATEMENT))
    if len(text) > MAX_STATEMENT:
        raise BadStatement(texts.statement_too_long(len(text), MAX_STATEMENT))
    return text


def _source_label(source: str, partners: dict[int, str]) -> str:
    if source.startswith("partner:"):
        return partners.get(int(source.split(":", 1)[1]), texts.UNNAMED_PARTNER)
    return texts.OWN_LOAN if source == "loan" else source


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

    async def batches(self, telegram_id: int) -> list[BatchChoice]:
        """The batches partners most recently sent about the citizen, newest first."""
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            partners = await self._partners(session)
            rows = await event_batches.recent_of(session, me.id, BATCHES_OFFERED)
            contested = await self._contested_batches(session, [row.id for row in rows])
            return [
                BatchChoice(
                    row.id,
                    as_aware_utc(row.received_at).date(),
                    _source_label(row.source, partners),
                    row.events,
                    int(row.missed_or_late),
                    row.status == BatchStatus.HELD,
                    row.id in contested,
                )
                for row in rows
            ]

    @staticmethod
    async def _contested_batches(session: AsyncSession, batch_ids: list[int]) -> set[int]:
        if not batch_ids:
            return set()
        found = await session.scalars(
            select(Dispute.batch_id).where(
                Dispute.batch_id.in_(batch_ids),
                Dispute.status.in_((DisputeStatus.OPEN, DisputeStatus.UPHELD)),
            )
        )
        return {batch_id for batch_id in found if batch_id is not None}

    async def label(self, telegram_id: int, kind: str, subject: str) -> str:
        """What is being contested, in words; raises NotDisputable for anything unknown."""
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            return await self._label(session, me, kind, subject)

    async def _label(self, session: AsyncSession, me: Citizen, kind: str, subject: str) -> str:
        if kind == DisputeKind.DIMENSION and subject in DIMENSION_NAMES:
            return texts.dimension_label(DIMENSION_NAMES[subject])
        if kind == DisputeKind.DECISION and subject in DECISIONS:
            return texts.decision_label(subject)
        if kind == DisputeKind.EVENT and subject.isdigit():
            event = await session.get(PaymentEvent, int(subject))
            if event is not None and event.citizen_id == me.id:
                partners = await self._partners(session)
                return texts.event_label(
                    event.outcome,
                    event.kind,
                    event.occurred_on,
                    _source_label(event.source, partners),
                )
        if kind == DisputeKind.BATCH and subject.isdigit():
            batch = await session.get(EventBatch, int(subject))
            if batch is not None and batch.citizen_id == me.id:
                partners = await self._partners(session)
                return texts.batch_label(
                    batch.events,
                    as_aware_utc(batch.received_at).date(),
                    _source_label(batch.source, partners),
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
                .where(Dispute.citizen_id == me.id, Dispute.status == DisputeStatus.OPEN)
            )
            if (open_count or 0) >= MAX_OPEN:
                raise TooManyOpen()
            event_id = int(subject) if kind == DisputeKind.EVENT else None
            if event_id is not None:
                event = await session.get(PaymentEvent, event_id)
                assert event is not None
                event.disputed = True  # out of scoring until reviewed
            batch_id = int(subject) if kind == DisputeKind.BATCH else None
            if batch_id is not None:
                await event_batches.set_disputed(session, batch_id)  # all of it, likewise
            dispute = Dispute(
                citizen_id=me.id,
                kind=kind,
                subject=subject,
                payment_event_id=event_id,
                batch_id=batch_id,
                statement=text,
                status=DisputeStatus.OPEN,
                created_at=now,
            )
            session.add(dispute)
            await session.flush()
            for admin in self._admins:
                _queue(
                    session,
                    admin,
                    None,
                    worded_in(
                        await language_of(session, admin), texts.new_dispute_text, dispute.id, kind
                    ),
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
            waiting = await queues.count_open(session, Dispute)
            row = await queues.oldest_open(session, Dispute)
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
            if row is None or row.status != DisputeStatus.OPEN:
                raise NotReviewable()
            citizen = await session.get(Citizen, row.citizen_id)
            assert citizen is not None
            label = await self._label(session, citizen, row.kind, row.subject)
            row.status = DisputeStatus.UPHELD if upheld else DisputeStatus.REJECTED
            row.reviewed_at = now
            row.reviewer_telegram_id = reviewer_id
            row.review_note = note or None
            if not upheld and (row.payment_event_id is not None or row.batch_id is not None):
                # Counts again from the next pass, unless another dispute still covers it.
                await event_batches.restore_undisputed(
                    session,
                    event_id=row.payment_event_id,
                    batch_id=row.batch_id,
                    decided=row.id,
                )
            if citizen.unreachable_at is None:
                language = await citizen_language(session, citizen)
                with use_language(language):  # what was contested, in the citizen's words
                    their_label = await self._label(session, citizen, row.kind, row.subject)
                _queue(
                    session,
                    citizen.chat_id,
                    citizen.id,
                    worded_in(
                        language,
                        texts.outcome_text,
                        row.id,
                        their_label,
                        upheld,
                        note,
                        about_a_record=row.kind == DisputeKind.EVENT,
                        about_a_batch=row.kind == DisputeKind.BATCH,
                    ),
                    "dispute_outcome",
                    now,
                )
            return Decision(row.id, upheld, label)
