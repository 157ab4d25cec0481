"""`britizen operator add` and `britizen growth report` (text and --json) as an operator
meets them: the key printed once and working, the report readable, the JSON one document in the
API's schema, progress on stderr, and a bad population file named by line."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from api.schemas import GrowthReport
from bot.cli import main
from services.operators import OperatorService
from storage.db import Database
from storage.models import Citizen
from tests.e2e.conftest import TEST_SECRET
from tests.support.cli_env import cli_database

DEMO_FILE = Path(__file__).parents[2] / "data" / "population_demo.csv"


@pytest.fixture
def db_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    return cli_database(monkeypatch, tmp_path, "growth.db")


def _seed(url: str, people: int) -> None:
    async def run() -> None:
        db = Database(url)
        now = datetime.now(UTC)
        async with db.transaction() as session:
            for n in range(people):
                session.add(
                    Citizen(
                        telegram_id=n + 1, chat_id=n + 1, display_name=f"P{n}",
                        ni_hash=f"{n:064d}", ni_masked="AB •• •• •• C",
                        date_of_birth=date(1990, 1, 1),
                        postcode_district="SO17" if n % 2 else "BH1",
                        registered_at=now - timedelta(days=n),
                    )
                )  # fmt: skip
        await db.close()

    asyncio.run(run())


def test_operator_add_prints_a_working_key_once(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["operator", "add", "Growth  team"]) == 0
    out = capsys.readouterr().out
    assert "created operator 'Growth team'" in out and "will not be shown again" in out
    key = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("API key"))
    assert key.startswith("bz_op_")

    async def check() -> None:
        db = Database(db_url)
        operators = OperatorService(db, TEST_SECRET.encode())
        found = await operators.authenticate(key)
        assert found is not None and found.name == "Growth team"
        assert await operators.authenticate("bz_sp_" + key[6:]) is None
        await db.close()

    asyncio.run(check())
    assert main(["operator", "add", "Growth team"]) == 2
    assert "already exists" in capsys.readouterr().err


def test_growth_report_text_with_progress_on_stderr(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(db_url, 40)
    monkeypatch.setenv("BRITIZEN_POPULATION_FILE", str(DEMO_FILE))
    assert main(["growth", "report", "--weeks", "4"]) == 0
    captured = capsys.readouterr()
    assert "growth: accounts by postcode area, week by week..." in captured.err
    out = captured.out
    assert "Registered citizens: 40   verified: 40" in out
    assert "Referral funnel" in out and "links made 0 -> opened 0" in out
    assert "Eligible population from population_demo.csv" in out
    # SO: 20 of 1,200 (1.7 %, innovators); BH: 20 of 900 (2.2 %).
    so = next(line for line in out.splitlines() if line.startswith("SO "))
    assert "1.7%" in so and "innovators" in so and "1,200" in so
    assert "Median adoption share: 0.0%" in out
    assert main(["growth", "report", "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_growth_report_json_is_one_document_in_the_api_schema(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(db_url, 25)
    monkeypatch.setenv("BRITIZEN_POPULATION_FILE", str(DEMO_FILE))
    assert main(["growth", "report", "--json", "--weeks", "3"]) == 0
    body = json.loads(capsys.readouterr().out)
    report = GrowthReport.model_validate({**body, "computed_at": body["computed_at"]})
    assert report.registered == 25 and len(report.weeks) == 3
    assert {a.area for a in report.areas} >= {"SO", "BH", "PO"}
    bh = next(a for a in report.areas if a.area == "BH")
    assert bh.verified == 13 and bh.stage == "innovators"
    assert body["computed_at"].endswith("Z")


def test_a_bad_population_file_or_weeks_is_one_line_naming_it(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "pop.csv"
    bad.write_text("area,population\nSO,1200\nSO17,5\n")
    monkeypatch.setenv("BRITIZEN_POPULATION_FILE", str(bad))
    assert main(["growth", "report", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pop.csv, line 3" in err and "SO17" in err
    assert main(["growth", "report", "--weeks", "0"]) == 2
    assert "--weeks" in capsys.readouterr().err
