"""The /history chart (a photo the bot sends, which the sandbox page shows) is worded in the
reader's language: title, axis, band names and the dates under it."""

from __future__ import annotations

from datetime import datetime

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from scoring.rules import DIMENSIONS as RULES
from services.charts import comparison_png, score_history_figure, score_history_png
from texts import friends as friend_texts
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


def comparison_words(language: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The words drawn on the /compare chart: the figure is caught as it is rendered."""
    import services.charts as charts

    drawn: list[Figure] = []
    render = charts._png

    def keep(figure: Figure) -> bytes:
        drawn.append(figure)
        return render(figure)

    monkeypatch.setattr(charts, "_png", keep)
    with use_language(language):
        png = comparison_png(friend_texts.CHART_YOU, "Bryn", DIMENSIONS)
    assert png.startswith(b"\x89PNG")
    (axes,) = drawn[-1].axes
    legend = axes.get_legend()
    assert legend is not None
    found = [axes.get_xlabel(), *(label.get_text() for label in axes.get_yticklabels())]
    return found + [text.get_text() for text in legend.get_texts()]


DIMENSIONS = [(d.name, d.max_points / 2, d.max_points / 3, d.max_points) for d in RULES]


def test_the_comparison_chart_in_welsh(monkeypatch: pytest.MonkeyPatch) -> None:
    welsh = comparison_words("cy", monkeypatch)
    english = comparison_words("en", monkeypatch)
    assert "Hanes talu" in welsh and "Chi" in welsh and "Bryn" in welsh
    assert welsh[0] == "Canran o'r pwyntiau sydd ar gael ym mhob rhan o'r sgôr"
    assert english[0] == "Percentage of the points available in each part of the score"
    assert "Payment history" in english and "You" in english
    # Nothing English is left but the friend's own name.
    assert not (set(english) - {"Bryn"}) & set(welsh)
