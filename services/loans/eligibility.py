"""Who may borrow how much now: the benefit tiers against what is still owed."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.tiers import default_tiers
from services.ages import credit_from
from services.clock import Clock, as_aware_utc
from services.loan_terms import (
    MIN_LOAN_PENCE,
    LoanQuote,
    quote,
)
from services.loans.model import (
    Eligibility,
    NotEligible,
    Unlock,
)
from services.ni_claims import refuse_if_frozen
from storage.db import Database
from storage.models import Citizen, Instalment, Loan, Score
from texts.credit import NOT_REGISTERED_TO_BORROW


class LoanEligibility:
    """Eligibility and quotes; the base of :class:`services.loans.LoanService`."""

    def __init__(self, db: Database, clock: Clock, timezone: ZoneInfo) -> None:
        self._db = db
        self._clock = clock
        self._tz = timezone

    def today(self) -> date:
        return self._clock().astimezone(self._tz).date()

    def now(self) -> datetime:
        return self._clock()

    async def eligibility(self, telegram_id: int) -> Eligibility:
        async with self._db.transaction() as session:
            return await self._eligibility(session, telegram_id)

    async def _eligibility(self, session: AsyncSession, telegram_id: int) -> Eligibility:
        row = (
            await session.execute(
                select(
                    Citizen.id,
                    Score.score,
                    Score.band,
                    Citizen.date_of_birth,
                    Citizen.borrowing_locked_until,
                )
                .join(Score, Score.citizen_id == Citizen.id)
                .where(Citizen.telegram_id == telegram_id)
            )
        ).one_or_none()
        if row is None:
            raise NotEligible(NOT_REGISTERED_TO_BORROW)
        citizen_id, score, band, born, locked = row
        await refuse_if_frozen(session, citizen_id)  # NI number claimed (services.ni_claims)
        now = self._clock()
        # In the reader's time zone: the refusal says when, to the minute.
        locked_until = as_aware_utc(locked).astimezone(self._tz) if locked is not None else None
        if locked_until is not None and locked_until <= now:
            locked_until = None
        tiers = default_tiers()
        tier = tiers.tier_for(int(score))
        unlock = next(
            (
                Unlock(higher.band.name, higher.min_score, higher.loan_limit_pence)
                for higher in tiers
                if higher.min_score > tier.min_score
                and higher.loan_limit_pence > max(tier.loan_limit_pence, MIN_LOAN_PENCE - 1)
            ),
            None,
        )
        outstanding = await self._outstanding_principal(session, citizen_id)
        return Eligibility(
            citizen_id,
            band,
            tier.title,
            tier.loan_limit_pence,
            outstanding,
            int(score),
            unlock,
            credit_from=credit_from(born, self.today()),
            locked_until=locked_until,
        )

    @staticmethod
    async def _outstanding_principal(session: AsyncSession, citizen_id: int) -> int:
        owed = await session.scalar(
            select(func.coalesce(func.sum(Instalment.principal_pence), 0))
            .join(Loan, Loan.id == Instalment.loan_id)
            .where(Loan.citizen_id == citizen_id, Instalment.paid_at.is_(None))
        )
        return int(owed or 0)

    def quote(self, principal_pence: int, term_months: int) -> LoanQuote:
        return quote(principal_pence, term_months, self.today())
