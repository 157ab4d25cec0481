"""`britizen boost list | revoke` as an operator meets them: Boost partners listed with how many
citizens each reports for, one citizen's partners and waiting invitations, and a revocation
that stops the key reporting, is logged in the citizen's access log and told in their chat,
with one-line refusals for a partner or citizen that isn't there."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.cli import main
from services.boost import OutsideBoostScope, check_scope
from services.boost_operators import BoostOperators
from services.container import Services
from services.secrets import ni_number_hash
from storage.db import Database
from storage.models import OutboxMessage, ScoreAccess
from tests.e2e.conftest import TEST_SECRET
from tests.support.cli_env import cli_database

KEY = TEST_SECRET.encode()
UK_TIME = ZoneInfo("Europe/London")


@pytest.fixture
def db_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    return cli_database(monkeypatch, tmp_path, "boost.db")


async def _register(services: Services, telegram_id: int, ni_number: str) -> int:
    reg = services.registration
    await reg.begin(telegram_id)
    await reg.give_consent(telegram_id)
    await reg.submit_ni_number(telegram_id, ni_number)
    await reg.submit_date_of_birth(telegram_id, "14/03/1990")
    return (await reg.complete(telegram_id, telegram_id, f"Person {telegram_id}", None)).citizen_id


def _token(url: str) -> str:
    [token] = parse_qs(urlsplit(url).query)["token"]
    return token


def _seed(url: str) -> dict[str, int]:
    """Two citizens; one landlord covering both, a council covering the first, and a
    waiting invitation of the second's. Returns ids by name."""

    async def run() -> dict[str, int]:
        db = Database(url)
        services = Services.build(db, KEY)
        boost = services.boost
        try:
            ann = await _register(services, 501, "AB050101C")
            ben = await _register(services, 502, "AB050202C")
            first = await boost.sign_up(
                _token((await boost.invite(501, "landlord")).url), "Two Flats Ltd"
            )
            assert first.api_key is not None
            await boost.sign_up(
                _token((await boost.invite(502, "landlord")).url), "", first.api_key
            )
            await boost.sign_up(_token((await boost.invite(501, "council")).url), "Borough")
            await boost.invite(502, "agent")
            operators = BoostOperators(db, services.clock, UK_TIME)
            partners = {p.name: p.partner_id for p in await operators.all_partners()}
            return {"ann": ann, "ben": ben, **partners}
        finally:
            await db.close()

    return asyncio.run(run())


async def _may_report(url: str, partner_id: int, ni_number: str) -> bool:
    db = Database(url)
    try:
        async with db.transaction() as session:
            try:
                await check_scope(session, partner_id, ["rent"], [ni_number_hash(KEY, ni_number)])
            except OutsideBoostScope:
                return False
            return True
    finally:
        await db.close()


def test_boost_list_and_revoke(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    ids = _seed(db_url)
    landlord, council = ids["Two Flats Ltd"], ids["Borough"]

    assert main(["boost", "list"]) == 0
    out = capsys.readouterr().out
    assert "2 Boost partner(s), oldest first:" in out
    assert f"#{landlord}  Two Flats Ltd  (landlord)" in out and "reports for 2 citizen(s)" in out
    assert f"#{council}  Borough  (council)" in out and "reports for 1 citizen(s)" in out
    assert "AB05" not in out  # never an NI number

    assert main(["boost", "list", "--citizen", str(ids["ben"])]) == 0
    out = capsys.readouterr().out
    assert f"citizen #{ids['ben']}'s Boost partners:" in out
    assert f"#{landlord}  Two Flats Ltd  (landlord)" in out and "Borough" not in out
    assert "invitations waiting to be used: 1" in out and "  agent, until " in out

    # One citizen: the landlord stops reporting for Ben, and only for Ben.
    assert main(["boost", "revoke", str(landlord), "--citizen", str(ids["ben"])]) == 0
    out = capsys.readouterr().out
    assert f"can no longer report about 1 citizen(s): #{ids['ben']}" in out
    assert not asyncio.run(_may_report(db_url, landlord, "AB050202C"))
    assert asyncio.run(_may_report(db_url, landlord, "AB050101C"))
    # Again: nothing left to revoke, said in one line.
    assert main(["boost", "revoke", str(landlord), "--citizen", str(ids["ben"])]) == 1
    assert "does not report about citizen #" in capsys.readouterr().err

    # Everyone: the council no longer reports for anyone.
    assert main(["boost", "revoke", str(council)]) == 0
    assert f"about 1 citizen(s): #{ids['ann']}" in capsys.readouterr().out
    assert not asyncio.run(_may_report(db_url, council, "AB050101C"))

    async def logged() -> tuple[list[tuple[int, int, str]], list[tuple[int, str | None]]]:
        db = Database(db_url)
        try:
            async with db.transaction() as session:
                log = (await session.scalars(select(ScoreAccess).order_by(ScoreAccess.id))).all()
                told = (
                    await session.scalars(
                        select(OutboxMessage)
                        .where(OutboxMessage.kind == "boost_ended")
                        .order_by(OutboxMessage.id)
                    )
                ).all()
            return (
                [(a.citizen_id, a.partner_id, a.via) for a in log],
                [(m.chat_id, m.text) for m in told],
            )
        finally:
            await db.close()

    log, told = asyncio.run(logged())
    assert log == [
        (ids["ben"], landlord, "boost_ended"),
        (ids["ann"], council, "boost_ended"),
    ]
    assert told == [
        (502, "Britizen has stopped Two Flats Ltd (your landlord) reporting your rent. What "
         "they already reported stays on your record. /boost lets you invite someone else."),
        (501, "Britizen has stopped Borough (your council) reporting your council tax. What "
         "they already reported stays on your record. /boost lets you invite someone else."),
    ]  # fmt: skip

    # Refusals name what is missing, in one line.
    assert main(["boost", "revoke", "999"]) == 1
    assert capsys.readouterr().err.strip() == "britizen: no Boost partner #999"
    assert main(["boost", "list", "--citizen", "999"]) == 1
    assert capsys.readouterr().err.strip() == "britizen: no citizen #999"


def test_boost_list_with_no_partners(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["boost", "list"]) == 0
    assert capsys.readouterr().out.strip() == "no Boost partners yet"
