"""Partners, consented sharing, data rights and disputes."""

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
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
from storage.models.base import Base

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
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_batches.id", ondelete="SET NULL"), default=None, index=True
    )


class EventBatch(Base):
    """One partner request's events about one person: the unit the plausibility rule holds
    (services.event_rules), an admin releases and a citizen can dispute in one go.

    ``citizen_id`` is NULL while its events wait in held_payment_events for the person to
    register; registration fills it in as it moves them."""

    __tablename__ = "event_batches"
    __table_args__ = (Index("ix_event_batches_status", "status", "received_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    citizen_id: Mapped[int | None] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), default=None, index=True
    )
    status: Mapped[str] = mapped_column(String(16))  # counted, held, released
    events: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column()
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)


class Erasure(Base):
    """What is left of an erased account: the NI hash and nothing else about the person
    (`RetainedRecord` keeps their adverse payment records beside it, by the same hash).

    It keeps a re-registration from being re-subscribed to promotions and from earning anyone
    a second referral credit. (`referral_inviter_id` is no longer written: the hash alone
    is enough to refuse the credit.)"""

    __tablename__ = "erasures"

    ni_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column()
    referral_inviter_id: Mapped[int | None] = mapped_column(Integer, default=None)


class RetainedRecord(Base):
    """An adverse payment record (late or missed) of an erased account, kept by the NI hash
    for six years from the event, as UK credit files keep them: someone who rejoins gets it
    back, so erasing and rejoining never resets a score. Partner, kind, date and outcome only."""

    __tablename__ = "retained_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ni_hash: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))
    occurred_on: Mapped[date] = mapped_column(Date)
    keep_until: Mapped[date] = mapped_column(Date, index=True)


class PartnerBlock(Base):
    """A citizen never wants requests from this partner again (set in /share)."""

    __tablename__ = "partner_blocks"

    citizen_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), primary_key=True
    )
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column()


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
    # "checks": one yes/no answer (the default); "score": the citizen chose to share the score.
    scope: Mapped[str] = mapped_column(String(16), default="checks", server_default="checks")


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
    # The one yes/no question asked (services.checks), shown on the Allow prompt; NULL: the
    # partner asked for the score itself, and the prompt says so.
    check_name: Mapped[str | None] = mapped_column(String(32), default=None)
    check_value: Mapped[str | None] = mapped_column(String(16), default=None)


class ScoreAccess(Base):
    """Every time a partner read a citizen's score or asked a yes/no question, and how: what
    /share lists. ``check_name`` NULL: the score was read; else the question and its answer."""

    __tablename__ = "score_accesses"
    __table_args__ = (Index("ix_score_accesses_citizen_time", "citizen_id", "accessed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id", ondelete="CASCADE"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    via: Mapped[str] = mapped_column(String(16))  # code, request
    accessed_at: Mapped[datetime] = mapped_column()
    check_name: Mapped[str | None] = mapped_column(String(32), default=None)
    check_value: Mapped[str | None] = mapped_column(String(16), default=None)
    answer: Mapped[bool | None] = mapped_column(default=None)


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
    kind: Mapped[str] = mapped_column(String(16))  # dimension, event, decision, batch
    subject: Mapped[str] = mapped_column(String(64))
    payment_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("payment_events.id", ondelete="SET NULL"), default=None
    )
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_batches.id", ondelete="SET NULL"), default=None
    )
    statement: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))  # open, upheld, rejected
    created_at: Mapped[datetime] = mapped_column()
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
    reviewer_telegram_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    review_note: Mapped[str | None] = mapped_column(String(500), default=None)


# --- Boost: rent and council tax the citizen asked for (issue 20) ------------------------------


class BoostPartner(Base):
    """A partner that signed up through a citizen's Boost invitation (a landlord, a letting
    agent, a council). Unlike partners an operator adds, it may report only rent and council
    tax, only about the citizens who invited it (``boost_links``), and may not ask to see
    scores."""

    __tablename__ = "boost_partners"

    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16))  # landlord, agent, council
    created_at: Mapped[datetime] = mapped_column()


class BoostInvite(Base):
    """A one-time sign-up link a citizen gave their landlord, agent or council: only a keyed
    hash of its token is kept; it expires and works once."""

    __tablename__ = "boost_invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))  # landlord, agent, council
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="SET NULL"), default=None
    )


class BoostLink(Base):
    """A Boost partner may report about this citizen: the citizen invited it."""

    __tablename__ = "boost_links"

    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True
    )
    citizen_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column()


class BoostReview(Base):
    """A late or missed payment a Boost partner reported: it counts for nothing while
    ``pending`` until ``counts_from`` (30 days on), counts once ``confirmed``, and never while
    ``disputed``. On-time payments have no row: they count at once."""

    __tablename__ = "boost_reviews"

    payment_event_id: Mapped[int] = mapped_column(
        ForeignKey("payment_events.id", ondelete="CASCADE"), primary_key=True
    )
    citizen_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))  # pending, confirmed, disputed
    counts_from: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column()
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
