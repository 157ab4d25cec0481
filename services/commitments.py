"""The commitments inputs of the score, counted the same way for everyone (the nightly pass) and
for one person (/why): what is owed on Britizen loans, the limit it is measured against, and
loans in default."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.model import BANDS, STARTING_SCORE
from scoring.tiers import default_tiers
from storage.models import Instalment, Loan
from storage.statuses import LoanStatus

# An instalment unpaid this long after its due date puts its loan in default.
DEFAULT_AFTER = timedelta(days=30)

OWED_SQL = (
    "SELECT l.citizen_id, SUM(i.amount_pence + i.late_fee_pence) FROM instalments i "
    "JOIN loans l ON l.id = i.loan_id WHERE i.paid_at IS NULL GROUP BY l.citizen_id"
)
DEFAULTS_SQL = (
    "SELECT l.citizen_id, COUNT(DISTINCT l.id) FROM instalments i "
    "JOIN loans l ON l.id = i.loan_id WHERE i.paid_at IS NULL AND i.due_on < :cutoff "
    "GROUP BY l.citizen_id"
)


REPAID_SQL = "SELECT citizen_id, COUNT(*) FROM loans WHERE status = 'repaid' GROUP BY citizen_id"


def default_cutoff(as_of: date) -> date:
    return as_of - DEFAULT_AFTER


def limit_for(previous_score: int | None) -> int:
    """The loan limit of the tier the person was in before this calculation."""
    return default_tiers().tier_for(previous_score or STARTING_SCORE).loan_limit_pence


def limits_for(previous_scores: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """limit_for over a population (NaN: no previous score, so the starting score's tier)."""
    scores = np.where(np.isnan(previous_scores), STARTING_SCORE, previous_scores).astype(np.int64)
    by_band = np.array(
        [default_tiers().tier_for(band.lower).loan_limit_pence for band in BANDS], dtype=np.int64
    )
    lowers = np.array([band.lower for band in BANDS], dtype=np.int64)
    return by_band[np.searchsorted(lowers, scores, side="right") - 1]


async def commitments_of(session: AsyncSession, citizen_id: int, as_of: date) -> tuple[int, int]:
    """(owed in pence, loans in default) for one person."""
    owed = await session.scalar(
        select(func.coalesce(func.sum(Instalment.amount_pence + Instalment.late_fee_pence), 0))
        .join(Loan, Loan.id == Instalment.loan_id)
        .where(Loan.citizen_id == citizen_id, Instalment.paid_at.is_(None))
    )
    defaults = await session.scalar(
        select(func.count(func.distinct(Loan.id)))
        .join(Instalment, Instalment.loan_id == Loan.id)
        .where(
            Loan.citizen_id == citizen_id,
            Instalment.paid_at.is_(None),
            Instalment.due_on < default_cutoff(as_of),
        )
    )
    return int(owed or 0), int(defaults or 0)


async def repaid_loans_of(session: AsyncSession, citizen_id: int) -> int:
    """Loans the person has repaid in full (owing nothing after borrowing scores as 0% owed)."""
    repaid = await session.scalar(
        select(func.count())
        .select_from(Loan)
        .where(Loan.citizen_id == citizen_id, Loan.status == LoanStatus.REPAID)
    )
    return int(repaid or 0)
