"""Growth outreach on consent through the real bot (issue 19): the "Help Britizen grow" toggle
in /settings, an ambassador invitation that arrives once (a second run within 30 days sends
nothing), its Stop button (from a stale copy, only for its owner, cancelling a queued ask), and
an area campaign that reaches only opted-in people in the named areas.

The ranking reads the nightly pass's stored figures (scores.betweenness, network_role), set
here directly so the order is known; tests/services/test_growth_outreach.py runs the real pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import func, select, update

from bot.service import BritizenService
from services.clock import ManualClock
from standin import BotApiStandIn
from storage.models import Citizen as CitizenRow
from storage.models import GrowthMessage, OutboxMessage, Score
from tests.e2e.conftest import register
from tests.standin.driver import Citizen

LINK = re.compile(r"https://t\.me/BritizenTestBot\?start=(inv_[A-Za-z0-9_-]{22})")
TITLE = "Help Britizen grow: occasional asks to invite people you know"


async def opted_in(service: BritizenService, telegram_id: int) -> bool:
    async with service.db.transaction() as session:
        value = await session.scalar(
            select(CitizenRow.growth_opt_in).where(CitizenRow.telegram_id == telegram_id)
        )
    assert value is not None
    return bool(value)


async def set_network(
    service: BritizenService, telegram_id: int, betweenness: float, role: str | None
) -> None:
    """What the nightly pass stores for a person's place in the network."""
    async with service.db.transaction() as session:
        citizen_id = await session.scalar(
            select(CitizenRow.id).where(CitizenRow.telegram_id == telegram_id)
        )
        await session.execute(
            update(Score)
            .where(Score.citizen_id == citizen_id)
            .values(betweenness=betweenness, network_role=role)
        )


async def press_data(standin: BotApiStandIn, user_id: int, message: object, data: str) -> str:
    since = standin.mark()
    standin.callback_query(user_id, message, data, strict=False)  # type: ignore[arg-type]
    answer = await standin.wait_for("answerCallbackQuery", since=since)
    return str(answer.params.get("text"))


async def turn_on(person: Citizen) -> None:
    await person.send("/settings")
    await person.expect(f"{TITLE}: Off", "Off unless you opt in")
    await person.press("Help grow: On")
    await person.expect(f"{TITLE}: On", "Stop these messages")


async def pending_growth(service: BritizenService) -> list[OutboxMessage]:
    async with service.db.transaction() as session:
        return list(
            (
                await session.scalars(
                    select(OutboxMessage).where(
                        OutboxMessage.kind.in_(("ambassador", "campaign")),
                        OutboxMessage.status == "pending",
                    )
                )
            ).all()
        )


async def test_opt_in_ambassador_invitation_once_and_stop(
    service: BritizenService,
    standin: BotApiStandIn,
    citizen: Callable[..., Citizen],
    clock: ManualClock,
) -> None:
    alice, bob, carol = citizen(1901, "Alice"), citizen(1902, "Bob"), citizen(1903, "Carol")
    await register(alice, "AB 12 34 56 C", postcode="SO17 1BJ")
    await register(bob, "CE 12 34 56 A", postcode="SO18 2AA")
    await register(carol, "JG 10 30 50 B", postcode="BH1 1AA")

    # Off by default; on and off with the buttons, a double tap setting the same again.
    await alice.send("/settings")
    screen = await alice.expect(f"{TITLE}: Off", "Off unless you opt in")
    assert "✓ Help grow: Off" in alice.buttons(screen)
    assert "🏆 Referral contest" in alice.buttons(screen)
    assert await opted_in(service, 1901) is False
    await alice.press("Help grow: On")
    await alice.expect(f"{TITLE}: On", "Stop these messages")
    assert await opted_in(service, 1901) is True
    assert await press_data(standin, 1901, alice.last, "set:gr:yes") == "Saved."
    await alice.expect_nothing(quiet=0.3)  # the screen already says On: nothing flipped
    assert await opted_in(service, 1901) is True
    await alice.press("Help grow: Off")
    await alice.expect(f"{TITLE}: Off")
    assert await opted_in(service, 1901) is False
    await alice.press("Help grow: On")
    await alice.expect(f"{TITLE}: On")
    await turn_on(bob)
    assert await opted_in(service, 1903) is False

    # Carol is the best placed, but never said yes: she is not asked, and nobody is told why.
    await set_network(service, 1903, 0.9, "broker")
    await set_network(service, 1901, 0.5, "broker")
    await set_network(service, 1902, 0.2, "connector")
    username = service.application.bot.username
    run = await service.services.growth.invite_ambassadors(top=2, bot_username=username)
    assert (run.chosen, run.queued, run.skipped_recent) == (2, 2, 0)

    invitation = await alice.expect(
        "Would you be a Britizen ambassador?", "Your invite link: https://t.me/BritizenTestBot"
    )
    found = LINK.search(invitation.text)
    assert found is not None
    assert found.group(1) == await service.services.invites.code_for(1901)
    assert alice.buttons(invitation) == ["Stop these messages"]
    for word in ("rank", "top", "best", "most connected", "broker", "connector"):
        assert not re.search(rf"\b{word}\b", invitation.text.lower()), word
    bob_invitation = await bob.expect("Would you be a Britizen ambassador?")
    bob_link = LINK.search(bob_invitation.text)
    assert bob_link is not None and bob_link.group(1) != found.group(1)
    await carol.expect_nothing()
    assert await pending_growth(service) == []  # drained: the next check can fail

    # Within 30 days: the same two are chosen and skipped, nothing is sent.
    clock.advance(days=29)
    again = await service.services.growth.invite_ambassadors(top=2, bot_username=username)
    assert (again.chosen, again.queued, again.skipped_recent) == (2, 0, 2)
    assert await pending_growth(service) == []
    await alice.expect_nothing()
    await bob.expect_nothing()

    # After 30 days, one role only: just Bob (a connector).
    clock.advance(days=2)
    connectors = await service.services.growth.invite_ambassadors(
        top=5, bot_username=username, role="connector", areas=("SO",)
    )
    assert (connectors.chosen, connectors.queued) == (1, 1)
    await bob.expect("Would you be a Britizen ambassador?")
    await alice.expect_nothing()

    # Stop, from the first (stale) invitation: only Alice's own opt-in changes.
    await alice.press("Stop these messages", message=invitation)
    await alice.expect("you won't get any more asks to invite people", "/settings")
    assert await opted_in(service, 1901) is False
    assert await opted_in(service, 1902) is True
    await alice.press("Stop these messages", message=invitation)
    await alice.expect("These asks are already off")
    # Carol pressing the data of a button on Alice's message, outside her own chat: refused.
    refused = await press_data(standin, 1903, invitation, "grow:stop")
    assert "only works in a private chat with the person it was made for" in refused
    assert await opted_in(service, 1902) is True

    # An ask queued in quiet hours waits for 08:00, and Stop cancels it.
    clock.advance(days=31, hours=10)  # 22:00 in London
    await alice.press("Settings")
    await alice.expect("Your settings", f"{TITLE}: Off")
    await alice.press("Help grow: On")
    await alice.expect(f"{TITLE}: On")
    late = await service.services.growth.invite_ambassadors(top=1, bot_username=username)
    assert late.queued == 1
    (waiting,) = await pending_growth(service)
    assert waiting.citizen_id is not None and waiting.next_attempt_at.hour == 8
    await alice.expect_nothing()
    await alice.press("Stop these messages", message=invitation)
    await alice.expect("One that was still waiting to be sent has been cancelled")
    assert await pending_growth(service) == []
    async with service.db.transaction() as session:
        row = await session.get(OutboxMessage, waiting.id)
        assert row is not None and (row.status, row.last_error) == (
            "cancelled",
            "growth asks stopped",
        )
        assert await session.scalar(select(func.count()).select_from(GrowthMessage)) == 4


async def test_campaign_reaches_only_opted_in_people_in_the_named_areas(
    service: BritizenService, citizen: Callable[..., Citizen], clock: ManualClock
) -> None:
    alice, bob, carol = citizen(1911, "Alice"), citizen(1912, "Bob"), citizen(1913, "Carol")
    dan, eve = citizen(1914, "Dan"), citizen(1915, "Eve")
    await register(alice, "AB 12 34 56 C", postcode="SO17 1BJ")
    await register(bob, "CE 12 34 56 A", postcode="BH1 1AA")
    await register(carol, "JG 10 30 50 B", postcode="SO18 2AA")  # never opts in
    await register(dan, "JH 11 22 33 C", postcode="S1 2HE")  # Sheffield: area S, not SO
    await register(eve, "AB 94 10 02 B")  # no postcode
    for person in (alice, bob, dan, eve):
        await turn_on(person)

    growth = service.services.growth
    words = "Southampton and Bournemouth are nearly at 1,000 members!"
    username = service.application.bot.username
    run = await growth.run_campaign(areas=("BH", "SO"), text=words, bot_username=username)
    assert (run.queued, run.skipped_recent, run.already) == (2, 0, False)
    for person in (alice, bob):
        message = await person.expect(
            "From Britizen", words, "your invite link is: https://t.me/BritizenTestBot"
        )
        assert person.buttons(message) == ["Stop these messages"]
    for person in (carol, dan, eve):
        await person.expect_nothing()
    assert await pending_growth(service) == []

    # The same campaign again reaches nobody twice; a new one within 7 days waits.
    same = await growth.run_campaign(areas=("SO", "BH"), text=words, bot_username=username)
    assert (same.campaign_id, same.queued, same.already) == (run.campaign_id, 0, True)
    soon = await growth.run_campaign(areas=("SO",), text="Another ask", bot_username=username)
    assert (soon.queued, soon.skipped_recent) == (0, 1)
    await alice.expect_nothing()
    clock.advance(days=8)
    later = await growth.run_campaign(areas=("SO",), text="Another ask", bot_username=username)
    assert (later.queued, later.skipped_recent) == (1, 0)
    await alice.expect("Another ask")
    await bob.expect_nothing()
