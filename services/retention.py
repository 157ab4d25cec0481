"""What survives an erasure, and why: a credit record that can't be reset by rejoining.

An erased account leaves its NI number's keyed hash (`erasures`) and its adverse payment
records (late and missed: partner, kind, date, outcome) for six years from each event, the
period UK credit files keep them (`retained_records`); nothing else. Someone who rejoins with
the same NI number gets those records back in the registration's own transaction, so the next
pass scores them as it would have. Someone with nothing adverse leaves only the hash, which
also stops a second referral credit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Citizen
from storage.repositories import retention as repo

RETENTION_YEARS = 6


def keep_until(occurred_on: date) -> date:
    """Six years from the event (a 29 February event is kept to 1 March)."""
    try:
        return occurred_on.replace(year=occurred_on.year + RETENTION_YEARS)
    except ValueError:
        return date(occurred_on.year + RETENTION_YEARS, 3, 1)


def retention_start(today: date) -> date:
    """The oldest event date still kept today."""
    try:
        return today.replace(year=today.year - RETENTION_YEARS)
    except ValueError:
        return date(today.year - RETENTION_YEARS, 3, 1)


@dataclass(frozen=True)
class KeptRecord:
    source: str
    kind: str
    outcome: str
    occurred_on: date
    keep_until: date


async def would_keep(session: AsyncSession, citizen: Citizen, today: date) -> list[KeptRecord]:
    """What an erasure today would keep of this account (for /mydata and /delete)."""
    events = await repo.adverse_events(session, citizen.id, retention_start(today), today)
    return [
        KeptRecord(e.source, e.kind, e.outcome, e.occurred_on, keep_until(e.occurred_on))
        for e in events
    ]


async def retain_adverse(session: AsyncSession, citizen: Citizen, today: date) -> int:
    """Inside the erasure's transaction: keep the account's adverse records by NI hash."""
    events = await repo.adverse_events(session, citizen.id, retention_start(today), today)
    await repo.keep(
        session,
        [
            {
                "ni_hash": citizen.ni_hash,
                "source": e.source,
                "external_id": e.external_id,
                "kind": e.kind,
                "outcome": e.outcome,
                "occurred_on": e.occurred_on,
                "keep_until": keep_until(e.occurred_on),
            }
            for e in events
        ],
    )
    return len(events)


async def restore_retained(session: AsyncSession, citizen: Citizen, now: datetime) -> int:
    """Inside the registration's transaction: give a returning person their kept records."""
    claimed = await repo.take_back(session, citizen.ni_hash, now.date())
    already = await repo.existing_event_ids(session, [(s, e) for s, e, *_ in claimed])
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
        for source, external_id, kind, outcome, occurred_on in claimed
        if (source, external_id) not in already
    ]
    await repo.restore(session, rows)
    return len(rows)


async def purge_expired(session: AsyncSession, today: date) -> int:
    """Records past their six years are deleted (the housekeeping job calls this)."""
    return await repo.purge_expired(session, today)
