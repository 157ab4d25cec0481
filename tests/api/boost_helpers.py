"""Making a Boost partner the way a citizen and their landlord do, through the services (the
bot conversation and the sign-up page over HTTP are tested in tests/e2e/test_boost.py)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from bot.service import BritizenService
from tests.api.rights_helpers import register_directly


def token_of(url: str) -> str:
    [token] = parse_qs(urlsplit(url).query)["token"]
    return token


async def boost_partner(
    service: BritizenService,
    telegram_id: int,
    ni_number: str,
    name: str,
    role: str = "landlord",
) -> tuple[int, str]:
    """Register a citizen who invites a landlord (or council) that signs up: (citizen id,
    the Boost partner's key)."""
    citizen_id = await register_directly(service, telegram_id, ni_number)
    invitation = await service.services.boost.invite(telegram_id, role)
    done = await service.services.boost.sign_up(token_of(invitation.url), name)
    assert done.api_key is not None
    return citizen_id, done.api_key
