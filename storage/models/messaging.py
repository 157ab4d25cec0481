"""Messages the bot starts (the outbox) and the shared send budget."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
from storage.models.base import Base
from storage.statuses import (
    OutboxStatus,
)


class OutboxMessage(Base):
    """A message the bot starts (score alert, reminder, promotion), kept until it is delivered.

    The dispatcher claims rows in priority order and marks each with what happened. A row left
    `sending` by a crash is marked `uncertain` at the next start rather than sent again: at most
    the messages in flight at a crash are in doubt, and nobody gets one twice.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "priority", "next_attempt_at", "id"),
        Index("ix_outbox_chat", "chat_id", "status"),
        UniqueConstraint("promotion_id", "citizen_id", name="uq_outbox_promotion_citizen"),
        Index("ix_outbox_promotion_status", "promotion_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    citizen_id: Mapped[int | None] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), default=None
    )
    kind: Mapped[str] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(Integer)  # lower goes first
    # None for promotion rows: the text is the promotion's, stored once and rendered at send
    # time (services.promotion_messages.render_promotion), not copied into millions of rows.
    text: Mapped[str | None] = mapped_column(String(4096))
    reply_markup: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    # pending, sending, sent, failed, unreachable, cancelled, uncertain
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(String(200), default=None)
    # Set on promotion messages only. The unique pair is the database's guarantee that a
    # fan-out run twice (a restart, a second instance) can't queue one promotion twice to one
    # person; NULLs are distinct, so other kinds of message are unaffected.
    promotion_id: Mapped[int | None] = mapped_column(
        ForeignKey("promotions.id", ondelete="CASCADE"), default=None
    )

    @classmethod
    def due_now(
        cls,
        *,
        chat_id: int,
        citizen_id: int | None,
        kind: str,
        priority: int,
        text: str,
        now: datetime,
        reply_markup: dict[str, Any] | None = None,
    ) -> OutboxMessage:
        """A new row, pending and due at once: how every message the bot starts is queued."""
        return cls(
            chat_id=chat_id,
            citizen_id=citizen_id,
            kind=kind,
            priority=priority,
            text=text,
            reply_markup=reply_markup,
            **pending_defaults(now),
        )


def pending_defaults(now: object) -> dict[str, object]:
    """The columns every new outbox row starts with: pending, never tried, due at once.

    One definition for every way of queuing: a row at a time (OutboxMessage.due_now) and the
    set-based inserts (storage.repositories.outbox), where `now` may be a SQL literal or the
    bulk driver's form of a timestamp rather than a datetime.
    """
    return {
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


class SendBudgetRow(Base):
    """The bot's shared token bucket before send_seats replaced it (migration 0028).

    Unused since then; kept one release so instances of the previous version still running
    during a rolling deploy can pace themselves. A later migration drops it.
    """

    __tablename__ = "send_budgets"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class SendSeatRow(Base):
    """One of the bot's seats in its rolling second (notifications.send_budget): a bot sending
    at R a second has R seats, and every message Telegram is sent holds one.

    `released_at` is when the seat is free again, in seconds since the epoch: a second after
    Telegram answered the message sent on it, or far ahead while an instance holds it.
    """

    __tablename__ = "send_seats"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seat: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    released_at: Mapped[float] = mapped_column(Float)
