"""Payment plans: "I can't pay this" on a due or overdue instalment asks a person at Britizen
for a payment plan.

While a loan's request is open (and once it is agreed) the loan is *held*: the reminder scan
skips its instalments and `mark_overdue` adds no late fee (storage.repositories.payment_plans
says which loans are held). One open request per loan: the loan's row lock serialises two taps
and a partial unique index backs it. A reviewer (an admin, ``BRITIZEN_ADMIN_IDS``) sees open
requests in /review and agrees or declines with a note; the service checks the right itself.
The borrower hears the outcome through the outbox; a declined request releases the hold, so
reminders and late fees resume from the next scan.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from services.clock import Clock, as_aware_utc
from services.errors import NotAllowed, ServiceError
from services.languages import language_of, tell_citizen
from storage.db import Database
from storage.models import Citizen, Instalment, Loan, PaymentPlanRequest
from storage.repositories import citizens, outbox
from storage.repositories import loans as loan_repo
from storage.repositories import payment_plans as repo
from storage.statuses import LoanStatus, PaymentPlanStatus
from texts import payment_plans as texts
from texts.i18n import worded_in

ASK_AHEAD = timedelta(days=3)
"""How soon before its due date an instalment offers "I can't pay this" (the first reminder's
moment); an overdue one always does."""
PLAN_PRIORITY = 3
MAX_NOTE = 500


class PlanError(ServiceError):
    """A refusal fit to show; the message is plain English."""


class NotAskable(PlanError):
    def __init__(self) -> None:
        super().__init__(texts.NOT_ASKABLE)


class AlreadyAsked(PlanError):
    def __init__(self) -> None:
        super().__init__(texts.ALREADY_ASKED)


class AlreadyAgreed(PlanError):
    def __init__(self) -> None:
        super().__init__(texts.ALREADY_AGREED)


class NotReviewable(PlanError):
    def __init__(self) -> None:
        super().__init__(texts.NOT_REVIEWABLE)


def can_ask(due_on: date, today: date) -> bool:
    """Whether an unpaid instalment offers "I can't pay this" today."""
    return due_on - today <= ASK_AHEAD


@dataclass(frozen=True)
class PlanAsked:
    id: int
    principal_pence: int
    instalment_number: int
    due_on: date


@dataclass(frozen=True)
class PlanQueueItem:
    id: int
    citizen_name: str
    principal_pence: int
    term_months: int
    left_to_pay_pence: int
    instalment_number: int | None
    due_on: date | None
    payable_pence: int
    created_at: datetime
    waiting: int
    """How many open requests there are in all, this one included."""


@dataclass(frozen=True)
class PlanDecision:
    id: int
    agreed: bool


def _payable(i: Instalment) -> int:
    return i.amount_pence + i.late_fee_pence - (i.credit_pence or 0)


class PaymentPlanService:
    def __init__(
        self, db: Database, clock: Clock, timezone: ZoneInfo, admin_ids: Collection[int] = ()
    ) -> None:
        self._db = db
        self._clock = clock
        self._tz = timezone
        self._admins = tuple(sorted(admin_ids))

    def today(self) -> date:
        return self._clock().astimezone(self._tz).date()

    async def held_loans(self, telegram_id: int) -> dict[int, str]:
        """The person's loans with an open or agreed request: loan id -> status."""
        async with self._db.transaction() as session:
            me = await citizens.id_by_telegram_id(session, telegram_id)
            return {} if me is None else await repo.holding_by_loan(session, me)

    async def ask(self, telegram_id: int, instalment_id: int) -> PlanAsked:
        """The "I can't pay this" button: open a request for the instalment's loan, once."""
        now = self._clock()
        today = self.today()
        try:
            async with self._db.transaction() as session:
                await loan_repo.lock_loan_of_instalment(session, instalment_id)
                found = await loan_repo.instalment_with_borrower(session, instalment_id)
                if found is None or found[2].telegram_id != telegram_id:
                    raise NotAskable()
                instalment, loan, borrower = found
                if (
                    instalment.paid_at is not None
                    or loan.status != LoanStatus.ACTIVE
                    or not can_ask(instalment.due_on, today)
                ):
                    raise NotAskable()
                current = await repo.holding_request(session, loan.id)
                if current is not None:
                    raise (
                        AlreadyAsked()
                        if current.status == PaymentPlanStatus.OPEN
                        else AlreadyAgreed()
                    )
                request = PaymentPlanRequest(
                    citizen_id=borrower.id,
                    loan_id=loan.id,
                    instalment_id=instalment.id,
                    status=PaymentPlanStatus.OPEN,
                    created_at=now,
                )
                session.add(request)
                await session.flush()  # a second open request for the loan fails here
                for admin in self._admins:
                    outbox.enqueue(
                        session,
                        chat_id=admin,
                        citizen_id=None,
                        kind="payment_plan_admin",
                        priority=PLAN_PRIORITY,
                        text=worded_in(
                            await language_of(session, admin), texts.new_request_text, request.id
                        ),
                        now=now,
                    )
                return PlanAsked(
                    request.id, loan.principal_pence, instalment.number, instalment.due_on
                )
        except IntegrityError:
            raise AlreadyAsked() from None

    def is_reviewer(self, telegram_id: int) -> bool:
        return telegram_id in self._admins

    def _require_reviewer(self, telegram_id: int) -> None:
        # The service checks the right itself: a handler forgetting to is not a way in.
        if not self.is_reviewer(telegram_id):
            raise NotAllowed()

    async def next_in_queue(self, reviewer_id: int) -> PlanQueueItem | None:
        """The oldest open request, for a reviewer (NotAllowed for anyone else)."""
        self._require_reviewer(reviewer_id)
        async with self._db.transaction() as session:
            row = await repo.oldest_open(session)
            if row is None:
                return None
            waiting = await repo.count_open(session)
            citizen = await session.get(Citizen, row.citizen_id)
            loan = await session.get(Loan, row.loan_id)
            assert citizen is not None and loan is not None
            unpaid = await loan_repo.unpaid_instalments(session, loan.id)
            instalment = (
                None
                if row.instalment_id is None
                else await session.get(Instalment, row.instalment_id)
            )
            return PlanQueueItem(
                row.id,
                citizen.display_name,
                loan.principal_pence,
                loan.term_months,
                sum(_payable(i) for i in unpaid),
                None if instalment is None else instalment.number,
                None if instalment is None else instalment.due_on,
                0 if instalment is None or instalment.paid_at else _payable(instalment),
                as_aware_utc(row.created_at),
                waiting,
            )

    async def review(
        self, request_id: int, reviewer_id: int, agreed: bool, note: str
    ) -> PlanDecision:
        """Agree or decline an open request; only a reviewer may (NotAllowed otherwise)."""
        self._require_reviewer(reviewer_id)
        note = " ".join(note.split())[:MAX_NOTE]
        now = self._clock()
        async with self._db.transaction() as session:
            row = await session.get(PaymentPlanRequest, request_id)
            if row is None or row.status != PaymentPlanStatus.OPEN:
                raise NotReviewable()
            loan = await session.get(Loan, row.loan_id)
            citizen = await session.get(Citizen, row.citizen_id)
            assert loan is not None and citizen is not None
            row.status = PaymentPlanStatus.AGREED if agreed else PaymentPlanStatus.DECLINED
            row.decided_at = now
            row.reviewer_telegram_id = reviewer_id
            row.reviewer_note = note or None
            await tell_citizen(
                session, citizen, "payment_plan_outcome", now,
                texts.outcome_text, row.id, loan.principal_pence, agreed, note,
                priority=PLAN_PRIORITY,
            )  # fmt: skip
            return PlanDecision(row.id, agreed)
