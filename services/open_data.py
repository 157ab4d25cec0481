"""Open data: how many citizens are in each band, nationally and by postcode area.

Only counts leave. Any count of 1 to ``MIN_CELL - 1`` is suppressed (published as null with
``suppressed: true``), so no cell can single out a handful of people; every cell follows the rule,
totals included. A 0 is published: it counts nobody. Suppressing the small cells alone is not
enough, since the totals would give them back by subtraction, so :mod:`services.disclosure`
suppresses the smallest further cells that stop any small count being worked out.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from scoring.model import BANDS
from services.clock import Clock, as_aware_utc
from services.disclosure import THRESHOLD, Suppression, is_small, suppress, with_totals
from storage.db import Database
from storage.models import Citizen, Score
from storage.repositories.score_history import latest_finished_pass

MIN_CELL = THRESHOLD
LICENCE = "Open Government Licence v3.0"
LICENCE_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
UNKNOWN_AREA = "unknown"
_AREA = re.compile(r"^[A-Z]{1,2}")


def postcode_area(district: str | None) -> str:
    """The letters of a district ("SO17" -> "SO", "E1" -> "E"); people who gave none are one
    'unknown' area."""
    if not district:
        return UNKNOWN_AREA
    found = _AREA.match(district.upper())
    return found.group(0) if found else UNKNOWN_AREA


@dataclass(frozen=True)
class Cell:
    count: int | None
    """None when suppressed."""

    @property
    def suppressed(self) -> bool:
        return self.count is None


def cell(count: int, suppressed: bool | None = None) -> Cell:
    """The published cell: suppressed if it counts 1 to 9 people, or if told to (to protect
    another)."""
    hide = is_small(count, MIN_CELL) if suppressed is None else suppressed
    return Cell(None if hide else count)


@dataclass(frozen=True)
class AreaRow:
    area: str
    total: Cell
    bands: dict[str, Cell]


@dataclass(frozen=True)
class BandDistribution:
    computed_at: datetime
    total: Cell
    bands: dict[str, Cell]
    areas: list[AreaRow]

    @property
    def suppressed_cells(self) -> int:
        cells = [self.total, *self.bands.values()] + [
            c for row in self.areas for c in (row.total, *row.bands.values())
        ]
        return sum(1 for c in cells if c.suppressed)


class OpenDataService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._last: tuple[list[list[int]], Suppression] | None = None

    async def score_bands(self) -> BandDistribution:
        async with self._db.transaction() as session:
            rows = (
                await session.execute(
                    select(Citizen.postcode_district, Score.band, func.count())
                    .join(Score, Score.citizen_id == Citizen.id)
                    .group_by(Citizen.postcode_district, Score.band)
                )
            ).all()
            latest = await session.scalar(select(func.max(Score.computed_at)))
            # Rows the newest pass left unchanged were checked then too (services.score_history).
            newest_pass = await latest_finished_pass(session)
            if newest_pass is not None and (
                latest is None or as_aware_utc(newest_pass.computed_at) > as_aware_utc(latest)
            ):
                latest = newest_pass.computed_at
            counts: dict[str, dict[str, int]] = {}
            for district, band, count in rows:
                area = counts.setdefault(postcode_area(district), {})
                area[band] = area.get(band, 0) + int(count)
        names = [b.name for b in BANDS]
        ordered = sorted(counts.items(), key=lambda kv: (kv[0] == UNKNOWN_AREA, kv[0]))
        grid = with_totals(
            [[by_band.get(n, 0) for n in names] for _, by_band in ordered], len(names)
        )
        hidden = (await self._suppression(grid)).hidden

        def at(r: int, c: int) -> Cell:
            return cell(grid[r][c], (r, c) in hidden)

        national, total_col = len(ordered), len(names)
        computed = as_aware_utc(latest) if latest is not None else self._clock()
        return BandDistribution(
            computed_at=computed,
            total=at(national, total_col),
            bands={name: at(national, c) for c, name in enumerate(names)},
            areas=[
                AreaRow(area, at(r, total_col), {name: at(r, c) for c, name in enumerate(names)})
                for r, (area, _) in enumerate(ordered)
            ],
        )

    async def _suppression(self, grid: list[list[int]]) -> Suppression:
        """The table changes only at a scoring pass: the last answer is kept. A new one is worked
        out off the event loop (a country-sized table takes a fraction of a second)."""
        if self._last is None or self._last[0] != grid:
            self._last = (grid, await asyncio.to_thread(suppress, grid, MIN_CELL))
        return self._last[1]
