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

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.model import DIMENSIONS, CitizenInputs, score
from services.accounts import citizen_for
from services.callbacks import FRIEND_REQUEST
from services.clock import Clock, as_aware_utc
from services.errors import NotRegistered, ServiceError, StaleAction
from storage.db import Database
from storage.models import Citizen, FriendRequest, Friendship, Score
from storage.repositories import citizens
from storage.repositories.outbox import enqueue_to_citizen

REQUESTS_PER_DAY = 20
"""Friend requests one person may send in any 24 hours."""
REQUEST_WINDOW = timedelta(hours=24)
DECLINE_COOLDOWN = timedelta(days=30)
"""How long after a decline the same person may not ask again."""
LEADERBOARD_SIZE = 10

# Outbox: a request is something a person is waiting on, so it goes ahead of a night's score
# alerts (10) and promotions (100), behind loan reminders (0).
FRIEND_MESSAGE_PRIORITY = 5
FRIEND_REQUEST_KIND = "friend_request"
FRIEND_ACCEPTED_KIND = "friend_accepted"

# Callback data of the buttons on a request: "fq:<answer>:<friend_requests.id>". The handlers
# match this prefix; the service re-checks the id against whoever pressed.

SCORE_FRIENDS = "friends"
SCORE_NOBODY = "nobody"


class Via(StrEnum):
    CONTACTS = "contacts"
    LINK = "link"
    INVITE = "invite"


class Answer(StrEnum):
    ACCEPT = "acc"
    DECLINE = "dec"
    BLOCK = "blk"


class RequestResult(StrEnum):
    SENT = "sent"
    ACCEPTED_THEIRS = "accepted_theirs"
    """They had already asked you, so asking them back made you friends."""
    ALREADY_FRIENDS = "already_friends"
    ALREADY_ASKED = "already_asked"
    SELF = "self"
    NOT_ON_BRITIZEN = "not_on_britizen"
    NOT_ACCEPTING = "not_accepting"
    """They turned friend requests off."""
    UNAVAILABLE = "unavailable"
    """They blocked you, or declined you within DECLINE_COOLDOWN. Deliberately one result, so
    the requester can't tell which."""
    LIMIT_REACHED = "limit_reached"
    LINK_NOT_VALID = "link_not_valid"
    """An invite link that no longer (or never did) belong to anyone."""


@dataclass(frozen=True)
class RequestOutcome:
    result: RequestResult
    name: str | None = None
    """The other person's name: their Britizen name, or the one Telegram gave us."""


class FriendsError(ServiceError):
    """A refusal the handlers word for the person."""


class NoLongerAvailable(FriendsError, StaleAction):
    """A button about a request, friend or setting that isn't the presser's, or no longer is
    what it was: forged, replayed, already answered, or a friend since removed."""


class ScoreNotShared(FriendsError):
    def __init__(self, *, mine: bool, name: str) -> None:
        super().__init__("score not shared")
        self.mine = mine
        """True when it's the asker's own setting that stops it."""
        self.name = name
        """The friend's name."""


class InvalidSetting(FriendsError, StaleAction):
    """A setting or value that doesn't exist (only a forged button can ask for one)."""


@dataclass(frozen=True)
class AnswerOutcome:
    answer: Answer
    name: str
    """The requester's name."""


@dataclass(frozen=True)
class FriendView:
    citizen_id: int
    name: str
    band: str
    score: int | None
    """None when they keep their score to themselves (friends still see the band)."""
    since: datetime | None

    @property
    def shares_score(self) -> bool:
        return self.score is not None


@dataclass(frozen=True)
class PendingRequest:
    request_id: int
    name: str
    via: Via
    created_at: datetime


@dataclass(frozen=True)
class FriendsOverview:
    friends: tuple[FriendView, ...]
    """Sorted by name."""
    incoming: tuple[PendingRequest, ...]
    """Requests waiting for this person's answer, oldest first."""
    shares_score: bool
    """Whether this person shares their own score with friends (compare needs both)."""


@dataclass(frozen=True)
class DimensionPair:
    name: str
    mine: int
    theirs: int
    min_points: int
    max_points: int


@dataclass(frozen=True)
class Comparison:
    my_name: str
    their_name: str
    my_score: int
    my_band: str
    their_score: int
    their_band: str
    dimensions: tuple[DimensionPair, ...]


@dataclass(frozen=True)
class LeaderboardEntry:
    rank: int
    citizen_id: int
    name: str
    band: str
    score: int | None
    """None for a friend who is on leaderboards but keeps the number itself private."""
    me: bool


@dataclass(frozen=True)
class Leaderboard:
    top: tuple[LeaderboardEntry, ...]
    """The first LEADERBOARD_SIZE entries."""
    me: LeaderboardEntry
    size: int
    """Everyone ranked: the viewer plus friends who opted in."""
    hidden: int
    """Friends not shown because they keep off leaderboards."""
    me_listed: bool
    """Whether the viewer appears on their friends' leaderboards."""

    @property
    def me_in_top(self) -> bool:
        return any(entry.me for entry in self.top)


@dataclass(frozen=True)
class PrivacySettings:
    score_visibility: str
    """SCORE_FRIENDS or SCORE_NOBODY."""
    on_leaderboard: bool
    accepts_friend_requests: bool
    friendly_reminders: bool
    """Loan reminders 3 days before and on the day; overdue reminders can't be switched off."""


# The values each setting takes in change(); booleans as "yes"/"no" so every value is text.
SETTING_CHOICES: dict[str, tuple[str, ...]] = {
    "score_visibility": (SCORE_FRIENDS, SCORE_NOBODY),
    "on_leaderboard": ("yes", "no"),
    "accepts_friend_requests": ("yes", "no"),
    "friendly_reminders": ("yes", "no"),
}


# --------------------------------------------------------------------------------------------
# Messages the bot starts (queued in the outbox)


def request_text(name: str, via: Via) -> str:
    opening = {
        Via.CONTACTS: f"{name} would like to be your friend on Britizen.",
        Via.LINK: f"{name} opened your invite link and would like to be your friend on Britizen.",
        Via.INVITE: f"{name} joined Britizen with your invite link and would like to be your "
        "friend.",
    }[via]
    return (
        f"{opening}\n\n"
        "Friends see each other's band, and the score itself unless someone keeps it private. "
        "Nothing is shared until you accept. If you don't know them, you can block them."
    )


def request_markup(request_id: int) -> dict[str, Any]:
    """Accept / Decline / Block, as the Bot API's InlineKeyboardMarkup JSON."""

    def button(text: str, answer: Answer) -> dict[str, str]:
        return {"text": text, "callback_data": FRIEND_REQUEST.encode(answer, request_id)}

    return {
        "inline_keyboard": [
            [button("✅ Accept", Answer.ACCEPT), button("Decline", Answer.DECLINE)],
            [button("🚫 Block", Answer.BLOCK)],
        ]
    }


def accepted_text(name: str) -> str:
    return f"🤝 {name} accepted your friend request. You're now friends on Britizen — see /friends."


# --------------------------------------------------------------------------------------------
# Steps that run inside a caller's transaction (also used by registration through invites)


def pair_of(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


async def friendship_between(
    session: AsyncSession, a: int, b: int, *, lock: bool = False
) -> Friendship | None:
    low, high = pair_of(a, b)
    query = select(Friendship).where(Friendship.low_id == low, Friendship.high_id == high)
    if lock:
        # Two presses of one request (or a request crossing an answer) serialise on the row.
        query = query.with_for_update()
    return await session.scalar(query)


async def requests_sent_since(session: AsyncSession, citizen_id: int, since: datetime) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(FriendRequest)
        .where(FriendRequest.requester_id == citizen_id, FriendRequest.created_at > since)
    )
    return int(count or 0)


async def send_request(
    session: AsyncSession, requester: Citizen, recipient: Citizen, via: Via, now: datetime
) -> RequestResult:
    """Ask ``recipient`` to be ``requester``'s friend, within the caller's transaction.

    Checks run from the most to the least specific, so someone who is already a friend hears
    that rather than "limit reached"; only a request actually sent counts towards the limit.
    """
    if requester.id == recipient.id:
        return RequestResult.SELF
    row = await friendship_between(session, requester.id, recipient.id, lock=True)
    if row is not None:
        if row.status == "accepted":
            return RequestResult.ALREADY_FRIENDS
        if row.status == "pending":
            if row.requester_id == requester.id:
                return RequestResult.ALREADY_ASKED
            # They asked first: asking them back is the same as accepting.
            row.status, row.responded_at = "accepted", now
            enqueue_to_citizen(
                session,
                recipient,
                accepted_text(requester.display_name),
                FRIEND_ACCEPTED_KIND,
                now,
                priority=FRIEND_MESSAGE_PRIORITY,
            )
            return RequestResult.ACCEPTED_THEIRS
        if row.status == "blocked" and row.requester_id == requester.id:
            return RequestResult.UNAVAILABLE
        if (
            row.status == "declined"
            and row.requester_id == requester.id
            and row.responded_at is not None
            and as_aware_utc(row.responded_at) > now - DECLINE_COOLDOWN
        ):
            return RequestResult.UNAVAILABLE
        # Otherwise (removed, declined long ago, or declined/blocked *by* the requester, who
        # has now changed their mind) a new request replaces the old state.
    if not recipient.accepts_friend_requests:
        return RequestResult.NOT_ACCEPTING
    if await requests_sent_since(session, requester.id, now - REQUEST_WINDOW) >= REQUESTS_PER_DAY:
        return RequestResult.LIMIT_REACHED
    request = FriendRequest(
        requester_id=requester.id, recipient_id=recipient.id, via=via.value, created_at=now
    )
    session.add(request)
    await session.flush()
    if row is None:
        low, high = pair_of(requester.id, recipient.id)
        row = Friendship(low_id=low, high_id=high, created_at=now)
        session.add(row)
    row.requester_id, row.status, row.request_id = requester.id, "pending", request.id
    row.created_at, row.responded_at = now, None
    # A new pair is inserted here, inside the caller's transaction: two people asking each
    # other at the same instant collide on the pair's unique constraint, and the caller
    # retries (see with_retry) to find the other's request and accept it.
    await session.flush()
    enqueue_to_citizen(
        session,
        recipient,
        request_text(requester.display_name, via),
        FRIEND_REQUEST_KIND,
        now,
        request_markup(request.id),
        priority=FRIEND_MESSAGE_PRIORITY,
    )
    return RequestResult.SENT


T = TypeVar("T")


async def with_retry(attempt: Callable[[], Awaitable[T]]) -> T:
    """Run a transaction again once if it lost a race on a unique constraint (PostgreSQL
    only: SQLite serialises writers). The second run sees the winner's row."""
    try:
        return await attempt()
    except IntegrityError:
        return await attempt()


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
            if row is None or row.status != "pending" or row.request_id != request.id:
                raise NoLongerAvailable()
            requester = await session.get(Citizen, request.requester_id)
            assert requester is not None  # the request row cascades away with its requester
            row.status = {
                Answer.ACCEPT: "accepted",
                Answer.DECLINE: "declined",
                Answer.BLOCK: "blocked",
            }[answer]
            row.responded_at = now
            # Only good news is sent: a decline or block is not announced to the requester.
            if answer is Answer.ACCEPT:
                enqueue_to_citizen(
                    session,
                    requester,
                    accepted_text(me.display_name),
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
            if row is None or row.status != "accepted" or friend_id == me.id:
                raise NoLongerAvailable()
            friend = await session.get(Citizen, friend_id)
            assert friend is not None  # the friendship cascades away with either person
            row.status, row.responded_at = "removed", now
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
            .where(Friendship.status == "accepted", Citizen.id != my_id)
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
            .where(FriendRequest.recipient_id == my_id, Friendship.status == "pending")
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
