"""Wording of the operators' growth report (services.growth_report, `britizen growth report`,
`britizen operator add`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.growth_report import GrowthReport

PROGRESS_AREAS = "growth: accounts by postcode area, week by week..."
PROGRESS_ACTIVE = "growth: weekly active citizens..."
PROGRESS_FUNNEL = "growth: referral funnel..."

STAGE_LABELS = {
    "innovators": "innovators",
    "early_adopters": "early adopters",
    "early_majority": "early majority",
    "late_majority": "late majority",
    "laggards": "laggards",
}

_POPULATION_COLUMNS = "{source}, line {line}: expected 2 columns (area,population), found {found}"
_POPULATION_BAD_AREA = (
    "{source}, line {line}: {area!r} is not a postcode area (one or two letters, e.g. SO)"
)
_POPULATION_BAD_NUMBER = (
    "{source}, line {line}: population {number!r} must be a whole number from 1 to {most}"
)
_POPULATION_DUPLICATE = "{source}, line {line}: area {area} appears twice"
_POPULATION_EMPTY = "{source}: no area,population rows"
_POPULATION_TOO_LONG = "{source}: more than {most} areas"
_POPULATION_UNREADABLE = "{source}: cannot be read ({why})"


def population_columns(source: str, line: int, found: int) -> str:
    return _POPULATION_COLUMNS.format(source=source, line=line, found=found)


def population_bad_area(source: str, line: int, area: str) -> str:
    return _POPULATION_BAD_AREA.format(source=source, line=line, area=area)


def population_bad_number(source: str, line: int, number: str, most: int) -> str:
    return _POPULATION_BAD_NUMBER.format(source=source, line=line, number=number, most=most)


def population_duplicate(source: str, line: int, area: str) -> str:
    return _POPULATION_DUPLICATE.format(source=source, line=line, area=area)


def population_empty(source: str) -> str:
    return _POPULATION_EMPTY.format(source=source)


def population_too_long(source: str, most: int) -> str:
    return _POPULATION_TOO_LONG.format(source=source, most=most)


def population_unreadable(source: str, why: str) -> str:
    return _POPULATION_UNREADABLE.format(source=source, why=why)


# -- the text report (`britizen growth report`) ------------------------------------------------

REPORT_TITLE = "Britizen growth report, {when} UTC"
REPORT_TOTALS = "Registered citizens: {registered:,}   verified: {verified:,}"
REPORT_DEFINITIONS = (
    "Verified = registration completed (NI number checked, age confirmed): today every "
    "account. Active = did something the database records that week (a lower bound)."
)
REPORT_WEEKS_HEADING = "Week by week (weeks ending on the date)"
REPORT_WEEKS_HEADER = "{end:<12}{registered:>12}{verified:>12}{active:>10}"
REPORT_WEEK_ROW = "{end:<12}{registered:>12,}{verified:>12,}{active:>10,}"
REPORT_FUNNEL_HEADING = "Referral funnel (all time)"
REPORT_FUNNEL = (
    "links made {made:,} -> opened {opened:,} -> registered {registered:,} -> verified {verified:,}"
)
REPORT_AREAS_HEADING = "By postcode area (counts under {min_count} shown as <{min_count})"
REPORT_AREAS_HEADER = (
    "{area:<8}{verified:>10}{new_7d:>8}{g7:>8}{new_28d:>8}{g28:>8}{population:>12}{share:>9}  "
    "{stage}"
)
REPORT_MEDIAN = "Median adoption share: {median}"
REPORT_BELOW_HEADING = "Furthest below the median"
REPORT_BELOW_ROW = "  {area:<6}{share:>9}  {gap} below  ({stage})"
REPORT_NO_POPULATION = (
    "No population file (BRITIZEN_POPULATION_FILE): adoption shares and stages are left out."
)
REPORT_POPULATION = "Eligible population from {name}"
REPORT_POPULATION_ERROR = "Population file not used: {problem}"
SMALL = "<{min_count}"
POINTS = "{gap:.1f} points"
NONE = "-"

OPERATOR_CREATED = "created operator {name!r} (id {id})"
OPERATOR_KEY = "API key: {key}"
OPERATOR_KEY_ONCE = "Store this key now: it will not be shown again. Sign in at /operator."


def _count(n: int | None, min_count: int) -> str:
    return SMALL.format(min_count=min_count) if n is None else f"{n:,}"


def _pct(fraction: float | None) -> str:
    return NONE if fraction is None else f"{fraction * 100:.1f}%"


def render_report(report: GrowthReport) -> list[str]:
    """`britizen growth report` as lines of plain text."""
    m = report.min_count
    lines = [
        REPORT_TITLE.format(when=report.computed_at.strftime("%Y-%m-%d %H:%M")),
        REPORT_TOTALS.format(registered=report.registered, verified=report.verified),
        REPORT_DEFINITIONS,
        "",
        REPORT_WEEKS_HEADING,
        REPORT_WEEKS_HEADER.format(
            end="week to", registered="registered", verified="verified", active="active"
        ),
    ]
    lines += [
        REPORT_WEEK_ROW.format(
            end=w.end.isoformat(), registered=w.registered, verified=w.verified, active=w.active
        )
        for w in report.weeks
    ]
    f = report.funnel
    lines += [
        "",
        REPORT_FUNNEL_HEADING,
        REPORT_FUNNEL.format(
            made=f.links_made, opened=f.opened, registered=f.registered, verified=f.verified
        ),
        "",
    ]
    if report.population_error:
        lines.append(REPORT_POPULATION_ERROR.format(problem=report.population_error))
    elif report.population_file is None:
        lines.append(REPORT_NO_POPULATION)
    else:
        lines.append(REPORT_POPULATION.format(name=report.population_file))
    lines += [
        REPORT_AREAS_HEADING.format(min_count=m),
        REPORT_AREAS_HEADER.format(
            area="area", verified="verified", new_7d="new 7d", g7="+7d", new_28d="new 28d",
            g28="+28d", population="population", share="share", stage="stage",
        ),
    ]  # fmt: skip
    for a in report.areas:
        lines.append(
            REPORT_AREAS_HEADER.format(
                area=a.area,
                verified=_count(a.verified, m),
                new_7d=_count(a.new_7d, m),
                g7=_pct(a.growth_7d),
                new_28d=_count(a.new_28d, m),
                g28=_pct(a.growth_28d),
                population=NONE if a.population is None else f"{a.population:,}",
                share=_pct(a.share),
                stage=NONE if a.stage is None else STAGE_LABELS[a.stage.value],
            )
        )
    if report.median_share is not None:
        lines += ["", REPORT_MEDIAN.format(median=_pct(report.median_share)), REPORT_BELOW_HEADING]
        lines += [
            REPORT_BELOW_ROW.format(
                area=g.area,
                share=_pct(g.share),
                gap=NONE if g.gap is None else POINTS.format(gap=g.gap * 100),
                stage=STAGE_LABELS[g.stage.value],
            )
            for g in report.below_median
        ]
    return lines


# -- the README chart (services.growth_charts) -------------------------------------------------

CHART_ACTIVE = "weekly active"
CHART_REGISTERED = "registered (= verified)"
CHART_OVER_TIME = "Citizens over time"
CHART_SHARE = "Adoption share by postcode area"
CHART_SHARE_AXIS = "verified citizens / eligible population (%)"
CHART_MEDIAN = "median"
CHART_DEMO_TITLE = "Growth report on invented demo data (data/population_demo.csv)"
