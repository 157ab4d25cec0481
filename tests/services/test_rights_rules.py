"""The small pure rules behind sharing, open data and disputes."""

from __future__ import annotations

import pytest

from services.disputes import MAX_STATEMENT, BadStatement, check_statement
from services.open_data import MIN_CELL, UNKNOWN_AREA, Cell, cell, postcode_area
from services.sharing import format_code, normalise_code


@pytest.mark.parametrize(
    ("district", "area"),
    [
        ("SO17", "SO"),
        ("E1", "E"),
        ("ec1a", "EC"),
        ("W1A", "W"),
        (None, UNKNOWN_AREA),
        ("", UNKNOWN_AREA),
    ],
)
def test_the_postcode_area_is_the_letters_of_the_district(district: str | None, area: str) -> None:
    assert postcode_area(district) == area


def test_cells_under_the_threshold_are_suppressed() -> None:
    assert cell(MIN_CELL).count == MIN_CELL and not cell(MIN_CELL).suppressed
    assert cell(MIN_CELL - 1).count is None and cell(MIN_CELL - 1).suppressed
    assert cell(1).suppressed
    # A 0 counts nobody and is published (#17); any cell can be hidden to protect another.
    assert cell(0) == Cell(0) and not cell(0).suppressed
    assert cell(MIN_CELL, suppressed=True) == Cell(None)


def test_codes_are_read_however_they_are_typed() -> None:
    assert format_code("ABCD2345") == "ABCD-2345"
    assert normalise_code(" abcd-2345 ") == normalise_code("ABCD2345") == "ABCD2345"


def test_a_statement_must_say_something_and_not_too_much() -> None:
    assert check_statement("  I paid   this on time.  ") == "I paid this on time."
    with pytest.raises(BadStatement, match="at least"):
        check_statement("no")
    with pytest.raises(BadStatement, match=str(MAX_STATEMENT)):
        check_statement("x" * (MAX_STATEMENT + 1))
