"""Loans: eligibility from the benefit tiers, quotes, confirmation and repayments.

Confirmation is the one place money is promised, so it is guarded twice: the application key
(one per quote shown) is unique, so a double-tapped Confirm finds the loan it already made; and
the limit check runs after taking a write lock on the citizen's row, so two applications in
parallel are serialised and can never together exceed the limit.

:class:`LoanApplications` is the /loan conversation (amount, term, summary, confirm). Its state is
a dialog row, never process memory, and every step re-reads that row, so a stale or forged button
changes nothing and a restart carries on at the same step.

The package: :mod:`~services.loans.model` (errors and views), :mod:`~services.loans.eligibility`,
:mod:`~services.loans.lending`, :mod:`~services.loans.repayments` and
:mod:`~services.loans.dialog`; import from the package.
"""

from services.loans.dialog import (
    FLOW,
    STEP_AMOUNT,
    STEP_CONFIRM,
    STEP_TERM,
    STEP_VERIFY,
    Application,
    IdentityRequested,
    LoanApplications,
    NoLongerEligible,
    QuoteExpired,
)
from services.loans.eligibility import (
    LoanEligibility,
)
from services.loans.identity import BorrowingLocked, IdentityCheck, WrongIdentity
from services.loans.lending import (
    LoanLending,
)
from services.loans.model import (
    CURRENCY,
    LOAN_SOURCE,
    Eligibility,
    InstalmentView,
    LoanError,
    LoanView,
    NotEligible,
    OverLimit,
    PaymentRejected,
    Refusal,
    StaleApplication,
    Unlock,
    new_application_key,
    parse_payment_payload,
    payment_payload,
)
from services.loans.repayments import (
    LoanService,
    mark_overdue,
)

__all__ = [
    "CURRENCY",
    "FLOW",
    "LOAN_SOURCE",
    "STEP_AMOUNT",
    "STEP_CONFIRM",
    "STEP_TERM",
    "STEP_VERIFY",
    "Application",
    "BorrowingLocked",
    "Eligibility",
    "IdentityCheck",
    "IdentityRequested",
    "InstalmentView",
    "LoanApplications",
    "LoanEligibility",
    "LoanError",
    "LoanLending",
    "LoanService",
    "LoanView",
    "NoLongerEligible",
    "NotEligible",
    "OverLimit",
    "PaymentRejected",
    "QuoteExpired",
    "Refusal",
    "StaleApplication",
    "Unlock",
    "WrongIdentity",
    "mark_overdue",
    "new_application_key",
    "parse_payment_payload",
    "payment_payload",
]
