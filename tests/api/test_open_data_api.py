"""The differencing attacker against the real open-data endpoint, on SQLite and PostgreSQL (#17).

The population is the issue's shape, small enough to register through the service: in BN 6 Good
and 2 Very good, in BS 10 of each. With only the cells under 10 hidden, the national Good (16)
minus BS's 10 gave BN Good = 6. The attacker here reads nothing but the JSON (or the CSV) and
solves for every hidden cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlalchemy import update

from bot.service import BritizenService
from scoring.bands import BAND_NAMES
from storage.models import Score
from tests.api.rights_helpers import ni, register_directly
from tests.api.test_partner_api import BANDS
from tests.api.test_sponsor_api import call
from tests.services.test_disclosure import attack, pinned_small

POPULATION = {("BN1", "Good"): 6, ("BN2", "Very good"): 2, ("BS1", "Good"): 10}
POPULATION[("BS3", "Very good")] = 10
SCORES = {"Good": 620, "Very good": 660}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _register_population(service: BritizenService) -> None:
    telegram_id = 500
    for (district, band), n in POPULATION.items():
        ids = []
        for _ in range(n):
            ids.append(await register_directly(service, telegram_id, ni(telegram_id), district))
            telegram_id += 1
        async with service.db.transaction() as session:
            await session.execute(
                update(Score).where(Score.citizen_id.in_(ids)).values(band=band, score=SCORES[band])
            )


def _published_grid(
    rows: list[tuple[str, str, int | None]], areas: list[str]
) -> tuple[list[list[int]], set[tuple[int, int]]]:
    """The grid with totals as the attacker rebuilds it: hidden cells are unknowns (0 here, never
    read by the attacker) and listed apart."""
    columns = [*BAND_NAMES, "ALL"]
    places = [*areas, "ALL"]
    grid = [[0] * len(columns) for _ in places]
    hidden = set()
    for area, band, count in rows:
        pos = (places.index(area), columns.index(band))
        if count is None:
            hidden.add(pos)
        else:
            grid[pos[0]][pos[1]] = count
    assert len(rows) == len(places) * len(columns)
    return grid, hidden


async def test_no_small_count_can_be_worked_out_from_the_published_figures(
    service: BritizenService, http: aiohttp.ClientSession
) -> None:
    await _register_population(service)
    reply = await call(http, service, BANDS)
    assert reply.status == 200
    body = reply.json
    areas = [a["area"] for a in body["areas"]]
    assert areas == ["BN", "BS"]
    rows = [("ALL", "ALL", body["total"]["count"])]
    rows += [("ALL", b["band"], b["count"]) for b in body["bands"]]
    for a in body["areas"]:
        rows.append((a["area"], "ALL", a["total"]["count"]))
        rows += [(a["area"], b["band"], b["count"]) for b in a["bands"]]
    grid, hidden = _published_grid(rows, areas)

    found = attack(grid, hidden)
    assert pinned_small(found) == []
    good, very_good = (0, BAND_NAMES.index("Good")), (0, BAND_NAMES.index("Very good"))
    for small in (good, very_good):  # BN's 6 and 2: hidden, and could be 0 or 10 or more
        low, high = found[small]
        assert low == 0 and (high is None or high >= 10)
    assert body["suppression"]["suppressed_cells"] == len(hidden)
    assert "fewer than 10" in body["suppression"]["note"]
    assert "worked out" in body["suppression"]["complementary"]

    as_csv = await call(http, service, f"{BANDS}?format=csv")
    lines = as_csv.body.decode().splitlines()
    assert f"# {body['suppression']['complementary']}" in lines
    table = csv.DictReader(io.StringIO("\n".join(ln for ln in lines if not ln.startswith("#"))))
    from_csv = [
        (r["area"], r["band"], None if r["suppressed"] == "true" else int(r["count"]))
        for r in table
    ]
    assert sorted(from_csv, key=str) == sorted(rows, key=str)
