"""The referral funnel's counters through the real bot (issue 19): a newcomer's /start with an
invite link counts as "opened", finishing registration through it as "registered" and the
credited referral as "verified"; an existing citizen opening the link counts for nothing. The
operator's report over HTTP then shows the same funnel, and the operator key opens nothing else."""

from __future__ import annotations

import re
from collections.abc import Callable

import aiohttp
from sqlalchemy import select

from api.openapi import API_PREFIX
from bot.service import BritizenService
from services.operators import OperatorService
from storage.models import InviteCode
from tests.e2e.conftest import register
from tests.standin.driver import Citizen

INVITE_LINK = re.compile(r"https://t\.me/BritizenTestBot\?start=(\S+)")


async def counters(service: BritizenService) -> tuple[int, int]:
    async with service.db.transaction() as session:
        row = await session.scalar(select(InviteCode))
    assert row is not None
    return row.opened_count, row.registered_count


async def test_the_funnel_counts_opens_and_registrations_through_the_bot(
    service: BritizenService, citizen: Callable[..., Citizen]
) -> None:
    alice = citizen(501, "Alice")
    await register(alice, "AB 12 34 56 C", postcode="SO17")
    await alice.send("/invite")
    found = INVITE_LINK.search((await alice.expect_photo("Your personal invite link")).text)
    assert found is not None
    code = found.group(1)
    assert await counters(service) == (0, 0)

    # Carol opens the link and walks away: opened, not registered.
    carol = citizen(503, "Carol")
    await carol.send(f"/start {code}")
    await carol.expect("Welcome to Britizen")
    assert await counters(service) == (1, 0)

    bob = citizen(502, "Bob")
    await bob.send(f"/start {code}")
    await bob.expect("Welcome to Britizen")
    await bob.press("I agree")
    await bob.expect("National Insurance number")
    await bob.send("CE 12 34 56 A")
    await bob.expect("saved as")
    await bob.send("01/01/1991")
    await bob.expect("postcode district")
    assert await counters(service) == (2, 0)  # nothing counted before registration completes
    await bob.send("SO14")
    await bob.expect("You're registered", "You joined with Alice's invite")
    assert await counters(service) == (2, 1)
    await alice.expect("Bob joined Britizen with your invite link")

    # Alice, registered, opening her own link: no funnel count.
    await alice.send(f"/start {code}")
    await alice.expect("That's your own invite link")
    assert await counters(service) == (2, 1)

    operators = OperatorService(
        service.db, service.settings.resolved_secret_key(), service.services.clock
    )
    _operator, key = await operators.create("Growth team")
    base = f"http://127.0.0.1:{service.http_port}{API_PREFIX}"
    auth = {"Authorization": f"Bearer {key}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/operator/growth", headers=auth) as reply:
            assert reply.status == 200
            body = await reply.json()
        assert body["funnel"] == {"links_made": 1, "opened": 2, "registered": 1, "verified": 1}
        assert body["registered"] == 2
        # The operator key opens no sponsor route.
        async with http.get(f"{base}/sponsor", headers=auth) as refused:
            assert refused.status == 401
            assert "an operator key" in (await refused.json())["detail"]
