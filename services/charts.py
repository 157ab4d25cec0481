"""PNG charts for the bot, drawn with matplotlib's headless Agg backend.

Pure rendering: data in, PNG bytes out. Figures are created through the object API (not pyplot),
so nothing global is kept between calls and concurrent renders cannot interfere.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

import matplotlib

matplotlib.use("Agg")

from babel.dates import format_date
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, num2date
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from scoring.bands import BANDS
from texts import charts as texts
from texts.i18n import CLDR_LOCALE, current, gettext

PNG_DPI = 110


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def _date_labels(first: datetime, last: datetime) -> FuncFormatter:
    """Axis dates in the reader's language (CLDR month names: "5 Rhag" in Welsh), with the
    year once the history spans most of one."""
    pattern = "MMM yyyy" if (last - first).days > 300 else "d MMM"
    cldr = CLDR_LOCALE.get(current(), "en_GB")
    return FuncFormatter(lambda value, _pos: format_date(num2date(value), pattern, locale=cldr))


def score_history_png(points: Sequence[tuple[datetime, int]], title: str | None = None) -> bytes:
    """Score over time with the bands shaded behind the line, worded in the reader's language
    (texts.i18n.LANGUAGE: asyncio.to_thread carries it into the worker thread)."""
    return _png(score_history_figure(points, title))


def score_history_figure(
    points: Sequence[tuple[datetime, int]], title: str | None = None
) -> Figure:
    if not points:
        raise ValueError("a history chart needs at least one point")
    figure = Figure(figsize=(7, 3.6), dpi=PNG_DPI)
    axes = figure.add_subplot()
    times = [moment for moment, _ in points]
    scores = [score for _, score in points]
    low = max(350, min(scores) - 60)
    high = min(950, max(scores) + 60)
    for band in BANDS:
        lower, upper = band.lower, band.upper
        if upper < low or lower > high:
            continue
        axes.axhspan(max(lower, low), min(upper + 1, high), color=band.colour, zorder=0)
        middle = (max(lower, low) + min(upper + 1, high)) / 2
        axes.text(
            1.01,
            middle,
            gettext(band.name),
            transform=axes.get_yaxis_transform(),
            va="center",
            fontsize=8,
        )
    # Dots mark each calculation while there are few; a year of nightly dots would be a smear.
    marker = "o" if len(points) <= 60 else None
    # A history row is written when the score changes (and weekly), so the score holds between
    # points: steps, not slopes.
    axes.plot(
        times,  # type: ignore[arg-type]
        scores,
        marker=marker,
        color="#1f4e79",
        linewidth=2,
        zorder=2,
        drawstyle="steps-post",
    )
    axes.set_ylim(low, high)
    axes.set_title(str(texts.HISTORY_TITLE) if title is None else title)
    axes.set_ylabel(str(texts.HISTORY_AXIS))
    axes.xaxis.set_major_locator(AutoDateLocator(maxticks=8))
    axes.xaxis.set_major_formatter(_date_labels(min(times), max(times)))
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    return figure


def comparison_png(
    left_name: str,
    right_name: str,
    dimensions: Sequence[tuple[str, float, float, float]],
) -> bytes:
    """Side-by-side bars per dimension: (dimension name, left points, right points, max points),
    worded in the reader's language like the history chart.

    Points are shown as a share of each dimension's maximum so dimensions of different sizes
    read on one scale.
    """
    figure = Figure(figsize=(7, 3.8), dpi=PNG_DPI)
    axes = figure.add_subplot()
    # Dimension names are the model's English (texts.model_words lists them for the catalog).
    names = [gettext(name) for name, *_ in dimensions]
    positions = range(len(names))
    width = 0.38

    def share(points: float, maximum: float) -> float:
        return 100.0 * points / maximum if maximum else 0.0

    left = [share(points, maximum) for _, points, _, maximum in dimensions]
    right = [share(points, maximum) for _, _, points, maximum in dimensions]
    axes.barh(
        [p - width / 2 for p in positions], left, height=width, label=left_name, color="#1f4e79"
    )
    axes.barh(
        [p + width / 2 for p in positions], right, height=width, label=right_name, color="#f28e2b"
    )
    axes.set_yticks(list(positions), names)
    axes.invert_yaxis()
    # A dimension can be negative (missed payments, defaults): then the axis reaches below 0.
    lowest = min([0.0, *left, *right])
    axes.set_xlim(-100 if lowest < 0 else 0, 100)
    if lowest < 0:
        axes.axvline(0, color="#555555", linewidth=0.8)
    axes.set_xlabel(str(texts.COMPARISON_AXIS))
    axes.legend(loc="lower right")
    figure.tight_layout()
    return _png(figure)
