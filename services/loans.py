"""Loans: eligibility from the benefit tiers, quotes, confirmation and repayments.

Confirmation is the one place money is promised, so it is guarded twice: the application key
(one per quote shown) is unique, so a double-tapped Confirm finds the loan it already made; and
the limit check runs after taking a write lock on the citizen's row, so two applications in
parallel are serialised and can never together exceed the limit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.tiers import default_tiers
from services.clock import Clock
from services.loan_terms import ANNUAL_RATE, LATE_FEE_PENCE, MIN_LOAN_PENCE, LoanQuote, quote
from storage.db import Database
from storage.models import Citizen, Instalment, Loan, LoanPayment, PaymentEvent, Score

LOAN_SOURCE = "loan"


class LoanError(Exception):
    """A refusal the citizen should read."""


class NotEligible(LoanError):
    pass


class OverLimit(LoanError):
    pass


class PaymentRejected(LoanError):
    pass


@dataclass(frozen=True)
class Eligibility:
    citizen_id: int
    band: str
    tier_title: str
    limit_pence: int
    outstanding_pence: int

    @property
    def available_pence(self) -> int:
        return max(0, self.limit_pence - self.outstanding_pence)

    @property
    def can_borrow(self) -> bool:
        return self.available_pence >= MIN_LOAN_PENCE


@dataclass(frozen=True)
class InstalmentView:
    id: int
    number: int
    due_on: date
    amount_pence: int
    late_fee_pence: int
    paid: bool

    @property
    def payable_pence(self) -> int:
        return self.amount_pence + self.late_fee_pence


@dataclass(frozen=True)
class LoanView:
    id: int
    principal_pence: int
    term_months: int
    total_repayable_pence: int
    status: str
    created_at: datetime
    instalments: tuple[InstalmentView, ...]

    @property
    def paid_pence(self) -> int:
        return sum(i.payable_pence for i in self.instalments if i.paid)

    @property
    def remaining_pence(self) -> int:
        return sum(i.payable_pence for i in self.instalments if not i.paid)

    @property
    def next_due(self) -> InstalmentView | None:
        return next((i for i in self.instalments if not i.paid), None)


def new_application_key() -> str:
    """A fresh key per quote shown; it travels in the Confirm button's callback data."""
    return secrets.token_urlsafe(12)


def payment_payload(instalment_id: int, amount_pence: int) -> str:
    return f"inst:{instalment_id}:{amount_pence}"


def parse_payment_payload(payload: str) -> tuple[int, int]:
    kind, instalment_id, amount = payload.split(":")
    if kind != "inst":
        raise ValueError("not an instalment payment")
    return int(instalment_id), int(amount)


class LoanService:
    def __init__(self, db: Database, clock: Clock, timezone: ZoneInfo) -> None:
        self._db = db
        self._clock = clock
        self._tz = timezone

    def today(self) -> date:
        return self._clock().astimezone(self._tz).date()

    async def eligibility(self, telegram_id: int) -> Eligibility:
        async with self._db.transaction() as session:
            return await self._eligibility(session, telegram_id)

    async def _eligibility(self, session: AsyncSession, telegram_id: int) -> Eligibility:
        row = (
            await session.execute(
                select(Citizen.id, Score.score, Score.band)
                .join(Score, Score.citizen_id == Citizen.id)
                .where(Citizen.telegram_id == telegram_id)
            )
        ).one_or_none()
        if row is None:
            raise NotEligible("You need to be registered to borrow. Send /start to join.")
        citizen_id, score, band = row
        tier = default_tiers().tier_for(int(score))
        outstanding = await self._outstanding_principal(session, citizen_id)
        return Eligibility(citizen_id, band, tier.title, tier.loan_limit_pence, outstanding)

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
                await session.execute(
                    update(Citizen)
                    .where(Citizen.telegram_id == telegram_id)
                    .values(chat_id=Citizen.chat_id)
                )
                # A double tap waited for the lock above: the first tap's loan is the answer.
                made = await session.scalar(
                    select(Loan.id).where(Loan.application_key == application_key)
                )
                if made is not None:
                    return await self._view(session, made)
                eligibility = await self._eligibility(session, telegram_id)
                citizen_id = eligibility.citizen_id
                if principal_pence > eligibility.available_pence:
                    raise OverLimit(
                        "That would take you over your limit: you can borrow up to "
                        f"£{eligibility.available_pence / 100:,.2f} now."
                    )
                loan = Loan(
                    citizen_id=citizen_id,
                    application_key=application_key,
                    principal_pence=principal_pence,
                    term_months=term_months,
                    annual_rate_bp=int(ANNUAL_RATE * 10_000),
                    apr_bp=int((loan_quote.apr * 10_000).to_integral_value()),
                    total_repayable_pence=loan_quote.total_repayable_pence,
                    status="active",
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

    async def _by_application(self, application_key: str) -> LoanView | None:
        async with self._db.transaction() as session:
            loan_id = await session.scalar(
                select(Loan.id).where(Loan.application_key == application_key)
            )
            return None if loan_id is None else await self._view(session, loan_id)

    @staticmethod
    async def _view(session: AsyncSession, loan_id: int) -> LoanView:
        loan = await session.get(Loan, loan_id)
        assert loan is not None
        instalments = (
            await session.scalars(
                select(Instalment).where(Instalment.loan_id == loan_id).order_by(Instalment.number)
            )
        ).all()
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
                )
                for i in instalments
            ),
        )

    async def payable(self, telegram_id: int, instalment_id: int) -> InstalmentView:
        """The instalment a Pay button points at, checked to belong to the presser and be due."""
        async with self._db.transaction() as session:
            row = (
                await session.execute(
                    select(Instalment)
                    .join(Loan, Loan.id == Instalment.loan_id)
                    .join(Citizen, Citizen.id == Loan.citizen_id)
                    .where(Instalment.id == instalment_id, Citizen.telegram_id == telegram_id)
                )
            ).scalar_one_or_none()
            if row is None or row.paid_at is not None:
                raise PaymentRejected("That instalment is already paid or no longer available.")
            return InstalmentView(
                row.id, row.number, row.due_on, row.amount_pence, row.late_fee_pence, False
            )

    async def check_checkout(self, telegram_id: int, payload: str, total_amount: int) -> None:
        """pre_checkout_query: the right person, the right amount, still unpaid."""
        try:
            instalment_id, amount = parse_payment_payload(payload)
        except ValueError:
            raise PaymentRejected("This payment link isn't valid any more.") from None
        instalment = await self.payable(telegram_id, instalment_id)
        if amount != total_amount or instalment.payable_pence != total_amount:
            raise PaymentRejected(
                "The amount due has changed since this invoice was made: tap Pay again."
            )

    async def record_payment(
        self, telegram_id: int, payload: str, total_amount: int, charge_id: str
    ) -> InstalmentView | None:
        """successful_payment: recorded once per charge id (None for a repeat)."""
        instalment_id, _ = parse_payment_payload(payload)
        now = self._clock()
        today = self.today()
        try:
            async with self._db.transaction() as session:
                session.add(
                    LoanPayment(
                        instalment_id=instalment_id,
                        charge_id=charge_id,
                        amount_pence=total_amount,
                        paid_at=now,
                    )
                )
                await session.flush()
                instalment = await session.get(Instalment, instalment_id)
                assert instalment is not None
                instalment.paid_at = now
                outcome = "on_time" if today <= instalment.due_on else "late"
                await _record_outcome(session, instalment, outcome, now)
                loan = await session.get(Loan, instalment.loan_id)
                assert loan is not None
                unpaid = await session.scalar(
                    select(func.count())
                    .select_from(Instalment)
                    .where(Instalment.loan_id == loan.id, Instalment.paid_at.is_(None))
                )
                if unpaid == 0:
                    loan.status = "repaid"
                view = InstalmentView(
                    instalment.id,
                    instalment.number,
                    instalment.due_on,
                    instalment.amount_pence,
                    instalment.late_fee_pence,
                    True,
                )
        except IntegrityError:
            return None
        return view


async def _record_outcome(
    session: AsyncSession, instalment: Instalment, outcome: str, now: datetime
) -> None:
    """The instalment's payment-history event: one per instalment, updated as it resolves
    (missed -> late when finally paid), so the score sees each instalment once."""
    external_id = f"instalment:{instalment.id}"
    event = await session.scalar(
        select(PaymentEvent).where(
            PaymentEvent.source == LOAN_SOURCE, PaymentEvent.external_id == external_id
        )
    )
    loan = await session.get(Loan, instalment.loan_id)
    assert loan is not None
    if event is None:
        session.add(
            PaymentEvent(
                citizen_id=loan.citizen_id,
                source=LOAN_SOURCE,
                external_id=external_id,
                kind="loan_instalment",
                outcome=outcome,
                occurred_on=instalment.due_on,
                recorded_at=now,
            )
        )
    elif event.outcome != "on_time":
        event.outcome = outcome
        event.recorded_at = now


async def mark_overdue(session: AsyncSession, instalment: Instalment, now: datetime) -> bool:
    """Once an instalment is overdue: add the late fee once and record it as missed (until it is
    paid, when it becomes late). Returns True the first time."""
    if instalment.late_fee_pence:
        return False
    instalment.late_fee_pence = LATE_FEE_PENCE
    await _record_outcome(session, instalment, "missed", now)
    return True
