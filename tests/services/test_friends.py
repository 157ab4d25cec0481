"""Friends, invites and privacy settings on SQLite and PostgreSQL: requests and who may answer
them, the limits, the list, compare, the leaderboard, invite codes and referrals, and what the
nightly pass makes of them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from scoring.rules import REFERRAL_POINTS
from services.clock import ManualClock
from services.dialogs import DialogService
from services.errors import NotRegistered
from services.friends import FriendsService
from services.friends_model import (
    DECLINE_COOLDOWN,
    FRIEND_ACCEPTED_KIND,
    FRIEND_REQUEST_KIND,
    LEADERBOARD_SIZE,
    REQUEST_WINDOW,
    REQUESTS_PER_DAY,
    Answer,
    InvalidSetting,
    NoLongerAvailable,
    RequestResult,
    ScoreNotShared,
)
from services.invites import INVITE_PREFIX, InviteService, is_invite_payload, qr_png
from services.registration import RegistrationService
from services.scores import record_starting_score
from services.scoring_pass import ScoringPass
from storage.db import Database
from storage.models import (
    Citizen,
    FriendRequest,
    Friendship,
    InviteCode,
    OutboxMessage,
    Referral,
    Score,
)
from tests.support.narrowing import present

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
KEY = b"k" * 32
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Telegram ids of the cast.
ANN, BEN, CAT, DAN = 11, 12, 13, 14


class World:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.clock = ManualClock(START)
        self.friends = FriendsService(db, self.clock, LONDON)
        self.invites = InviteService(db, KEY, self.clock)
        self.ids: dict[int, int] = {}

    async def add(self, telegram_id: int, name: str | None = None) -> int:
        async with self.db.transaction() as session:
            citizen = Citizen(
                telegram_id=telegram_id,
                chat_id=telegram_id,
                display_name=name or f"P{telegram_id}",
                ni_hash=f"{telegram_id:064d}",
                ni_masked="AB •• •• •• C",
                date_of_birth=date(1990, 1, 1),
                registered_at=START,
            )
            session.add(citizen)
            await session.flush()
            await record_starting_score(session, citizen.id, START)
            self.ids[telegram_id] = citizen.id
            return citizen.id

    async def ask(self, from_tid: int, to_tid: int) -> RequestResult:
        [outcome] = await self.friends.request_by_telegram_ids(from_tid, [(to_tid, None)])
        return outcome.result

    async def last_request_id(self, from_tid: int, to_tid: int) -> int:
        async with self.db.transaction() as session:
            found = await session.scalar(
                select(func.max(FriendRequest.id)).where(
                    FriendRequest.requester_id == self.ids[from_tid],
                    FriendRequest.recipient_id == self.ids[to_tid],
                )
            )
        assert found is not None
        return int(found)

    async def status(self, a: int, b: int) -> str | None:
        low, high = sorted((self.ids[a], self.ids[b]))
        async with self.db.transaction() as session:
            return await session.scalar(
                select(Friendship.status).where(
                    Friendship.low_id == low, Friendship.high_id == high
                )
            )

    async def outbox(self, to_tid: int) -> list[OutboxMessage]:
        async with self.db.transaction() as session:
            return list(
                (
                    await session.scalars(
                        select(OutboxMessage)
                        .where(OutboxMessage.chat_id == to_tid)
                        .order_by(OutboxMessage.id)
                    )
                ).all()
            )

    async def befriend(self, a: int, b: int) -> None:
        assert await self.ask(a, b) is RequestResult.SENT
        await self.friends.answer(b, await self.last_request_id(a, b), Answer.ACCEPT)

    async def set_score(self, tid: int, value: int, band: str) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                update(Score)
                .where(Score.citizen_id == self.ids[tid])
                .values(score=value, band=band)
            )


@pytest.fixture
async def world(db: Database) -> World:
    w = World(db)
    for tid, name in ((ANN, "Ann"), (BEN, "Ben"), (CAT, "Cat"), (DAN, "Dan")):
        await w.add(tid, name)
    return w


# --------------------------------------------------------------------------------------------
# Requests and answers


async def test_a_request_is_one_way_until_accepted_and_both_sides_hear(world: World) -> None:
    assert await world.ask(ANN, BEN) is RequestResult.SENT
    assert await world.status(ANN, BEN) == "pending"
    assert (await world.friends.overview(ANN)).friends == ()
    [request] = await world.outbox(BEN)
    assert request.kind == FRIEND_REQUEST_KIND
    assert "Ann would like to be your friend" in present(request.text)
    request_id = await world.last_request_id(ANN, BEN)
    assert request.reply_markup is not None
    buttons = [b for row in request.reply_markup["inline_keyboard"] for b in row]
    assert [b["callback_data"] for b in buttons] == [
        f"fq:acc:{request_id}",
        f"fq:dec:{request_id}",
        f"fq:blk:{request_id}",
    ]
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)
    assert [p.name for p in (await world.friends.overview(BEN)).incoming] == ["Ann"]

    outcome = await world.friends.answer(BEN, request_id, Answer.ACCEPT)
    assert outcome.name == "Ann"
    assert [f.name for f in (await world.friends.overview(ANN)).friends] == ["Ben"]
    assert [f.name for f in (await world.friends.overview(BEN)).friends] == ["Ann"]
    assert (await world.friends.overview(BEN)).incoming == ()
    [accepted] = await world.outbox(ANN)
    assert accepted.kind == FRIEND_ACCEPTED_KIND and "Ben accepted" in present(accepted.text)


async def test_only_the_recipient_answers_and_only_once(world: World) -> None:
    await world.ask(ANN, BEN)
    request_id = await world.last_request_id(ANN, BEN)
    for presser in (CAT, ANN, 999):  # someone else, the requester, someone with no account
        with pytest.raises(NoLongerAvailable):
            await world.friends.answer(presser, request_id, Answer.ACCEPT)
    with pytest.raises(NoLongerAvailable):
        await world.friends.answer(BEN, request_id + 100, Answer.ACCEPT)
    assert await world.status(ANN, BEN) == "pending"

    await world.friends.answer(BEN, request_id, Answer.DECLINE)
    for answer in Answer:
        with pytest.raises(NoLongerAvailable):
            await world.friends.answer(BEN, request_id, answer)
    assert await world.status(ANN, BEN) == "declined"
    assert await world.outbox(ANN) == []  # a decline is not announced


async def test_a_button_from_an_earlier_request_cannot_answer_a_later_one(world: World) -> None:
    await world.ask(ANN, BEN)
    first = await world.last_request_id(ANN, BEN)
    await world.friends.answer(BEN, first, Answer.DECLINE)
    world.clock.advance(days=31)
    assert await world.ask(ANN, BEN) is RequestResult.SENT
    second = await world.last_request_id(ANN, BEN)
    assert second != first
    with pytest.raises(NoLongerAvailable):
        await world.friends.answer(BEN, first, Answer.ACCEPT)
    assert await world.status(ANN, BEN) == "pending"
    await world.friends.answer(BEN, second, Answer.ACCEPT)
    assert await world.status(ANN, BEN) == "accepted"


async def test_no_new_request_within_thirty_days_of_a_decline(world: World) -> None:
    await world.ask(ANN, BEN)
    await world.friends.answer(BEN, await world.last_request_id(ANN, BEN), Answer.DECLINE)
    assert await world.ask(ANN, BEN) is RequestResult.UNAVAILABLE
    world.clock.advance(days=DECLINE_COOLDOWN.days - 1)
    assert await world.ask(ANN, BEN) is RequestResult.UNAVAILABLE
    assert len(await world.outbox(BEN)) == 1
    world.clock.advance(days=1, seconds=1)
    assert await world.ask(ANN, BEN) is RequestResult.SENT
    assert len(await world.outbox(BEN)) == 2


async def test_the_one_who_declined_may_ask_at_once(world: World) -> None:
    await world.ask(ANN, BEN)
    await world.friends.answer(BEN, await world.last_request_id(ANN, BEN), Answer.DECLINE)
    assert await world.ask(BEN, ANN) is RequestResult.SENT


async def test_a_blocked_requester_can_never_ask_again(world: World) -> None:
    await world.ask(ANN, BEN)
    await world.friends.answer(BEN, await world.last_request_id(ANN, BEN), Answer.BLOCK)
    assert await world.status(ANN, BEN) == "blocked"
    world.clock.advance(days=400)
    assert await world.ask(ANN, BEN) is RequestResult.UNAVAILABLE
    assert len(await world.outbox(BEN)) == 1
    # The person who blocked can change their mind by asking themselves.
    assert await world.ask(BEN, ANN) is RequestResult.SENT
    assert await world.status(ANN, BEN) == "pending"


async def test_daily_limit_counts_requests_sent_in_any_24_hours(world: World) -> None:
    targets = [100 + i for i in range(REQUESTS_PER_DAY + 1)]
    for tid in targets:
        await world.add(tid)
    # Refusals don't count towards the limit.
    assert await world.ask(ANN, ANN) is RequestResult.SELF
    outcomes = await world.friends.request_by_telegram_ids(
        ANN, [(tid, None) for tid in targets[:REQUESTS_PER_DAY]]
    )
    assert {o.result for o in outcomes} == {RequestResult.SENT}
    world.clock.advance(hours=23)
    assert await world.ask(ANN, targets[-1]) is RequestResult.LIMIT_REACHED
    assert await world.status(ANN, targets[-1]) is None
    # Already-friends and already-asked are still reported as such, not as the limit.
    assert await world.ask(ANN, targets[0]) is RequestResult.ALREADY_ASKED
    world.clock.advance(seconds=REQUEST_WINDOW.total_seconds() - 23 * 3600 + 1)
    assert await world.ask(ANN, targets[-1]) is RequestResult.SENT


async def test_asking_someone_who_asked_you_makes_you_friends(world: World) -> None:
    await world.ask(ANN, BEN)
    assert await world.ask(BEN, ANN) is RequestResult.ACCEPTED_THEIRS
    assert await world.status(ANN, BEN) == "accepted"
    assert "Ben accepted" in present((await world.outbox(ANN))[-1].text)
    assert await world.ask(ANN, BEN) is RequestResult.ALREADY_FRIENDS


async def test_self_repeat_strangers_and_people_not_accepting(world: World) -> None:
    outcomes = await world.friends.request_by_telegram_ids(
        ANN, [(ANN, "Ann"), (BEN, "Benny"), (BEN, "Benny"), (555, "Sam")]
    )
    assert [(o.result, o.name) for o in outcomes] == [
        (RequestResult.SELF, "Ann"),
        (RequestResult.SENT, "Ben"),  # our name for them, not the one Telegram sent
        (RequestResult.NOT_ON_BRITIZEN, "Sam"),
    ]
    assert await world.ask(ANN, BEN) is RequestResult.ALREADY_ASKED
    await world.friends.change_setting(CAT, "accepts_friend_requests", "no")
    assert await world.ask(ANN, CAT) is RequestResult.NOT_ACCEPTING
    assert await world.outbox(CAT) == []
    with pytest.raises(NotRegistered):
        await world.friends.request_by_telegram_ids(999, [(ANN, None)])


async def test_removing_a_friend_needs_a_friendship_and_ends_it(world: World) -> None:
    await world.befriend(ANN, BEN)
    ben_id = world.ids[BEN]
    assert (await world.friends.friend(ANN, ben_id)).name == "Ben"
    assert await world.friends.remove(ANN, ben_id) == "Ben"
    assert await world.status(ANN, BEN) == "removed"
    for action in (
        world.friends.remove(ANN, ben_id),
        world.friends.friend(ANN, ben_id),
        world.friends.comparison(ANN, ben_id),
        world.friends.remove(ANN, world.ids[CAT]),  # never a friend
        world.friends.remove(CAT, ben_id),
    ):
        with pytest.raises(NoLongerAvailable):
            await action
    assert (await world.friends.overview(BEN)).friends == ()
    # A removed friend can be asked again.
    assert await world.ask(BEN, ANN) is RequestResult.SENT


# --------------------------------------------------------------------------------------------
# What friends see: the list, compare, the leaderboard


async def test_friends_see_the_band_always_and_the_score_only_when_shared(world: World) -> None:
    await world.befriend(ANN, BEN)
    await world.set_score(BEN, 640, "Good")
    [ben] = (await world.friends.overview(ANN)).friends
    assert (ben.score, ben.band) == (640, "Good")
    await world.friends.change_setting(BEN, "score_visibility", "nobody")
    [ben] = (await world.friends.overview(ANN)).friends
    assert (ben.score, ben.band) == (None, "Good")
    assert not (await world.friends.overview(BEN)).shares_score


async def test_compare_needs_both_to_share_and_gives_five_parts(world: World) -> None:
    await world.befriend(ANN, BEN)
    comparison = await world.friends.comparison(ANN, world.ids[BEN])
    assert (comparison.my_score, comparison.their_score) == (600, 600)
    assert [d.name for d in comparison.dimensions] == [
        "Payment history",
        "Commitments",
        "Account standing",
        "Community",
        "Connections",
    ]
    # A starting score's parts are the model's for a verified newcomer: standing +20.
    assert {d.name: d.mine for d in comparison.dimensions}["Account standing"] == 20
    assert sum(d.mine for d in comparison.dimensions) == 20

    await world.friends.change_setting(BEN, "score_visibility", "nobody")
    with pytest.raises(ScoreNotShared) as theirs:
        await world.friends.comparison(ANN, world.ids[BEN])
    assert not theirs.value.mine and theirs.value.name == "Ben"
    await world.friends.change_setting(BEN, "score_visibility", "friends")
    await world.friends.change_setting(ANN, "score_visibility", "nobody")
    with pytest.raises(ScoreNotShared) as mine:
        await world.friends.comparison(ANN, world.ids[BEN])
    assert mine.value.mine
    with pytest.raises(NoLongerAvailable):
        await world.friends.comparison(ANN, world.ids[CAT])  # not a friend


async def test_compare_uses_the_parts_the_pass_stored(world: World) -> None:
    await world.befriend(ANN, BEN)
    await ScoringPass(world.db, world.clock, LONDON).run(progress=lambda _: None)
    comparison = await world.friends.comparison(ANN, world.ids[BEN])
    async with world.db.transaction() as session:
        ben = await session.get(Score, world.ids[BEN])
    assert ben is not None
    theirs = {d.name: d.theirs for d in comparison.dimensions}
    assert theirs["Connections"] == ben.connections
    assert theirs["Account standing"] == ben.account_standing


async def test_the_leaderboard_ranks_opted_in_friends_and_always_you(world: World) -> None:
    friends = [200 + i for i in range(LEADERBOARD_SIZE + 2)]
    for i, tid in enumerate(friends):
        await world.add(tid, f"F{i:02d}")
        await world.befriend(ANN, tid)
        await world.set_score(tid, 700 - 10 * i, "Good")
        await world.friends.change_setting(tid, "on_leaderboard", "yes")
    await world.befriend(ANN, BEN)  # stays off leaderboards (the default)
    await world.set_score(BEN, 900, "Excellent")
    await world.friends.change_setting(friends[1], "score_visibility", "nobody")
    await world.set_score(ANN, 690, "Good")  # ties with F01 (690)

    board = await world.friends.leaderboard(ANN)
    assert board.size == len(friends) + 1
    assert board.hidden == 1
    assert "Ben" not in [e.name for e in board.top]
    assert len(board.top) == LEADERBOARD_SIZE
    assert [(e.rank, e.name, e.score) for e in board.top[:4]] == [
        (1, "F00", 700),
        (2, "Ann", 690),
        (2, "F01", None),  # on the board, but keeps the number private
        (4, "F02", 680),
    ]
    assert board.me.me and board.me.rank == 2 and board.me_in_top
    assert not board.me_listed

    await world.set_score(ANN, 400, "Poor")
    board = await world.friends.leaderboard(ANN)
    assert not board.me_in_top
    assert board.me.rank == board.size == len(friends) + 1

    # Ann's own choice decides whether she appears on Ben's board.
    assert [e.name for e in (await world.friends.leaderboard(BEN)).top] == ["Ben"]
    await world.friends.change_setting(ANN, "on_leaderboard", "yes")
    assert [e.name for e in (await world.friends.leaderboard(BEN)).top] == ["Ben", "Ann"]


async def test_privacy_defaults_protect_and_settings_change_only_known_values(
    world: World,
) -> None:
    settings = await world.friends.settings(ANN)
    assert settings.score_visibility == "friends"
    assert settings.on_leaderboard is False
    assert settings.accepts_friend_requests is True
    changed = await world.friends.change_setting(ANN, "on_leaderboard", "yes")
    assert changed.on_leaderboard is True
    # Setting a value twice is harmless (a replayed button).
    assert (await world.friends.change_setting(ANN, "on_leaderboard", "yes")).on_leaderboard
    for name, value in (("on_leaderboard", "maybe"), ("unread_setting", "yes"), ("", "")):
        with pytest.raises(InvalidSetting):
            await world.friends.change_setting(ANN, name, value)


async def test_connections_count_accepted_friendships_only(world: World) -> None:
    await world.befriend(ANN, BEN)  # accepted
    await world.ask(ANN, CAT)  # pending
    await world.ask(ANN, DAN)
    await world.friends.answer(DAN, await world.last_request_id(ANN, DAN), Answer.DECLINE)
    eve = 15
    await world.add(eve, "Eve")
    await world.ask(ANN, eve)
    await world.friends.answer(eve, await world.last_request_id(ANN, eve), Answer.BLOCK)
    fay = 16
    await world.add(fay, "Fay")
    await world.befriend(ANN, fay)
    await world.friends.remove(ANN, world.ids[fay])

    await ScoringPass(world.db, world.clock, LONDON).run(progress=lambda _: None)
    async with world.db.transaction() as session:
        ann = await session.get(Score, world.ids[ANN])
        cat = await session.get(Score, world.ids[CAT])
    assert ann is not None and cat is not None
    assert ann.friend_count == 1
    assert cat.friend_count == 0


# --------------------------------------------------------------------------------------------
# Invites


async def test_invite_codes_are_opaque_stable_and_stored_only_as_a_hash(world: World) -> None:
    code = await world.invites.code_for(ANN)
    assert is_invite_payload(code)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", code)  # Telegram's start-payload rule
    assert len(code) == len(INVITE_PREFIX) + 22  # 128 random-looking bits, no id in clear
    assert await world.invites.code_for(ANN) == code
    assert await world.invites.code_for(BEN) != code
    async with world.db.transaction() as session:
        row = await session.get(InviteCode, world.ids[ANN])
        assert row is not None
        assert code not in (row.nonce, row.code_hash)
        assert code.removeprefix(INVITE_PREFIX) not in row.code_hash
        owner = await world.invites.owner_of(session, code)
        assert owner is not None and owner.id == world.ids[ANN]
        # A guess of the right shape finds nobody; another key makes other codes.
        assert await world.invites.owner_of(session, INVITE_PREFIX + "A" * 22) is None
    other_key = InviteService(world.db, b"x" * 32, world.clock)
    assert await other_key.code_for(ANN) != code

    fresh = await world.invites.new_code(ANN)
    assert fresh != code
    async with world.db.transaction() as session:
        assert await world.invites.owner_of(session, code) is None
        assert await world.invites.owner_of(session, fresh) is not None
    assert qr_png(f"https://t.me/bot?start={fresh}").startswith(PNG_SIGNATURE)


async def test_an_existing_citizen_opening_a_link_asks_without_a_referral(world: World) -> None:
    code = await world.invites.code_for(ANN)
    outcome = await world.invites.open_link(BEN, code)
    assert (outcome.result, outcome.name) == (RequestResult.SENT, "Ann")
    assert "opened your invite link" in present((await world.outbox(ANN))[-1].text)
    assert (await world.invites.open_link(ANN, code)).result is RequestResult.SELF
    retired = await world.invites.new_code(CAT)
    await world.invites.new_code(CAT)
    assert (await world.invites.open_link(BEN, retired)).result is RequestResult.LINK_NOT_VALID
    assert (await world.invites.open_link(BEN, "not-an-invite")).result is (
        RequestResult.LINK_NOT_VALID
    )
    async with world.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Referral)) == 0


async def register_through(world: World, telegram_id: int, payload: str | None) -> int:
    registration = RegistrationService(
        world.db, DialogService(world.db), KEY, world.clock, world.invites
    )
    await registration.begin(telegram_id, invite_payload=payload)
    await registration.give_consent(telegram_id)
    await registration.submit_ni_number(telegram_id, f"AB 12 34 {telegram_id % 100:02d} C")
    await registration.submit_date_of_birth(telegram_id, "14/03/1990")
    done = await registration.complete(telegram_id, telegram_id, "Newbie", None)
    world.ids[telegram_id] = done.citizen_id
    if payload is not None and done.invite is not None:
        assert done.invite.inviter_name == "Ann"
    return done.citizen_id


async def test_registering_through_an_invite_credits_once_and_asks_the_inviter(
    world: World,
) -> None:
    code = await world.invites.code_for(ANN)
    registration = RegistrationService(
        world.db, DialogService(world.db), KEY, world.clock, world.invites
    )
    # A registration abandoned half-way credits nothing.
    await registration.begin(77, invite_payload=code)
    await registration.give_consent(77)
    await registration.decline(77)
    async with world.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Referral)) == 0

    newcomer = await register_through(world, 78, code)
    async with world.db.transaction() as session:
        referrals = (await session.scalars(select(Referral))).all()
        assert [(r.inviter_id, r.invitee_id) for r in referrals] == [(world.ids[ANN], newcomer)]
        # Crediting the same newcomer again does nothing.
        citizen = await session.get(Citizen, newcomer)
        assert citizen is not None
        again = await world.invites.redeem(session, citizen, code, world.clock())
        assert again is not None and not again.credited
        assert again.request is RequestResult.ALREADY_ASKED
        assert await session.scalar(select(func.count()).select_from(Referral)) == 1
    assert "joined Britizen with your invite link" in present((await world.outbox(ANN))[-1].text)
    assert await world.status(78, ANN) == "pending"

    # A registration through a retired or made-up code registers without any credit.
    await register_through(world, 79, INVITE_PREFIX + "B" * 22)
    async with world.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Referral)) == 1


async def test_an_inviter_who_refuses_requests_still_gets_the_referral(world: World) -> None:
    code = await world.invites.code_for(ANN)
    await world.friends.change_setting(ANN, "accepts_friend_requests", "no")
    await register_through(world, 78, code)
    assert await world.status(78, ANN) is None
    assert await world.outbox(ANN) == []
    async with world.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Referral)) == 1


async def test_the_pass_counts_verified_referrals_in_the_community_part(world: World) -> None:
    code = await world.invites.code_for(ANN)
    await register_through(world, 78, code)
    await register_through(world, 79, code)
    await ScoringPass(world.db, world.clock, LONDON).run(progress=lambda _: None)
    async with world.db.transaction() as session:
        ann = await session.get(Score, world.ids[ANN])
        newcomer = await session.get(Score, world.ids[78])
    assert ann is not None and newcomer is not None
    assert ann.community == 2 * REFERRAL_POINTS
    assert newcomer.community == 0
    assert ann.score == newcomer.score + 2 * REFERRAL_POINTS
