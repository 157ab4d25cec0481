"""Bot fuzzing (issue 18): Hypothesis generates Telegram updates of every kind, in every kind of
chat, with odd Unicode, huge texts, random and stale buttons and random payments, and feeds them
through the real Application against the stand-in, on SQLite and on PostgreSQL.

Each example is a list of actions run on a fresh database and a fresh service, so a failure
shrinks to the shortest list that shows it. After every step: nothing logged at ERROR, nothing
but the short pointer outside a private chat, every private message answered, every button and
pre-checkout query answered once; after the run, the database is consistent
(tests/support/fuzz_oracles.py).
"""

from __future__ import annotations

import logging
import os
import shutil
from itertools import count
from pathlib import Path

from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis.control import currently_in_test_context
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.service import BritizenService
from services.clock import ManualClock
from standin import BotApiStandIn
from tests.conftest import _truncate_all
from tests.e2e.conftest import START, make_settings
from tests.support import fuzz_actions as fa
from tests.support.fuzz_driver import ErrorRecords, FuzzDriver
from tests.support.fuzz_oracles import database_problems, error_problems, step_problems

PROVIDER = "TEST:provider"
# Enough for CI (about a minute per backend on two busy cores); more for a deeper local hunt.
EXAMPLES = int(os.environ.get("BRITIZEN_FUZZ_EXAMPLES", "75"))
STEPS = 40
_numbers = count()


async def fresh_database(db_url: str) -> str:
    """A copy of the migrated, empty SQLite file; or the PostgreSQL test database emptied."""
    if db_url.startswith("sqlite"):
        template = Path(str(make_url(db_url).database))
        copy = template.with_name(f"fuzz-{next(_numbers)}.db")
        shutil.copyfile(template, copy)
        return f"sqlite+aiosqlite:///{copy}"
    await _truncate_all(db_url)
    return db_url


async def run_plan(db_url: str, plan: list[fa.Action]) -> None:
    url = await fresh_database(db_url)
    standin = BotApiStandIn()
    await standin.start()
    for user in fa.USERS:  # their private chats exist before anything is pressed in them
        standin.add_user(user)
    standin.add_chat(fa.GROUP, type="group", title="Family")
    standin.add_chat(fa.SUPERGROUP, type="supergroup", title="Street")
    standin.add_chat(fa.CHANNEL, type="channel", title="News")
    errors = ErrorRecords()
    logging.getLogger().addHandler(errors)
    service = BritizenService(
        make_settings(standin, url, payment_provider_token=PROVIDER), clock=ManualClock(START)
    )
    try:
        await service.start()
        driver = FuzzDriver(standin, service)
        checked = 0
        for number, action in enumerate(plan):
            await driver.run(action)
            problems = error_problems(errors.records)
            for step in driver.steps[checked:]:
                problems += step_problems(standin, step)
            checked = len(driver.steps)
            assert not problems, f"after action {number} {action!r}:\n" + "\n".join(problems)
        await record_events(service, len(driver.steps))
        problems = await database_problems(service, driver.delivered)
        assert not problems, "database inconsistent:\n" + "\n".join(problems)
    finally:
        logging.getLogger().removeHandler(errors)
        await service.stop()
        await standin.stop()


async def record_events(service: BritizenService, updates: int) -> None:
    """What a run reached, for --hypothesis-show-statistics: did the fuzzer get deep enough?"""
    if not currently_in_test_context():
        return  # an explicit regression case, not a generated one
    event("updates", updates)
    async with service.db.transaction() as session:
        for table in ("citizens", "loans", "loan_payments", "overpayments", "friendships"):
            rows = await session.scalar(text(f"SELECT COUNT(*) FROM {table}"))
            event(f"{table} > 0", bool(rows))


@settings(
    max_examples=EXAMPLES,
    # No explain phase: re-running variations of a failure costs minutes here, the shrunk
    # list of actions says enough.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(plan=fa.plans(STEPS))
async def test_fuzzed_updates_never_break_leak_or_corrupt(
    db_url: str, plan: list[fa.Action]
) -> None:
    await run_plan(db_url, plan)


# Cases the fuzzer found, kept as they were shrunk.


async def test_an_invite_button_pressed_without_an_account_is_answered_once(db_url: str) -> None:
    """The handler answered the press, then found no account: the error map's answer failed
    ("query is too old") and the person never read "no longer available"."""
    await run_plan(
        db_url, [fa.Press(701, "private", "inv:show"), fa.Press(702, "private", "inv:new")]
    )


async def test_the_bot_unbanned_straight_to_admin_is_understood(db_url: str) -> None:
    """A my_chat_member from "kicked" carries until_date: the stand-in left it out, so PTB
    could not parse the update at all."""
    await run_plan(db_url, [fa.Member(702, "group", "kicked", "administrator")])


async def test_a_dispute_button_pressed_without_an_account_is_answered_once(db_url: str) -> None:
    """Answered first, then "not registered": the error map's answer came too late."""
    await run_plan(
        db_url, [fa.Press(701, "private", "dsp:ev"), fa.Press(702, "private", "dsp:dim")]
    )


async def test_one_charge_delivered_with_another_payload_is_counted_once(db_url: str) -> None:
    """A charge counted as a repayment came again with a payload for no instalment: it was
    recorded a second time, as a refund."""
    await run_plan(
        db_url,
        [
            fa.Register(701),
            fa.Borrow(701),
            fa.Paid(701, "@invoice", None, "GBP", "charge-2"),
            fa.Paid(701, "inst:0:0", None, "GBP", "charge-2"),
        ],
    )


async def test_a_payment_for_an_instalment_id_beyond_any_row_is_refused(db_url: str) -> None:
    """An id past PostgreSQL's integer range reached the query: a database error, not a
    refusal (the checkout) or a refund (the payment)."""
    await run_plan(
        db_url,
        [
            fa.Checkout(701, "inst:2147483648:0:", None, "GBP"),
            fa.Paid(701, "inst:2147483648:100:abc", None, "GBP", "charge-1"),
        ],
    )
