"""Operator routes: ``GET /api/v1/operator`` (who the key belongs to) and
``GET /api/v1/operator/growth`` (the growth report, services.growth_report).

Only an operator key (``bz_op_...``, `britizen operator add NAME`) opens them, and an operator
key opens nothing else (api.access: the route names' ``operator.`` prefix).
"""

from __future__ import annotations

from aiohttp import web

from api import schemas
from api.app import OPERATOR_KEY, OPERATORS_KEY, RouteAdder
from api.errors import ValidationFailed, respond
from services.growth_report import DEFAULT_WEEKS, MAX_WEEKS, GrowthReport, GrowthReportService
from services.operators import OperatorService
from texts import api as texts

GROWTH_KEY: web.AppKey[GrowthReportService] = web.AppKey("growth", GrowthReportService)


def growth_model(report: GrowthReport) -> schemas.GrowthReport:
    """The report as the API (and `britizen growth report --json`) writes it."""
    return schemas.GrowthReport(
        computed_at=report.computed_at,
        registered=report.registered,
        verified=report.verified,
        min_count=report.min_count,
        population_file=report.population_file,
        population_error=report.population_error,
        median_share=report.median_share,
        weeks=[
            schemas.GrowthWeek(
                start=w.start, end=w.end, registered=w.registered, verified=w.verified,
                active=w.active,
            )
            for w in report.weeks
        ],
        areas=[
            schemas.GrowthArea(
                area=a.area, registered=a.registered, verified=a.verified, new_7d=a.new_7d,
                new_28d=a.new_28d, growth_7d=a.growth_7d, growth_28d=a.growth_28d,
                population=a.population, share=a.share,
                stage=None if a.stage is None else a.stage.value,
            )
            for a in report.areas
        ],
        funnel=schemas.GrowthFunnel(
            links_made=report.funnel.links_made, opened=report.funnel.opened,
            registered=report.funnel.registered, verified=report.funnel.verified,
        ),
        below_median=[
            schemas.GrowthGap(area=g.area, share=g.share, gap=g.gap, stage=g.stage.value)
            for g in report.below_median
        ],
    )  # fmt: skip


def _weeks(request: web.Request) -> int:
    raw = request.query.get("weeks")
    if raw is None:
        return DEFAULT_WEEKS
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_WEEKS:
        raise ValidationFailed({"weeks": texts.weeks_range(MAX_WEEKS)})
    return int(raw)


async def whoami(request: web.Request) -> web.Response:
    operator = request[OPERATOR_KEY]
    return respond(schemas.Operator(id=operator.id, name=operator.name))


async def growth(request: web.Request) -> web.Response:
    weeks = _weeks(request)
    report = await request.app[GROWTH_KEY].report(weeks=weeks)
    return respond(growth_model(report))


def operator_routes(operators: OperatorService, reports: GrowthReportService) -> RouteAdder:
    def add(app: web.Application) -> None:
        app[OPERATORS_KEY] = operators
        app[GROWTH_KEY] = reports
        app.router.add_get("/operator", whoami, name="operator.whoami")
        app.router.add_get("/operator/growth", growth, name="operator.growth")

    return add
