"""What an erasure keeps: adverse payment records by NI hash, and putting them back."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import PaymentEvent, RetainedRecord
from storage.repositories.boost import not_waiting
from storage.statuses import PaymentOutcome

ADVERSE = (PaymentOutcome.LATE.value, PaymentOutcome.MISSED.value)


async def adverse_events(
    session: AsyncSession, citizen_id: int, since: date, today: date | None = None
) -> list[PaymentEvent]:
    """Late or missed events since ``since``; with ``today``, not a Boost partner's that is
    disputed or still waiting for the citizen's word (storage.repositories.boost): those
    don't count, so an erasure has nothing of them to keep."""
    query = (
        select(PaymentEvent)
        .where(
            PaymentEvent.citizen_id == citizen_id,
            PaymentEvent.outcome.in_(ADVERSE),
            PaymentEvent.occurred_on >= since,
        )
        .order_by(PaymentEvent.occurred_on, PaymentEvent.id)
    )
    if today is not None:
        query = not_waiting(query, today)
    return list((await session.scalars(query)).all())


async def keep(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    if rows:
        await session.execute(insert(RetainedRecord), rows)


async def take_back(
    session: AsyncSession, ni_hash: str, today: date
) -> list[tuple[str, str, str, str, date]]:
    """Claim (delete and return) the hash's records still within their keeping period."""
    claimed = (
        await session.execute(
            delete(RetainedRecord)
            .where(RetainedRecord.ni_hash == ni_hash)
            .returning(
                RetainedRecord.source,
                RetainedRecord.external_id,
                RetainedRecord.kind,
                RetainedRecord.outcome,
                RetainedRecord.occurred_on,
                RetainedRecord.keep_until,
            )
        )
    ).all()
    return [(s, e, k, o, d) for s, e, k, o, d, until in claimed if until >= today]


async def existing_event_ids(
    session: AsyncSession, keys: list[tuple[str, str]]
) -> set[tuple[str, str]]:
    if not keys:
        return set()
    found: set[tuple[str, str]] = set()
    for source in {source for source, _ in keys}:
        ids = [external_id for s, external_id in keys if s == source]
        rows = await session.scalars(
            select(PaymentEvent.external_id).where(
                PaymentEvent.source == source, PaymentEvent.external_id.in_(ids)
            )
        )
        found |= {(source, external_id) for external_id in rows}
    return found


async def restore(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    if rows:
        await session.execute(insert(PaymentEvent), rows)


async def purge_expired(session: AsyncSession, today: date) -> int:
    result = await session.execute(delete(RetainedRecord).where(RetainedRecord.keep_until < today))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
