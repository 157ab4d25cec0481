"""SQLAlchemy 2 models. Every durable piece of state lives here, none only in memory.

Personal data is kept to what the product needs: the NI number only as a keyed HMAC (for "one
number, one account") and a masked form for display; the postcode only as its district.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    false,
    func,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.statuses import (
    CHECKED_COLUMNS,
    OutboxStatus,
    PromotionStatus,
    VoucherKind,
    check_sql,
)

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
    }


class Citizen(Base):
    __tablename__ = "citizens"

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


class ScoreHistory(Base):
    """Append-only: one row per citizen per scoring pass (and the starting score)."""

    __tablename__ = "score_history"
    __table_args__ = (Index("ix_score_history_citizen_time", "citizen_id", "computed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column(Integer)
    band: Mapped[str] = mapped_column(String(16))
    computed_at: Mapped[datetime] = mapped_column()


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
    text: Mapped[str] = mapped_column(String(4096))
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
            status=OutboxStatus.PENDING.value,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )


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


class LoanPayment(Base):
    """A repayment, recorded once per Telegram charge id (or lender reference)."""

    __tablename__ = "loan_payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instalment_id: Mapped[int] = mapped_column(ForeignKey("instalments.id", ondelete="CASCADE"))
    charge_id: Mapped[str] = mapped_column(String(128), unique=True)
    amount_pence: Mapped[int] = mapped_column(Integer)
    paid_at: Mapped[datetime] = mapped_column()


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


# --- Partners, consented sharing, data rights (issue 7) ---------------------------------------


class Partner(Base):
    """A data partner (a utility, a lender): reports payment events and reads scores a citizen
    has agreed to share. Like sponsors, only a keyed hash of its API key (``bz_pt_...``) is kept."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class HeldPaymentEvent(Base):
    """A partner's event about someone not (yet) registered, known only by the keyed hash of
    the NI number. Moved into payment_events if they register within 90 days, else purged.
    Unique per source and event id, like payment_events, so a resend is recognised."""

    __tablename__ = "held_payment_events"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_held_payment_events_source_external"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ni_hash: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))
    occurred_on: Mapped[date] = mapped_column(Date)
    received_at: Mapped[datetime] = mapped_column(index=True)


class Erasure(Base):
    """What is left of an erased account: the NI hash and nothing else about the person.

    It refuses partners' later events about them, keeps a re-registration from being
    re-subscribed to promotions, and remembers whose invite credited them, so deleting and
    registering again through the same link earns no second referral."""

    __tablename__ = "erasures"

    ni_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column()
    referral_inviter_id: Mapped[int | None] = mapped_column(Integer, default=None)


class ShareCode(Base):
    """A one-time code a citizen hands to a third party: valid 10 minutes, single use, stored
    only as a keyed hash."""

    __tablename__ = "share_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class AccessRequest(Base):
    """A partner asking to see a citizen's score; the citizen answers Allow or Deny.

    ``citizen_id`` is NULL when the NI number matched nobody: the partner sees a request that
    simply stays pending, so asking reveals nothing about who is registered."""

    __tablename__ = "access_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    citizen_id: Mapped[int | None] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), default=None, index=True
    )
    status: Mapped[str] = mapped_column(String(16))  # pending, allowed, denied, used, expired
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    answered_at: Mapped[datetime | None] = mapped_column(default=None)


class ScoreAccess(Base):
    """Every time a partner read a citizen's score, and how: what /share lists."""

    __tablename__ = "score_accesses"
    __table_args__ = (Index("ix_score_accesses_citizen_time", "citizen_id", "accessed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id", ondelete="CASCADE"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    via: Mapped[str] = mapped_column(String(16))  # code, request
    accessed_at: Mapped[datetime] = mapped_column()


class Dispute(Base):
    """A citizen contesting a dimension, a partner's event or an automated decision.

    An event under dispute has ``payment_events.disputed`` set, which keeps it out of scoring
    until an admin rules: upheld keeps it out for good, rejected puts it back."""

    __tablename__ = "disputes"
    __table_args__ = (Index("ix_disputes_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # dimension, event, decision
    subject: Mapped[str] = mapped_column(String(64))
    payment_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("payment_events.id", ondelete="SET NULL"), default=None
    )
    statement: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))  # open, upheld, rejected
    created_at: Mapped[datetime] = mapped_column()
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
    reviewer_telegram_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    review_note: Mapped[str | None] = mapped_column(String(500), default=None)


class SendBudgetRow(Base):
    """The bot's shared send budget (notifications.send_budget): a token bucket per bot.

    Every instance leases tokens from this row before sending, so BRITIZEN_SEND_RATE holds
    for the bot as a whole however many instances reply and broadcast. Times are seconds since
    the epoch: the bucket only ever subtracts two of them.
    """

    __tablename__ = "send_budgets"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


# Every status/kind/outcome column accepts only its enum's values (storage/statuses.py); the
# constraints are created by migration 0011 under the same names.
for (_table, _column), _values in CHECKED_COLUMNS.items():
    Base.metadata.tables[_table].append_constraint(
        CheckConstraint(check_sql(_column, _values), name=f"{_column}_values")
    )
