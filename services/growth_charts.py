"""The growth report as one PNG (matplotlib's headless Agg, like services.charts): citizens
over time on the left, each area's adoption share in its Rogers stage's colour on the right.
Pure rendering: a report in, PNG bytes out. Used for the README's chart (`python -m bench
growth --chart`); the operator page draws the same charts itself as SVG."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from services.growth_report import STAGE_BOUNDS, GrowthReport, Stage
from texts import growth as words

# The operator page's colours (bot/web/operator.css), so the README matches what people see.
STAGE_COLOURS = {
    Stage.INNOVATORS: "#7b3fb5",
    Stage.EARLY_ADOPTERS: "#2b7de9",
    Stage.EARLY_MAJORITY: "#2e9e5b",
    Stage.LATE_MAJORITY: "#c98a06",
    Stage.LAGGARDS: "#8a8f96",
}


def growth_png(report: GrowthReport, title: str) -> bytes:
    figure = Figure(figsize=(11, 4.6), dpi=110)
    over_time, shares = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.15]})
    ends = [w.end for w in report.weeks]
    over_time.bar(ends, [w.active for w in report.weeks], width=5, color="#b9d3f5",
                  label=words.CHART_ACTIVE)  # fmt: skip
    over_time.plot(ends, [w.registered for w in report.weeks], color="#2b7de9", marker="o",
                   linewidth=2.2, label=words.CHART_REGISTERED)  # fmt: skip
    over_time.set_title(words.CHART_OVER_TIME)
    over_time.legend(loc="upper left", frameon=False)
    over_time.tick_params(axis="x", labelrotation=30)
    over_time.spines[["top", "right"]].set_visible(False)

    rows = sorted(
        (a for a in report.areas if a.share is not None and a.stage is not None),
        key=lambda a: a.share or 0.0,
    )
    shares.barh([a.area for a in rows], [100 * (a.share or 0.0) for a in rows],
                color=[STAGE_COLOURS[a.stage] for a in rows if a.stage])  # fmt: skip
    for bound, _stage in STAGE_BOUNDS:
        shares.axvline(100 * bound, color="#c6ced8", linestyle="--", linewidth=1)
    if report.median_share is not None:
        shares.axvline(100 * report.median_share, color="#17212b", linewidth=1)
        shares.text(100 * report.median_share, -0.9, words.CHART_MEDIAN, ha="center", fontsize=8)
    shares.set_xlabel(words.CHART_SHARE_AXIS)
    shares.set_title(words.CHART_SHARE)
    shares.spines[["top", "right"]].set_visible(False)
    handles = [
        Patch(color=colour, label=words.STAGE_LABELS[stage.value])
        for stage, colour in STAGE_COLOURS.items()
    ]
    shares.legend(handles=handles, loc="lower right", frameon=False, fontsize=8)
    figure.suptitle(title)
    figure.tight_layout()
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()
