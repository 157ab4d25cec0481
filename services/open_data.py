"""Open data: how many citizens are in each band, nationally and by postcode area.

Only counts leave, and any count under :data:`MIN_CELL` (zero included) is suppressed:
published as null with ``suppressed: true``, so no cell can single out a handful of people.
Every cell follows the rule on its own: area totals, each area's bands, the national bands
and the national total.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from scoring.model import BANDS
from services.clock import Clock, as_aware_utc
from storage.db import Database
from storage.models import Citizen, Score

MIN_CELL = 10
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


def cell(count: int) -> Cell:
    return Cell(count if count >= MIN_CELL else None)


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
            counts: dict[str, dict[str, int]] = {}
            for district, band, count in rows:
                area = counts.setdefault(postcode_area(district), {})
                area[band] = area.get(band, 0) + int(count)
        names = [b.name for b in BANDS]
        national = {name: sum(a.get(name, 0) for a in counts.values()) for name in names}
        total = sum(national.values())
        areas = [
            AreaRow(
                area,
                cell(sum(by_band.values())),
                {name: cell(by_band.get(name, 0)) for name in names},
            )
            for area, by_band in sorted(
                counts.items(), key=lambda kv: (kv[0] == UNKNOWN_AREA, kv[0])
            )
        ]
        computed = as_aware_utc(latest) if latest is not None else self._clock()
        return BandDistribution(
            computed_at=computed,
            total=cell(total),
            bands={name: cell(n) for name, n in national.items()},
            areas=areas,
        )
