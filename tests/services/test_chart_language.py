"""The /history chart (a photo the bot sends, which the sandbox page shows) is worded in the
reader's language: title, axis, band names and the dates under it."""

from __future__ import annotations

from datetime import datetime

from matplotlib.backends.backend_agg import FigureCanvasAgg

from services.charts import score_history_figure, score_history_png
from texts.i18n import use_language

POINTS = [(datetime(2026, 10, 1), 560), (datetime(2026, 11, 5), 640), (datetime(2026, 12, 5), 700)]


def words(language: str) -> list[str]:
    with use_language(language):
        figure = score_history_figure(POINTS)
    FigureCanvasAgg(figure).draw()
    (axes,) = figure.axes
    found = [axes.get_title(), axes.get_ylabel()]
    found += [text.get_text() for text in axes.texts]
    found += [label.get_text() for label in axes.get_xticklabels()]
    return found


def test_the_history_chart_in_welsh() -> None:
    welsh = words("cy")
    assert welsh[:2] == ["Eich sgôr", "Sgôr"]
    assert "Da" in welsh and "Teg" in welsh
    months = " ".join(welsh[2:])
    assert "Tach" in months or "Rhag" in months, months
    # None of the English is left.
    english = words("en")
    assert english[:2] == ["Your score", "Score"] and "Good" in english
    assert not {"Your score", "Score", "Good", "Fair", "Nov", "Dec"} & set(welsh)
    assert any("Nov" in label or "Dec" in label for label in english)


def test_the_png_still_renders() -> None:
    with use_language("cy"):
        assert score_history_png(POINTS).startswith(b"\x89PNG")
