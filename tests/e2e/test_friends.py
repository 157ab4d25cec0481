"""Friends through the real bot: invite links and QR codes, picking friends from Telegram,
answering requests, /friends, /compare, /leaderboard, /settings, forged buttons and the limits.

Requests and "they accepted" reach the other person through the outbox dispatcher, exactly as in
production; the ManualClock moves days for the 30-day and 24-hour rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from sqlalchemy import func, select, update

from bot.service import BritizenService
from services.clock import ManualClock
from services.friends_model import REQUESTS_PER_DAY
from services.scores import record_starting_score
from standin import BotApiStandIn
from storage.models import Citizen as CitizenRow
from storage.models import FriendRequest, Friendship, Referral, Score
from tests.e2e.conftest import register
from tests.standin.driver import Citizen, callback_data

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
INVITE_LINK = re.compile(r"https://t\.me/BritizenTestBot\?start=(\S+)")
NEW_COMMANDS = ("invite", "friends", "compare", "leaderboard", "settings")


async def citizen_id(service: BritizenService, telegram_id: int) -> int:
    async with service.db.transaction() as session:
        found = await session.scalar(
            select(CitizenRow.id).where(CitizenRow.telegram_id == telegram_id)
        )
    assert found is not None
    return found


async def friendship_status(service: BritizenService, a: int, b: int) -> str | None:
    low, high = sorted([await citizen_id(service, a), await citizen_id(service, b)])
    async with service.db.transaction() as session:
        return await session.scalar(
            select(Friendship.status).where(Friendship.low_id == low, Friendship.high_id == high)
        )


async def pick(person: Citizen, *others: Citizen | int) -> None:
    """/friends → Add friends → choose people in Telegram's picker."""
    await person.send("/friends")
    await person.expect("friends")
    await person.press("Add friends")
    await person.expect("Choose people from your Telegram chats")
    assert "👥 Choose friends" in person.keyboard()
    ids = [other if isinstance(other, int) else other.user_id for other in others]
    await person.press("Choose friends", users=ids)


async def befriend(asker: Citizen, other: Citizen) -> None:
    await pick(asker, other)
    await asker.expect(f"{other.first_name}: request sent")
    await other.expect(f"{asker.first_name} would like to be your friend")
    await other.press("Accept")
    await other.expect(f"You and {asker.first_name} are now friends")
    await asker.expect(f"{other.first_name} accepted your friend request")


async def forge(standin: BotApiStandIn, person: Citizen, data: str) -> str:
    """Press a button with ``data`` that ``person`` was never shown (or no longer is); returns
    what the bot answered."""
    anchor = person.last
    assert anchor is not None, "the forger needs some message from the bot to press on"
    since = standin.mark()
    standin.callback_query(person.user_id, anchor, data, strict=False)
    answer = await standin.wait_for("answerCallbackQuery", since=since)
    return str(answer.params.get("text"))


async def test_the_friend_commands_are_in_the_menu_and_need_registration(
    service: BritizenService, standin: BotApiStandIn, citizen: Callable[..., Citizen]
) -> None:
    names = [command["command"] for command in standin.commands()]
    assert set(NEW_COMMANDS) <= set(names)
    zed = citizen(499, "Zed")
    await zed.send("/help")
    await zed.expect(*(f"/{name} —" for name in NEW_COMMANDS))
    for command in NEW_COMMANDS:
        await zed.send(f"/{command}")
        await zed.expect("not registered", "/start")


async def test_invite_link_then_registration_then_friends(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    clock: ManualClock,
    standin: BotApiStandIn,
) -> None:
    alice = citizen(401, "Alice")
    await register(alice, "AB 12 34 56 C")
    await alice.send("/invite")
    invite = await alice.expect_photo("Your personal invite link", "5 points")
    assert invite.photo is not None and invite.photo.startswith(PNG_SIGNATURE)
    found = INVITE_LINK.search(invite.text)
    assert found is not None
    code = found.group(1)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", code)
    assert str(alice.user_id) not in code
    # The link is the same each time it's asked for.
    await alice.send("/invite")
    assert code in (await alice.expect_photo()).text

    bob = citizen(402, "Bob")
    await bob.send(f"/start {code}")
    await bob.expect("Welcome to Britizen")
    await bob.press("I agree")
    await bob.expect("National Insurance number")
    await bob.send("CE 12 34 56 A")
    await bob.expect("saved as")
    await bob.send("01/01/1991")
    await bob.expect("postcode district")
    # Nothing is credited or asked before registration is complete.
    async with service.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Referral)) == 0
    await bob.press("Skip")
    await bob.expect("You're registered", "You joined with Alice's invite", "asked Alice")
    await bob.expect("would you like offers")

    await alice.expect("Bob joined Britizen with your invite link", "would like to be your friend")
    await alice.press("Accept")
    await alice.expect("You and Bob are now friends")
    await bob.expect("Alice accepted your friend request")
    await alice.send("/friends")
    await alice.expect("Your friends (1)", "Bob — 600, Good")
    await bob.send("/friends")
    await bob.expect("Your friends (1)", "Alice — 600, Good")

    # The referral counts at the next nightly pass: +5 in Alice's community part.
    clock.advance(days=1)
    await service.services.scoring.run()
    async with service.db.transaction() as session:
        alice_score = await session.get(Score, await citizen_id(service, 401))
        bob_score = await session.get(Score, await citizen_id(service, 402))
    assert alice_score is not None and bob_score is not None
    assert (alice_score.community, bob_score.community) == (5, 0)

    # Someone already registered who opens the link asks to be friends, with no referral.
    carol = citizen(403, "Carol")
    await register(carol, "JG 10 30 50 B")
    await carol.send(f"/start {code}")
    await carol.expect("I've asked Alice to confirm you as a friend")
    await alice.expect("Carol opened your invite link")
    async with service.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Referral)) == 1
    # Opening your own link, or a retired one, says so.
    await alice.send(f"/start {code}")
    await alice.expect("That's your own invite link")
    await alice.press("Make a new link")
    fresh = await alice.expect_photo("Your personal invite link")
    assert code not in fresh.text
    answers = standin.calls_of("answerCallbackQuery")
    assert "old link no longer works" in str(answers[-1].params.get("text"))
    dave = citizen(404, "Dave")
    await register(dave, "JH 11 22 33 C")
    await dave.send(f"/start {code}")
    await dave.expect("That invite link doesn't work any more")


async def test_contact_share_request_accepted_and_declined(
    service: BritizenService, citizen: Callable[..., Citizen], standin: BotApiStandIn
) -> None:
    alice, bob, carol = citizen(411, "Alice"), citizen(412, "Bob"), citizen(413, "Carol")
    for person, ni in ((alice, "AB 12 34 56 C"), (bob, "CE 12 34 56 A"), (carol, "JG 10 30 50 B")):
        await register(person, ni)
    stranger = citizen(419, "Sam")  # on Telegram, never started the bot

    await pick(alice, bob, carol, stranger)
    reply = await alice.expect(
        "Bob: request sent",
        "Carol: request sent",
        "Sam isn't on Britizen yet",
        "https://t.me/BritizenTestBot?start=",
    )
    assert "Alice" not in reply.text
    assert alice.keyboard() == [], "the picker keyboard is removed after use"
    await alice.expect("QR code")

    await bob.expect("Alice would like to be your friend")
    assert bob.buttons() == ["✅ Accept", "Decline", "🚫 Block"]
    await bob.press("Accept")
    await bob.expect("You and Alice are now friends")
    await carol.expect("Alice would like to be your friend")
    await carol.press("Decline")
    await carol.expect("Declined. Alice won't be told.")
    assert carol.buttons() == []

    await alice.expect("Bob accepted your friend request")
    await alice.expect_nothing(quiet=0.5)  # nothing about Carol's decline
    assert await friendship_status(service, 411, 412) == "accepted"
    assert await friendship_status(service, 411, 413) == "declined"
    await alice.send("/friends")
    listing = await alice.expect("Your friends (1)", "Bob")
    assert "Carol" not in listing.text

    # Asking Carol again straight away is refused, and Carol hears nothing.
    await pick(alice, carol)
    await alice.expect("Carol: you can't send them a friend request at the moment")
    await carol.expect_nothing(quiet=0.5)


async def test_compare_sends_a_chart_only_between_friends_who_share(
    service: BritizenService, citizen: Callable[..., Citizen]
) -> None:
    alice, bob = citizen(421, "Alice"), citizen(422, "Bob")
    await register(alice, "AB 12 34 56 C")
    await register(bob, "CE 12 34 56 A")
    await alice.send("/compare")
    await alice.expect("haven't got any friends")
    await befriend(alice, bob)
    async with service.db.transaction() as session:
        await session.execute(
            update(Score)
            .where(Score.citizen_id == await citizen_id(service, 422))
            .values(score=640, band="Good")
        )

    await alice.send("/compare")
    await alice.expect("Compare your score with")
    await alice.press("Bob")
    chart = await alice.expect_photo(
        "You and Bob",
        "You: 600 (Good) · Bob: 640 (Good)",
        "Bob is 40 points ahead",
        "Payment history: 0 vs 0",
        "Account standing: +20 vs +20",
    )
    assert chart.photo is not None and chart.photo.startswith(PNG_SIGNATURE)

    # The same from the friend's card in /friends.
    await alice.send("/friends")
    await alice.expect("Bob — 640, Good")
    await alice.press("Bob")
    await alice.expect("Score: 640 (Good)", "Friends since")
    await alice.press("Compare")
    await alice.expect_photo("You and Bob")

    # Bob stops sharing: he's no longer offered, his band still shows.
    await bob.send("/settings")
    await bob.expect("Who can see your score: Friends")
    await bob.press("Score: Nobody")
    await bob.expect("Who can see your score: Nobody")
    await alice.send("/compare")
    await alice.expect("None of your friends share their score yet")
    await alice.send("/friends")
    await alice.expect("Bob — Good (keeps their score private)")


async def test_leaderboard_hides_a_friend_who_opted_out(
    service: BritizenService, citizen: Callable[..., Citizen]
) -> None:
    alice, bob, carol = citizen(431, "Alice"), citizen(432, "Bob"), citizen(433, "Carol")
    for person, ni in ((alice, "AB 12 34 56 C"), (bob, "CE 12 34 56 A"), (carol, "JG 10 30 50 B")):
        await register(person, ni)
    await befriend(alice, bob)
    await befriend(alice, carol)
    scores = {432: (700, "Excellent"), 433: (720, "Excellent")}
    async with service.db.transaction() as session:
        for telegram_id, (value, band) in scores.items():
            await session.execute(
                update(Score)
                .where(Score.citizen_id == await citizen_id(service, telegram_id))
                .values(score=value, band=band)
            )

    await alice.send("/leaderboard")
    await alice.expect("1. You — 600 (Good)", "2 friends aren't shown", "Only you see yourself")

    await bob.send("/settings")
    await bob.expect("Appear on your friends' leaderboards: No")
    await bob.press("Leaderboard: Yes")
    await bob.expect("Appear on your friends' leaderboards: Yes")

    await alice.send("/leaderboard")
    board = await alice.expect(
        "1. Bob — 700 (Excellent)",
        "2. You — 600 (Good)",
        "You're 2nd of 2",
        "1 friend isn't shown because they keep off leaderboards",
    )
    assert "Carol" not in board.text and "720" not in board.text

    # Alice opts in from the button under the board, and then appears on Bob's.
    await alice.press("Leaderboard settings")
    await alice.expect("Your settings")
    await alice.press("Leaderboard: Yes")
    await alice.expect("Appear on your friends' leaderboards: Yes")
    await bob.send("/leaderboard")
    await bob.expect("1. You — 700 (Excellent)", "2. Alice — 600 (Good)")


async def test_forged_and_replayed_buttons_change_nothing(
    service: BritizenService, citizen: Callable[..., Citizen], standin: BotApiStandIn
) -> None:
    alice, bob, carol = citizen(441, "Alice"), citizen(442, "Bob"), citizen(443, "Carol")
    for person, ni in ((alice, "AB 12 34 56 C"), (bob, "CE 12 34 56 A"), (carol, "JG 10 30 50 B")):
        await register(person, ni)
    await pick(alice, bob)
    await alice.expect("Bob: request sent")
    await bob.expect("Alice would like to be your friend")
    accept = callback_data(bob, "Accept")
    decline = callback_data(bob, "Decline")
    block = callback_data(bob, "Block")

    # Someone else's request id: Carol (and someone with no account) can't answer it.
    for data in (accept, decline, block, accept.replace("acc", "show")):
        assert "no longer available" in await forge(standin, carol, data)
    # Nor can the requester answer their own request.
    assert "no longer available" in await forge(standin, alice, accept)
    outsider = citizen(449, "Mallory")
    await outsider.send("/start")
    await outsider.expect("Welcome")
    assert "no longer available" in await forge(standin, outsider, accept)
    assert await friendship_status(service, 441, 442) == "pending"

    # An answered request: the old buttons (replayed) no longer do anything.
    await bob.press("Decline")
    await bob.expect("Declined")
    for data in (accept, block):
        assert "no longer available" in await forge(standin, bob, data)
    assert await friendship_status(service, 441, 442) == "declined"

    # A removed friend: the card, compare and removal buttons are all gone.
    await befriend(carol, alice)
    carol_id = await citizen_id(service, 443)
    await alice.send("/friends")
    await alice.expect("Your friends (1)")
    await alice.press("Carol")
    await alice.expect("Score: 600 (Good)")
    await alice.press("Remove friend")
    await alice.expect("Remove Carol from your friends?", "won't be told")
    await alice.press("Yes, remove")
    await alice.expect("Carol is no longer your friend.")
    for data in (f"fl:rmy:{carol_id}", f"fl:rm:{carol_id}", f"fl:v:{carol_id}", f"cmp:{carol_id}"):
        assert "no longer available" in await forge(standin, alice, data)
    assert await friendship_status(service, 441, 443) == "removed"
    # Someone who was never a friend, and a settings value that doesn't exist.
    bob_id = await citizen_id(service, 442)
    assert "no longer available" in await forge(standin, alice, f"cmp:{bob_id}")
    assert "no longer available" in await forge(standin, alice, "set:lb:maybe")
    await carol.expect_nothing(quiet=0.3)


async def test_the_limits_daily_requests_thirty_days_after_a_decline_and_blocking(
    service: BritizenService,
    citizen: Callable[..., Citizen],
    clock: ManualClock,
) -> None:
    alice, bob, carol = citizen(451, "Alice"), citizen(452, "Bob"), citizen(453, "Carol")
    for person, ni in ((alice, "AB 12 34 56 C"), (bob, "CE 12 34 56 A"), (carol, "JG 10 30 50 B")):
        await register(person, ni)

    # The daily limit: Alice has already sent REQUESTS_PER_DAY requests today (to people added
    # straight into the database, to save twenty registrations).
    alice_id = await citizen_id(service, 451)
    async with service.db.transaction() as session:
        for k in range(REQUESTS_PER_DAY):
            other = CitizenRow(
                telegram_id=9000 + k,
                chat_id=9000 + k,
                display_name=f"Other {k}",
                ni_hash=f"{k:064d}",
                ni_masked="AB •• •• •• C",
                date_of_birth=date(1990, 1, 1),
                registered_at=clock(),
            )
            session.add(other)
            await session.flush()
            await record_starting_score(session, other.id, clock())
            session.add(
                FriendRequest(
                    requester_id=alice_id, recipient_id=other.id, via="contacts", created_at=clock()
                )
            )
    await pick(alice, bob)
    await alice.expect(f"Bob: not sent. You can send up to {REQUESTS_PER_DAY} friend requests")
    await bob.expect_nothing(quiet=0.3)
    clock.advance(hours=24, seconds=1)
    await pick(alice, bob)
    await alice.expect("Bob: request sent")

    # Declined: not again for 30 days.
    await bob.expect("Alice would like to be your friend")
    await bob.press("Decline")
    await bob.expect("Declined")
    clock.advance(days=29)
    await pick(alice, bob)
    await alice.expect("Bob: you can't send them a friend request at the moment")
    clock.advance(days=1, seconds=1)
    await pick(alice, bob)
    await alice.expect("Bob: request sent")
    await bob.expect("Alice would like to be your friend")

    # Blocked: never again.
    await pick(alice, carol)
    await alice.expect("Carol: request sent")
    await carol.expect("Alice would like to be your friend")
    await carol.press("Block")
    await carol.expect("Blocked. Alice can't send you friend requests any more")
    clock.advance(days=365)
    await pick(alice, carol)
    await alice.expect("Carol: you can't send them a friend request at the moment")
    await carol.expect_nothing(quiet=0.3)

    # Requests switched off in /settings: nobody can ask, by contacts or by link.
    await bob.send("/settings")
    await bob.expect("Receive friend requests: Yes")
    await bob.press("Requests: No")
    await bob.expect("Receive friend requests: No")
    await pick(carol, bob)
    await carol.expect("Bob isn't accepting friend requests")
    await bob.send("/invite")
    bob_invite = await bob.expect_photo("You've turned friend requests off")
    found = INVITE_LINK.search(bob_invite.text)
    assert found is not None
    await carol.send(f"/start {found.group(1)}")
    await carol.expect("Bob isn't accepting friend requests")


async def test_the_friends_list_pages_and_waiting_requests_can_be_answered_from_it(
    service: BritizenService, citizen: Callable[..., Citizen], clock: ManualClock
) -> None:
    alice = citizen(461, "Alice")
    await register(alice, "AB 12 34 56 C")
    alice_id = await citizen_id(service, 461)
    async with service.db.transaction() as session:
        for k in range(11):
            friend = CitizenRow(
                telegram_id=9100 + k,
                chat_id=9100 + k,
                display_name=f"Friend {k:02d}",
                ni_hash=f"{k + 100:064d}",
                ni_masked="AB •• •• •• C",
                date_of_birth=date(1990, 1, 1),
                registered_at=clock(),
            )
            session.add(friend)
            await session.flush()
            await record_starting_score(session, friend.id, clock())
            low, high = sorted((alice_id, friend.id))
            session.add(
                Friendship(
                    low_id=low,
                    high_id=high,
                    requester_id=friend.id,
                    status="accepted",
                    created_at=clock(),
                    responded_at=clock(),
                )
            )
    bob = citizen(462, "Bob")
    await register(bob, "CE 12 34 56 A")
    await pick(bob, alice)
    await bob.expect("Alice: request sent")
    await alice.expect("Bob would like to be your friend")

    await alice.send("/friends")
    first = await alice.expect(
        "Your friends (11)", "Friend 00", "Friend 07", "Page 1 of 2", "1 friend request is waiting"
    )
    assert "Friend 08" not in first.text
    await alice.press("Next ›")
    second = await alice.expect("Friend 08", "Friend 10", "Page 2 of 2")
    assert "Friend 00" not in second.text
    await alice.press("‹ Previous")
    await alice.expect("Page 1 of 2")

    await alice.press("Requests waiting (1)")
    await alice.expect("Bob would like to be your friend")
    await alice.press("Accept")
    await alice.expect("You and Bob are now friends")
    await bob.expect("Alice accepted your friend request")
    # The first copy of the request (from the outbox) is now spent too.
    await alice.send("/friends")
    await alice.expect("Your friends (12)")
