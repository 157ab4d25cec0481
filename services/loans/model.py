"""Loans' vocabulary: errors, eligibility, views of loans and instalments, payment payloads."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from services.errors import ServiceError, StaleAction
from services.loan_terms import (
    AMOUNT_CHOICES_PENCE,
    MIN_LOAN_PENCE,
)
from storage.statuses import LoanStatus
from texts.credit import over_available

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

    UNDER_18 = "under_18"
    """Credit is for adults: it unlocks on their 18th birthday (`Eligibility.credit_from`)."""
    LOCKED = "locked"
    """Three wrong NI numbers when confirming: no borrowing until `Eligibility.locked_until`."""
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
    credit_from: date | None = None
    """Their 18th birthday while they are under 18 (no credit until then), else None."""
    locked_until: datetime | None = None
    """Borrowing is locked until then (three wrong NI numbers when confirming), else None."""

    @property
    def available_pence(self) -> int:
        return max(0, self.limit_pence - self.outstanding_pence)

    @property
    def can_borrow(self) -> bool:
        return (
            self.credit_from is None
            and self.locked_until is None
            and self.available_pence >= MIN_LOAN_PENCE
        )

    @property
    def refusal(self) -> Refusal | None:
        if self.credit_from is not None:
            return Refusal.UNDER_18
        if self.locked_until is not None:
            return Refusal.LOCKED
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
    credit_pence: int = 0
    """Already paid towards it from an earlier overpayment."""
    rebate_pence: int = 0
    """Interest saved if it is paid today, before its due date (services.settlement); 0 once
    paid (a paid instalment's amount is what it cost)."""

    @property
    def total_pence(self) -> int:
        """The instalment with any late fee: what it costs in all (as scheduled, until paid)."""
        return self.amount_pence + self.late_fee_pence

    @property
    def payable_pence(self) -> int:
        """What is still to pay now, paying today (0 once paid)."""
        if self.paid:
            return 0
        return max(0, self.total_pence - self.rebate_pence - self.credit_pence)

    @property
    def scheduled_pence(self) -> int:
        """What is still to pay on its due date (0 once paid)."""
        return 0 if self.paid else max(0, self.total_pence - self.credit_pence)


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
    def repaid(self) -> bool:
        return self.status == LoanStatus.REPAID

    @property
    def paid_pence(self) -> int:
        return sum(i.total_pence if i.paid else i.credit_pence for i in self.instalments)

    @property
    def remaining_pence(self) -> int:
        """Left to pay as scheduled."""
        return sum(i.scheduled_pence for i in self.instalments if not i.paid)

    @property
    def settle_pence(self) -> int:
        """What settling the loan in full today costs: every unpaid instalment at today's price."""
        return sum(i.payable_pence for i in self.instalments if not i.paid)

    @property
    def settle_saving_pence(self) -> int:
        """Interest saved by settling in full today."""
        return self.remaining_pence - self.settle_pence

    @property
    def saved_pence(self) -> int:
        """Interest saved so far by instalments paid early (each paid one's amount is what it
        cost; the unpaid ones' are as scheduled, and together they were the total repayable)."""
        return max(0, self.total_repayable_pence - sum(i.amount_pence for i in self.instalments))

    @property
    def unpaid_count(self) -> int:
        return sum(1 for i in self.instalments if not i.paid)

    @property
    def next_due(self) -> InstalmentView | None:
        return next((i for i in self.instalments if not i.paid), None)


def _over_limit(eligibility: Eligibility) -> OverLimit:
    return OverLimit(over_available(eligibility.available_pence))


def new_application_key() -> str:
    """A fresh key per quote shown; it travels in the Confirm button's callback data."""
    return secrets.token_urlsafe(12)


MAX_ROW_ID = 2**31 - 1
"""The largest id a row can have (PostgreSQL's integer): a bigger one is no instalment."""

INSTALMENT = "inst"
SETTLE = "settle"
"""Settling the loan in full: the invoice is kept on the loan's next unpaid instalment (its one
live invoice), for every unpaid instalment at today's price."""


def payment_payload(
    instalment_id: int, amount_pence: int, token: str | None = None, *, settle: bool = False
) -> str:
    """An invoice's payload: what it pays (an instalment, or settling the loan from that
    instalment on), the amount, and the live invoice's token."""
    base = f"{SETTLE if settle else INSTALMENT}:{instalment_id}:{amount_pence}"
    return base if token is None else f"{base}:{token}"


@dataclass(frozen=True)
class Payload:
    instalment_id: int
    amount_pence: int
    token: str | None
    """None on invoices made before tokens: never the live one."""
    settle: bool = False
    """Settles the whole loan (every unpaid instalment), not only this instalment."""


def parse_payment_payload(payload: str) -> Payload:
    parts = payload.split(":")
    if len(parts) not in (3, 4) or parts[0] not in (INSTALMENT, SETTLE):
        raise ValueError("not an instalment payment")
    if not (
        parts[1].isascii() and parts[1].isdigit() and parts[2].isascii() and parts[2].isdigit()
    ):
        raise ValueError("not an instalment payment")
    if len(parts[1]) > 10 or int(parts[1]) > MAX_ROW_ID:
        raise ValueError("not an instalment payment")  # no such row: PostgreSQL's int is 32-bit
    settle = parts[0] == SETTLE
    if settle and len(parts) != 4:
        raise ValueError("a settlement invoice always has a token")
    return Payload(int(parts[1]), int(parts[2]), parts[3] if len(parts) == 4 else None, settle)


def new_invoice_token() -> str:
    return secrets.token_hex(6)
