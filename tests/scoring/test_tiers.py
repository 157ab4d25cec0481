from __future__ import annotations

import itertools
from importlib import resources

import pytest

from scoring.model import BANDS, SCORE_MAX, SCORE_MIN
from scoring.tiers import (
    TiersError,
    VoucherAccess,
    default_tiers,
    load_tiers,
    next_tier,
    points_to_next_tier,
    tier_for,
)

PACKAGED = resources.files("scoring").joinpath("tiers.toml").read_text(encoding="utf-8")


def test_packaged_tiers_load_one_per_band() -> None:
    tiers = load_tiers()
    assert [t.band for t in tiers] == list(BANDS)
    assert default_tiers() == tiers
    for t in tiers:
        assert t.title and t.summary
        assert t.benefits and all(line.endswith(".") for line in t.benefits)
        assert t.min_score == t.band.lower


def test_benefits_never_shrink_going_up() -> None:
    tiers = list(load_tiers())
    for lower, upper in itertools.pairwise(tiers):
        assert upper.loan_limit_pence >= lower.loan_limit_pence
        assert set(lower.deposit_free) <= set(upper.deposit_free)
        assert upper.housing_priority >= lower.housing_priority
        assert upper.tax_relief >= lower.tax_relief
    assert tiers[0].voucher_access is VoucherAccess.NONE
    assert tiers[0].loan_limit_pence == 0
    assert tiers[-1].tax_relief and tiers[-1].housing_priority


def test_wording_follows_the_data() -> None:
    poor, fair, *_, top = load_tiers()
    assert "unlock at Fair (550)" in poor.benefits[0]
    assert "£50" in fair.benefits[1]
    assert any("tax-relief" in line for line in top.benefits)
    assert any("car hire" in line for line in top.benefits)


@pytest.mark.parametrize(
    ("score", "band", "next_band", "to_next"),
    [
        (SCORE_MIN, "Poor", "Fair", 200),
        (549, "Poor", "Fair", 1),
        (550, "Fair", "Good", 50),
        (599, "Fair", "Good", 1),
        (600, "Good", "Very good", 50),
        (649, "Good", "Very good", 1),
        (650, "Very good", "Excellent", 50),
        (699, "Very good", "Excellent", 1),
        (700, "Excellent", None, None),
        (SCORE_MAX, "Excellent", None, None),
    ],
)
def test_tier_lookup_and_points_to_next(
    score: int, band: str, next_band: str | None, to_next: int | None
) -> None:
    assert tier_for(score).band.name == band
    nxt = next_tier(score)
    assert (nxt.band.name if nxt else None) == next_band
    assert points_to_next_tier(score) == to_next


def test_scores_outside_the_range_are_refused() -> None:
    with pytest.raises(ValueError):
        tier_for(SCORE_MAX + 1)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('band = "Fair"', 'band = "Good"'),  # out of band order
        ("loan_limit_pence = 30_000", "loan_limit_pence = 1_000"),  # a limit goes down
        (
            'voucher_access = "premium"\nloan_limit_pence = 50_000',
            'voucher_access = "standard"\nloan_limit_pence = 50_000',
        ),
        ('voucher_access = "none"', 'voucher_access = "gold"'),
        ("tax_relief = true", "tax_relief = false\nhousing_priority_x = 1"),
        ('deposit_free = ["broadband", "mobile phone", "energy"]', 'deposit_free = ["energy"]'),
        ("loan_limit_pence = 0", 'loan_limit_pence = "zero"'),
        (
            "housing_priority = true\ntax_relief = true",
            "housing_priority = false\ntax_relief = true",
        ),
        ('loan = "Britizen loans up to {limit}."', 'loan = "Loans up to {amount}."'),
        ("version = 1", "version = [1"),
    ],
)
def test_invalid_tier_files_are_refused(old: str, new: str) -> None:
    assert old in PACKAGED
    with pytest.raises(TiersError):
        load_tiers(PACKAGED.replace(old, new, 1))


def test_missing_tier_is_refused() -> None:
    cut = PACKAGED.index('[[tier]]\nband = "Excellent"')
    end = PACKAGED.index("# How each benefit")
    with pytest.raises(TiersError):
        load_tiers(PACKAGED[:cut] + PACKAGED[end:])
