"""Loans: eligibility from the benefit tiers, quotes, confirmation and repayments.

Confirmation is the one place money is promised, so it is guarded twice: the application key
(one per quote shown) is unique, so a double-tapped Confirm finds the loan it already made; and
the limit check runs after taking a write lock on the citizen's row, so two applications in
parallel are serialised and can never together exceed the limit.

:class:`LoanApplications` is the /loan conversation (amount, term, summary, confirm). Its state is
a dialog row, never process memory, and every step re-reads that row, so a stale or forged button
changes nothing and a restart carries on at the same step.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TypeGuard
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.tiers import default_tiers
from services.clock import Clock
from services.dialogs import Dialog, DialogService
from services.errors import ServiceError, StaleAction
from services.loan_terms import (
    AMOUNT_CHOICES_PENCE,
    ANNUAL_RATE,
    LATE_FEE_PENCE,
    MIN_LOAN_PENCE,
    TERM_CHOICES,
    LoanQuote,
    format_pence,
    parse_amount,
    quote,
)
from storage.db import Database
from storage.models import Citizen, Instalment, Loan, LoanPayment, PaymentEvent, Score

LOAN_SOURCE = "loan"
CURRENCY = "GBP"


class LoanError(ServiceError):
    """A refusal the citizen should read."""


class NotEligible(LoanError):
    pass


class OverLimit(LoanError):
    pass


class PaymentRejected(LoanError):
    pass


class StaleApplication(LoanError, StaleAction):
    """A /loan button or answer that no longer matches the presser's loan conversation:
    replayed, forged, from a finished or cancelled application, or for an amount that no longer
    fits."""


class Refusal(StrEnum):
    """Why someone can't borrow now; the handlers say what would change it."""

    BAND_TOO_LOW = "band_too_low"
    """Their band's limit is below the smallest loan: only a higher score helps."""
    LIMIT_USED = "limit_used"
    """What they still owe leaves less than the smallest loan: repaying frees it up."""


@dataclass(frozen=True)
class Unlock:
    """The nearest band above the citizen's that lends more."""

    band: str
    min_score: int
    limit_pence: int


@dataclass(frozen=True)
class Eligibility:
    citizen_id: int
    band: str
    tier_title: str
    limit_pence: int
    outstanding_pence: int
    """Principal still owed on unpaid instalments (interest and fees don't use up the limit)."""
    score: int = 0
    unlock: Unlock | None = None

    @property
    def available_pence(self) -> int:
        return max(0, self.limit_pence - self.outstanding_pence)

    @property
    def can_borrow(self) -> bool:
        return self.available_pence >= MIN_LOAN_PENCE

    @property
    def refusal(self) -> Refusal | None:
        if self.limit_pence < MIN_LOAN_PENCE:
            return Refusal.BAND_TOO_LOW
        if not self.can_borrow:
            return Refusal.LIMIT_USED
        return None

    @property
    def amount_choices(self) -> tuple[int, ...]:
        """The standard amounts that fit what's available, plus all of it when that isn't one
        of them (so someone with £90 left can take £90 with one tap)."""
        if not self.can_borrow:
            return ()
        fits = [a for a in AMOUNT_CHOICES_PENCE if MIN_LOAN_PENCE <= a <= self.available_pence]
        if self.available_pence not in fits:
            fits.append(self.available_pence)
        return tuple(fits)


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


def _over_limit(eligibility: Eligibility) -> OverLimit:
    return OverLimit(
        "That would take you over your limit: you can borrow up to "
        f"{format_pence(eligibility.available_pence)} now."
    )


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
            citizen_id, band, tier.title, tier.loan_limit_pence, outstanding, int(score), unlock
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
                    raise _over_limit(eligibility)
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

    async def check_checkout(
        self, telegram_id: int, payload: str, total_amount: int, currency: str = CURRENCY
    ) -> None:
        """pre_checkout_query: the right person, the right amount, still unpaid."""
        try:
            instalment_id, amount = parse_payment_payload(payload)
        except ValueError:
            raise PaymentRejected("This payment link isn't valid any more.") from None
        if currency != CURRENCY:
            raise PaymentRejected("Loan repayments can only be made in pounds (GBP).")
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


# ------------------------------------------------------------------------------------------------
# The /loan conversation

FLOW = "loan"
STEP_AMOUNT = "amount"
STEP_TERM = "term"
STEP_CONFIRM = "confirm"


@dataclass(frozen=True)
class Application:
    """A quote as shown in the summary, with the key its Confirm button carries."""

    quote: LoanQuote
    key: str


class QuoteExpired(LoanError):
    """Confirm pressed on a later day than the summary was made: the dates have moved, so the
    citizen sees (and confirms) a fresh summary rather than a schedule they never read."""

    def __init__(self, fresh: Application) -> None:
        super().__init__("the quote's dates have moved")
        self.fresh = fresh


class NoLongerEligible(LoanError):
    """Mid-application, their band or what they owe changed so that they can't borrow now."""

    def __init__(self, eligibility: Eligibility) -> None:
        super().__init__(eligibility.refusal)
        self.eligibility = eligibility


class LoanApplications:
    """Amount, then term, then a summary to confirm or cancel, one dialog row per person.

    The row holds the amount, the term, the quote's day and the application key; the Confirm
    button carries the key too, so a button from an older summary (or someone else's) never
    matches. A Confirm whose application already made a loan returns that loan: a double tap
    shows the same confirmation and never a second loan (LoanService.confirm guarantees the
    latter even if both taps race past the dialog check).
    """

    def __init__(self, loans: LoanService, dialogs: DialogService) -> None:
        self._loans = loans
        self._dialogs = dialogs

    async def begin(self, telegram_id: int) -> Eligibility:
        """/loan: where they stand; the conversation starts only if they can borrow."""
        eligibility = await self._loans.eligibility(telegram_id)
        if eligibility.can_borrow:
            await self._dialogs.set(telegram_id, Dialog(FLOW, STEP_AMOUNT))
        else:
            await self._leave(telegram_id)
        return eligibility

    async def choose_amount(self, telegram_id: int, principal_pence: int) -> int:
        """An amount button: only while choosing an amount, and only an amount offered now."""
        dialog = await self._dialogs.get(telegram_id)
        if _at(dialog, STEP_TERM) and dialog.data["amount"] == principal_pence:
            return principal_pence  # a double tap: already chosen, nothing changes
        await self._dialog(telegram_id, STEP_AMOUNT)
        eligibility = await self._still_eligible(telegram_id)
        if principal_pence not in eligibility.amount_choices:
            raise StaleApplication()  # drawn when more was available (or forged)
        await self._dialogs.set(telegram_id, Dialog(FLOW, STEP_TERM, {"amount": principal_pence}))
        return principal_pence

    async def type_amount(self, telegram_id: int, text: str) -> int:
        """A typed amount. InvalidAmount or OverLimit say what to change; the conversation stays
        at the amount step so they can simply try again."""
        await self._dialog(telegram_id, STEP_AMOUNT)
        eligibility = await self._still_eligible(telegram_id)
        pence = parse_amount(
            text, minimum_pence=MIN_LOAN_PENCE, maximum_pence=eligibility.limit_pence
        )
        if pence > eligibility.available_pence:
            raise _over_limit(eligibility)
        await self._dialogs.set(telegram_id, Dialog(FLOW, STEP_TERM, {"amount": pence}))
        return pence

    async def chosen_amount(self, telegram_id: int) -> int:
        """The amount of an application at the term step (to ask for the term again)."""
        dialog = await self._dialog(telegram_id, STEP_TERM)
        return int(dialog.data["amount"])

    def monthly_payments(self, principal_pence: int) -> dict[int, int]:
        """Each term's monthly instalment for this amount, to show beside the term buttons."""
        return {
            term: self._loans.quote(principal_pence, term).instalments[0].amount_pence
            for term in TERM_CHOICES
        }

    async def choose_term(self, telegram_id: int, term_months: int) -> Application:
        if term_months not in TERM_CHOICES:
            raise StaleApplication()
        current = await self._dialogs.get(telegram_id)
        if _at(current, STEP_CONFIRM) and current.data["term"] == term_months:
            return await self.pending(telegram_id)  # a double tap: the same summary and key
        dialog = await self._dialog(telegram_id, STEP_TERM)
        return await self._quote(telegram_id, int(dialog.data["amount"]), term_months)

    async def pending(self, telegram_id: int) -> Application:
        """The summary waiting for Confirm (to show it again)."""
        dialog = await self._dialog(telegram_id, STEP_CONFIRM)
        loan_quote = self._loans.quote(int(dialog.data["amount"]), int(dialog.data["term"]))
        return Application(loan_quote, str(dialog.data["key"]))

    async def confirm(self, telegram_id: int, application_key: str) -> LoanView:
        dialog = await self._dialogs.get(telegram_id)
        if _is_summary(dialog, application_key):
            amount, term = int(dialog.data["amount"]), int(dialog.data["term"])
            if dialog.data.get("quoted_on") != self._loans.today().isoformat():
                raise QuoteExpired(await self._quote(telegram_id, amount, term))
            try:
                loan = await self._loans.confirm(telegram_id, amount, term, application_key)
            except LoanError:
                # Over the limit by now (a score drop, another loan): this application is over.
                await self._leave(telegram_id)
                raise
            await self._leave(telegram_id)
            return loan
        made = await self._loans.loan_for_application(telegram_id, application_key)
        if made is None:
            raise StaleApplication()
        return made

    async def cancel(self, telegram_id: int, application_key: str) -> None:
        """Cancel on the summary: only that summary's own, still-open application."""
        if not _is_summary(await self._dialogs.get(telegram_id), application_key):
            raise StaleApplication()
        await self._dialogs.clear(telegram_id)

    async def _quote(self, telegram_id: int, amount: int, term: int) -> Application:
        today = self._loans.today()  # once, so the dates shown and the day recorded agree
        loan_quote = quote(amount, term, today)
        key = new_application_key()
        data = {"amount": amount, "term": term, "key": key, "quoted_on": today.isoformat()}
        await self._dialogs.set(telegram_id, Dialog(FLOW, STEP_CONFIRM, data))
        return Application(loan_quote, key)

    async def _dialog(self, telegram_id: int, step: str) -> Dialog:
        dialog = await self._dialogs.get(telegram_id)
        if not _at(dialog, step):
            raise StaleApplication()
        return dialog

    async def _still_eligible(self, telegram_id: int) -> Eligibility:
        eligibility = await self._loans.eligibility(telegram_id)
        if not eligibility.can_borrow:
            await self._leave(telegram_id)
            raise NoLongerEligible(eligibility)
        return eligibility

    async def _leave(self, telegram_id: int) -> None:
        """End a loan conversation, leaving any other conversation alone."""
        dialog = await self._dialogs.get(telegram_id)
        if dialog is not None and dialog.flow == FLOW:
            await self._dialogs.clear(telegram_id)


def _at(dialog: Dialog | None, step: str) -> TypeGuard[Dialog]:
    return dialog is not None and dialog.flow == FLOW and dialog.step == step


def _is_summary(dialog: Dialog | None, application_key: str) -> TypeGuard[Dialog]:
    return _at(dialog, STEP_CONFIRM) and dialog.data.get("key") == application_key


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
