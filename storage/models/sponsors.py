"""Sponsors, promotions, vouchers and redemptions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
from storage.models.base import Base
from storage.statuses import (
    PromotionStatus,
    VoucherKind,
)


class Sponsor(Base):
    """A business that pushes promotions through the HTTP API.

    Its API key is never stored: only a keyed hash of it (services.secrets.keyed_hash with the
    "api-key" purpose), unique so a presented key is found by one indexed lookup. A copy of
    the database therefore yields no working keys; a lost key means issuing a new one.
    """

    __tablename__ = "sponsors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ApiRateCount(Base):
    """Requests per API key per minute (services.rate_limits): one row per caller per window,
    counted by an atomic upsert, so the limit holds across every instance on this database.
    ``window`` is the minute number since the epoch; a caller's older rows are deleted when
    its next window opens."""

    __tablename__ = "api_rate_counts"

    caller: Mapped[str] = mapped_column(String(32), primary_key=True)
    window: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hits: Mapped[int] = mapped_column(Integer)


class Promotion(Base):
    """A sponsor's offer to an audience. Created through the HTTP API; fanned out into one
    outbox row per recipient when ``starts_at`` comes (status scheduled -> sending); the
    dispatcher then delivers those rows. Cancelling stops every row not yet sent.

    Status: scheduled, sending (fanned out; rows being delivered), cancelled, expired.
    """

    __tablename__ = "promotions"
    __table_args__ = (Index("ix_promotions_status_starts", "status", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sponsor_id: Mapped[int] = mapped_column(
        ForeignKey("sponsors.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(String(4096))
    button_label: Mapped[str | None] = mapped_column(String(64), default=None)
    button_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    # Audience. Only opted-in, reachable citizens are ever included, whatever is set here.
    # min_band is kept as given (for display); min_score is the effective threshold (the
    # higher of the given score and the band's floor).
    audience_min_band: Mapped[str | None] = mapped_column(String(16), default=None)
    audience_min_score: Mapped[int | None] = mapped_column(Integer, default=None)
    audience_districts: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    audience_max_recipients: Mapped[int | None] = mapped_column(Integer, default=None)
    starts_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    # none, shared (one code for everyone: voucher_code), unique (voucher_count codes made
    # by Britizen, one per person)
    voucher_kind: Mapped[str] = mapped_column(String(16), default=VoucherKind.NONE.value)
    voucher_code: Mapped[str | None] = mapped_column(String(64), default=None)
    voucher_count: Mapped[int | None] = mapped_column(Integer, default=None)
    status: Mapped[str] = mapped_column(String(16), default=PromotionStatus.SCHEDULED.value)
    # How many people the audience matched: at creation, then the number actually queued.
    targeted: Mapped[int] = mapped_column(Integer, default=0)
    fanned_out_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column()
    # -- issue 21: an outbox that stays small ----------------------------------------------
    # The sponsor pays Telegram for speed: sent with allow_paid_broadcast at
    # BRITIZEN_PAID_SEND_RATE (Telegram allows up to 1,000 a second) instead of the free rate.
    paid_broadcast: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The fan-out goes in chunks of citizen ids, each its own transaction: the last citizen id
    # queued (None before it starts), and when the last chunk committed (None: resume it).
    fanout_cursor: Mapped[int | None] = mapped_column(BigInteger, default=None)
    fanout_finished_at: Mapped[datetime | None] = mapped_column(default=None)
    # Outbox rows pruned (notifications.housekeeping), by their final status: the sponsor's
    # counts are these plus the rows still there.
    pruned_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pruned_failed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pruned_unreachable: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pruned_uncertain: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pruned_cancelled: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Voucher(Base):
    """One of a promotion's unique codes. ``citizen_id`` is set when the code is issued; the
    unique pair means a code goes to one person and a person gets one code per promotion,
    whatever the concurrency."""

    __tablename__ = "vouchers"
    __table_args__ = (
        UniqueConstraint("promotion_id", "code", name="uq_vouchers_promotion_code"),
        UniqueConstraint("promotion_id", "citizen_id", name="uq_vouchers_promotion_citizen"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    promotion_id: Mapped[int] = mapped_column(ForeignKey("promotions.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    citizen_id: Mapped[int | None] = mapped_column(
        ForeignKey("citizens.id", ondelete="SET NULL"), default=None
    )
    issued_at: Mapped[datetime | None] = mapped_column(default=None)


class Redemption(Base):
    """A citizen revealed (redeemed) a promotion's voucher: once per person per promotion.
    Counted for the sponsor and in the community dimension of the score."""

    __tablename__ = "redemptions"
    __table_args__ = (
        UniqueConstraint("promotion_id", "citizen_id", name="uq_redemptions_promotion_citizen"),
        Index("ix_redemptions_citizen", "citizen_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    promotion_id: Mapped[int] = mapped_column(ForeignKey("promotions.id", ondelete="CASCADE"))
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id", ondelete="CASCADE"))
    code: Mapped[str | None] = mapped_column(String(64), default=None)
    redeemed_at: Mapped[datetime] = mapped_column()


class Operator(Base):
    """Britizen's own staff who read the growth report (``bz_op_...`` keys, hashed like a
    sponsor's). A key of this kind opens only the operator routes, and no other key opens them."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
