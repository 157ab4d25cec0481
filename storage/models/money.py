"""Loans, instalments, repayments and reminder decisions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
from storage.models.base import Base


class Loan(Base):
    """A small instalment loan from the lending partner. Money is integer pence throughout."""

    __tablename__ = "loans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), index=True
    )
    # One confirmed application, one loan: a double-tapped Confirm carries the same key.
    application_key: Mapped[str] = mapped_column(String(64), unique=True)
    principal_pence: Mapped[int] = mapped_column(Integer)
    term_months: Mapped[int] = mapped_column(Integer)
    annual_rate_bp: Mapped[int] = mapped_column(Integer)  # basis points: 1990 = 19.90%
    apr_bp: Mapped[int] = mapped_column(Integer)
    total_repayable_pence: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # active, repaid, defaulted
    created_at: Mapped[datetime] = mapped_column()


class Instalment(Base):
    __tablename__ = "instalments"
    __table_args__ = (
        UniqueConstraint("loan_id", "number", name="uq_instalments_loan_number"),
        Index("ix_instalments_unpaid_due", "paid_at", "due_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    amount_pence: Mapped[int] = mapped_column(Integer)
    principal_pence: Mapped[int] = mapped_column(Integer)
    late_fee_pence: Mapped[int] = mapped_column(Integer, default=0)
    paid_at: Mapped[datetime | None] = mapped_column(default=None)
    credit_pence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Paid towards this instalment already (an overpayment carried over): less is due."""
    invoice_token: Mapped[str | None] = mapped_column(String(16), default=None)
    """The live invoice's token (in its payload): any other invoice is refused at checkout."""
    invoice_amount_pence: Mapped[int | None] = mapped_column(Integer, default=None)
    invoice_offered_at: Mapped[datetime | None] = mapped_column(default=None)
    """When Pay last offered the live invoice: it can be paid for INVOICE_VALID_FOR after."""
    checkout_until: Mapped[datetime | None] = mapped_column(default=None)
    """A pre-checkout approved a payment: no second one is approved until this passes."""


class LoanPayment(Base):
    """A repayment, recorded once per Telegram charge id (or lender reference)."""

    __tablename__ = "loan_payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instalment_id: Mapped[int] = mapped_column(ForeignKey("instalments.id", ondelete="CASCADE"))
    charge_id: Mapped[str] = mapped_column(String(128), unique=True)
    amount_pence: Mapped[int] = mapped_column(Integer)
    paid_at: Mapped[datetime] = mapped_column()


class Overpayment(Base):
    """Money that arrived beyond what its instalment needed, once per Telegram charge: used
    for the borrower's next instalments, and whatever is left listed for refund."""

    __tablename__ = "overpayments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    charge_id: Mapped[str] = mapped_column(String(128), unique=True)
    citizen_id: Mapped[int | None] = mapped_column(
        ForeignKey("citizens.id", ondelete="SET NULL"), index=True, default=None
    )
    """The payer's account, if they have one (not always the borrower's)."""
    payer_telegram_id: Mapped[int] = mapped_column(BigInteger)
    instalment_id: Mapped[int | None] = mapped_column(
        ForeignKey("instalments.id", ondelete="SET NULL"), default=None
    )
    """The instalment the invoice was for."""
    reason: Mapped[str] = mapped_column(String(24))
    amount_pence: Mapped[int] = mapped_column(Integer)
    """All of it that wasn't needed for the invoice's own instalment."""
    applied_pence: Mapped[int] = mapped_column(Integer, default=0)
    """Of that, used for the borrower's later instalments."""
    refund_pence: Mapped[int] = mapped_column(Integer, default=0)
    refund_status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column()
    refunded_at: Mapped[datetime | None] = mapped_column(default=None)


class Reminder(Base):
    """One row per instalment and reminder kind once decided (sent or skipped as stale), so a
    reminder is never sent twice, across restarts and instances."""

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("instalment_id", "kind", name="uq_reminders_instalment_kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instalment_id: Mapped[int] = mapped_column(ForeignKey("instalments.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    # queued, skipped_stale, skipped_opted_out, skipped_unreachable
    outcome: Mapped[str] = mapped_column(String(32))
    decided_at: Mapped[datetime] = mapped_column()


OPEN_ONLY = text("status = 'open'")


class PaymentPlanRequest(Base):
    """ "I can't pay this": a borrower asks for a payment plan on a loan. While open (and once
    agreed) the loan's reminders pause and no late fee is added; a reviewer agrees or declines
    it with a note the borrower reads. At most one open request per loan."""

    __tablename__ = "payment_plan_requests"
    __table_args__ = (
        Index(
            "uq_payment_plan_requests_open_loan",
            "loan_id",
            unique=True,
            sqlite_where=OPEN_ONLY,
            postgresql_where=OPEN_ONLY,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), index=True
    )
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id", ondelete="CASCADE"))
    instalment_id: Mapped[int | None] = mapped_column(
        ForeignKey("instalments.id", ondelete="SET NULL"), default=None
    )
    """The instalment the button was on (the one they can't pay)."""
    status: Mapped[str] = mapped_column(String(16))  # open, agreed, declined
    created_at: Mapped[datetime] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    reviewer_telegram_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    reviewer_note: Mapped[str | None] = mapped_column(String(500), default=None)
