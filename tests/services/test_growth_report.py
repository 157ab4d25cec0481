"""The operators' growth report: the maths (stages, shares, median gap, suppression, the
population file) as pure functions, and the report's SQL on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.clock import ManualClock
from services.growth_report import (
    MIN_COUNT,
    GrowthReportService,
    PopulationFileError,
    Stage,
    _AreaTotals,
    area_rows,
    below_median,
    growth_rate,
    load_population,
    parse_population,
    rogers_stage,
    shown,
)
from storage.db import Database
from storage.models import Citizen, FriendRequest, InviteCode, Loan, Referral

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
DEMO_FILE = Path(__file__).parents[2] / "data" / "population_demo.csv"

# -- stages -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("share", "stage"),
    [
        (0.0, Stage.INNOVATORS),
        (0.0249, Stage.INNOVATORS),
        (0.025, Stage.EARLY_ADOPTERS),
        (0.1599, Stage.EARLY_ADOPTERS),
        (0.16, Stage.EARLY_MAJORITY),
        (0.4999, Stage.EARLY_MAJORITY),
        (0.5, Stage.LATE_MAJORITY),
        (0.8399, Stage.LATE_MAJORITY),
        (0.84, Stage.LAGGARDS),
        (1.0, Stage.LAGGARDS),
        (1.3, Stage.LAGGARDS),  # more accounts than the file's population: still the last
    ],
)
def test_rogers_stage_boundaries(share: float, stage: Stage) -> None:
    assert rogers_stage(share) is stage


@given(st.floats(0, 2), st.floats(0, 2))
def test_stages_never_go_backwards_as_the_share_grows(a: float, b: float) -> None:
    order = list(Stage)
    low, high = sorted((a, b))
    assert order.index(rogers_stage(low)) <= order.index(rogers_stage(high))


# -- growth, suppression, the median ------------------------------------------------------------


def test_growth_is_relative_to_the_count_at_the_start_of_the_window() -> None:
    assert growth_rate(120, 20) == pytest.approx(0.2)
    assert growth_rate(20, 20) is None  # from nothing: no rate
    assert growth_rate(0, 0) is None


def test_small_counts_are_hidden_but_zero_and_ten_are_shown() -> None:
    assert [shown(n, 10) for n in (0, 1, 9, 10, 11)] == [0, None, None, 10, 11]


def test_median_gap_lists_areas_strictly_below_furthest_first() -> None:
    median, gaps = below_median({"A": 0.10, "B": 0.02, "C": 0.30, "D": 0.05, "E": 0.20})
    assert median == pytest.approx(0.10)
    assert [(g.area, round(g.gap or 0, 4), g.stage) for g in gaps] == [
        ("B", 0.08, Stage.INNOVATORS),
        ("D", 0.05, Stage.EARLY_ADOPTERS),
    ]
    # An even number of areas: the median is the mean of the middle two.
    median, gaps = below_median({"A": 0.1, "B": 0.2, "C": 0.3, "D": 0.4})
    assert median == pytest.approx(0.25) and [g.area for g in gaps] == ["A", "B"]
    assert below_median({}) == (None, [])


def test_area_rows_share_stage_and_suppression() -> None:
    totals = {
        "SO": _AreaTotals(registered=300, new_7d=30, new_28d=100),
        "PO": _AreaTotals(registered=4, new_7d=1, new_28d=4),  # small: hidden
        "unknown": _AreaTotals(registered=50, new_7d=0, new_28d=10),
    }
    population = {"SO": 1000, "PO": 1000, "BH": 500}
    rows, median, gaps = area_rows(totals, population, MIN_COUNT)
    by_area = {r.area: r for r in rows}
    assert [r.area for r in rows] == ["BH", "PO", "SO", "unknown"]  # unknown last
    so = by_area["SO"]
    assert (so.verified, so.new_7d, so.new_28d, so.population) == (300, 30, 100, 1000)
    assert so.share == pytest.approx(0.3) and so.stage is Stage.EARLY_MAJORITY
    assert so.growth_7d == pytest.approx(30 / 270) and so.growth_28d == pytest.approx(0.5)
    po = by_area["PO"]
    # 4 people: every figure that gives them back is hidden, the (wide) stage is not.
    assert (po.registered, po.verified, po.new_7d, po.new_28d) == (None, None, None, None)
    assert (po.share, po.growth_7d, po.growth_28d) == (None, None, None)
    assert po.stage is Stage.INNOVATORS
    bh = by_area["BH"]
    assert (bh.verified, bh.share, bh.stage) == (0, 0.0, Stage.INNOVATORS)
    assert by_area["unknown"].share is None and by_area["unknown"].stage is None
    # Median of 0.3, 0.004 and 0.0 is 0.004: BH is below it; PO's gap stays hidden.
    assert median == pytest.approx(0.004)
    assert [(g.area, g.share, g.gap) for g in gaps] == [("BH", 0.0, pytest.approx(0.004))]


def test_a_hidden_area_below_the_median_shows_no_share_or_gap() -> None:
    totals = {"SO": _AreaTotals(500), "PO": _AreaTotals(400), "BH": _AreaTotals(3)}
    _, median, gaps = area_rows(totals, {"SO": 1000, "PO": 1000, "BH": 1000}, MIN_COUNT)
    assert median == pytest.approx(0.4)
    assert [(g.area, g.share, g.gap, g.stage) for g in gaps] == [
        ("BH", None, None, Stage.INNOVATORS)
    ]


# -- the population file ------------------------------------------------------------------------


def test_the_demo_population_file_parses_and_says_it_is_invented() -> None:
    areas = load_population(DEMO_FILE)
    assert areas["SO"] == 1200 and len(areas) >= 10
    assert "INVENTED" in DEMO_FILE.read_text().splitlines()[0]


def test_population_file_accepts_comments_blank_lines_and_any_case() -> None:
    text = "# made up\n\narea,population\nso, 100\n\nE,2000\n"
    assert parse_population(text, "p.csv") == {"SO": 100, "E": 2000}


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("area,population\nSO,100\nPO\n", 3, "expected 2 columns"),
        ("area,population\nSO17,100\n", 2, "not a postcode area"),
        ("area,population\nSO,1,000\n", 2, "expected 2 columns"),
        ("area,population\nSO,-5\n", 2, "whole number"),
        ("area,population\nSO,0\n", 2, "whole number"),
        ("area,population\nSO,lots\n", 2, "whole number"),
        ("# c\narea,population\nSO,1\nso,2\n", 4, "appears twice"),
    ],
)
def test_a_bad_population_file_names_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(PopulationFileError) as caught:
        parse_population(text, "pop.csv")
    assert f"pop.csv, line {line}:" in str(caught.value) and words in str(caught.value)


def test_an_empty_or_missing_population_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PopulationFileError, match="no area,population rows"):
        parse_population("area,population\n# nothing\n", "p.csv")
    with pytest.raises(PopulationFileError, match="cannot be read"):
        load_population(tmp_path / "missing.csv")


# -- the report on a database (SQLite and PostgreSQL) -------------------------------------------


def _citizen(n: int, district: str | None, registered: datetime) -> Citizen:
    return Citizen(
        telegram_id=10_000 + n,
        chat_id=10_000 + n,
        display_name=f"P{n}",
        ni_hash=f"{n:064d}",
        ni_masked="AB •• •• •• C",
        date_of_birth=date(1990, 1, 1),
        postcode_district=district,
        registered_at=registered,
    )


async def _populate(db: Database) -> list[int]:
    """SO: 12 people, 2 of them this week and 5 in the last 28 days; PO: 3; none given: 1."""
    people = [
        *(_citizen(i, "SO17", NOW - timedelta(days=60 + i)) for i in range(7)),
        *(_citizen(10 + i, "SO14", NOW - timedelta(days=10 + i)) for i in range(3)),
        *(_citizen(20 + i, "SO15", NOW - timedelta(days=1 + i)) for i in range(2)),
        *(_citizen(30 + i, "PO1", NOW - timedelta(days=40)) for i in range(3)),
        _citizen(40, None, NOW - timedelta(days=3)),
    ]
    async with db.transaction() as session:
        session.add_all(people)
        await session.flush()
        ids = [p.id for p in people]
        # Activity: two friend requests by person 0 this week (one person), one by person 1
        # two weeks ago, a loan by person 2 this week.
        for hours in (1, 2):
            session.add(
                FriendRequest(
                    requester_id=ids[0], recipient_id=ids[1], via="link",
                    created_at=NOW - timedelta(hours=hours),
                )
            )  # fmt: skip
        session.add(
            FriendRequest(
                requester_id=ids[1], recipient_id=ids[0], via="link",
                created_at=NOW - timedelta(days=15),
            )
        )  # fmt: skip
        session.add(
            Loan(
                citizen_id=ids[2], application_key="k1", principal_pence=5000, term_months=3,
                annual_rate_bp=1990, apr_bp=2100, total_repayable_pence=5300, status="active",
                created_at=NOW - timedelta(days=2),
            )
        )  # fmt: skip
        # Funnel: two links, opened 5 times, 3 registrations through them, 2 credited.
        session.add(
            InviteCode(
                citizen_id=ids[0], nonce="a", code_hash="h" * 64, created_at=NOW,
                opened_count=4, registered_count=2,
            )
        )  # fmt: skip
        session.add(
            InviteCode(
                citizen_id=ids[1], nonce="b", code_hash="i" * 64, created_at=NOW,
                opened_count=1, registered_count=1,
            )
        )  # fmt: skip
        session.add(Referral(inviter_id=ids[0], invitee_id=ids[10], created_at=NOW))
        session.add(Referral(inviter_id=ids[1], invitee_id=ids[11], created_at=NOW))
    return ids


async def test_the_report_counts_weeks_areas_activity_and_the_funnel(db: Database) -> None:
    await _populate(db)
    lines: list[str] = []
    report = await GrowthReportService(db, ManualClock(NOW), DEMO_FILE).report(
        weeks=4, progress=lines.append
    )
    assert len(lines) == 3 and all(line.startswith("growth: ") for line in lines)
    assert report.registered == report.verified == 16
    # Weeks end 21 days ago, 14, 7 and now: accounts made before each end.
    assert [w.end for w in report.weeks] == [
        (NOW - timedelta(weeks=3 - i)).date() for i in range(4)
    ]
    assert [w.registered for w in report.weeks] == [10, 10, 13, 16]
    assert [w.verified for w in report.weeks] == [10, 10, 13, 16]
    # Active, distinct people: nobody 28-21 days ago; person 1's request 15 days ago; the
    # three SO14 registrations; this week person 0 (two requests: once), person 2's loan and
    # three registrations.
    assert [w.active for w in report.weeks] == [0, 1, 3, 5]
    so = next(a for a in report.areas if a.area == "SO")
    assert (so.verified, so.new_7d, so.new_28d) == (12, None, None)  # 2 and 5: small
    assert so.population == 1200 and so.share == pytest.approx(12 / 1200)
    assert so.stage is Stage.INNOVATORS
    po = next(a for a in report.areas if a.area == "PO")
    assert po.verified is None and po.share is None and po.stage is Stage.INNOVATORS
    assert next(a for a in report.areas if a.area == "unknown").verified is None
    assert (
        report.funnel.links_made,
        report.funnel.opened,
        report.funnel.registered,
        report.funnel.verified,
    ) == (2, 5, 3, 2)
    # Every other demo area has nobody: the median share is 0 and nobody is strictly below it.
    assert report.median_share == 0.0 and report.below_median == []
    assert report.population_file == "population_demo.csv" and report.population_error is None


async def test_a_bad_population_file_is_reported_not_raised_unless_strict(
    db: Database, tmp_path: Path
) -> None:
    bad = tmp_path / "pop.csv"
    bad.write_text("area,population\nSO,many\n")
    service = GrowthReportService(db, ManualClock(NOW), bad)
    report = await service.report()
    assert report.population_error is not None and "line 2" in report.population_error
    assert all(a.share is None for a in report.areas)
    with pytest.raises(PopulationFileError, match="line 2"):
        await service.report(strict_population=True)


async def test_an_empty_database_gives_an_empty_report(db: Database) -> None:
    report = await GrowthReportService(db, ManualClock(NOW)).report(weeks=2)
    assert report.registered == 0 and [w.active for w in report.weeks] == [0, 0]
    assert report.areas == [] and report.median_share is None
    assert report.population_file is None


async def test_a_one_week_report_counts_that_week(db: Database) -> None:
    # A CASE with no WHEN is not SQL: one week is its own path (found by Schemathesis).
    await _populate(db)
    report = await GrowthReportService(db, ManualClock(NOW)).report(weeks=1)
    assert [(w.registered, w.active) for w in report.weeks] == [(16, 5)]
