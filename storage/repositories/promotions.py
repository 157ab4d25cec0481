"""Promotions: the status moves (claim, cancel, expire), lookups, vouchers and live counts.

Every status move is one conditional UPDATE, so the move itself is the claim: two instances (or
a sponsor's cancel racing the fan-out) can't both make it, and on PostgreSQL the loser waits for
the row lock and then sees the new status. What a promotion still has queued is the outbox's:
storage.repositories.outbox.cancel_pending.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Citizen, OutboxMessage, Promotion, Redemption, Sponsor
from storage.statuses import OutboxStatus, PromotionStatus

_LIVE = (PromotionStatus.SCHEDULED, PromotionStatus.SENDING)
"""Not cancelled and not expired: what a cancel or an expiry can still stop."""


async def owned(session: AsyncSession, sponsor_id: int, promotion_id: int) -> Promotion | None:
    """The promotion, read afresh, if it is this sponsor's."""
    return await session.scalar(
        select(Promotion)
        .where(Promotion.id == promotion_id, Promotion.sponsor_id == sponsor_id)
        .execution_options(populate_existing=True)
    )


async def cancel(session: AsyncSession, sponsor_id: int, promotion_id: int, now: datetime) -> None:
    """Mark the sponsor's promotion cancelled unless it already stopped (cancelled, expired)."""
    await session.execute(
        update(Promotion)
        .where(
            Promotion.id == promotion_id,
            Promotion.sponsor_id == sponsor_id,
            Promotion.status.in_(_LIVE),
        )
        .values(status=PromotionStatus.CANCELLED.value, cancelled_at=now)
        .execution_options(synchronize_session=False)
    )


async def due_ids(session: AsyncSession, now: datetime) -> list[int]:
    """Scheduled promotions that have started and not expired, earliest start first."""
    return list(
        (
            await session.scalars(
                select(Promotion.id)
                .where(
                    Promotion.status == PromotionStatus.SCHEDULED,
                    Promotion.starts_at <= now,
                    Promotion.expires_at > now,
                )
                .order_by(Promotion.starts_at, Promotion.id)
            )
        ).all()
    )


async def claim_for_fan_out(session: AsyncSession, promotion_id: int, now: datetime) -> bool:
    """Move a due promotion from scheduled to sending; False if it was not due (already fanned
    out, cancelled, expired or not started)."""
    claimed = await session.execute(
        update(Promotion)
        .where(
            Promotion.id == promotion_id,
            Promotion.status == PromotionStatus.SCHEDULED,
            Promotion.starts_at <= now,
            Promotion.expires_at > now,
        )
        .values(
            status=PromotionStatus.SENDING.value,
            fanned_out_at=now,
            fanout_cursor=0,
            fanout_finished_at=None,
            targeted=0,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(claimed, "rowcount", 0))


async def unfinished_fan_out_ids(session: AsyncSession, now: datetime) -> list[int]:
    """Promotions whose chunked fan-out started and did not finish (a crash, a restart, a
    failover), not cancelled or expired: the fan-out resumes them from their cursor."""
    return list(
        (
            await session.scalars(
                select(Promotion.id)
                .where(
                    Promotion.status == PromotionStatus.SENDING,
                    Promotion.fanout_finished_at.is_(None),
                    Promotion.expires_at > now,
                )
                .order_by(Promotion.starts_at, Promotion.id)
            )
        ).all()
    )


async def fan_out_cursor(session: AsyncSession, promotion_id: int) -> tuple[int, int] | None:
    """(last citizen id queued, rows queued so far) of a fan-out under way; None if the
    promotion is not fanning out (finished, cancelled, expired, or never claimed)."""
    row = (
        await session.execute(
            select(Promotion.fanout_cursor, Promotion.targeted).where(
                Promotion.id == promotion_id,
                Promotion.status == PromotionStatus.SENDING,
                Promotion.fanout_finished_at.is_(None),
                Promotion.fanout_cursor.is_not(None),
            )
        )
    ).one_or_none()
    return None if row is None else (int(row[0] or 0), int(row[1]))


async def advance_fan_out(
    session: AsyncSession, promotion_id: int, *, cursor: int, to: int, now: datetime
) -> bool:
    """Move the cursor from `cursor` to `to`, only if nobody moved it first and the promotion
    is still fanning out: the chunk's claim, taken before its rows are inserted in the same
    transaction (on PostgreSQL the row lock makes a second instance wait, then find the cursor
    moved; a sponsor's cancel either comes before and stops the chunk, or after and cancels
    its rows)."""
    moved = await session.execute(
        update(Promotion)
        .where(
            Promotion.id == promotion_id,
            Promotion.status == PromotionStatus.SENDING,
            Promotion.fanout_finished_at.is_(None),
            Promotion.fanout_cursor == cursor,
            Promotion.expires_at > now,
        )
        .values(fanout_cursor=to)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(moved, "rowcount", 0))


async def add_fanned_out(
    session: AsyncSession, promotion_id: int, queued: int, *, finished_at: datetime | None
) -> None:
    """Count a chunk's rows in `targeted`; with `finished_at`, the fan-out is complete."""
    values: dict[str, Any] = {"targeted": Promotion.targeted + queued}
    if finished_at is not None:
        values["fanout_finished_at"] = finished_at
    await session.execute(
        update(Promotion)
        .where(Promotion.id == promotion_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def next_citizen_id(session: AsyncSession, after: int) -> int | None:
    """The lowest citizen id above `after`, if any."""
    found = await session.scalar(select(func.min(Citizen.id)).where(Citizen.id > after))
    return None if found is None else int(found)


async def highest_citizen_id(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.max(Citizen.id))) or 0)


PRUNED_COLUMNS = {
    OutboxStatus.SENT.value: "pruned_sent",
    OutboxStatus.FAILED.value: "pruned_failed",
    OutboxStatus.UNREACHABLE.value: "pruned_unreachable",
    OutboxStatus.UNCERTAIN.value: "pruned_uncertain",
    OutboxStatus.CANCELLED.value: "pruned_cancelled",
}
"""Outbox status -> the promotion column counting rows of that status pruned."""


async def add_pruned(session: AsyncSession, counts: dict[tuple[int, str], int]) -> None:
    """Add pruned rows to their promotions' counters: {(promotion id, status): rows}."""
    by_promotion: dict[int, dict[str, Any]] = {}
    for (promotion_id, status), count in counts.items():
        column = PRUNED_COLUMNS.get(status)
        if column is None or count == 0:
            continue
        values = by_promotion.setdefault(promotion_id, {})
        values[column] = getattr(Promotion, column) + count
    for promotion_id, values in by_promotion.items():
        await session.execute(
            update(Promotion)
            .where(Promotion.id == promotion_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


async def for_rendering(
    session: AsyncSession, promotion_ids: Collection[int]
) -> list[tuple[Promotion, str]]:
    """The promotions (and their sponsors' names) the dispatcher renders rows of."""
    rows = await session.execute(
        select(Promotion, Sponsor.name)
        .join(Sponsor, Sponsor.id == Promotion.sponsor_id)
        .where(Promotion.id.in_(list(promotion_ids)))
    )
    return [(promotion, str(name)) for promotion, name in rows.all()]


async def with_sponsor_name(session: AsyncSession, promotion_id: int) -> tuple[Promotion, str]:
    row = (
        await session.execute(
            select(Promotion, Sponsor.name)
            .join(Sponsor, Sponsor.id == Promotion.sponsor_id)
            .where(Promotion.id == promotion_id)
        )
    ).one()
    return row[0], str(row[1])


async def set_targeted(session: AsyncSession, promotion_id: int, targeted: int) -> None:
    await session.execute(
        update(Promotion)
        .where(Promotion.id == promotion_id)
        .values(targeted=targeted)
        .execution_options(synchronize_session=False)
    )


async def expire_due(session: AsyncSession, now: datetime) -> list[int]:
    """Mark promotions past their expiry expired; their ids."""
    return list(
        (
            await session.scalars(
                update(Promotion)
                .where(Promotion.status.in_(_LIVE), Promotion.expires_at <= now)
                .values(status=PromotionStatus.EXPIRED.value)
                .returning(Promotion.id)
                .execution_options(synchronize_session=False)
            )
        ).all()
    )


async def insert_vouchers(
    session: AsyncSession, promotion_id: int, codes: list[str], *, postgresql: bool
) -> None:
    """All codes in one statement: an array (PostgreSQL) or JSON array (SQLite) parameter
    unnested by the database, instead of 100,000 bound rows."""
    if postgresql:
        statement = text(
            "INSERT INTO vouchers (promotion_id, code) "
            "SELECT :promotion_id, unnest(CAST(:codes AS TEXT[]))"
        )
        await session.execute(statement, {"promotion_id": promotion_id, "codes": codes})
    else:
        statement = text(
            "INSERT INTO vouchers (promotion_id, code) "
            "SELECT :promotion_id, value FROM json_each(:codes)"
        )
        await session.execute(statement, {"promotion_id": promotion_id, "codes": json.dumps(codes)})


def ids_of_sponsor(sponsor_id: int) -> Select[Any]:
    """The sponsor's promotion ids as a subquery: thousands of them stay one query, under
    PostgreSQL's parameter limit."""
    return select(Promotion.id).where(Promotion.sponsor_id == sponsor_id)


async def of_sponsor(session: AsyncSession, sponsor_id: int) -> list[Promotion]:
    """The sponsor's promotions, newest first."""
    return list(
        (
            await session.scalars(
                select(Promotion)
                .where(Promotion.sponsor_id == sponsor_id)
                .order_by(Promotion.created_at.desc(), Promotion.id.desc())
            )
        ).all()
    )


async def outbox_counts(
    session: AsyncSession, wanted: Collection[int] | Select[Any]
) -> list[tuple[int, str, int]]:
    """(promotion id, outbox status, rows) for the `wanted` promotions (ids or a subquery)."""
    rows = await session.execute(
        select(OutboxMessage.promotion_id, OutboxMessage.status, func.count())
        .where(OutboxMessage.promotion_id.in_(wanted))
        .group_by(OutboxMessage.promotion_id, OutboxMessage.status)
    )
    return [(int(pid or 0), str(status), int(count)) for pid, status, count in rows.all()]


async def redemption_counts(
    session: AsyncSession, wanted: Collection[int] | Select[Any]
) -> list[tuple[int, int]]:
    """(promotion id, vouchers redeemed) for the `wanted` promotions (ids or a subquery)."""
    rows = await session.execute(
        select(Redemption.promotion_id, func.count())
        .where(Redemption.promotion_id.in_(wanted))
        .group_by(Redemption.promotion_id)
    )
    return [(int(pid or 0), int(count)) for pid, count in rows.all()]


async def sent_per_minute(
    session: AsyncSession, promotion_id: int, *, sqlite: bool
) -> list[tuple[str, int]]:
    """("YYYY-MM-DD HH:MI" in UTC, messages sent that minute), oldest first."""
    if not sqlite:
        minute: ColumnElement[Any] = func.to_char(
            func.date_trunc("minute", func.timezone("UTC", OutboxMessage.sent_at)),
            "YYYY-MM-DD HH24:MI",
        )
    else:
        minute = func.strftime("%Y-%m-%d %H:%M", OutboxMessage.sent_at)
    rows = await session.execute(
        select(minute.label("minute"), func.count())
        .where(
            OutboxMessage.promotion_id == promotion_id,
            OutboxMessage.status == OutboxStatus.SENT,
        )
        .group_by(minute)
        .order_by(minute)
    )
    return [(str(m), int(count)) for m, count in rows.all()]
