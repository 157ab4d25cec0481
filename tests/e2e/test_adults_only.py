"""A 16-year-old through the real bot (issue 16): /loan and /benefits say when credit unlocks,
and nothing else changes for them."""

from __future__ import annotations

from collections.abc import Callable

from bot.service import BritizenService
from tests.e2e.conftest import register
from tests.standin.driver import Citizen


async def test_a_16_year_old_is_told_when_loans_unlock(
    service: BritizenService, citizen: Callable[..., Citizen]
) -> None:
    dev = citizen(801, "Dev")
    await register(dev, "AB 80 10 01 A", dob="14/03/2010")  # 16 on 21 Nov 2026
    await dev.send("/loan")
    refusal = await dev.expect("aged 18 or over", "You can apply from 14 Mar 2028")
    assert refusal.inline_keyboard == []  # no amount buttons
    await dev.send("/benefits")
    await dev.expect("Your tier: Silver", "unlocks on 14 Mar 2028, your 18th birthday")
    await dev.send("/score")
    await dev.expect("Your Britizen score: 600")
    await dev.expect_nothing()
