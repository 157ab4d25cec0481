"""Batches of partners' events (one request's events about one person) and which events count.

An event counts towards a score unless it is disputed or its batch is held for review:
:data:`COUNTED_EVENTS_SQL` says so for the scoring pass's bulk read and :func:`counted` for
the ORM (/why), so the two can't disagree.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Dispute, EventBatch, HeldPaymentEvent, PaymentEvent
from storage.statuses import BatchStatus, DisputeKind, DisputeStatus, PaymentOutcome

COUNTED_EVENTS_SQL = (
    "payment_events e LEFT JOIN event_batches b ON b.id = e.batch_id "
    f"WHERE e.disputed = :no AND (b.status IS NULL OR b.status <> '{BatchStatus.HELD.value}')"
)
"""FROM ... WHERE for the events that count (bind ``no`` to False); columns as ``e.``."""


def inline(values: Collection[Any]) -> BindParameter[Any]:
    """A list for IN, rendered into the SQL rather than bound. With 1,000 bound parameters
    PostgreSQL switches a prepared statement to a generic plan after five runs, which scans
    instead of using the unique index: a batch of duplicates took 0.9 s instead of 30 ms."""
    return bindparam("values", list(values), expanding=True, literal_execute=True)


def counted(query: Select[Any]) -> Select[Any]:
    """Narrow a query over PaymentEvent to the events that count towards the score."""
    return query.outerjoin(EventBatch, EventBatch.id == PaymentEvent.batch_id).where(
        PaymentEvent.disputed.is_(False),
        or_(EventBatch.status.is_(None), EventBatch.status != BatchStatus.HELD),
    )


async def months_already_sent(
    session: AsyncSession,
    source: str,
    citizens: dict[int, str],
    unregistered: Collection[str],
    since: date,
) -> list[tuple[str, str, date]]:
    """(NI hash, kind, occurred_on) of every event from `source` on or after `since` about
    these people: registered ones by citizen id (``citizens`` maps id to NI hash), the rest
    by NI hash among the events held for their registration."""
    found: list[tuple[str, str, date]] = []
    if citizens:
        rows = await session.execute(
            select(PaymentEvent.citizen_id, PaymentEvent.kind, PaymentEvent.occurred_on).where(
                PaymentEvent.source == source,
                PaymentEvent.citizen_id.in_(inline(citizens)),
                PaymentEvent.occurred_on >= since,
            )
        )
        found += [(citizens[cid], kind, day) for cid, kind, day in rows.all()]
    if unregistered:
        held = await session.execute(
            select(
                HeldPaymentEvent.ni_hash, HeldPaymentEvent.kind, HeldPaymentEvent.occurred_on
            ).where(
                HeldPaymentEvent.source == source,
                HeldPaymentEvent.ni_hash.in_(inline(unregistered)),
                HeldPaymentEvent.occurred_on >= since,
            )
        )
        found += [(h, kind, day) for h, kind, day in held.all()]
    return found


async def create(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert batches (source, citizen_id, status, events, received_at); their ids in order."""
    if not rows:
        return []
    result = await session.execute(
        insert(EventBatch).returning(EventBatch.id, sort_by_parameter_order=True), list(rows)
    )
    return [int(batch_id) for batch_id in result.scalars().all()]


async def adopt(session: AsyncSession, batch_ids: Iterable[int], citizen_id: int) -> None:
    """Registration moved these batches' events to the newcomer: the batches are theirs."""
    ids = sorted(set(batch_ids))
    if ids:
        await session.execute(
            update(EventBatch).where(EventBatch.id.in_(ids)).values(citizen_id=citizen_id)
        )


async def purge_orphans(session: AsyncSession) -> int:
    """Delete batches of nobody whose held events have all gone (purged after 90 days)."""
    result = await session.execute(
        delete(EventBatch).where(
            EventBatch.citizen_id.is_(None),
            ~exists().where(HeldPaymentEvent.batch_id == EventBatch.id),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class BatchRow:
    id: int
    source: str
    citizen_id: int | None
    status: str
    events: int
    received_at: datetime
    first_on: date | None
    last_on: date | None
    missed_or_late: int


def _summaries(where: ColumnElement[bool]) -> Select[Any]:
    adverse = func.sum(case((PaymentEvent.outcome != PaymentOutcome.ON_TIME, 1), else_=0))
    return (
        select(
            EventBatch.id,
            EventBatch.source,
            EventBatch.citizen_id,
            EventBatch.status,
            EventBatch.events,
            EventBatch.received_at,
            func.min(PaymentEvent.occurred_on),
            func.max(PaymentEvent.occurred_on),
            func.coalesce(adverse, 0),
        )
        .outerjoin(PaymentEvent, PaymentEvent.batch_id == EventBatch.id)
        .where(where)
        .group_by(EventBatch.id)
        .order_by(EventBatch.received_at.desc(), EventBatch.id.desc())
    )


async def held(session: AsyncSession) -> list[BatchRow]:
    """Batches waiting for an admin, newest first (registered people's; the summary dates
    and counts are of events already moved to payment_events)."""
    rows = await session.execute(_summaries(EventBatch.status == BatchStatus.HELD))
    return [BatchRow(*row) for row in rows.all()]


async def recent_of(session: AsyncSession, citizen_id: int, limit: int) -> list[BatchRow]:
    rows = await session.execute(_summaries(EventBatch.citizen_id == citizen_id).limit(limit))
    return [BatchRow(*row) for row in rows.all()]


async def release(session: AsyncSession, batch_id: int, now: datetime) -> bool:
    """Let a held batch count from the next pass; False if there is no such held batch."""
    result = await session.execute(
        update(EventBatch)
        .where(EventBatch.id == batch_id, EventBatch.status == BatchStatus.HELD)
        .values(status=BatchStatus.RELEASED.value, reviewed_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


async def set_disputed(session: AsyncSession, batch_id: int) -> None:
    """A batch contested: every event in it leaves scoring until the dispute is decided."""
    await session.execute(
        update(PaymentEvent).where(PaymentEvent.batch_id == batch_id).values(disputed=True)
    )


async def restore_undisputed(
    session: AsyncSession, *, event_id: int | None, batch_id: int | None, decided: int
) -> None:
    """After dispute `decided` was rejected: its event (or its batch's events) count again,
    except any still covered by another open or upheld dispute, about the event itself or
    about its batch."""
    standing = Dispute.status.in_((DisputeStatus.OPEN, DisputeStatus.UPHELD))
    on_event = exists().where(
        Dispute.payment_event_id == PaymentEvent.id, standing, Dispute.id != decided
    )
    on_batch = exists().where(
        and_(
            Dispute.kind == DisputeKind.BATCH,
            Dispute.batch_id == PaymentEvent.batch_id,
            standing,
            Dispute.id != decided,
        )
    )
    which = (
        PaymentEvent.id == event_id if event_id is not None else (PaymentEvent.batch_id == batch_id)
    )
    await session.execute(
        update(PaymentEvent)
        .where(which, ~on_event, ~on_batch)
        .values(disputed=False)
        .execution_options(synchronize_session=False)
    )
