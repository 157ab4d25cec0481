"""Referral contests (issue 19): time-bound, opt-in, counted only from verified registrations.

- An operator starts one (`britizen growth contest start --name ... --days N`); one runs at a
  time. Citizens join with /contest (or its button in /settings), choosing whether their name
  is shown on the contest's own leaderboard; the viewer always sees their own count.
- What counts (storage.repositories.growth_outreach.contest_counts): a newcomer who completed
  registration through a participant's invite link while the contest ran. Completing
  registration is Britizen's verification (NI number checked and unique, adult), and a referral
  row exists only then, so "verified" is "has a referral row". One per NI number (distinct
  hashes); a person who erased an account and rejoined never counts again, nor do invites from
  an account whose NI number was erased before (an erased-and-rejoined inviter), nor a referral
  whose invitee has the inviter's own NI hash.
- Counts are computed when asked for, so an invitee who erases their account drops out of the
  count (nothing about them is kept to count them by); `end` freezes each participant's count
  in their entry and announces the result to participants through the outbox, once each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import Field, TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.accounts import citizen_for
from services.clock import Clock, as_aware_utc
from services.errors import StaleAction
from services.growth_outreach import CONTEST_KIND, GROWTH_PRIORITY, OutreachBusy, OutreachError
from services.languages import citizens_languages
from services.quiet_hours import first_moment_to_send
from services.sponsor_text import PlainLine
from storage.db import Database
from storage.locks import job_lock
from storage.models import ContestEntry, ReferralContest
from storage.repositories import growth_outreach as repo
from texts import growth_outreach as words
from texts.i18n import ENGLISH, worded_in

MAX_DAYS = 90
BOARD_SIZE = 10
_NAME: TypeAdapter[str] = TypeAdapter(Annotated[PlainLine, Field(max_length=64)])


class ContestOver(StaleAction):
    """A button for a contest that has ended (or never existed)."""


@dataclass(frozen=True)
class ContestSummary:
    id: int
    name: str
    starts_at: datetime
    ends_at: datetime
    ended_at: datetime | None
    participants: int

    def state(self, now: datetime) -> str:
        if self.ended_at is not None:
            return "ended"
        return "running" if now < self.ends_at else "time up, not announced"


@dataclass(frozen=True)
class ContestView:
    """What /contest shows one person."""

    contest_id: int
    name: str
    ends_at: datetime
    joined: bool
    listed: bool
    display_name: str
    my_count: int
    board: list[tuple[int, str, int]]
    """(place, display name, count) for listed participants with at least one referral."""


@dataclass(frozen=True)
class ContestEnd:
    contest_id: int
    participants: int
    announced: int
    counted: int
    """Verified referrals counted in all."""


def ranked_board(
    counts: dict[int, int], names: dict[int, str], listed: set[int]
) -> list[tuple[int, str, int]]:
    """Listed participants with a count, highest first, ties sharing a place ("1, 1, 3")."""
    rows = sorted(
        ((count, names[cid]) for cid, count in counts.items() if cid in listed and count > 0),
        key=lambda row: (-row[0], row[1].casefold()),
    )
    board: list[tuple[int, str, int]] = []
    for index, (count, name) in enumerate(rows):
        place = board[-1][0] if board and board[-1][2] == count else index + 1
        board.append((place, name, count))
    return board[:BOARD_SIZE]


def _aware(contest: ReferralContest) -> tuple[datetime, datetime]:
    return as_aware_utc(contest.starts_at), as_aware_utc(contest.ends_at)


class ContestService:
    def __init__(self, db: Database, clock: Clock, timezone: ZoneInfo) -> None:
        self._db = db
        self._clock = clock
        self._tz = timezone

    # Operator ------------------------------------------------------------------------------

    async def start(self, name: str, days: int) -> ContestSummary:
        try:
            checked = _NAME.validate_python(name.strip())
        except ValidationError as problem:
            reason = problem.errors()[0]["msg"]
            raise OutreachError(words.BAD_OPTION.format(option="--name", reason=reason)) from None
        if not 1 <= days <= MAX_DAYS:
            raise OutreachError(words.OUT_OF_RANGE.format(option="--days", limit=MAX_DAYS))
        now = self._clock()
        async with self._db.transaction() as session:
            running = await repo.running_contest(session, now)
            if running is not None:
                raise OutreachError(words.STILL_RUNNING.format(id=running.id, name=running.name))
            contest = ReferralContest(
                name=checked, starts_at=now, ends_at=now + timedelta(days=days)
            )
            session.add(contest)
            await session.flush()
            return ContestSummary(contest.id, checked, now, contest.ends_at, None, 0)

    async def list(self) -> list[ContestSummary]:
        """Every contest, newest first, with how many joined."""
        async with self._db.transaction() as session:
            contests = (
                await session.scalars(select(ReferralContest).order_by(ReferralContest.id.desc()))
            ).all()
            counts = await repo.entry_counts(session)
        return [
            ContestSummary(
                c.id,
                c.name,
                as_aware_utc(c.starts_at),
                as_aware_utc(c.ends_at),
                None if c.ended_at is None else as_aware_utc(c.ended_at),
                counts.get(c.id, 0),
            )
            for c in contests
        ]

    async def end(self, contest_id: int) -> ContestEnd:
        """Close the contest now (or at its end time, if that has passed), freeze the counts
        and queue the result for every participant, once each (a second run queues nothing)."""
        async with job_lock(self._db, "growth-outreach") as held:
            if not held:
                raise OutreachBusy()
            return await self._end(contest_id)

    async def _end(self, contest_id: int) -> ContestEnd:
        now = self._clock()
        async with self._db.transaction() as session:
            contest = await session.get(ReferralContest, contest_id)
            if contest is None:
                raise OutreachError(words.NO_SUCH_CONTEST.format(id=contest_id))
            _, ends = _aware(contest)
            if contest.ended_at is None:
                contest.ended_at = min(now, ends)
            until = as_aware_utc(contest.ended_at)
            counts = await repo.contest_counts(session, contest, until)
            people = await repo.participants(session, contest_id)
            frozen = {}
            for person in people:
                row = await repo.entry(session, contest_id, person.citizen_id)
                assert row is not None
                if row.final_count is None:
                    row.final_count = counts.get(person.citizen_id, 0)
                frozen[person.citizen_id] = row.final_count
            board = ranked_board(
                frozen,
                {p.citizen_id: p.display_name for p in people},
                {p.citizen_id for p in people if p.listed},
            )
            told = await repo.announced(session, contest_id)
            # Each in their own language (English for anyone without a stored one).
            languages = await citizens_languages(session, [p.citizen_id for p in people])
            results = [
                repo.Queued(
                    p.citizen_id,
                    p.chat_id,
                    worded_in(
                        languages.get(p.citizen_id, ENGLISH),
                        words.contest_result,
                        contest.name,
                        frozen[p.citizen_id],
                        board,
                    ),
                )
                for p in people
                if p.reachable and p.citizen_id not in told
            ]
            await repo.queue(
                session,
                results,
                kind=CONTEST_KIND,
                priority=GROWTH_PRIORITY,
                markup=None,
                now=now,
                due=first_moment_to_send(now, self._tz),
                contest_id=contest_id,
            )
        return ContestEnd(contest_id, len(people), len(results), sum(frozen.values()))

    # Citizens ------------------------------------------------------------------------------

    async def view(self, telegram_id: int) -> ContestView | None:
        """The running contest as this person sees it; None when none is running."""
        now = self._clock()
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            contest = await repo.running_contest(session, now)
            if contest is None:
                return None
            return await self._view(session, contest, me.id, me.display_name, now)

    async def join(self, telegram_id: int, contest_id: int, *, listed: bool) -> ContestView:
        """Join (or change whether one is listed in) the running contest `contest_id`."""
        now = self._clock()
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            contest = await repo.running_contest(session, now)
            if contest is None or contest.id != contest_id:
                raise ContestOver()
            entry = await repo.entry(session, contest_id, me.id)
            if entry is None:
                session.add(
                    ContestEntry(
                        contest_id=contest_id, citizen_id=me.id, listed=listed, joined_at=now
                    )
                )
            else:
                entry.listed = listed
            await session.flush()
            return await self._view(session, contest, me.id, me.display_name, now)

    async def _view(
        self,
        session: AsyncSession,
        contest: ReferralContest,
        citizen_id: int,
        display_name: str,
        now: datetime,
    ) -> ContestView:
        _, ends = _aware(contest)
        counts = await repo.contest_counts(session, contest, min(now, ends))
        people = await repo.participants(session, contest.id)
        me = next((p for p in people if p.citizen_id == citizen_id), None)
        board = ranked_board(
            counts,
            {p.citizen_id: p.display_name for p in people},
            {p.citizen_id for p in people if p.listed},
        )
        return ContestView(
            contest_id=contest.id,
            name=contest.name,
            ends_at=ends,
            joined=me is not None,
            listed=me is not None and me.listed,
            display_name=display_name,
            my_count=counts.get(citizen_id, 0) if me is not None else 0,
            board=board,
        )
