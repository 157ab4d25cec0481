"""What if…: previews of the score, read-only.

The person's model inputs are rebuilt from the database exactly as /why rebuilds them
(services.scores.model_inputs), with their unpaid instalments, and handed to the pure
simulation in scoring.whatif, which scores every hypothetical with the model itself. Reads
only: nothing here writes to the database, whatever is previewed.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.whatif import (
    Change,
    Due,
    LoanPreview,
    Situation,
    WhatIf,
    loan_preview,
    what_if,
)
from services.clock import Clock
from services.commitments import limit_for
from services.errors import StaleAction
from services.loan_terms import LATE_FEE_PENCE, LoanQuote
from services.scores import explained_limit, model_inputs, row_for, stored_as_of
from storage.db import Database
from storage.models import Instalment, Loan
from storage.repositories.score_history import latest_finished_pass


class NothingToPayOff(StaleAction):
    """ "What if I paid it off?" pressed when nothing is owed any more."""


async def unpaid_instalments(session: AsyncSession, citizen_id: int) -> tuple[Due, ...]:
    """What the person owes, instalment by instalment, counted as services.commitments counts
    it (amount plus any late fee, until paid)."""
    rows = (
        await session.execute(
            select(
                Instalment.due_on,
                Instalment.amount_pence,
                Instalment.late_fee_pence,
                Instalment.loan_id,
            )
            .join(Loan, Loan.id == Instalment.loan_id)
            .where(Loan.citizen_id == citizen_id, Instalment.paid_at.is_(None))
            .order_by(Instalment.due_on, Instalment.id)
        )
    ).all()
    return tuple(
        Due(due_on, amount + fee, fee > 0, loan_id) for due_on, amount, fee, loan_id in rows
    )


class WhatIfService:
    def __init__(self, db: Database, clock: Clock, timezone: ZoneInfo) -> None:
        self._db = db
        self._clock = clock
        self._tz = timezone

    def today(self) -> date:
        return self._clock().astimezone(self._tz).date()

    async def loan_preview(self, telegram_id: int, loan_quote: LoanQuote) -> LoanPreview:
        """What borrowing ``loan_quote`` today would do, as tonight's pass would count it:
        as of today, with debt measured against the tier the person is in now."""
        situation = await self._situation(telegram_id, today=True)
        schedule = [(i.due_on, i.amount_pence) for i in loan_quote.instalments]
        return loan_preview(situation, schedule, LATE_FEE_PENCE)

    async def what_if(self, telegram_id: int, change: Change) -> WhatIf:
        """A /why What if…: the same inputs /why explains, as of the same day, changed once.
        NothingToPayOff when paying off is asked for and nothing is owed."""
        situation = await self._situation(telegram_id, today=False)
        if change is Change.PAY_OFF and not situation.owes:
            raise NothingToPayOff()
        return what_if(situation, change, LATE_FEE_PENCE)

    async def _situation(self, telegram_id: int, *, today: bool) -> Situation:
        async with self._db.transaction() as session:
            citizen, row = await row_for(session, telegram_id)
            if today:
                as_of, limit = self.today(), limit_for(row.score)
            else:
                latest = await latest_finished_pass(session)
                as_of, limit = stored_as_of(row, self._tz, latest), explained_limit(row)
            inputs = await model_inputs(session, citizen, row, as_of, limit)
            dues = await unpaid_instalments(session, citizen.id)
        return Situation(inputs, as_of, dues)
