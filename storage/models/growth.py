"""Growth outreach on consent (issue 19): ambassador invitations, area campaigns and referral
contests. Nothing here is sent to anyone who has not opted in (citizens.growth_opt_in, or a
contest entry), and every row about a person goes with their account (ON DELETE CASCADE)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class GrowthCampaign(Base):
    """One `britizen growth campaign` run: the operator's text and the areas it went to."""

    __tablename__ = "growth_campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    areas: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column()
    recipients: Mapped[int] = mapped_column(Integer, default=0)


class ReferralContest(Base):
    """A time-bound referral contest: verified registrations through participants' invite
    links between `starts_at` and `ends_at` count. `ended_at` is set when it is closed and its
    result announced (early with `contest end`, or after `ends_at`)."""

    __tablename__ = "referral_contests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column(default=None)


class ContestEntry(Base):
    """A citizen who joined a contest, and whether they chose to be named on its leaderboard.
    `final_count` is their count frozen when the contest was closed."""

    __tablename__ = "contest_entries"

    contest_id: Mapped[int] = mapped_column(
        ForeignKey("referral_contests.id", ondelete="CASCADE"), primary_key=True
    )
    citizen_id: Mapped[int] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    listed: Mapped[bool] = mapped_column(default=False, server_default=false())
    joined_at: Mapped[datetime] = mapped_column()
    final_count: Mapped[int | None] = mapped_column(Integer, default=None)


class GrowthMessage(Base):
    """A growth message queued for a person (kind ambassador, campaign or contest): the 30-day
    rule for ambassador invitations reads these, and the unique pairs make a campaign or a
    contest's result reach each person once however often the command runs."""

    __tablename__ = "growth_messages"
    __table_args__ = (
        UniqueConstraint("campaign_id", "citizen_id", name="uq_growth_messages_campaign_citizen"),
        UniqueConstraint("contest_id", "citizen_id", name="uq_growth_messages_contest_citizen"),
        Index("ix_growth_messages_citizen_kind", "citizen_id", "kind", "queued_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("growth_campaigns.id", ondelete="CASCADE"), default=None
    )
    contest_id: Mapped[int | None] = mapped_column(
        ForeignKey("referral_contests.id", ondelete="CASCADE"), default=None
    )
    queued_at: Mapped[datetime] = mapped_column()
