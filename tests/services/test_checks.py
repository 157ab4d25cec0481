"""The yes/no checks' rules (services.checks), without a database: each check's boundary,
calendar months, 29 February birthdays, and the question each is shown to the citizen as."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.bands import BAND_NAMES
from services.checks import CHECK_NAMES, Check, Facts, evaluate, months_before
from storage.statuses import CheckName
from texts.checks import question

TODAY = date(2026, 11, 21)


def facts(**changes: object) -> Facts:
    values: dict[str, object] = {
        "band": "Good",
        "born": date(1990, 3, 14),
        "today": TODAY,
        "last_missed_on": None,
        "borrowing_locked": False,
    }
    values.update(changes)
    return Facts(**values)  # type: ignore[arg-type]


def test_the_list_of_checks_is_fixed_and_has_no_score_threshold() -> None:
    assert CHECK_NAMES == (
        "band_at_least",
        "no_missed_payments_months",
        "verified_identity",
        "age_at_least",
    )
    assert "score_at_least" not in CHECK_NAMES


@pytest.mark.parametrize("band", BAND_NAMES)
def test_band_at_least_is_true_exactly_for_the_band_and_those_below(band: str) -> None:
    answers = [
        evaluate(Check(CheckName.BAND_AT_LEAST, asked), facts(band=band)) for asked in BAND_NAMES
    ]
    position = BAND_NAMES.index(band)
    assert answers == [i <= position for i in range(len(BAND_NAMES))]


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 11, 21), 6, date(2026, 5, 21)),
        (date(2026, 3, 31), 1, date(2026, 2, 28)),
        (date(2028, 3, 31), 1, date(2028, 2, 29)),
        (date(2026, 1, 15), 1, date(2025, 12, 15)),
        (date(2026, 11, 21), 72, date(2020, 11, 21)),
    ],
)
def test_months_before_counts_calendar_months(day: date, months: int, expected: date) -> None:
    assert months_before(day, months) == expected


def test_no_missed_payments_looks_back_from_the_same_day_months_ago() -> None:
    check = Check(CheckName.NO_MISSED_PAYMENTS_MONTHS, 6)
    assert evaluate(check, facts()) is True
    assert evaluate(check, facts(last_missed_on=date(2026, 5, 21))) is False  # on the edge
    assert evaluate(check, facts(last_missed_on=date(2026, 5, 20))) is True


def test_verified_identity_is_withheld_while_borrowing_is_locked() -> None:
    check = Check(CheckName.VERIFIED_IDENTITY)
    assert evaluate(check, facts()) is True
    assert evaluate(check, facts(borrowing_locked=True)) is False


def test_age_at_least_turns_true_on_the_birthday_and_29_february_on_1_march() -> None:
    eighteen = Check(CheckName.AGE_AT_LEAST, 18)
    born = date(2008, 11, 22)
    assert evaluate(eighteen, facts(born=born)) is False
    assert evaluate(eighteen, facts(born=born, today=date(2026, 11, 22))) is True
    leapling = date(2008, 2, 29)
    assert evaluate(eighteen, facts(born=leapling, today=date(2026, 2, 28))) is False
    assert evaluate(eighteen, facts(born=leapling, today=date(2026, 3, 1))) is True


@given(st.integers(16, 120), st.dates(date(1900, 1, 1), date(2011, 1, 1)))
def test_age_answers_agree_with_counting_years(years: int, born: date) -> None:
    had_birthday = (TODAY.month, TODAY.day) >= (born.month, born.day)
    age = TODAY.year - born.year - (0 if had_birthday else 1)
    assert evaluate(Check(CheckName.AGE_AT_LEAST, years), facts(born=born)) is (age >= years)


def test_stored_values_round_trip() -> None:
    for check in (
        Check(CheckName.BAND_AT_LEAST, "Very good"),
        Check(CheckName.NO_MISSED_PAYMENTS_MONTHS, 12),
        Check(CheckName.VERIFIED_IDENTITY),
        Check(CheckName.AGE_AT_LEAST, 18),
    ):
        assert Check.from_stored(check.name.value, check.stored_value) == check


def test_each_check_reads_as_a_plain_question() -> None:
    assert question(Check(CheckName.BAND_AT_LEAST, "Good")) == (
        "Is your Britizen score band Good or better?"
    )
    assert question(Check(CheckName.NO_MISSED_PAYMENTS_MONTHS, 12)) == (
        "Have you missed no payments in the last 12 months?"
    )
    assert question(Check(CheckName.NO_MISSED_PAYMENTS_MONTHS, 1)) == (
        "Have you missed no payments in the last month?"
    )
    assert question(Check(CheckName.VERIFIED_IDENTITY)) == (
        "Is your identity verified with Britizen?"
    )
    assert question(Check(CheckName.AGE_AT_LEAST, 18)) == "Are you 18 or over?"
