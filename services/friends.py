"""Friends: requests and their answers, the friends list, compare, the leaderboard, and the
privacy choices that govern them.

The rules, in one place:

- A request is one-way until the other person accepts; only accepted friendships count for
  anything (the list, compare, the leaderboard, the connections part of the score).
- Everyone may send at most ``REQUESTS_PER_DAY`` requests in any 24 hours (by the service
  clock). Nobody may ask again someone who declined them in the last ``DECLINE_COOLDOWN``, and
  someone who was blocked may never ask the person who blocked them again.
- A person who turned friend requests off receives none, whatever the route (contacts, their
  invite link).
- Friends always see each other's band; the number only when its owner shares it with friends.
  Compare shows both breakdowns side by side, so it needs both people to share. Leaderboards
  list only people who opted in (off by default), plus the viewer themselves.
- Every answer to a button is re-checked against the person pressing it and the current state:
  a forged, replayed or outdated button raises :class:`NoLongerAvailable` and changes nothing.

The messages the bot starts (a request for the other person, "they accepted") are queued in the
outbox inside the transaction that makes them true, so they exist exactly when the change does.
That is why their wording lives here rather than in the handlers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.model import DIMENSIONS, CitizenInputs, score
from services.accounts import citizen_for
from services.clock import Clock, as_aware_utc
from services.errors import NotRegistered
from services.friends_model import (
    FRIEND_ACCEPTED_KIND,
    FRIEND_MESSAGE_PRIORITY,
    LEADERBOARD_SIZE,
    SCORE_FRIENDS,
    SETTING_CHOICES,
    Answer,
    AnswerOutcome,
    Comparison,
    DimensionPair,
    FriendsOverview,
    FriendView,
    InvalidSetting,
    Leaderboard,
    LeaderboardEntry,
    NoLongerAvailable,
    PendingRequest,
    PrivacySettings,
    RequestOutcome,
    RequestResult,
    ScoreNotShared,
    Via,
)
from services.friendship import (
    accepted_text,
    friendship_between,
    send_request,
    with_retry,
)
from services.languages import citizen_language
from storage.db import Database
from storage.models import Citizen, FriendRequest, Friendship, Score
from storage.repositories import citizens
from storage.repositories.outbox import enqueue_to_citizen
from storage.statuses import FriendshipStatus
from texts.i18n import worded_in

# --------------------------------------------------------------------------------------------
# The use cases


class FriendsService:
    def __init__(self, db: Database, clock: Clock, timezone: ZoneInfo) -> None:
        self._db = db
        self._clock = clock
        self._tz = timezone

    # Requests ---------------------------------------------------------------------------------

    async def request_by_telegram_ids(
        self, telegram_id: int, picked: Sequence[tuple[int, str | None]]
    ) -> list[RequestOutcome]:
        """Requests to people picked from Telegram: (Telegram user id, name Telegram gave).
        One outcome per person, in order; people not on Britizen are reported, not errors."""

        async def attempt() -> list[RequestOutcome]:
            now = self._clock()
            async with self._db.transaction() as session:
                me = await citizen_for(session, telegram_id)
                outcomes: list[RequestOutcome] = []
                seen: set[int] = set()
                for user_id, given_name in picked:
                    if user_id in seen:
                        continue
                    seen.add(user_id)
                    other = await citizens.by_telegram_id(session, user_id)
                    if other is None:
                        outcomes.append(RequestOutcome(RequestResult.NOT_ON_BRITIZEN, given_name))
                        continue
                    result = await send_request(session, me, other, Via.CONTACTS, now)
                    outcomes.append(RequestOutcome(result, other.display_name))
                return outcomes

        return await with_retry(attempt)

    async def answer(self, telegram_id: int, request_id: int, answer: Answer) -> AnswerOutcome:
        """Accept, decline or block a request; only its recipient can, and only while it is the
        pair's current, unanswered request."""
        now = self._clock()
        async with self._db.transaction() as session:
            me = await self._presser(session, telegram_id)
            request = await session.get(FriendRequest, request_id)
            if request is None or request.recipient_id != me.id:
                raise NoLongerAvailable()
            row = await friendship_between(session, request.requester_id, me.id, lock=True)
            if (
                row is None
                or row.status != FriendshipStatus.PENDING
                or row.request_id != request.id
            ):
                raise NoLongerAvailable()
            requester = await session.get(Citizen, request.requester_id)
            assert requester is not None  # the request row cascades away with its requester
            row.status = {
                Answer.ACCEPT: FriendshipStatus.ACCEPTED.value,
                Answer.DECLINE: FriendshipStatus.DECLINED.value,
                Answer.BLOCK: FriendshipStatus.BLOCKED.value,
            }[answer]
            row.responded_at = now
            # Only good news is sent: a decline or block is not announced to the requester.
            if answer is Answer.ACCEPT:
                enqueue_to_citizen(
                    session,
                    requester,
                    worded_in(
                        await citizen_language(session, requester), accepted_text, me.display_name
                    ),
                    FRIEND_ACCEPTED_KIND,
                    now,
                    priority=FRIEND_MESSAGE_PRIORITY,
                )
            return AnswerOutcome(answer, requester.display_name)

    async def pending_request(self, telegram_id: int, request_id: int) -> PendingRequest:
        """One request still waiting for this person's answer (to show its buttons again)."""
        async with self._db.transaction() as session:
            me = await self._presser(session, telegram_id)
            for pending in await self._incoming(session, me.id):
                if pending.request_id == request_id:
                    return pending
        raise NoLongerAvailable()

    # The friends list -------------------------------------------------------------------------

    async def overview(self, telegram_id: int) -> FriendsOverview:
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            friends = await self._friends(session, me.id)
            incoming = await self._incoming(session, me.id)
            return FriendsOverview(
                friends=tuple(friend.view for friend in friends),
                incoming=tuple(incoming),
                shares_score=me.score_visibility == SCORE_FRIENDS,
            )

    async def friend(self, telegram_id: int, friend_id: int) -> FriendView:
        async with self._db.transaction() as session:
            me = await self._presser(session, telegram_id)
            for found in await self._friends(session, me.id, only=friend_id):
                return found.view
        raise NoLongerAvailable()

    async def remove(self, telegram_id: int, friend_id: int) -> str:
        """End a friendship; returns the former friend's name. They aren't told."""
        now = self._clock()
        async with self._db.transaction() as session:
            me = await self._presser(session, telegram_id)
            row = await friendship_between(session, me.id, friend_id, lock=True)
            if row is None or row.status != FriendshipStatus.ACCEPTED or friend_id == me.id:
                raise NoLongerAvailable()
            friend = await session.get(Citizen, friend_id)
            assert friend is not None  # the friendship cascades away with either person
            row.status, row.responded_at = FriendshipStatus.REMOVED.value, now
            return friend.display_name

    # Compare ----------------------------------------------------------------------------------

    async def comparison(self, telegram_id: int, friend_id: int) -> Comparison:
        async with self._db.transaction() as session:
            me = await self._presser(session, telegram_id)
            found = await self._friends(session, me.id, only=friend_id)
            if not found:
                raise NoLongerAvailable()
            view, friend = found[0].view, found[0].citizen
            if friend.score_visibility != SCORE_FRIENDS:
                raise ScoreNotShared(mine=False, name=friend.display_name)
            if me.score_visibility != SCORE_FRIENDS:
                raise ScoreNotShared(mine=True, name=friend.display_name)
            mine = await session.get(Score, me.id)
            theirs = await session.get(Score, friend.id)
            if mine is None or theirs is None:
                raise NoLongerAvailable()  # every citizen has a score from registration on
        my_points, their_points = self._points(mine), self._points(theirs)
        return Comparison(
            my_name=me.display_name,
            their_name=view.name,
            my_score=mine.score,
            my_band=mine.band,
            their_score=theirs.score,
            their_band=theirs.band,
            dimensions=tuple(
                DimensionPair(
                    d.name, my_points[d.key], their_points[d.key], d.min_points, d.max_points
                )
                for d in DIMENSIONS
            ),
        )

    def _points(self, row: Score) -> dict[str, int]:
        """The stored score's five parts. A starting score (no pass yet) keeps none, so its parts
        are the model's for a verified newcomer with no history, which is what it is."""
        stored = {d.key: getattr(row, d.key) for d in DIMENSIONS}
        if all(value is not None for value in stored.values()):
            return {key: int(value) for key, value in stored.items()}
        as_of = as_aware_utc(row.computed_at).astimezone(self._tz).date()
        result = score(CitizenInputs(verified=True, registered_on=as_of), as_of=as_of)
        return {d.key: d.points for d in result.dimensions}

    # Leaderboard ------------------------------------------------------------------------------

    async def leaderboard(self, telegram_id: int) -> Leaderboard:
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            my_score = await session.get(Score, me.id)
            if my_score is None:
                raise NotRegistered()
            friends = await self._friends(session, me.id)
        listed = [friend for friend in friends if friend.citizen.on_leaderboard]
        rows: list[tuple[int, int, str, str, int | None, bool]] = [
            (my_score.score, me.id, me.display_name, my_score.band, my_score.score, True)
        ]
        # Ranked by the real score even when only the band is shown: opting in to the
        # leaderboard is agreeing to be placed on it.
        rows += [
            (f.score, f.view.citizen_id, f.view.name, f.view.band, f.view.score, False)
            for f in listed
        ]
        rows.sort(key=lambda r: (-r[0], r[2].casefold(), r[1]))
        entries: list[LeaderboardEntry] = []
        for position, (value, citizen_id, name, band, shown, is_me) in enumerate(rows):
            # Equal scores share a rank (1, 2, 2, 4).
            tied = position > 0 and value == rows[position - 1][0]
            rank = entries[-1].rank if tied else position + 1
            entries.append(LeaderboardEntry(rank, citizen_id, name, band, shown, is_me))
        me_entry = next(entry for entry in entries if entry.me)
        return Leaderboard(
            top=tuple(entries[:LEADERBOARD_SIZE]),
            me=me_entry,
            size=len(entries),
            hidden=len(friends) - len(listed),
            me_listed=me.on_leaderboard,
        )

    # Privacy settings -------------------------------------------------------------------------

    async def settings(self, telegram_id: int) -> PrivacySettings:
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            return _settings_of(me)

    async def change_setting(self, telegram_id: int, name: str, value: str) -> PrivacySettings:
        """Set one /settings choice for the person themselves (so any press of a settings button
        only ever changes the presser's own account). Setting a value twice is harmless."""
        if value not in SETTING_CHOICES.get(name, ()):
            raise InvalidSetting()
        async with self._db.transaction() as session:
            me = await citizen_for(session, telegram_id)
            if name == "score_visibility":
                me.score_visibility = value
            elif name == "on_leaderboard":
                me.on_leaderboard = value == "yes"
            elif name == "friendly_reminders":
                me.friendly_reminders = value == "yes"
            else:
                me.accepts_friend_requests = value == "yes"
            return _settings_of(me)

    # Helpers ----------------------------------------------------------------------------------

    @staticmethod
    async def _presser(session: AsyncSession, telegram_id: int) -> Citizen:
        """The person pressing a button. Someone without an account can only be pressing a
        forged or stale button."""
        try:
            return await citizen_for(session, telegram_id)
        except NotRegistered:
            raise NoLongerAvailable() from None

    @staticmethod
    async def _friends(
        session: AsyncSession, my_id: int, *, only: int | None = None
    ) -> list[_Friend]:
        """Accepted friends with their current band (and score where they share it)."""
        joined = or_(
            and_(Friendship.low_id == my_id, Friendship.high_id == Citizen.id),
            and_(Friendship.high_id == my_id, Friendship.low_id == Citizen.id),
        )
        query = (
            select(Citizen, Score.score, Score.band, Friendship.responded_at)
            .join(Friendship, joined)
            .join(Score, Score.citizen_id == Citizen.id)
            .where(Friendship.status == FriendshipStatus.ACCEPTED, Citizen.id != my_id)
        )
        if only is not None:
            query = query.where(Citizen.id == only)
        found = []
        for citizen, value, band, since in (await session.execute(query)).all():
            shown = int(value) if citizen.score_visibility == SCORE_FRIENDS else None
            view = FriendView(
                citizen_id=citizen.id,
                name=citizen.display_name,
                band=band,
                score=shown,
                since=None if since is None else as_aware_utc(since),
            )
            found.append(_Friend(view, citizen, int(value)))
        found.sort(key=lambda friend: (friend.view.name.casefold(), friend.view.citizen_id))
        return found

    @staticmethod
    async def _incoming(session: AsyncSession, my_id: int) -> list[PendingRequest]:
        rows = await session.execute(
            select(
                FriendRequest.id, Citizen.display_name, FriendRequest.via, FriendRequest.created_at
            )
            .join(Friendship, Friendship.request_id == FriendRequest.id)
            .join(Citizen, Citizen.id == FriendRequest.requester_id)
            .where(
                FriendRequest.recipient_id == my_id, Friendship.status == FriendshipStatus.PENDING
            )
            .order_by(FriendRequest.created_at, FriendRequest.id)
        )
        return [
            PendingRequest(request_id, name, Via(via), as_aware_utc(created_at))
            for request_id, name, via, created_at in rows.all()
        ]


@dataclass(frozen=True)
class _Friend:
    view: FriendView
    citizen: Citizen
    score: int
    """The actual score, for ranking, whatever the friend lets others see."""


def _settings_of(citizen: Citizen) -> PrivacySettings:
    return PrivacySettings(
        score_visibility=citizen.score_visibility,
        on_leaderboard=citizen.on_leaderboard,
        accepts_friend_requests=citizen.accepts_friend_requests,
        friendly_reminders=citizen.friendly_reminders,
    )
