"""Lending: confirming a loan exactly once, within the limit, and reading loans back.

Confirmation is the one place money is promised, so it is guarded twice: the application key
(one per quote shown) is unique, so a double-tapped Confirm finds the loan it already made; and
the limit check runs after taking a write lock on the citizen's row, so two applications in
parallel are serialised and can never together exceed the limit.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.loan_terms import (
    ANNUAL_RATE,
)
from services.loans.eligibility import (
    LoanEligibility,
)
from services.loans.model import (
    InstalmentView,
    LoanView,
    NotEligible,
    _over_limit,
)
from services.settlement import early_rebate, loan_apr
from storage.models import Citizen, Instalment, Loan
from storage.repositories import citizens
from storage.statuses import LoanStatus
from texts.credit import locked_refusal, under_18_refusal


class LoanLending(LoanEligibility):
    """Confirming loans and reading them back."""

    async def confirm(
        self, telegram_id: int, principal_pence: int, term_months: int, application_key: str
    ) -> LoanView:
        """Create the loan and its schedule, once per application key, within the limit."""
        existing = await self._by_application(application_key)
        if existing is not None:
            return existing
        loan_quote = self.quote(principal_pence, term_months)
        now = self._clock()
        try:
            async with self._db.transaction() as session:
                # A no-op write as the very first statement takes the row (PostgreSQL) or
                # database (SQLite) write lock before anything is read, so a parallel
                # application waits here and then sees this one's loan.
                await citizens.lock_by_telegram_id(session, telegram_id)
                # A double tap waited for the lock above: the first tap's loan is the answer.
                made = await session.scalar(
                    select(Loan.id).where(Loan.application_key == application_key)
                )
                if made is not None:
                    return await self._view(session, made)
                eligibility = await self._eligibility(session, telegram_id)
                citizen_id = eligibility.citizen_id
                if eligibility.credit_from is not None:  # checked again here, not only at /loan
                    raise NotEligible(under_18_refusal(eligibility.credit_from))
                if eligibility.locked_until is not None:
                    raise NotEligible(locked_refusal(eligibility.locked_until))
                if principal_pence > eligibility.available_pence:
                    raise _over_limit(eligibility)
                loan = Loan(
                    citizen_id=citizen_id,
                    application_key=application_key,
                    principal_pence=principal_pence,
                    term_months=term_months,
                    annual_rate_bp=int(ANNUAL_RATE * 10_000),
                    apr_bp=int((loan_quote.apr * 10_000).to_integral_value()),
                    total_repayable_pence=loan_quote.total_repayable_pence,
                    status=LoanStatus.ACTIVE.value,
                    created_at=now,
                )
                session.add(loan)
                await session.flush()
                session.add_all(
                    Instalment(
                        loan_id=loan.id,
                        number=i.number,
                        due_on=i.due_on,
                        amount_pence=i.amount_pence,
                        principal_pence=i.principal_pence,
                        late_fee_pence=0,
                    )
                    for i in loan_quote.instalments
                )
        except IntegrityError:
            # The same key committed in parallel (a double tap): that loan is the answer.
            existing = await self._by_application(application_key)
            if existing is None:
                raise
            return existing
        view = await self._by_application(application_key)
        assert view is not None
        return view

    async def loans(self, telegram_id: int) -> list[LoanView]:
        async with self._db.transaction() as session:
            ids = (
                await session.scalars(
                    select(Loan.id)
                    .join(Citizen, Citizen.id == Loan.citizen_id)
                    .where(Citizen.telegram_id == telegram_id)
                    .order_by(Loan.id)
                )
            ).all()
            return [await self._view(session, loan_id) for loan_id in ids]

    async def loan_for_application(self, telegram_id: int, application_key: str) -> LoanView | None:
        """The loan a Confirm with this key made, if it made one and it is the presser's."""
        async with self._db.transaction() as session:
            loan_id = await session.scalar(
                select(Loan.id)
                .join(Citizen, Citizen.id == Loan.citizen_id)
                .where(Loan.application_key == application_key, Citizen.telegram_id == telegram_id)
            )
            return None if loan_id is None else await self._view(session, loan_id)

    async def loan_of_instalment(self, telegram_id: int, instalment_id: int) -> LoanView | None:
        """The presser's loan that an instalment belongs to (for the thank-you after paying)."""
        async with self._db.transaction() as session:
            loan_id = await session.scalar(
                select(Instalment.loan_id)
                .join(Loan, Loan.id == Instalment.loan_id)
                .join(Citizen, Citizen.id == Loan.citizen_id)
                .where(Instalment.id == instalment_id, Citizen.telegram_id == telegram_id)
            )
            return None if loan_id is None else await self._view(session, loan_id)

    async def _by_application(self, application_key: str) -> LoanView | None:
        async with self._db.transaction() as session:
            loan_id = await session.scalar(
                select(Loan.id).where(Loan.application_key == application_key)
            )
            return None if loan_id is None else await self._view(session, loan_id)

    async def _view(self, session: AsyncSession, loan_id: int) -> LoanView:
        """The loan as it stands today (unpaid instalments at today's price as well)."""
        today = self.today()
        loan = await session.get(Loan, loan_id)
        assert loan is not None
        instalments = (
            await session.scalars(
                select(Instalment).where(Instalment.loan_id == loan_id).order_by(Instalment.number)
            )
        ).all()
        apr = loan_apr(loan.annual_rate_bp)
        return LoanView(
            id=loan.id,
            principal_pence=loan.principal_pence,
            term_months=loan.term_months,
            total_repayable_pence=loan.total_repayable_pence,
            status=loan.status,
            created_at=loan.created_at,
            instalments=tuple(
                InstalmentView(
                    i.id,
                    i.number,
                    i.due_on,
                    i.amount_pence,
                    i.late_fee_pence,
                    i.paid_at is not None,
                    i.credit_pence,
                    0
                    if i.paid_at is not None
                    else early_rebate(i.amount_pence, i.due_on, today, apr),
                )
                for i in instalments
            ),
        )
