"""``GET /api/v1/open-data/score-bands``: public, no key. JSON-LD by default, CSV on request.

Counts only, cells of 1 to services.open_data.MIN_CELL - 1 people suppressed (null,
``suppressed: true``) and further cells suppressed so those cannot be worked out (see
services.disclosure), with the licence, the time the underlying scores were computed and both
suppression notes in both formats.
"""

from __future__ import annotations

import csv
import io
from typing import Any, get_args

from aiohttp import web

from api import schemas
from api.app import RouteAdder
from api.errors import ValidationFailed, respond
from scoring.bands import BANDS
from services.open_data import (
    LICENCE,
    LICENCE_URL,
    MIN_CELL,
    BandDistribution,
    Cell,
    OpenDataService,
)
from texts import api as texts

OPEN_DATA_KEY: web.AppKey[OpenDataService] = web.AppKey("open_data", OpenDataService)
VOCAB = "https://britizen.uk/def/"
SUPPRESSION_NOTE = texts.suppression_note(MIN_CELL)
COMPLEMENTARY_NOTE = texts.complementary_note(MIN_CELL)
CONTEXT: dict[str, Any] = {
    "@vocab": VOCAB,
    "schema": "https://schema.org/",
    "name": "schema:name",
    "description": "schema:description",
    "license": {"@id": "schema:license", "@type": "@id"},
    "licence": "schema:usageInfo",
    "computed_at": {"@id": "schema:dateModified", "@type": "schema:DateTime"},
    "count": {"@id": f"{VOCAB}count", "@type": "schema:Integer"},
    "area": {"@id": f"{VOCAB}postcodeArea"},
}


def _cell(c: Cell) -> dict[str, Any]:
    return {"count": c.count, "suppressed": c.suppressed}


def score_bands_model(data: BandDistribution) -> schemas.ScoreBands:
    ranges = {b.name: b for b in BANDS}
    return schemas.ScoreBands.model_validate(
        {
            "@context": CONTEXT,
            "@type": "schema:Dataset",
            "name": texts.DATASET_NAME,
            "description": texts.DATASET_DESCRIPTION,
            "license": LICENCE_URL,
            "licence": texts.licence_notice(LICENCE),
            "computed_at": data.computed_at,
            "suppression": {
                "threshold": MIN_CELL,
                "note": SUPPRESSION_NOTE,
                "complementary": COMPLEMENTARY_NOTE,
                "suppressed_cells": data.suppressed_cells,
            },
            "total": _cell(data.total),
            "bands": [
                {
                    "band": name,
                    "min_score": ranges[name].lower,
                    "max_score": ranges[name].upper,
                    **_cell(c),
                }
                for name, c in data.bands.items()
            ],
            "areas": [
                {
                    "area": row.area,
                    "total": _cell(row.total),
                    "bands": [{"band": name, **_cell(c)} for name, c in row.bands.items()],
                }
                for row in data.areas
            ],
        }
    )


def as_csv(data: BandDistribution) -> str:
    out = io.StringIO()
    # Leading '#' lines carry what a CSV has no place for; most readers take a comment option.
    out.write(f"# {texts.csv_heading(LICENCE, LICENCE_URL)}\n")
    out.write(f"# {texts.csv_computed_at(schemas.api_timestamp(data.computed_at))}\n")
    out.write(f"# {SUPPRESSION_NOTE}\n")
    out.write(f"# {COMPLEMENTARY_NOTE}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["area", "band", "count", "suppressed"])

    def row(area: str, band: str, c: Cell) -> None:
        writer.writerow([area, band, "" if c.count is None else c.count, str(c.suppressed).lower()])

    row("ALL", "ALL", data.total)
    for name, c in data.bands.items():
        row("ALL", name, c)
    for area in data.areas:
        row(area.area, "ALL", area.total)
        for name, c in area.bands.items():
            row(area.area, name, c)
    return out.getvalue()


async def get_score_bands(request: web.Request) -> web.Response:
    fmt = request.query.get("format", "json")
    if fmt not in get_args(schemas.OpenDataFormat):
        raise ValidationFailed({"format": texts.FORMAT_CHOICES})
    data = await request.app[OPEN_DATA_KEY].score_bands()
    if fmt == "csv":
        return web.Response(text=as_csv(data), content_type="text/csv", charset="utf-8")
    # application/json rather than application/ld+json: every JSON client reads it, and the
    # @context makes it JSON-LD for those who want linked data.
    return respond(score_bands_model(data))


def open_data_routes(open_data: OpenDataService) -> RouteAdder:
    def add(app: web.Application) -> None:
        app[OPEN_DATA_KEY] = open_data
        app.router.add_get("/open-data/score-bands", get_score_bands, name="public.score_bands")

    return add
