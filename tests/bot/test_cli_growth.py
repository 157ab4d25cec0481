"""`britizen growth ambassadors | campaign | contest` as an operator meets them, on SQLite and
PostgreSQL: one-line refusals naming the option, summaries that say how many were chosen and
skipped, a second run that queues nothing, and the bot's name asked of Telegram (the stand-in)
when --bot-username is not given."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from standin import BotApiStandIn
from storage.db import Database
from storage.models import Citizen, OutboxMessage, Score
from tests.e2e.conftest import TEST_SECRET, TEST_TOKEN
from tests.support.cli_env import clean_cli_env

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str) -> None:
    clean_cli_env(monkeypatch, tmp_path)
    monkeypatch.setenv("BRITIZEN_DATABASE_URL", db_url)
    monkeypatch.setenv("BRITIZEN_SECRET_KEY", TEST_SECRET)


async def _people(db_url: str, *districts: str) -> None:
    db = Database(db_url)
    try:
        async with db.transaction() as session:
            for i, district in enumerate(districts):
                citizen = Citizen(
                    telegram_id=9100 + i, chat_id=9100 + i, display_name=f"P{i}",
                    ni_hash=f"{i:064d}", ni_masked="AB •• •• •• C",
                    date_of_birth=date(1990, 1, 1), registered_at=NOW, growth_opt_in=True,
                    postcode_district=district,
                )  # fmt: skip
                session.add(citizen)
                await session.flush()
                session.add(
                    Score(citizen_id=citizen.id, score=600, band="Good", computed_at=NOW,
                          betweenness=0.1 * (i + 1), network_role="broker")
                )  # fmt: skip
    finally:
        await db.close()


async def _queued(db_url: str) -> int:
    db = Database(db_url)
    try:
        async with db.transaction() as session:
            return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)
    finally:
        await db.close()


NAMED = ["--bot-username", "B"]


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["growth", "ambassadors", "--top", "0", *NAMED], "--top"),
        (["growth", "ambassadors", "--top", "3", "--area", "SO17", *NAMED], "--area: SO17"),
        (["growth", "campaign", "--areas", "S0", "--text", "hi", *NAMED], "--areas"),
        (["growth", "campaign", "--areas", "SO", "--text", "ring\x07", *NAMED], "--text"),
        (["growth", "campaign", "--areas", "SO", "--text", "x" * 1001, *NAMED], "--text"),
        (["growth", "campaign", "--areas", "SO", "--text", "hi"], "BRITIZEN_TELEGRAM_TOKEN"),
        (["growth", "contest", "start", "--name", "W", "--days", "0"], "--days"),
        (["growth", "contest", "start", "--name", "  ", "--days", "3"], "--name"),
        (["growth", "contest", "end", "99"], "no contest #99"),
    ],
)
def test_bad_input_is_refused_in_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    db_url: str,
    argv: list[str],
    named: str,
) -> None:
    _env(monkeypatch, tmp_path, db_url)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and named in err, err
    assert asyncio.run(_queued(db_url)) == 0


def test_ambassadors_and_campaign_print_what_they_did_and_never_repeat(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    _env(monkeypatch, tmp_path, db_url)
    asyncio.run(_people(db_url, "SO17", "BH1", "SO18", "S1"))
    args = ["growth", "ambassadors", "--top", "2", "--area", "SO", "--bot-username", "@BritBot"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "chose 2 opted-in citizen(s); queued 2" in out and "skipped 0" in out
    assert main(args) == 0
    assert "queued 0 ambassador invitation(s); skipped 2 invited in the last 30 days" in (
        capsys.readouterr().out
    )
    assert asyncio.run(_queued(db_url)) == 2

    campaign = ["growth", "campaign", "--areas", "bh,s", "--text", "Nearly there!"]
    assert main([*campaign, "--bot-username", "BritBot"]) == 0
    assert "campaign #1 to BH, S: queued 2 message(s); skipped 0" in capsys.readouterr().out
    assert main([*campaign, "--bot-username", "BritBot"]) == 0
    assert "(carried on: same areas and text as before): queued 0" in capsys.readouterr().out
    assert asyncio.run(_queued(db_url)) == 4


def test_contest_start_list_end(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    _env(monkeypatch, tmp_path, db_url)
    assert main(["growth", "contest", "list"]) == 0
    assert "no contests yet" in capsys.readouterr().out
    assert main(["growth", "contest", "start", "--name", "Winter push", "--days", "14"]) == 0
    assert "contest #1 'Winter push' runs until" in capsys.readouterr().out
    assert main(["growth", "contest", "start", "--name", "Another", "--days", "3"]) == 2
    assert "contest #1 (Winter push) is still running" in capsys.readouterr().err
    assert main(["growth", "contest", "list"]) == 0
    assert "#1  Winter push" in (listing := capsys.readouterr().out)
    assert "running  0 participant(s)" in listing
    assert main(["growth", "contest", "end", "1"]) == 0
    assert "contest #1 ended: 0 participant(s)" in capsys.readouterr().out
    assert main(["growth", "contest", "list"]) == 0
    assert "ended  0 participant(s)" in capsys.readouterr().out


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_bot_name_is_asked_of_telegram(
    standin: BotApiStandIn, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str
) -> None:
    _env(monkeypatch, tmp_path, db_url)
    monkeypatch.setenv("BRITIZEN_TELEGRAM_TOKEN", TEST_TOKEN)
    monkeypatch.setenv("BRITIZEN_TELEGRAM_API_URL", standin.base_url)
    await _people(db_url, "SO17")
    assert await asyncio.to_thread(main, ["growth", "ambassadors", "--top", "1"]) == 0
    db = Database(db_url)
    try:
        async with db.transaction() as session:
            text = await session.scalar(select(OutboxMessage.text))
    finally:
        await db.close()
    assert text is not None and f"https://t.me/{standin.bot_username}?start=inv_" in text
