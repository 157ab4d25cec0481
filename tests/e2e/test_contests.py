"""A referral contest through the real bot (issue 19): joining with /contest (listed or not),
a verified referral that counts, a self-referral that doesn't, an erased-and-rejoined inviter
whose invites never count, a rejoining invitee who counts once ever, the leaderboard hiding
unlisted people (who still see their own count), and the result announced once at the end.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from sqlalchemy import func, select

from bot.service import BritizenService
from services.clock import ManualClock
from standin import BotApiStandIn
from storage.models import ContestEntry, Referral
from tests.e2e.conftest import register
from tests.standin.driver import Citizen

LINK = re.compile(r"https://t\.me/BritizenTestBot\?start=(inv_[A-Za-z0-9_-]{22})")


async def invite_code(person: Citizen) -> str:
    await person.send("/invite")
    found = LINK.search((await person.expect_photo("Your personal invite link")).text)
    assert found is not None
    return found.group(1)


async def join_through(
    person: Citizen, code: str, ni_number: str, inviter: Citizen, *, rejoining: bool = False
) -> None:
    """Register through `code`; the inviter hears about it."""
    await person.send(f"/start {code}")
    await person.expect("Welcome to Britizen")
    await person.press("I agree")
    await person.expect("National Insurance number")
    await person.send(ni_number)
    await person.expect("saved as")
    await person.send("01/01/1991")
    await person.expect("postcode district")
    await person.press("Skip")
    await person.expect("You're registered", f"You joined with {inviter.first_name}'s invite")
    if not rejoining:
        await person.expect("would you like offers")
    await inviter.expect(f"{person.first_name} joined Britizen with your invite link")


async def erase(person: Citizen) -> None:
    await person.send("/delete")
    await person.expect("Erase your Britizen account?")
    await person.press("Yes, erase everything")
    await person.expect("Your account has been erased")


async def rejoin(person: Citizen, ni_number: str) -> None:
    await person.send("/start")
    await person.expect("Welcome to Britizen")
    await person.press("I agree")
    await person.expect("National Insurance number")
    await person.send(ni_number)
    await person.expect("saved as")
    await person.send("14/03/1990")
    await person.expect("postcode district")
    await person.press("Skip")
    await person.expect("You're registered")


async def test_contest_counts_verified_referrals_only_and_hides_unlisted_people(
    service: BritizenService,
    standin: BotApiStandIn,
    citizen: Callable[..., Citizen],
    clock: ManualClock,
) -> None:
    alice, bob, eve = citizen(1931, "Alice"), citizen(1932, "Bob"), citizen(1935, "Eve")
    for person, ni in ((alice, "AB 12 34 56 C"), (bob, "CE 12 34 56 A"), (eve, "JG 10 30 50 B")):
        await register(person, ni)
    await alice.send("/contest")
    await alice.expect("There's no referral contest running right now")

    contests = service.services.contests
    contest = await contests.start("Winter push", 14)

    # Alice joins listed; Bob joins but keeps his name off the board.
    await alice.send("/contest")
    screen = await alice.expect(
        "Referral contest: Winter push",
        "Runs until 5 Dec 2026, 12:00",
        "Each NI number counts once",
    )
    assert alice.buttons(screen) == ["Join, show my name", "Join, keep me off the board"]
    await alice.press("Join, show my name")
    await alice.expect("Your verified referrals so far: 0", "You're on the leaderboard as Alice")
    await bob.send("/settings")
    await bob.expect("Your settings")
    await bob.press("🏆 Referral contest")
    await bob.expect("Referral contest: Winter push")
    await bob.press("Join, keep me off the board")
    await bob.expect("Your verified referrals so far: 0", "You're not on the leaderboard")

    # Eve erases her account and rejoins: her invites never count.
    await erase(eve)
    await rejoin(eve, "JG 10 30 50 B")
    await eve.send("/contest")
    await eve.expect("Winter push")
    await eve.press("Join, show my name")
    await eve.expect("Your verified referrals so far: 0")

    # A verified referral for each of Alice and Bob, and Frank through Eve's link.
    carol, dan, frank = citizen(1933, "Carol"), citizen(1934, "Dan"), citizen(1936, "Frank")
    alice_code = await invite_code(alice)
    await join_through(carol, alice_code, "JH 11 22 33 C", alice)
    await join_through(dan, await invite_code(bob), "AB 94 10 02 B", bob)
    await join_through(frank, await invite_code(eve), "CE 11 22 33 B", eve)
    async with service.db.transaction() as session:
        # Three referrals were credited (community points): the contest is stricter.
        assert await session.scalar(select(func.count()).select_from(Referral)) == 3

    # Self-referrals: Alice's own link from her account, or a second Telegram account with her
    # own NI number, never make a registration.
    await alice.send(f"/start {alice_code}")
    await alice.expect("That's your own invite link")
    alt = citizen(1939, "Alice2")
    await alt.send(f"/start {alice_code}")
    await alt.expect("Welcome to Britizen")
    await alt.press("I agree")
    await alt.expect("National Insurance number")
    await alt.send("AB 12 34 56 C")
    await alt.expect("already linked to a Britizen account")
    await alt.send("/cancel")
    await alt.expect("Registration cancelled")

    # Gina registers, erases and rejoins through Alice's link: she counted for nobody before
    # and counts for nobody now (a rejoining NI number is never credited again).
    gina = citizen(1937, "Gina")
    await register(gina, "JG 22 33 44 C")
    await erase(gina)
    await join_through(gina, alice_code, "JG 22 33 44 C", alice, rejoining=True)

    # The board lists only people who chose it: Alice (1). Not Bob (unlisted), not Eve (0).
    await alice.send("/contest")
    board = await alice.expect("Your verified referrals so far: 1", "1. Alice — 1")
    assert "Bob" not in board.text and "Eve —" not in board.text
    await bob.send("/contest")
    mine = await bob.expect("Your verified referrals so far: 1", "You're not on the leaderboard")
    assert "Bob —" not in mine.text and "1. Alice — 1" in mine.text
    await eve.send("/contest")
    await eve.expect("Your verified referrals so far: 0")
    await carol.send("/contest")
    outsider = await carol.expect("Winter push", "1. Alice — 1")
    assert carol.buttons(outsider) == ["Join, show my name", "Join, keep me off the board"]

    # Bob shows his name, then hides it again.
    await bob.press("Show my name on the board")
    shown = await bob.expect("You're on the leaderboard as Bob", "1. Alice — 1", "1. Bob — 1")
    await bob.press("Hide my name")
    hidden = await bob.expect("You're not on the leaderboard")
    assert "Bob —" not in hidden.text

    # /mydata lists the contest she joined and her choice; nobody else's.
    export = json.loads((await service.services.data_rights.export(1931)).content)
    (joined,) = export["growth_outreach"]["contests_joined"]
    assert (joined["contest_id"], joined["listed"]) == (contest.id, True)
    assert export["profile"]["growth_opt_in"] is False

    # The end: counts frozen, the result announced once to each participant.
    clock.advance(days=1)
    ended = await contests.end(contest.id)
    assert (ended.participants, ended.announced, ended.counted) == (3, 3, 2)
    await alice.expect("“Winter push” has ended", "Your verified referrals: 1", "1. Alice — 1")
    result = await bob.expect("has ended", "Your verified referrals: 1")
    assert "Bob —" not in result.text
    await eve.expect("has ended", "Your verified referrals: 0")
    await carol.expect_nothing()
    again = await contests.end(contest.id)
    assert again.announced == 0
    await alice.expect_nothing()
    async with service.db.transaction() as session:
        finals = (await session.scalars(select(ContestEntry.final_count))).all()
        assert sorted(f or 0 for f in finals) == [0, 1, 1]

    # Buttons from the contest now change nothing.
    since = standin.mark()
    await bob.press("Show my name on the board", message=shown)
    answer = await standin.wait_for("answerCallbackQuery", since=since)
    assert answer.params.get("text") == "That contest has ended."
    async with service.db.transaction() as session:
        listed = await session.scalars(select(ContestEntry.listed))
        assert sorted(listed) == [False, True, True]  # Bob stays off the board
    await alice.send("/contest")
    await alice.expect("There's no referral contest running right now")
