"""Citizens and what hangs off them: scores, history, dialogs, friendships, invites, payments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    func,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
from storage.models.base import Base


class Citizen(Base):
    __tablename__ = "citizens"
    # The growth report reads (district, registered_at) for everyone: a covering index makes
    # that one ordered pass over a narrow index instead of a sort of the whole table.
    __table_args__ = (
        Index("ix_citizens_district_registered", "postcode_district", "registered_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    display_name: Mapped[str] = mapped_column(String(64))
    # HMAC-SHA256 of the canonical NI number keyed by BRITIZEN_SECRET_KEY (hex).
    ni_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ni_masked: Mapped[str] = mapped_column(String(20))
    date_of_birth: Mapped[date] = mapped_column(Date)
    postcode_district: Mapped[str | None] = mapped_column(String(4))
    registered_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Set when Telegram answers 403 (blocked/deactivated): we stop messaging them.
    unreachable_at: Mapped[datetime | None] = mapped_column(default=None)
    # Privacy choices (/settings). The defaults protect privacy: the score is shown only to
    # accepted friends, nobody is on a leaderboard until they opt in. Server defaults so bulk
    # inserts (demo data) and rows from before these columns get the same values.
    score_visibility: Mapped[str] = mapped_column(
        String(16), default="friends", server_default="friends"
    )  # friends, nobody
    on_leaderboard: Mapped[bool] = mapped_column(default=False, server_default=false())
    accepts_friend_requests: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Friendly loan reminders (3 days before, due today); overdue reminders can't be switched off.
    friendly_reminders: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Sponsor promotions are marketing: nothing is sent until the citizen opts in. Asked once
    # after registration (marketing_asked_at records that we asked), changeable in /settings.
    marketing_opt_in: Mapped[bool] = mapped_column(default=False, server_default=false())
    marketing_asked_at: Mapped[datetime | None] = mapped_column(default=None)
    # A loan is confirmed by typing the NI number again: wrong tries in a row, and the lock
    # three of them put on borrowing (a stolen phone can't borrow).
    ni_check_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    borrowing_locked_until: Mapped[datetime | None] = mapped_column(default=None)
    # "Help Britizen grow" (/settings): occasional asks to invite people (ambassador invitations,
    # area campaigns). Off unless the citizen opts in; every such message has a Stop button.
    growth_opt_in: Mapped[bool] = mapped_column(default=False, server_default=false())


class Score(Base):
    """The current score of each citizen, with its explanation."""

    __tablename__ = "scores"

    citizen_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), primary_key=True
    )
    score: Mapped[int] = mapped_column(Integer)
    band: Mapped[str] = mapped_column(String(16))
    previous_score: Mapped[int | None] = mapped_column(Integer, default=None)
    breakdown: Mapped[dict[str, Any]] = mapped_column(default=dict)
    computed_at: Mapped[datetime] = mapped_column()
    # Filled by a scoring pass (NULL for a starting score): each dimension's points and the graph
    # features used, as plain columns so a million rows are written without building JSON, and
    # so /why can rebuild the same explanation on demand.
    as_of: Mapped[date | None] = mapped_column(Date, default=None)
    model_version: Mapped[int | None] = mapped_column(Integer, default=None)
    payment_history: Mapped[int | None] = mapped_column(Integer, default=None)
    commitments: Mapped[int | None] = mapped_column(Integer, default=None)
    account_standing: Mapped[int | None] = mapped_column(Integer, default=None)
    community: Mapped[int | None] = mapped_column(Integer, default=None)
    connections: Mapped[int | None] = mapped_column(Integer, default=None)
    friend_count: Mapped[int | None] = mapped_column(Integer, default=None)
    friends_mean_score: Mapped[float | None] = mapped_column(Float, default=None)
    pagerank: Mapped[float | None] = mapped_column(Float, default=None)
    effective_size: Mapped[float | None] = mapped_column(Float, default=None)
    # Network roles (descriptive, never read by the score): estimated normalised betweenness
    # (scoring.betweenness) and "connector", "broker" or NULL. Degree is friend_count.
    betweenness: Mapped[float | None] = mapped_column(Float, default=None)
    network_role: Mapped[str | None] = mapped_column(String(16), default=None)
    # The day of this person's newest score_history row: the pass records history only when the
    # score or a dimension changed, or when this is a week old (services/score_history.py).
    history_on: Mapped[date | None] = mapped_column(Date, default=None)


class ScoreHistory(Base):
    """Append-only: the starting score, then a row whenever a scoring pass changed the score or
    a dimension, and at least one a week (so a chart reaches the present). On PostgreSQL the
    table is partitioned by month (migration 0020) and old months are dropped by the retention
    rule in services/score_history.py."""

    __tablename__ = "score_history"
    __table_args__ = (Index("ix_score_history_citizen_time", "citizen_id", "computed_at"),)

    # 64-bit on PostgreSQL (a row a week for 55 million people passes 2^31 within a year);
    # SQLite's INTEGER PRIMARY KEY is 64-bit already.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column(Integer)
    band: Mapped[str] = mapped_column(String(16))
    computed_at: Mapped[datetime] = mapped_column()


class ScoringRun(Base):
    """One scoring pass: when it started, what day it scored as of, and how far its chunked
    write got (``written_through``: the highest citizen id whose chunk committed), so a pass
    interrupted half-way resumes instead of starting over (services/scoring_pass.py)."""

    __tablename__ = "scoring_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    computed_at: Mapped[datetime] = mapped_column()
    written_through: Mapped[int] = mapped_column(BigInteger, default=0)
    users: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class DialogState(Base):
    """Where a person is in a multi-step conversation, so a restart (or another instance) can
    carry on. Holds no NI number in clear: only its hash and masked form once validated."""

    __tablename__ = "dialog_states"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class ProcessedUpdate(Base):
    """Telegram update ids already handled: a redelivered update (restart before the offset was
    confirmed, webhook retry) is recognised and ignored."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)


class Friendship(Base):
    """One row per pair of people, stored with the smaller citizen id first so a pair can exist
    only once whoever asked. Only `accepted` rows count as friends (and for the score)."""

    __tablename__ = "friendships"
    __table_args__ = (
        UniqueConstraint("low_id", "high_id", name="uq_friendships_pair"),
        Index("ix_friendships_status_pair", "status", "low_id", "high_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    low_id: Mapped[int] = mapped_column(ForeignKey("citizens.id", ondelete="CASCADE"))
    high_id: Mapped[int] = mapped_column(ForeignKey("citizens.id", ondelete="CASCADE"), index=True)
    requester_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # pending, accepted, declined, removed, blocked
    created_at: Mapped[datetime] = mapped_column()
    responded_at: Mapped[datetime | None] = mapped_column(default=None)
    # The friend_requests row behind the current state. Buttons carry that id, so a button from
    # an earlier request between the same two people can't answer a later one. No foreign key:
    # the pass and demo data write friendships without requests.
    request_id: Mapped[int | None] = mapped_column(Integer, default=None)


class FriendRequest(Base):
    """Every friend request ever sent, one row each: what the daily limit counts, and the id the
    recipient's Accept / Decline / Block buttons carry."""

    __tablename__ = "friend_requests"
    __table_args__ = (Index("ix_friend_requests_requester_time", "requester_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("citizens.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), index=True
    )
    via: Mapped[str] = mapped_column(String(16))  # contacts, link, invite
    created_at: Mapped[datetime] = mapped_column()


class InviteCode(Base):
    """A citizen's personal invite code, never stored in clear.

    The code is derived from the secret key and `nonce` (so it can be shown again) and found
    again through `code_hash`, a keyed hash of it. A copy of the database without the key
    yields neither working links nor a way to test guesses; a new nonce retires the old link.
    """

    __tablename__ = "invite_codes"

    citizen_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), primary_key=True
    )
    nonce: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column()
    # The growth report's referral funnel (migration 0024): times the link was opened by
    # someone without an account, and registrations completed through it (credited or not:
    # referrals holds the credited ones). Counters, not rows: nobody's opening is kept.
    opened_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_opened_at: Mapped[datetime | None] = mapped_column(default=None)
    registered_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Referral(Base):
    """A newcomer who completed registration through someone's invite link: one row per
    newcomer at most, so a referral is credited once. Counts towards the inviter's community
    points."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inviter_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), index=True
    )
    invitee_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column()


class PaymentEvent(Base):
    """A payment outcome that feeds the payment-history dimension: a loan instalment or a bill
    reported by a partner. Disputed events are kept but excluded from scoring until reviewed."""

    __tablename__ = "payment_events"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_payment_events_source_external"),
        Index("ix_payment_events_citizen", "citizen_id", "occurred_on"),
        Index("ix_payment_events_batch", "batch_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(64))  # "loan" or "partner:<id>"
    external_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))  # bill, loan_instalment
    outcome: Mapped[str] = mapped_column(String(16))  # on_time, late, missed
    occurred_on: Mapped[date] = mapped_column(Date)
    disputed: Mapped[bool] = mapped_column(default=False)
    recorded_at: Mapped[datetime] = mapped_column()
    # The partner request (and person) it came in with; NULL for Britizen's own loan events.
    # A held batch (event_batches.status) keeps its events out of scoring until released.
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_batches.id", ondelete="SET NULL"), default=None
    )


class LanguageChoice(Base):
    """The language a person reads Britizen in ('en' or 'cy'), keyed by Telegram id so it holds
    for people who have not registered (yet) too. A row exists once they choose with /language,
    or when they register (the language they registered in, so messages the bot starts for them,
    which have no Telegram `language_code` to go by, come in it). No row, or a row not
    `chosen`: Telegram's `language_code` decides (and a remembered row follows it)."""

    __tablename__ = "language_choices"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    language: Mapped[str] = mapped_column(String(2))
    chosen: Mapped[bool] = mapped_column(default=False, server_default=false())
    """True once the person picked it themselves (then registration never overrides it)."""
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
