from __future__ import annotations

import itertools

import numpy as np
import pytest

from scoring.model import BANDS, SCORE_MAX, SCORE_MIN, band_for, band_indices

BOUNDARIES = [
    (350, "Poor"),
    (549, "Poor"),
    (550, "Fair"),
    (599, "Fair"),
    (600, "Good"),
    (649, "Good"),
    (650, "Very good"),
    (699, "Very good"),
    (700, "Excellent"),
    (950, "Excellent"),
]


@pytest.mark.parametrize(("score", "name"), BOUNDARIES)
def test_band_at_every_boundary(score: int, name: str) -> None:
    band = band_for(score)
    assert band.name == name
    assert band.lower <= score <= band.upper
    assert score in band


@pytest.mark.parametrize("score", [SCORE_MIN - 1, SCORE_MAX + 1, 0, -600, 10_000])
def test_band_outside_range_is_refused(score: int) -> None:
    with pytest.raises(ValueError):
        band_for(score)


@pytest.mark.parametrize("value", [600.0, "600", True])
def test_band_wants_an_int(value: object) -> None:
    with pytest.raises(TypeError):
        band_for(value)  # type: ignore[arg-type]


def test_bands_tile_the_range_in_order() -> None:
    assert BANDS[0].lower == SCORE_MIN
    assert BANDS[-1].upper == SCORE_MAX
    for below, above in itertools.pairwise(BANDS):
        assert above.lower == below.upper + 1
    assert [b.name for b in BANDS] == ["Poor", "Fair", "Good", "Very good", "Excellent"]


def test_band_indices_agree_with_band_for() -> None:
    scores = np.arange(SCORE_MIN, SCORE_MAX + 1)
    idx = band_indices(scores)
    assert [BANDS[i].name for i in idx] == [band_for(int(s)).name for s in scores]
    with pytest.raises(ValueError):
        band_indices(np.array([349]))
