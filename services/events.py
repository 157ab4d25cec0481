"""Partners' payment events: accepted, held for people not yet registered, or refused.

An event names its person by NI number; the number is hashed on arrival (the same keyed hash
registration uses, so the two meet) and never stored or logged in clear. Then:

- a registered person: the event goes straight into ``payment_events`` and feeds payment
  history at the next scoring pass;
- an unknown person: the event waits in ``held_payment_events`` and is moved into
  ``payment_events`` in the transaction that completes their registration, if that happens
  within :data:`HOLD_DAYS`; after that it is purged;
- an erased person: held like an unknown one, so the answer reads the same (issue 17).

A partner's event id counts once, whether it is held or applied and however often it is sent.

Each request's new events about one person form a batch (``event_batches``). Dates outside
what a credit record keeps are refused by the API (services.event_rules.earliest_date); a
batch beyond what a real account can produce (services.event_rules.is_burst) is stored
but held for review: it does not count until an admin releases it (``britizen events``),
and the partner is told ``held``. The rule is worked out the same way for people registered
or not, so ``held`` says nothing about whether someone has an account.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.boost import check_scope, hold_for_confirmation
from services.clock import Clock, as_aware_utc
from services.event_rules import MONTHLY_LIMIT, MonthKey, is_burst, month_key
from services.partners import partner_names, partner_source
from services.secrets import ni_number_hash
from storage.db import Database
from storage.models import Citizen, HeldPaymentEvent, PaymentEvent
from storage.repositories import event_batches
from storage.repositories.event_batches import inline as _inline
from storage.statuses import BatchStatus, PaymentKind, PaymentOutcome
from texts import api as texts

HOLD_DAYS = 90
MAX_BATCH = 1000
# What the partner API accepts is what the columns' CHECK constraints accept (api.partners
# asserts its schema's literals equal these at import).
EVENT_KINDS = tuple(PaymentKind)
OUTCOMES = tuple(PaymentOutcome)


class EventStatus(StrEnum):
    # Held and applied read the same to the partner: telling them apart would tell a partner
    # whether an NI number belongs to a Britizen citizen.
    ACCEPTED = "accepted"
    HELD = "held"
    """Stored, but held for review: it counts only once an admin releases its batch."""
    DUPLICATE = "duplicate"
    REFUSED = "refused"


# api.partners reads the reasons here; the wording lives in texts.api.
REFUSED_REASON = texts.EVENT_REFUSED
HELD_REASON = texts.event_held(MONTHLY_LIMIT)


@dataclass(frozen=True)
class IncomingEvent:
    external_id: str
    canonical_ni: str
    kind: str
    outcome: str
    occurred_on: date


@dataclass(frozen=True)
class EventResult:
    external_id: str
    status: EventStatus


@dataclass(frozen=True)
class BatchResult:
    results: list[EventResult]
    applied: int
    held: int
    """Events waiting for their person to register (whether or not held for review)."""
    batch_ids: list[int] = field(default_factory=list)
    """The batches this request made, one per person with new events."""

    def count(self, status: EventStatus) -> int:
        return sum(1 for r in self.results if r.status is status)


@dataclass(frozen=True)
class HeldBatch:
    id: int
    partner: str
    citizen_id: int | None
    """None while the person has not registered (their events wait in held_payment_events)."""
    events: int
    adverse: int
    """Late or missed among those already on the citizen's record."""
    received_at: datetime
    first_on: date | None
    last_on: date | None


class EventService:
    def __init__(self, db: Database, secret_key: bytes, clock: Clock) -> None:
        self._db = db
        self._key = secret_key
        self._clock = clock

    async def report(self, partner_id: int, events: Sequence[IncomingEvent]) -> BatchResult:
        """Record a batch in one transaction; ``results`` follows the batch's order."""
        try:
            return await self._report(partner_id, events)
        except IntegrityError:
            # Two deliveries of the same batch raced (PostgreSQL; SQLite serialises writers):
            # the second run sees the first one's rows as duplicates.
            return await self._report(partner_id, events)

    async def _report(self, partner_id: int, events: Sequence[IncomingEvent]) -> BatchResult:
        source = partner_source(partner_id)
        now = self._clock()
        hashes = [ni_number_hash(self._key, e.canonical_ni) for e in events]
        ids = [e.external_id for e in events]
        async with self._db.transaction() as session:
            citizens = dict(
                (
                    await session.execute(
                        select(Citizen.ni_hash, Citizen.id).where(
                            Citizen.ni_hash.in_(_inline(set(hashes)))
                        )
                    )
                ).all()
            )
            # A Boost partner (services.boost) may report only rent and council tax about
            # the people who invited it: anything else is refused before a row is written.
            boost = await check_scope(session, partner_id, [e.kind for e in events], hashes)
            seen = set(
                await session.scalars(
                    select(PaymentEvent.external_id).where(
                        PaymentEvent.source == source, PaymentEvent.external_id.in_(_inline(ids))
                    )
                )
            )
            seen |= set(
                await session.scalars(
                    select(HeldPaymentEvent.external_id).where(
                        HeldPaymentEvent.source == source,
                        HeldPaymentEvent.external_id.in_(_inline(ids)),
                    )
                )
            )
            statuses: list[EventStatus | None] = [None] * len(events)
            fresh: dict[str, list[int]] = {}  # NI hash -> positions of its new events
            for i, (event, ni_hash) in enumerate(zip(events, hashes, strict=True)):
                # An erased person's events are held like anyone unregistered's: the answer
                # must not tell a partner that the person was ever here (issue 17).
                if event.external_id in seen:
                    statuses[i] = EventStatus.DUPLICATE
                else:
                    seen.add(event.external_id)
                    fresh.setdefault(ni_hash, []).append(i)
            bursts = await self._bursts(session, source, events, fresh, citizens)
            batch_ids = await event_batches.create(
                session,
                [
                    {
                        "source": source,
                        "citizen_id": citizens.get(ni_hash),
                        "status": BatchStatus.HELD if ni_hash in bursts else BatchStatus.COUNTED,
                        "events": len(positions),
                        "received_at": now,
                    }
                    for ni_hash, positions in fresh.items()
                ],
            )
            applied_rows: list[dict[str, Any]] = []
            held_rows: list[dict[str, Any]] = []
            for (ni_hash, positions), batch_id in zip(fresh.items(), batch_ids, strict=True):
                status = EventStatus.HELD if ni_hash in bursts else EventStatus.ACCEPTED
                citizen_id = citizens.get(ni_hash)
                for i in positions:
                    event = events[i]
                    statuses[i] = status
                    row = {
                        "source": source,
                        "external_id": event.external_id,
                        "kind": event.kind,
                        "outcome": event.outcome,
                        "occurred_on": event.occurred_on,
                        "batch_id": batch_id,
                    }
                    if citizen_id is not None:
                        applied_rows.append(
                            {**row, "citizen_id": citizen_id, "disputed": False, "recorded_at": now}
                        )
                    else:
                        held_rows.append({**row, "ni_hash": ni_hash, "received_at": now})
            results = [
                EventResult(event.external_id, status)
                for event, status in zip(events, statuses, strict=True)
                if status is not None
            ]
            # One executemany per table instead of 1,000 ORM objects: ~10x faster a batch.
            if applied_rows:
                await session.execute(insert(PaymentEvent), applied_rows)
            if held_rows:
                await session.execute(insert(HeldPaymentEvent), held_rows)
            if boost:
                # Its late or missed payments wait for the citizen's word (or 30 days).
                await hold_for_confirmation(
                    session,
                    partner_id,
                    [
                        row["external_id"]
                        for row in applied_rows
                        if row["outcome"] != PaymentOutcome.ON_TIME
                    ],
                    now,
                )
        return BatchResult(results, len(applied_rows), len(held_rows), batch_ids)

    @staticmethod
    async def _bursts(
        session: AsyncSession,
        source: str,
        events: Sequence[IncomingEvent],
        fresh: dict[str, list[int]],
        citizens: dict[str, int],
    ) -> set[str]:
        """The NI hashes whose new events here are a burst (services.event_rules)."""
        if not fresh:
            return set()
        first = min(events[i].occurred_on for positions in fresh.values() for i in positions)
        sent = await event_batches.months_already_sent(
            session,
            source,
            {citizens[h]: h for h in fresh if h in citizens},
            [h for h in fresh if h not in citizens],
            first.replace(day=1),
        )
        existing: dict[str, Counter[MonthKey]] = {}
        for ni_hash, kind, occurred_on in sent:
            existing.setdefault(ni_hash, Counter())[month_key(kind, occurred_on)] += 1
        return {
            ni_hash
            for ni_hash, positions in fresh.items()
            if is_burst(
                existing.get(ni_hash, Counter()),
                ((events[i].kind, events[i].occurred_on) for i in positions),
            )
        }

    async def apply_matched(self) -> int:
        """Move held events whose person has registered since: an event that arrived while
        that registration's transaction was still open was held, and registration had
        already moved the others. Returns how many were applied."""
        now = self._clock()
        async with self._db.transaction() as session:
            citizens = (
                (
                    await session.scalars(
                        select(Citizen).join(
                            HeldPaymentEvent, HeldPaymentEvent.ni_hash == Citizen.ni_hash
                        )
                    )
                )
                .unique()
                .all()
            )
            moved = 0
            for citizen in citizens:
                moved += await apply_held_events(session, citizen, now)
        return moved

    async def purge_expired(self) -> int:
        """Delete held events older than :data:`HOLD_DAYS`; returns how many."""
        cutoff = self._clock() - timedelta(days=HOLD_DAYS)
        async with self._db.transaction() as session:
            result = await session.execute(
                delete(HeldPaymentEvent).where(HeldPaymentEvent.received_at < cutoff)
            )
            await event_batches.purge_orphans(session)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def held(self) -> list[HeldBatch]:
        """Batches held for review, newest first: what ``britizen events held`` lists."""
        async with self._db.transaction() as session:
            names = await partner_names(session)
            return [
                HeldBatch(
                    id=row.id,
                    partner=names.get(row.source, row.source),
                    citizen_id=row.citizen_id,
                    events=row.events,
                    adverse=int(row.missed_or_late),
                    received_at=as_aware_utc(row.received_at),
                    first_on=row.first_on,
                    last_on=row.last_on,
                )
                for row in await event_batches.held(session)
            ]

    async def release(self, batch_id: int) -> bool:
        """An admin lets a held batch count from the next pass; False if no such held batch."""
        async with self._db.transaction() as session:
            return await event_batches.release(session, batch_id, self._clock())


async def apply_held_events(session: AsyncSession, citizen: Citizen, now: datetime) -> int:
    """Inside the registration transaction: move the newcomer's held events (received within
    :data:`HOLD_DAYS`) into payment_events. Returns how many were applied.

    The held rows are claimed by deleting them (DELETE ... RETURNING): if the nightly sweep
    and a registration reach the same rows at once, only the one whose delete found them
    inserts them, so neither trips over the other's copy."""
    cutoff = now - timedelta(days=HOLD_DAYS)
    claimed = (
        await session.execute(
            delete(HeldPaymentEvent)
            .where(HeldPaymentEvent.ni_hash == citizen.ni_hash)
            .returning(
                HeldPaymentEvent.source,
                HeldPaymentEvent.external_id,
                HeldPaymentEvent.kind,
                HeldPaymentEvent.outcome,
                HeldPaymentEvent.occurred_on,
                HeldPaymentEvent.received_at,
                HeldPaymentEvent.batch_id,
            )
        )
    ).all()
    # Expired ones are deleted too: they were never going to be applied.
    fresh = [row for row in claimed if as_aware_utc(row.received_at) >= cutoff]
    rows: list[dict[str, Any]] = [
        {
            "citizen_id": citizen.id,
            "source": source,
            "external_id": external_id,
            "kind": kind,
            "outcome": outcome,
            "occurred_on": occurred_on,
            "disputed": False,
            "recorded_at": now,
            "batch_id": batch_id,
        }
        for source, external_id, kind, outcome, occurred_on, _received_at, batch_id in fresh
    ]
    if rows:
        await session.execute(insert(PaymentEvent), rows)
        await event_batches.adopt(
            session, (row.batch_id for row in fresh if row.batch_id is not None), citizen.id
        )
    return len(rows)
