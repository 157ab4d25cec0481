"""Citizens, scores and sponsors written straight into the database for promotion tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from scoring.model import band_for
from storage.db import Database
from storage.models import Citizen, Score, Sponsor


@dataclass(frozen=True)
class Person:
    key: int  # telegram id and chat id
    score: int | None = 700
    district: str | None = "SO17"
    opted_in: bool = True
    unreachable: bool = False


async def add_people(db: Database, people: list[Person], now: datetime) -> dict[int, int]:
    """Insert ``people``; returns telegram id -> citizen id."""
    ids: dict[int, int] = {}
    async with db.transaction() as session:
        for person in people:
            citizen = Citizen(
                telegram_id=person.key,
                chat_id=person.key,
                display_name=f"Person {person.key}",
                ni_hash=f"{person.key:064d}",
                ni_masked="QQ •• •• •• A",
                date_of_birth=date(1990, 1, 1),
                postcode_district=person.district,
                marketing_opt_in=person.opted_in,
                unreachable_at=now if person.unreachable else None,
            )
            session.add(citizen)
            await session.flush()
            ids[person.key] = citizen.id
            if person.score is not None:
                session.add(
                    Score(
                        citizen_id=citizen.id,
                        score=person.score,
                        band=band_for(person.score).name,
                        computed_at=now,
                    )
                )
    return ids


async def add_sponsor(db: Database, name: str = "Acme Ltd") -> int:
    async with db.transaction() as session:
        sponsor = Sponsor(name=name, api_key_hash=f"hash-of-{name}")
        session.add(sponsor)
        await session.flush()
        return sponsor.id


def draft_body(expires_at: datetime, /, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "10% off groceries",
        "text": "Show the code at any Acme store.",
        "expires_at": expires_at.isoformat(),
    }
    body.update(fields)
    return body


async def add_many_opted_in(db: Database, count: int, now: datetime) -> None:
    """``count`` opted-in citizens with scores 350, 351, ... (cycling) in two bulk inserts."""
    from sqlalchemy import insert

    base = 5_000_000
    async with db.transaction() as session:
        await session.execute(
            insert(Citizen),
            [
                {
                    "id": base + n,
                    "telegram_id": base + n,
                    "chat_id": base + n,
                    "display_name": f"Bulk {n}",
                    "ni_hash": f"bulk-{n:058d}",
                    "ni_masked": "QQ •• •• •• A",
                    "date_of_birth": date(1990, 1, 1),
                    "marketing_opt_in": True,
                }
                for n in range(count)
            ],
        )
        await session.execute(
            insert(Score),
            [
                {
                    "citizen_id": base + n,
                    "score": 350 + n % 601,
                    "band": band_for(350 + n % 601).name,
                    "computed_at": now,
                }
                for n in range(count)
            ],
        )
