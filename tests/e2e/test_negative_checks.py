""" "The bot sent nothing" must be able to fail: it drains the outbox before it looks."""

from __future__ import annotations

import pytest

from standin import BotApiStandIn
from storage.repositories import outbox
from tests.e2e.conftest import ServiceFactory
from tests.standin.driver import Citizen


async def test_expect_nothing_fails_for_a_message_still_waiting_in_the_outbox(
    start_service: ServiceFactory, standin: BotApiStandIn
) -> None:
    """A queued message the dispatcher hasn't picked up yet (its poll is 0.5 s) still makes
    the check fail, however short the quiet period asked for."""
    service = await start_service()
    person = Citizen(standin, 4242, "Quinn")
    await person.expect_nothing(quiet=0.1)  # nothing yet: passes
    async with service.db.transaction() as session:
        outbox.enqueue(
            session,
            chat_id=4242,
            citizen_id=None,
            kind="notice",
            priority=5,
            text="a message nobody asked for",
            now=service.services.clock(),
        )
    with pytest.raises(AssertionError, match="a message nobody asked for"):
        await person.expect_nothing(quiet=0.1)
