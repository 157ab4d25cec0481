"""Reading and recording scores for the bot: the current score, its explanation, its history and
the benefits it unlocks.

Wording stays in the handlers; everything here returns plain data.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.model import (
    BASE_SCORE,
    DIMENSIONS,
    FRIEND_INFLUENCE_CAP,
    NO_FRIENDS,
    STARTING_SCORE,
    CitizenInputs,
    GraphFeatures,
    Outcome,
    PaymentEvent,
    PaymentKind,
    ScoreResult,
    band_for,
    score,
)
from scoring.tiers import Tier, Tiers, default_tiers
from services.accounts import citizen_id_for
from services.ages import credit_from
from services.charts import score_history_png
from services.clock import Clock, as_aware_utc, system_clock
from services.commitments import commitments_of, limit_for, repaid_loans_of
from services.errors import NotRegistered
from services.score_history import effective_stamp
from storage.db import Database
from storage.models import Citizen, Redemption, Referral, Score, ScoreHistory
from storage.models import PaymentEvent as PaymentEventRow
from storage.repositories.boost import not_waiting
from storage.repositories.event_batches import counted
from storage.repositories.score_history import PassStamp, latest_finished_pass

DEFAULT_TIMEZONE = ZoneInfo("Europe/London")
# The community dimension counts every sponsor voucher the citizen has redeemed (one
# `redemptions` row per promotion): the nightly pass reads this in bulk, /why per person.
VOUCHERS_REDEEMED_SQL = "SELECT citizen_id, COUNT(*) FROM redemptions GROUP BY citizen_id"
HISTORY_LIMIT = 800
"""At most this many history points are read and charted: everything the retention rule keeps
(services.score_history: 24 whole months, a row on change or weekly, so under 800 even for a
score that changed every night)."""


async def vouchers_redeemed_of(session: AsyncSession, citizen_id: int) -> int:
    """One citizen's count, as VOUCHERS_REDEEMED_SQL counts everyone's."""
    count = await session.scalar(
        select(func.count()).select_from(Redemption).where(Redemption.citizen_id == citizen_id)
    )
    return int(count or 0)


@dataclass(frozen=True)
class ScoreView:
    score: int
    band: str
    previous_score: int | None
    computed_at: datetime
    breakdown: dict[str, object]
    as_of: date | None = None
    """The day a scoring pass computed this score as of; None for the starting score."""

    @property
    def change(self) -> int | None:
        return None if self.previous_score is None else self.score - self.previous_score

    @property
    def starting(self) -> bool:
        """The score every new citizen gets, before their first scoring pass."""
        return self.as_of is None


@dataclass(frozen=True)
class Explanation:
    """Why a person has their score: the stored score plus the model's explanation, rebuilt
    from what the database holds now."""

    score: int
    """The stored score: what partners and the person see until the next pass."""
    band: str
    computed_at: datetime
    starting: bool
    """No scoring pass has run for this person yet."""
    result: ScoreResult
    """The model's breakdown of today's data as of the stored score's date."""
    pending_change: bool
    """Activity arrived since the stored score was computed, so ``result`` no longer matches
    it; the stored score catches up at the next pass."""
    base_score: int = BASE_SCORE
    friend_influence_cap: int = FRIEND_INFLUENCE_CAP
    owes: bool = False
    """They owe something on a loan now (so "What if I paid it off?" applies)."""


@dataclass(frozen=True)
class HistoryPoint:
    computed_at: datetime
    """Aware, UTC."""
    score: int
    band: str


@dataclass(frozen=True)
class History:
    points: tuple[HistoryPoint, ...]
    """Oldest first; at most HISTORY_LIMIT."""
    truncated: bool
    """Older points exist beyond the ones returned."""

    @property
    def latest(self) -> HistoryPoint | None:
        return self.points[-1] if self.points else None

    @property
    def chartable(self) -> bool:
        # One point draws a lone dot, which says nothing a sentence can't.
        return len(self.points) >= 2


@dataclass(frozen=True)
class BenefitsView:
    score: int
    tier: Tier
    next_tier: Tier | None
    """None at the top tier."""
    points_to_next: int | None
    credit_from: date | None = None
    """Their 18th birthday while they are under 18: loans and deposit-free contracts wait."""

    @property
    def next_adds(self) -> tuple[str, ...]:
        """The next tier's benefit lines the current tier doesn't already have (a bigger loan
        limit reads as a new line, which it is)."""
        if self.next_tier is None:
            return ()
        have = set(self.tier.benefits)
        return tuple(line for line in self.next_tier.benefits if line not in have)


async def record_starting_score(session: AsyncSession, citizen_id: int, now: datetime) -> ScoreView:
    """Every new citizen starts at the documented STARTING_SCORE until the next scoring pass."""
    band = band_for(STARTING_SCORE).name
    breakdown: dict[str, object] = {"starting": True}
    session.add(
        Score(
            citizen_id=citizen_id,
            score=STARTING_SCORE,
            band=band,
            breakdown=breakdown,
            computed_at=now,
        )
    )
    session.add(
        ScoreHistory(citizen_id=citizen_id, score=STARTING_SCORE, band=band, computed_at=now)
    )
    return ScoreView(STARTING_SCORE, band, None, now, breakdown)


def account_age_days(registered_at: datetime, as_of: date) -> int:
    """Membership in calendar days, as the model documents it and the scoring pass counts it:
    ``as_of`` minus the (UTC) date of registration. Counting the same way as the pass keeps
    /why's recomputation equal to the stored score."""
    return (as_of - as_aware_utc(registered_at).date()).days


_OUTCOMES = {outcome.value: outcome for outcome in Outcome}
_KINDS = {kind.value: kind for kind in PaymentKind}


def _payment_event(row: PaymentEventRow) -> PaymentEvent:
    return PaymentEvent(
        due_on=row.occurred_on,
        # An unknown outcome counts as missed, as in the scoring pass's SQL, so both agree.
        outcome=_OUTCOMES.get(row.outcome, Outcome.MISSED),
        # Kinds weigh the same and only word the explanation; an unknown one reads as a bill.
        kind=_KINDS.get(row.kind, PaymentKind.BILL),
    )


def _graph_features(row: Score) -> GraphFeatures:
    if not row.friend_count:
        return NO_FRIENDS
    return GraphFeatures(
        friend_count=row.friend_count,
        friends_mean_score=row.friends_mean_score,
        pagerank=1.0 if row.pagerank is None else row.pagerank,
        effective_size=0.0 if row.effective_size is None else row.effective_size,
    )


def _stored_points(row: Score) -> dict[str, int] | None:
    points = {d.key: getattr(row, d.key) for d in DIMENSIONS}
    if any(value is None for value in points.values()):
        return None
    return {key: int(value) for key, value in points.items()}


async def row_for(session: AsyncSession, telegram_id: int) -> tuple[Citizen, Score]:
    """The person's account and score row; NotRegistered without one."""
    found = (
        await session.execute(
            select(Citizen, Score)
            .join(Score, Score.citizen_id == Citizen.id)
            .where(Citizen.telegram_id == telegram_id)
        )
    ).one_or_none()
    if found is None:
        raise NotRegistered()
    citizen, row = found
    return citizen, row


def stored_as_of(row: Score, tz: ZoneInfo, latest: PassStamp | None = None) -> date:
    """The day the stored score is as of (the starting score: the day it was given; a score
    the newest pass confirmed unchanged: that pass's day, see services.score_history)."""
    as_of, computed_at = effective_stamp(row.as_of, row.computed_at, latest)
    return computed_at.astimezone(tz).date() if as_of is None else as_of


def explained_limit(row: Score) -> int:
    """The limit the pass that made the stored score measured debt against: the tier before it
    ran (the stored previous score or, before any pass, the starting score itself)."""
    return limit_for(row.score if row.as_of is None else row.previous_score)


async def model_inputs(
    session: AsyncSession, citizen: Citizen, row: Score, as_of: date, limit_pence: int
) -> CitizenInputs:
    """The person's model inputs as of ``as_of``, read from the database as the nightly pass
    reads everyone's.

    Inputs the database doesn't hold yet (disputes) are 0; commitments are counted as the
    pass counts them (services.commitments), redeemed vouchers too (services.offers);
    the graph features are the ones the pass stored, because friends' scores and the
    network's shape as they were at the pass are what the stored score used.
    """
    events = (
        await session.scalars(
            # What the pass counts: not disputed, not in a batch held for review, and not a
            # Boost partner's late or missed payment still waiting for the citizen's word.
            not_waiting(counted(select(PaymentEventRow)), as_of)
            .where(PaymentEventRow.citizen_id == citizen.id)
            .order_by(PaymentEventRow.occurred_on, PaymentEventRow.id)
        )
    ).all()
    referrals = await session.scalar(
        select(func.count()).select_from(Referral).where(Referral.inviter_id == citizen.id)
    )
    vouchers = await vouchers_redeemed_of(session, citizen.id)
    owed, defaults = await commitments_of(session, citizen.id, as_of)
    repaid_loans = await repaid_loans_of(session, citizen.id)
    # A negative age (registered after midnight UTC of as_of) scores as 0 either way.
    age = max(0, account_age_days(citizen.registered_at, as_of))
    return CitizenInputs(
        # Finishing registration is identity verification (NI number checked, age confirmed).
        verified=True,
        registered_on=as_of - timedelta(days=age),
        payments=tuple(_payment_event(event) for event in events),
        verified_referrals=int(referrals or 0),
        vouchers_redeemed=vouchers,
        outstanding_pence=owed,
        limit_pence=limit_pence,
        defaults=defaults,
        repaid_loans=repaid_loans,
        graph=_graph_features(row),
    )


def _view(row: Score, latest: PassStamp | None) -> ScoreView:
    as_of, computed_at = effective_stamp(row.as_of, row.computed_at, latest)
    return ScoreView(
        row.score,
        row.band,
        row.previous_score,
        computed_at,
        # The pass keeps its breakdown in columns and leaves this JSON empty (on SQLite
        # its CAST('{}' AS JSON) even reads back as 0), so only a dict is taken as one.
        dict(row.breakdown) if isinstance(row.breakdown, dict) else {},
        as_of,
    )


class ScoreService:
    def __init__(
        self,
        db: Database,
        timezone: ZoneInfo = DEFAULT_TIMEZONE,
        tiers: Tiers | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self._db = db
        self._clock = clock
        # The service's time zone decides which day a starting score is "as of" and the dates
        # on the history chart; it should be the one the scoring pass uses.
        self._tz = timezone
        self._tiers = tiers or default_tiers()

    async def current_for_telegram_user(self, telegram_id: int) -> ScoreView:
        # One read (the most frequent command): no transaction around it.
        async with self._db.autocommit() as session:
            _, row = await row_for(session, telegram_id)
            return _view(row, await latest_finished_pass(session))

    async def current(self, citizen_id: int) -> ScoreView:
        """The score of a citizen the caller has already found (the bot's guard did): one read
        of the scores row, no second look-up of the account."""
        async with self._db.autocommit() as session:
            row = await session.get(Score, citizen_id)
            if row is None:  # erased between the guard's read and this one
                raise NotRegistered()
            return _view(row, await latest_finished_pass(session))

    async def explain(self, telegram_id: int) -> Explanation:
        """Rebuild the person's model inputs from the database and explain them as of the
        stored score's date (see :func:`model_inputs`)."""
        async with self._db.transaction() as session:
            citizen, row = await row_for(session, telegram_id)
            latest = await latest_finished_pass(session)
            as_of = stored_as_of(row, self._tz, latest)
            inputs = await model_inputs(session, citizen, row, as_of, explained_limit(row))
        result = score(inputs, as_of=as_of)
        stored = _stored_points(row)
        recomputed = {d.key: d.points for d in result.dimensions}
        pending = result.score != row.score or (stored is not None and stored != recomputed)
        return Explanation(
            score=row.score,
            band=row.band,
            computed_at=effective_stamp(row.as_of, row.computed_at, latest)[1],
            starting=row.as_of is None,
            result=result,
            pending_change=pending,
            owes=inputs.outstanding_pence > 0,
        )

    async def history(self, telegram_id: int, limit: int = HISTORY_LIMIT) -> History:
        """The newest ``limit`` history points, oldest first."""
        async with self._db.transaction() as session:
            citizen_id = await citizen_id_for(session, telegram_id)
            # One more than wanted tells whether older points were left out.
            rows = (
                await session.execute(
                    select(ScoreHistory.computed_at, ScoreHistory.score, ScoreHistory.band)
                    .where(ScoreHistory.citizen_id == citizen_id)
                    .order_by(ScoreHistory.computed_at.desc(), ScoreHistory.id.desc())
                    .limit(limit + 1)
                )
            ).all()
        points = tuple(
            HistoryPoint(as_aware_utc(moment), int(value), band)
            for moment, value, band in reversed(rows[:limit])
        )
        return History(points=points, truncated=len(rows) > limit)

    async def history_chart(self, history: History) -> bytes:
        """The history as a PNG, dated in the service's time zone.

        matplotlib is CPU-bound (tens of milliseconds a chart), so it runs in a worker thread
        and the event loop keeps serving everyone else meanwhile.
        """
        # Naive local times: matplotlib would otherwise label the axis in UTC.
        points = [
            (p.computed_at.astimezone(self._tz).replace(tzinfo=None), p.score)
            for p in history.points
        ]
        return await asyncio.to_thread(score_history_png, points)

    async def benefits(self, telegram_id: int) -> BenefitsView:
        async with self._db.autocommit() as session:
            citizen, row = await row_for(session, telegram_id)
            current = _view(row, await latest_finished_pass(session))
        tiers = self._tiers
        today = self._clock().astimezone(self._tz).date()
        return BenefitsView(
            score=current.score,
            tier=tiers.tier_for(current.score),
            next_tier=tiers.next_tier(current.score),
            points_to_next=tiers.points_to_next_tier(current.score),
            credit_from=credit_from(citizen.date_of_birth, today),
        )
