"""Every status, kind and outcome column's values, as StrEnums the database enforces.

Each enum here is backed by a CHECK constraint on its column (migration 0011, and
`CHECKED_COLUMNS` below keeps the models and the migration honest: a test compares them with
what the database refuses). StrEnum members compare equal to their strings, so code and SQL
that write the plain value keep working; new code should name the member.
"""

from __future__ import annotations

from enum import StrEnum


class FriendshipStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REMOVED = "removed"
    BLOCKED = "blocked"


class FriendVia(StrEnum):
    CONTACTS = "contacts"
    LINK = "link"
    INVITE = "invite"


class PaymentKind(StrEnum):
    BILL = "bill"
    LOAN_INSTALMENT = "loan_instalment"
    RENT = "rent"
    COUNCIL_TAX = "council_tax"


class PaymentOutcome(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    MISSED = "missed"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    CANCELLED = "cancelled"
    UNCERTAIN = "uncertain"
    """Left `sending` by a crash: never sent again, so nobody gets a message twice."""


class LoanStatus(StrEnum):
    ACTIVE = "active"
    REPAID = "repaid"
    DEFAULTED = "defaulted"


class ReminderOutcome(StrEnum):
    QUEUED = "queued"
    SKIPPED_STALE = "skipped_stale"
    SKIPPED_OPTED_OUT = "skipped_opted_out"
    SKIPPED_UNREACHABLE = "skipped_unreachable"


class PromotionStatus(StrEnum):
    SCHEDULED = "scheduled"
    SENDING = "sending"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class VoucherKind(StrEnum):
    NONE = "none"
    SHARED = "shared"
    UNIQUE = "unique"


class AccessRequestStatus(StrEnum):
    PENDING = "pending"
    ALLOWED = "allowed"
    DENIED = "denied"
    USED = "used"
    EXPIRED = "expired"


class DisputeKind(StrEnum):
    DIMENSION = "dimension"
    EVENT = "event"
    DECISION = "decision"
    BATCH = "batch"
    """A whole batch of a partner's events (one request's events about one person)."""


class BatchStatus(StrEnum):
    """Where a batch of a partner's events stands (services.event_rules)."""

    COUNTED = "counted"
    HELD = "held"
    """Beyond what a real account can produce: left out of scoring until an admin releases it."""
    RELEASED = "released"


class DisputeStatus(StrEnum):
    OPEN = "open"
    UPHELD = "upheld"
    REJECTED = "rejected"


class OverpaymentReason(StrEnum):
    """Why money that arrived wasn't (all) needed for the instalment its invoice was for."""

    ALREADY_PAID = "already_paid"
    """A second payment for an instalment already paid (Telegram delivered one after a race)."""
    MORE_THAN_DUE = "more_than_due"
    NOT_THE_BORROWER = "not_the_borrower"
    """Paid by someone other than the borrower: never counted against anyone's loan."""
    LOAN_CLOSED = "loan_closed"
    UNKNOWN_INVOICE = "unknown_invoice"


class RefundStatus(StrEnum):
    NONE = "none"
    """All of it went to later instalments: nothing to give back."""
    DUE = "due"
    REFUNDED = "refunded"


class PaymentPlanStatus(StrEnum):
    """A request for a payment plan ("I can't pay this"): while open, and once agreed, the
    loan's reminders and late fees are held."""

    OPEN = "open"
    AGREED = "agreed"
    DECLINED = "declined"


class NiClaimStatus(StrEnum):
    OPEN = "open"
    MOVED = "moved"
    REJECTED = "rejected"


class BoostReviewStatus(StrEnum):
    """A late or missed payment a Boost partner reported (services.boost): it counts only once
    the citizen confirms it, or once 30 days pass without a dispute."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"


class ShareScope(StrEnum):
    """What a /share code lets its holder learn (issue 20): one yes/no answer, unless the
    citizen explicitly chose to share the score itself."""

    CHECKS = "checks"
    SCORE = "score"


class CheckName(StrEnum):
    """The yes/no questions a partner may ask instead of reading the score (services.checks)."""

    BAND_AT_LEAST = "band_at_least"
    NO_MISSED_PAYMENTS_MONTHS = "no_missed_payments_months"
    VERIFIED_IDENTITY = "verified_identity"
    AGE_AT_LEAST = "age_at_least"


CHECKED_COLUMNS: dict[tuple[str, str], type[StrEnum]] = {
    ("friendships", "status"): FriendshipStatus,
    ("friend_requests", "via"): FriendVia,
    ("payment_events", "kind"): PaymentKind,
    ("payment_events", "outcome"): PaymentOutcome,
    ("held_payment_events", "kind"): PaymentKind,
    ("held_payment_events", "outcome"): PaymentOutcome,
    ("outbox", "status"): OutboxStatus,
    ("loans", "status"): LoanStatus,
    ("reminders", "outcome"): ReminderOutcome,
    ("promotions", "status"): PromotionStatus,
    ("promotions", "voucher_kind"): VoucherKind,
    ("access_requests", "status"): AccessRequestStatus,
    ("disputes", "kind"): DisputeKind,
    ("event_batches", "status"): BatchStatus,
    ("disputes", "status"): DisputeStatus,
    ("overpayments", "reason"): OverpaymentReason,
    ("overpayments", "refund_status"): RefundStatus,
    ("payment_plan_requests", "status"): PaymentPlanStatus,
    ("ni_claims", "status"): NiClaimStatus,
    ("boost_reviews", "status"): BoostReviewStatus,
    ("share_codes", "scope"): ShareScope,
    ("access_requests", "check_name"): CheckName,
    ("score_accesses", "check_name"): CheckName,
}
"""(table, column) -> the enum its CHECK constraint lists."""


def check_name(table: str, column: str) -> str:
    return f"ck_{table}_{column}_values"


def check_sql(column: str, values: type[StrEnum]) -> str:
    listed = ", ".join(f"'{member.value}'" for member in values)
    return f"{column} IN ({listed})"
