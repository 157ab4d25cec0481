"""The operators' growth report (issue 19): adoption over time, by postcode area, the referral
funnel, and each area's adoption share and Rogers stage against an eligible population.

Definitions (also in the README and the report itself):

- **registered**: a Britizen account exists. Erased accounts are gone, so every series counts
  today's accounts by when they were made.
- **verified**: an account exists only once registration completed, which *is* the identity
  check (an NI number of the right form, unique by its keyed hash; a date of birth; the minimum
  age), so today every registered citizen is verified and the two series are equal. Both are
  reported so that a stronger check added later (documents, the NI-claim review) changes one
  definition, not the report's shape.
- **weekly active**: distinct citizens with at least one action the database records with
  their id and a time in that week: registering, sending or answering a friend request,
  taking out a loan, paying an instalment, redeeming a voucher, making a share code, opening a
  dispute. Reading /score leaves no such row, so this is a lower bound.
- **referral funnel**: invite links made (one per citizen who asked for theirs) -> times a
  link was opened by someone without an account -> registrations completed through a live
  link -> verified referrals (credited: one per NI number, never after an erasure, never one's
  own link).
- **adoption share**: verified citizens in the postcode area / the area's eligible population
  from ``BRITIZEN_POPULATION_FILE``. Rogers stage by the share: innovators under 2.5 %, early
  adopters under 16 %, early majority under 50 %, late majority under 84 %, laggards beyond.

Small numbers: operators are trusted staff, but the report travels (screenshots, e-mails), so
per-area counts of 1 to ``min_count - 1`` people are shown as suppressed, with every figure
that would give them back (growth %, share, gap to the median); the stage stays. National
figures and the funnel are never small enough to matter and are shown in full.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from services.clock import Clock, as_aware_utc
from services.open_data import UNKNOWN_AREA, postcode_area
from storage.db import Database
from storage.repositories import growth as repo
from texts import growth as words

DEFAULT_WEEKS = 12
MAX_WEEKS = 104
DEFAULT_BELOW_MEDIAN = 10
MIN_COUNT = 10
_AREA = re.compile(r"^[A-Z]{1,2}$")
_MAX_POPULATION = 100_000_000  # the UK is ~69M; more is a typo
_MAX_POPULATION_ROWS = 10_000


class Stage(StrEnum):
    INNOVATORS = "innovators"
    EARLY_ADOPTERS = "early_adopters"
    EARLY_MAJORITY = "early_majority"
    LATE_MAJORITY = "late_majority"
    LAGGARDS = "laggards"


# Upper bounds of each stage's share (exclusive), Rogers' 2.5 / 13.5 / 34 / 34 / 16 split.
STAGE_BOUNDS: tuple[tuple[float, Stage], ...] = (
    (0.025, Stage.INNOVATORS),
    (0.16, Stage.EARLY_ADOPTERS),
    (0.50, Stage.EARLY_MAJORITY),
    (0.84, Stage.LATE_MAJORITY),
)


def rogers_stage(share: float) -> Stage:
    """The stage an area is in when ``share`` of its eligible people have adopted."""
    for bound, stage in STAGE_BOUNDS:
        if share < bound:
            return stage
    return Stage.LAGGARDS


def growth_rate(total: int, new: int) -> float | None:
    """Growth over a window as a fraction of the count at its start (None from zero)."""
    before = total - new
    return None if before <= 0 else new / before


def shown(count: int, min_count: int) -> int | None:
    """A per-area count as published: None for 1 to min_count - 1 people (0 is shown)."""
    return None if 0 < count < min_count else count


class PopulationFileError(Exception):
    """The population file cannot be used; the message names the file and the line."""


def parse_population(text: str, source: str) -> dict[str, int]:
    """``area,population`` rows (a header row and ``#`` comment lines allowed) into a dict.

    Areas are postcode areas (one or two letters, any case); each may appear once; populations
    are whole numbers from 1 to 100,000,000 (digits only, so "1,000" in a cell is refused
    rather than read as two columns)."""
    areas: dict[str, int] = {}
    rows = csv.reader(io.StringIO(text))
    header_seen = False
    for row in rows:
        line = rows.line_num
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if not header_seen and [c.lower() for c in cells] == ["area", "population"]:
            header_seen = True
            continue
        header_seen = True
        if len(cells) != 2:
            raise PopulationFileError(words.population_columns(source, line, len(cells)))
        area, number = cells[0].upper(), cells[1]
        if not _AREA.match(area):
            raise PopulationFileError(words.population_bad_area(source, line, cells[0]))
        if not number.isdigit() or not 0 < int(number) <= _MAX_POPULATION:
            raise PopulationFileError(
                words.population_bad_number(source, line, number, _MAX_POPULATION)
            )
        if area in areas:
            raise PopulationFileError(words.population_duplicate(source, line, area))
        areas[area] = int(number)
        if len(areas) > _MAX_POPULATION_ROWS:
            raise PopulationFileError(words.population_too_long(source, _MAX_POPULATION_ROWS))
    if not areas:
        raise PopulationFileError(words.population_empty(source))
    return areas


def load_population(path: Path) -> dict[str, int]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise PopulationFileError(words.population_unreadable(str(path), str(exc))) from None
    return parse_population(text, str(path))


@dataclass(frozen=True)
class WeekPoint:
    start: date
    end: date
    registered: int
    verified: int
    active: int


@dataclass(frozen=True)
class AreaGrowth:
    area: str
    registered: int | None
    verified: int | None
    new_7d: int | None
    new_28d: int | None
    growth_7d: float | None
    growth_28d: float | None
    population: int | None
    share: float | None
    stage: Stage | None


@dataclass(frozen=True)
class AreaGap:
    area: str
    share: float | None
    gap: float | None
    """How far below the median share (a fraction: 0.05 is five percentage points)."""
    stage: Stage


@dataclass(frozen=True)
class Funnel:
    links_made: int
    opened: int
    registered: int
    verified: int


@dataclass(frozen=True)
class GrowthReport:
    computed_at: datetime
    registered: int
    verified: int
    weeks: list[WeekPoint]
    areas: list[AreaGrowth]
    funnel: Funnel
    median_share: float | None
    below_median: list[AreaGap]
    population_file: str | None
    population_error: str | None
    min_count: int


@dataclass(frozen=True)
class _AreaTotals:
    registered: int = 0
    new_7d: int = 0
    new_28d: int = 0


def fold_areas(rows: list[repo.DistrictCounts]) -> dict[str, _AreaTotals]:
    areas: dict[str, _AreaTotals] = {}
    for row in rows:
        key = postcode_area(row.district)
        was = areas.get(key, _AreaTotals())
        areas[key] = _AreaTotals(
            was.registered + row.registered, was.new_7d + row.new_7d, was.new_28d + row.new_28d
        )
    return areas


def area_rows(
    totals: dict[str, _AreaTotals], population: dict[str, int], min_count: int
) -> tuple[list[AreaGrowth], float | None, list[AreaGap]]:
    """Every area (counted or in the population file), the median share and every area below
    it, furthest first. Shares use the true counts; what is shown is suppressed as above."""
    rows: list[AreaGrowth] = []
    shares: dict[str, float] = {}
    names = sorted(set(totals) | set(population), key=lambda a: (a == UNKNOWN_AREA, a))
    for area in names:
        t = totals.get(area, _AreaTotals())
        verified = t.registered  # see the module docstring: every account is verified
        people = population.get(area)
        share = None if people is None else verified / people
        if share is not None:
            shares[area] = share
        hide = shown(verified, min_count) is None
        rows.append(
            AreaGrowth(
                area=area,
                registered=shown(t.registered, min_count),
                verified=shown(verified, min_count),
                new_7d=shown(t.new_7d, min_count),
                new_28d=shown(t.new_28d, min_count),
                growth_7d=_visible_growth(t.registered, t.new_7d, min_count),
                growth_28d=_visible_growth(t.registered, t.new_28d, min_count),
                population=people,
                share=None if hide else share,
                stage=None if share is None else rogers_stage(share),
            )
        )
    median, gaps = below_median(shares, {r.area for r in rows if r.verified is None})
    return rows, median, gaps


def _visible_growth(total: int, new: int, min_count: int) -> float | None:
    # Total and new both shown, or the rate would give a hidden one back.
    if shown(total, min_count) is None or shown(new, min_count) is None:
        return None
    return growth_rate(total, new)


def below_median(
    shares: dict[str, float], hidden: Collection[str] = ()
) -> tuple[float | None, list[AreaGap]]:
    """The median share and the areas strictly below it, furthest first (ties by name)."""
    if not shares:
        return None, []
    median = statistics.median(shares.values())
    under = sorted(
        ((median - s, area) for area, s in shares.items() if s < median),
        key=lambda gap_area: (-gap_area[0], gap_area[1]),
    )
    return median, [
        AreaGap(
            area=area,
            share=None if area in hidden else shares[area],
            gap=None if area in hidden else gap,
            stage=rogers_stage(shares[area]),
        )
        for gap, area in under
    ]


class GrowthReportService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        population_file: Path | None = None,
        *,
        min_count: int = MIN_COUNT,
    ) -> None:
        self._db = db
        self._clock = clock
        self._population_file = population_file
        self._min_count = min_count

    def population(self) -> dict[str, int]:
        """The eligible population by area; {} when no file is set. Raises
        PopulationFileError for a file that cannot be used."""
        if self._population_file is None:
            return {}
        return load_population(self._population_file)

    async def report(
        self,
        *,
        weeks: int = DEFAULT_WEEKS,
        below_median_limit: int = DEFAULT_BELOW_MEDIAN,
        strict_population: bool = False,
        progress: Callable[[str], None] | None = None,
    ) -> GrowthReport:
        """The report now. A bad population file raises PopulationFileError when
        ``strict_population`` (the command line), else the report says what is wrong and
        leaves shares out (the web page, which must still show the rest)."""
        say = progress or (lambda _line: None)
        weeks = max(1, min(weeks, MAX_WEEKS))
        problem: str | None = None
        try:
            population = self.population()
        except PopulationFileError as exc:
            if strict_population:
                raise
            population, problem = {}, str(exc)
        now = as_aware_utc(self._clock()).astimezone(UTC)
        boundaries = [now - timedelta(weeks=weeks - i) for i in range(weeks + 1)]
        async with self._db.transaction() as session:
            say(words.PROGRESS_AREAS)
            districts = await repo.registered_by_district(
                session, now - timedelta(days=7), now - timedelta(days=28), boundaries[1:]
            )
            say(words.PROGRESS_ACTIVE)
            active = await repo.active_by_week(session, boundaries)
            say(words.PROGRESS_FUNNEL)
            funnel = await repo.funnel_counts(session)
        totals = fold_areas(districts)
        cumulative = [sum(d.by[i] for d in districts) for i in range(weeks)]
        areas, median, gaps = area_rows(totals, population, self._min_count)
        registered = sum(t.registered for t in totals.values())
        return GrowthReport(
            computed_at=now,
            registered=registered,
            verified=registered,
            weeks=[
                WeekPoint(boundaries[i].date(), boundaries[i + 1].date(), n, n, active[i])
                for i, n in enumerate(cumulative)
            ],
            areas=areas,
            funnel=Funnel(funnel.links_made, funnel.opened, funnel.registered, funnel.verified),
            median_share=median,
            below_median=gaps[:below_median_limit],
            population_file=None if self._population_file is None else self._population_file.name,
            population_error=problem,
            min_count=self._min_count,
        )
