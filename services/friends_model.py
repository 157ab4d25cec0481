"""The friends feature's vocabulary: limits, how a request came, answers, results, errors and
views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.errors import ServiceError, StaleAction
from storage.statuses import FriendVia

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

SCORE_FRIENDS = "friends"
SCORE_NOBODY = "nobody"


Via = FriendVia
"""How a friend request came: from Telegram contacts, an invite link, or joining by invite."""


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
