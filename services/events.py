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
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import BindParameter, bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.clock import Clock, as_aware_utc
from services.partners import partner_source
from services.secrets import ni_number_hash
from storage.db import Database
from storage.models import Citizen, HeldPaymentEvent, PaymentEvent
from storage.statuses import PaymentKind, PaymentOutcome
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
    DUPLICATE = "duplicate"
    REFUSED = "refused"


# api.partners reads the reason here; the wording lives in texts.api.
REFUSED_REASON = texts.EVENT_REFUSED


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

    def count(self, status: EventStatus) -> int:
        return sum(1 for r in self.results if r.status is status)


def _inline(values: Collection[str]) -> BindParameter[Any]:
    """A list for IN, rendered into the SQL rather than bound. With 1,000 bound parameters
    PostgreSQL switches a prepared statement to a generic plan after five runs, which scans
    instead of using the unique index: a batch of duplicates took 0.9 s instead of 30 ms."""
    return bindparam("values", list(values), expanding=True, literal_execute=True)


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
            results: list[EventResult] = []
            applied_rows: list[dict[str, Any]] = []
            held_rows: list[dict[str, Any]] = []
            for event, ni_hash in zip(events, hashes, strict=True):
                if event.external_id in seen:
                    results.append(EventResult(event.external_id, EventStatus.DUPLICATE))
                    continue
                # An erased person's events are held like anyone unregistered's: the answer
                # must not tell a partner that the person was ever here.
                citizen_id = citizens.get(ni_hash)
                seen.add(event.external_id)
                row = {
                    "source": source,
                    "external_id": event.external_id,
                    "kind": event.kind,
                    "outcome": event.outcome,
                    "occurred_on": event.occurred_on,
                }
                if citizen_id is not None:
                    applied_rows.append(
                        {**row, "citizen_id": citizen_id, "disputed": False, "recorded_at": now}
                    )
                else:
                    held_rows.append({**row, "ni_hash": ni_hash, "received_at": now})
                results.append(EventResult(event.external_id, EventStatus.ACCEPTED))
            # One executemany per table instead of 1,000 ORM objects: ~10x faster a batch.
            if applied_rows:
                await session.execute(insert(PaymentEvent), applied_rows)
            if held_rows:
                await session.execute(insert(HeldPaymentEvent), held_rows)
        return BatchResult(results, len(applied_rows), len(held_rows))

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
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


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
            )
        )
    ).all()
    # Expired ones are deleted too: they were never going to be applied.
    rows = [
        {
            "citizen_id": citizen.id,
            "source": source,
            "external_id": external_id,
            "kind": kind,
            "outcome": outcome,
            "occurred_on": occurred_on,
            "disputed": False,
            "recorded_at": now,
        }
        for source, external_id, kind, outcome, occurred_on, received_at in claimed
        if as_aware_utc(received_at) >= cutoff
    ]
    if rows:
        await session.execute(insert(PaymentEvent), rows)
    return len(rows)
