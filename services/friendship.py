"""Friendship steps that run inside a caller's transaction, and the messages they queue.

Shared by the friends use cases and by invites (registration through an invite link asks the
inviter to be friends in the same transaction as the account is made).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.callbacks import FRIEND_REQUEST
from services.clock import as_aware_utc
from services.friends_model import (
    DECLINE_COOLDOWN,
    FRIEND_ACCEPTED_KIND,
    FRIEND_MESSAGE_PRIORITY,
    FRIEND_REQUEST_KIND,
    REQUEST_WINDOW,
    REQUESTS_PER_DAY,
    Answer,
    RequestResult,
    Via,
)
from services.languages import citizen_language
from storage.models import Citizen, FriendRequest, Friendship
from storage.repositories.outbox import enqueue_to_citizen
from storage.statuses import FriendshipStatus
from texts import friends as friend_words
from texts.friends import accepted_text, request_text
from texts.i18n import use_language

# --------------------------------------------------------------------------------------------
# Messages the bot starts (queued in the outbox)


def request_markup(request_id: int) -> dict[str, Any]:
    """Accept / Decline / Block, as the Bot API's InlineKeyboardMarkup JSON."""

    def button(text: str, answer: Answer) -> dict[str, str]:
        return {"text": text, "callback_data": FRIEND_REQUEST.encode(answer, request_id)}

    return {
        "inline_keyboard": [
            [
                button(friend_words.ACCEPT_BUTTON, Answer.ACCEPT),
                button(friend_words.DECLINE_BUTTON, Answer.DECLINE),
            ],
            [button(friend_words.BLOCK_BUTTON, Answer.BLOCK)],
        ]
    }


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
        if row.status == FriendshipStatus.ACCEPTED:
            return RequestResult.ALREADY_FRIENDS
        if row.status == FriendshipStatus.PENDING:
            if row.requester_id == requester.id:
                return RequestResult.ALREADY_ASKED
            # They asked first: asking them back is the same as accepting.
            row.status, row.responded_at = FriendshipStatus.ACCEPTED.value, now
            with use_language(await citizen_language(session, recipient)):
                enqueue_to_citizen(
                    session,
                    recipient,
                    accepted_text(requester.display_name),
                    FRIEND_ACCEPTED_KIND,
                    now,
                    priority=FRIEND_MESSAGE_PRIORITY,
                )
            return RequestResult.ACCEPTED_THEIRS
        if row.status == FriendshipStatus.BLOCKED and row.requester_id == requester.id:
            return RequestResult.UNAVAILABLE
        if (
            row.status == FriendshipStatus.DECLINED
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
    row.requester_id, row.request_id = requester.id, request.id
    row.status = FriendshipStatus.PENDING.value
    row.created_at, row.responded_at = now, None
    # A new pair is inserted here, inside the caller's transaction: two people asking each
    # other at the same instant collide on the pair's unique constraint, and the caller
    # retries (see with_retry) to find the other's request and accept it.
    await session.flush()
    with use_language(await citizen_language(session, recipient)):
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
