"""Reading and recording scores for the bot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.model import STARTING_SCORE, band_for
from services.clock import as_aware_utc
from storage.db import Database
from storage.models import Citizen, Score, ScoreHistory


@dataclass(frozen=True)
class ScoreView:
    score: int
    band: str
    previous_score: int | None
    computed_at: datetime
    breakdown: dict[str, object]

    @property
    def change(self) -> int | None:
        return None if self.previous_score is None else self.score - self.previous_score


class NotRegistered(Exception):
    """The Telegram user has no Britizen account."""


async def record_starting_score(session: AsyncSession, citizen_id: int, now: datetime) -> ScoreView:
    """Every new citizen starts at the documented STARTING_SCORE until the next scoring pass."""
    band = band_for(STARTING_SCORE).name
    breakdown: dict[str, object] = {"starting": True}
    session.add(
        Score(
            citizen_id=citizen_id,
            score=STARTING_SCORE,
            band=band,
            breakdown=breakdown,
            computed_at=now,
        )
    )
    session.add(
        ScoreHistory(citizen_id=citizen_id, score=STARTING_SCORE, band=band, computed_at=now)
    )
    return ScoreView(STARTING_SCORE, band, None, now, breakdown)


class ScoreService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def current_for_telegram_user(self, telegram_id: int) -> ScoreView:
        async with self._db.transaction() as session:
            row = (
                await session.execute(
                    select(Score)
                    .join(Citizen, Citizen.id == Score.citizen_id)
                    .where(Citizen.telegram_id == telegram_id)
                )
            ).scalar_one_or_none()
            if row is None:
                raise NotRegistered()
            return ScoreView(
                row.score,
                row.band,
                row.previous_score,
                as_aware_utc(row.computed_at),
                dict(row.breakdown),
            )
