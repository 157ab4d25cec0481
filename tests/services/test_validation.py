"""Registration input validation: NI numbers, dates of birth and postcode districts.

Messages are asserted on their key words only, so wording can be polished without churn; what
matters is that each refusal names the actual problem and never repeats a full NI number.
"""

from __future__ import annotations

import calendar
import re
import string
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.validation import (
    InvalidDate,
    InvalidInput,
    InvalidNINumber,
    InvalidPostcode,
    mask_ni_number,
    normalise_ni_number,
    normalise_postcode_district,
    parse_date_of_birth,
)

LETTERS = string.ascii_uppercase
DIGITS = string.digits


def refusal(call: Callable[[], object], kind: type[InvalidInput], *key_words: str) -> str:
    """Run call, insist it refuses with kind, check the key words, and return the message."""
    with pytest.raises(kind) as caught:
        call()
    message = str(caught.value)
    assert message == caught.value.message
    assert message.strip(), "refusals must say something"
    for word in key_words:
        assert word.lower() in message.lower(), f"{word!r} missing from {message!r}"
    return message


def test_refusals_are_value_errors_with_a_message() -> None:
    for kind in (InvalidNINumber, InvalidDate, InvalidPostcode):
        error = kind("Something is wrong.")
        assert isinstance(error, InvalidInput)
        assert isinstance(error, ValueError)
        assert error.message == str(error) == "Something is wrong."


# --- NI numbers -------------------------------------------------------------------------------

NEVER_FIRST = "DFIQUV"
NEVER_SECOND = "DFIQUVO"
NEVER_ALLOCATED = ("BG", "GB", "KN", "NK", "NT", "ZZ")
ADMINISTRATIVE = ("OO", "CR", "FY", "MW", "NC", "PP", "PY", "PZ")
REFUSED_PREFIXES = frozenset({*NEVER_ALLOCATED, *ADMINISTRATIVE, "TN"})
CANONICAL = re.compile(r"[A-Z]{2}[0-9]{6}[A-D]")
THREE_DIGITS = re.compile(r"[0-9]{3}")


def prefix_allowed(prefix: str) -> bool:
    """The NIM39110 prefix rules, written independently of the implementation."""
    return (
        prefix[0] not in NEVER_FIRST
        and prefix[1] not in NEVER_SECOND
        and prefix not in REFUSED_PREFIXES
    )


def assert_does_not_leak(message: str, canonical: str) -> None:
    assert canonical not in message.upper()
    # Also no run of digits long enough to be part of someone's number.
    assert not THREE_DIGITS.search(message), message


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("AB123456C", "AB123456C"),
        ("ab123456c", "AB123456C"),
        ("Ab123456c", "AB123456C"),
        ("AB 12 34 56 C", "AB123456C"),
        ("ab 12 34 56 c", "AB123456C"),
        ("AB-12-34-56-C", "AB123456C"),
        ("AB.12.34.56.C", "AB123456C"),
        ("AB 123456 C", "AB123456C"),
        ("  AB123456C  ", "AB123456C"),
        ("AB\t12\n34\r56 C", "AB123456C"),
        ("AB 12.34-56 c", "AB123456C"),
        ("AB\u00a012\u00a034\u00a056\u00a0C", "AB123456C"),  # non-breaking spaces
        ("AB\u200b123456C", "AB123456C"),  # zero-width space from a copy-paste
        ("AB–12–34–56–C", "AB123456C"),  # en dashes from phone autocorrect
        ("ＡＢ１２３４５６Ｃ", "AB123456C"),  # full-width keyboard
        ("JG103759A", "JG103759A"),
        ("JG103759B", "JG103759B"),
        ("JG103759C", "JG103759C"),
        ("JG103759D", "JG103759D"),
        ("HN123456A", "HN123456A"),
        ("NA123456B", "NA123456B"),
        ("GA123456C", "GA123456C"),
        ("OA123456D", "OA123456D"),
        ("ce 00 00 00 a", "CE000000A"),
    ],
)
def test_ni_number_accepted_and_canonicalised(raw: str, canonical: str) -> None:
    assert normalise_ni_number(raw) == canonical


@pytest.mark.parametrize(
    ("raw", "key_words"),
    [
        ("", ["send", "National Insurance", "QQ 12 34 56 C"]),
        ("   ", ["send", "National Insurance"]),
        (" . - ", ["send", "National Insurance"]),
        ("AB/123456C", ["only has letters and numbers", "“/”"]),
        ("AB12345é6C", ["only has letters and numbers", "“é”"]),
        ("AB\x00123456C", ["only has letters and numbers", "that symbol"]),
        ("AB12345C", ["has 9", "that's 8"]),
        ("AB1234567C", ["has 9", "that's 10"]),
        ("A", ["has 9", "that's 1"]),
        ("AB123456", ["missing the last letter", "A, B, C or D"]),
        ("ab 12 34 56", ["missing the last letter"]),
        ("1B123456C", ["starts with two letters"]),
        ("A1123456C", ["starts with two letters"]),
        ("A0123456C", ["starts with two letters", "zero", "letter O"]),
        ("AB12345OC", ["six", "numbers", "letter O instead of 0"]),
        ("AB1234I6C", ["six", "numbers", "I or L instead of 1"]),
        ("ABl23456C", ["six", "numbers", "I or L instead of 1"]),
        ("ABCD3456C", ["six", "numbers"]),
        ("AB1234567", ["ends with a letter", "A, B, C or D"]),
        ("AB123456E", ["A, B, C or D", "ends in E"]),
        ("AB123456Z", ["A, B, C or D", "ends in Z"]),
        ("AB123456M", ["A, B, C or D", "ends in M"]),
        ("QQ123456C", ["example", "your own"]),
        ("qq 12 34 56 c", ["example", "your own"]),
        ("TN123456A", ["temporary", "TN", "permanent"]),
        ("TN140390M", ["temporary", "TN"]),  # the real temporary-number shape: date + sex
        ("DQ123456C", ["D as the first letter", "Q as the second letter"]),
        ("VO123456C", ["V as the first letter", "O as the second letter"]),
    ],
)
def test_ni_number_refused(raw: str, key_words: list[str]) -> None:
    message = refusal(lambda: normalise_ni_number(raw), InvalidNINumber, *key_words)
    compact = re.sub(r"[\s.\-]", "", raw).upper()
    if len(compact) >= 6:
        assert compact not in message.upper()


@pytest.mark.parametrize("letter", NEVER_FIRST)
def test_ni_number_forbidden_first_letter(letter: str) -> None:
    message = refusal(
        lambda: normalise_ni_number(f"{letter}A123456C"),
        InvalidNINumber,
        f"never start with the letter {letter}",
        "first letter",
    )
    assert_does_not_leak(message, f"{letter}A123456C")


@pytest.mark.parametrize("letter", NEVER_SECOND)
def test_ni_number_forbidden_second_letter(letter: str) -> None:
    message = refusal(
        lambda: normalise_ni_number(f"A{letter}123456C"),
        InvalidNINumber,
        f"never have {letter} as the second letter",
    )
    assert_does_not_leak(message, f"A{letter}123456C")


@pytest.mark.parametrize("prefix", NEVER_ALLOCATED)
def test_ni_number_never_allocated_prefix(prefix: str) -> None:
    message = refusal(
        lambda: normalise_ni_number(f"{prefix}123456C"),
        InvalidNINumber,
        f"starts with {prefix}",
        "never issued",
    )
    assert_does_not_leak(message, f"{prefix}123456C")


@pytest.mark.parametrize("prefix", ADMINISTRATIVE)
def test_ni_number_administrative_prefix(prefix: str) -> None:
    message = refusal(
        lambda: normalise_ni_number(f"{prefix}123456C"),
        InvalidNINumber,
        f"starting {prefix}",
        "administrative",
    )
    assert_does_not_leak(message, f"{prefix}123456C")


@pytest.mark.parametrize("prefix", [a + b for a in LETTERS for b in LETTERS])
def test_every_prefix_against_the_rules(prefix: str) -> None:
    number = f"{prefix}987654B"
    if prefix_allowed(prefix):
        assert normalise_ni_number(number) == number
    else:
        message = refusal(lambda: normalise_ni_number(number), InvalidNINumber)
        assert_does_not_leak(message, number)


@pytest.mark.parametrize(
    ("canonical", "masked"),
    [
        ("AB123456C", "AB •• •• •• C"),
        ("HN000000A", "HN •• •• •• A"),
        ("OA999999D", "OA •• •• •• D"),
    ],
)
def test_mask_ni_number(canonical: str, masked: str) -> None:
    assert mask_ni_number(canonical) == masked
    assert "\u2022" in masked


@pytest.mark.parametrize("not_canonical", ["", "ab123456c", "AB 12 34 56 C", "AB123456E", "AB12"])
def test_mask_refuses_non_canonical_without_echoing_it(not_canonical: str) -> None:
    with pytest.raises(ValueError) as caught:
        mask_ni_number(not_canonical)
    assert not isinstance(caught.value, InvalidInput), "a caller bug, not a user refusal"
    if not_canonical:
        assert not_canonical not in str(caught.value)


allowed_prefixes = (
    st.tuples(
        st.sampled_from(sorted(set(LETTERS) - set(NEVER_FIRST))),
        st.sampled_from(sorted(set(LETTERS) - set(NEVER_SECOND))),
    )
    .map("".join)
    .filter(lambda prefix: prefix not in REFUSED_PREFIXES)
)
six_digits = st.text(DIGITS, min_size=6, max_size=6)
valid_ni_numbers = st.builds(
    lambda prefix, digits, suffix: prefix + digits + suffix,
    allowed_prefixes,
    six_digits,
    st.sampled_from("ABCD"),
)
forbidden_letter_prefixes = st.one_of(
    st.tuples(st.sampled_from(NEVER_FIRST), st.sampled_from(LETTERS)),
    st.tuples(st.sampled_from(LETTERS), st.sampled_from(NEVER_SECOND)),
).map("".join)
separators = st.text(
    st.sampled_from([" ", ".", "-", "\t", "\n", "\u00a0", "\u2009", "\u2013", "\u200b"]),
    max_size=3,
)


def formatted(data: st.DataObject, canonical: str) -> str:
    """The number as someone might type it: random separators and random case."""
    parts = [data.draw(separators)]
    for char in canonical:
        parts.append(char.lower() if data.draw(st.booleans()) else char)
        parts.append(data.draw(separators))
    return "".join(parts)


@given(valid_ni_numbers, st.data())
def test_any_allowed_number_in_any_format_normalises(canonical: str, data: st.DataObject) -> None:
    assert normalise_ni_number(formatted(data, canonical)) == canonical


@given(forbidden_letter_prefixes, six_digits, st.sampled_from("ABCD"), st.data())
def test_any_forbidden_prefix_letter_is_refused(
    prefix: str, digits: str, suffix: str, data: st.DataObject
) -> None:
    canonical = prefix + digits + suffix
    with pytest.raises(InvalidNINumber) as caught:
        normalise_ni_number(formatted(data, canonical))
    assert_does_not_leak(caught.value.message, canonical)


@given(
    st.text(LETTERS, min_size=2, max_size=2),
    six_digits,
    st.sampled_from(LETTERS),
    st.data(),
)
def test_refusals_never_contain_the_number(
    prefix: str, digits: str, suffix: str, data: st.DataObject
) -> None:
    canonical = prefix + digits + suffix
    raw = formatted(data, canonical)
    try:
        assert normalise_ni_number(raw) == canonical
    except InvalidNINumber as refused:
        assert_does_not_leak(refused.message, canonical)
        assert raw not in refused.message


@given(
    st.one_of(st.text(), st.text(LETTERS + string.ascii_lowercase + DIGITS + " .-/", max_size=14))
)
def test_ni_number_total_on_any_text(raw: str) -> None:
    try:
        canonical = normalise_ni_number(raw)
    except InvalidNINumber as refused:
        assert refused.message
        assert not THREE_DIGITS.search(refused.message)
        compact = re.sub(r"[\s.\-]", "", raw).upper()
        if len(compact) >= 6 and any(char.isdigit() for char in compact):
            assert compact not in refused.message.upper()
    else:
        assert CANONICAL.fullmatch(canonical)
        assert prefix_allowed(canonical[:2])


@given(valid_ni_numbers)
def test_mask_keeps_only_the_letters(canonical: str) -> None:
    masked = mask_ni_number(canonical)
    assert masked == f"{canonical[:2]} •• •• •• {canonical[-1]}"
    assert not any(char.isdigit() for char in masked)


# --- Dates of birth ---------------------------------------------------------------------------

TODAY = date(2025, 6, 15)
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
ACCEPTED_FORMATS = "14/03/1990"


def ordinal(day: int) -> str:
    if day in (11, 12, 13):
        return f"{day}th"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


RENDERINGS: dict[str, Callable[[date], str]] = {
    "dd/mm/yyyy": lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}",
    "dd-mm-yyyy": lambda d: f"{d.day:02d}-{d.month:02d}-{d.year}",
    "dd.mm.yyyy": lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",
    "d/m/yyyy": lambda d: f"{d.day}/{d.month}/{d.year}",
    "d-m-yyyy": lambda d: f"{d.day}-{d.month}-{d.year}",
    "d.m.yyyy": lambda d: f"{d.day}.{d.month}.{d.year}",
    "yyyy-mm-dd": lambda d: d.isoformat(),
    "d Month yyyy": lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}",
    "d Mon yyyy": lambda d: f"{d.day} {MONTHS[d.month - 1][:3]} {d.year}",
    "dth Month yyyy": lambda d: f"{ordinal(d.day)} {MONTHS[d.month - 1]} {d.year}",
    "dd month yyyy": lambda d: f"{d.day:02d} {MONTHS[d.month - 1].lower()} {d.year}",
    "DD MON YYYY": lambda d: f"{d.day:02d} {MONTHS[d.month - 1][:3].upper()} {d.year}",
    "Month d, yyyy": lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
}


@pytest.mark.parametrize(
    ("raw", "born"),
    [
        ("14/03/1990", date(1990, 3, 14)),
        ("14-03-1990", date(1990, 3, 14)),
        ("14.03.1990", date(1990, 3, 14)),
        ("1990-03-14", date(1990, 3, 14)),
        ("14 March 1990", date(1990, 3, 14)),
        ("14 Mar 1990", date(1990, 3, 14)),
        ("14th March 1990", date(1990, 3, 14)),
        ("14th of March 1990", date(1990, 3, 14)),
        ("14 march 1990", date(1990, 3, 14)),
        ("14 MARCH 1990", date(1990, 3, 14)),
        ("14-Mar-1990", date(1990, 3, 14)),
        ("March 14, 1990", date(1990, 3, 14)),
        ("March 14th 1990", date(1990, 3, 14)),
        ("14 03 1990", date(1990, 3, 14)),
        ("  14 / 03 / 1990  ", date(1990, 3, 14)),
        ("１４/０３/１９９０", date(1990, 3, 14)),  # full-width digits
        ("4/3/1990", date(1990, 3, 4)),  # day first, never 3 April
        ("04/03/1990", date(1990, 3, 4)),
        ("4 Mar 1990", date(1990, 3, 4)),
        ("1990-3-4", date(1990, 3, 4)),
        ("1st January 2000", date(2000, 1, 1)),
        ("2nd Feb 2000", date(2000, 2, 2)),
        ("3rd Sept 2000", date(2000, 9, 3)),
        ("22nd September 2000", date(2000, 9, 22)),
        ("31st Dec 1999", date(1999, 12, 31)),
        ("29/02/2000", date(2000, 2, 29)),  # leap year
        ("29 February 1996", date(1996, 2, 29)),
        ("15/06/2010", date(2010, 6, 15)),  # 15 today: old enough
        ("16/06/1904", date(1904, 6, 16)),  # 120 today: still accepted
    ],
)
def test_date_of_birth_accepted(raw: str, born: date) -> None:
    assert parse_date_of_birth(raw, TODAY) == born


@pytest.mark.parametrize(
    ("raw", "key_words"),
    [
        ("", ["date of birth", "14/03/1990"]),
        ("   ", ["date of birth"]),
        ("yesterday", ["couldn't read", "14/03/1990", "14 March 1990", "1990-03-14"]),
        ("14031990", ["couldn't read", "14/03/1990"]),
        ("14/03", ["couldn't read", "14/03/1990"]),
        ("1990/1990/03", ["couldn't read"]),
        ("14/03/1990/1", ["couldn't read"]),
        ("14 Marhc 1990", ["“marhc”", "month", "14 March 1990"]),
        ("14 Ma 1990", ["“ma”", "month"]),
        ("14 Supercalifragilistic 1990", ["couldn't read"]),
        ("14/03/90", ["four digits", "1990 rather than 90"]),
        ("14-3-05", ["four digits", "2005 rather than 05"]),
        ("14 March 90", ["four digits"]),
        ("14/03/199", ["four digits"]),
        ("14/03/19900", ["four digits"]),
        ("31/02/1990", ["31/02/1990", "February 1990 has only 28 days"]),
        ("29/02/1990", ["February 1990 has only 28 days", "leap year"]),
        ("30/02/2000", ["February 2000 has only 29 days"]),
        ("31/04/1990", ["31/04/1990", "April 1990 has only 30 days"]),
        ("31 June 1990", ["June 1990 has only 30 days"]),
        ("32/01/1990", ["January 1990 has only 31 days"]),
        ("00/03/1990", ["day 0 doesn't exist"]),
        ("14/13/1990", ["month 13 doesn't exist", "day"]),
        ("14/00/1990", ["month 0 doesn't exist"]),
        ("03/14/1990", ["month 14 doesn't exist", "month came first", "day goes first"]),
        ("1990-13-01", ["month 13 doesn't exist"]),
        ("16/06/2025", ["16/06/2025", "in the future"]),
        ("01/01/2090", ["in the future"]),
        ("01/01/9999", ["in the future"]),
        ("16/06/2010", ["15 or older", "Britizen"]),
        ("15/06/2025", ["15 or older"]),  # born today
        ("15/06/1904", ["121 years old", "check the year"]),
        ("01/01/1850", ["check the year"]),
        ("01/01/0000", ["check the year"]),
    ],
)
def test_date_of_birth_refused(raw: str, key_words: list[str]) -> None:
    refusal(lambda: parse_date_of_birth(raw, TODAY), InvalidDate, *key_words)


@pytest.mark.parametrize(
    ("today", "minimum_age", "accepted"),
    [
        # In other years a 29 February birthday comes round on 1 March...
        (date(2023, 2, 28), 15, False),
        (date(2023, 3, 1), 15, True),
        # ...and in leap years on the day itself.
        (date(2024, 2, 28), 16, False),
        (date(2024, 2, 29), 16, True),
    ],
)
def test_leap_day_birthday_age(today: date, minimum_age: int, accepted: bool) -> None:
    def parse() -> date:
        return parse_date_of_birth("29/02/2008", today, minimum_age=minimum_age)

    if accepted:
        assert parse() == date(2008, 2, 29)
    else:
        refusal(parse, InvalidDate, f"{minimum_age} or older")


def test_minimum_age_is_configurable_and_named() -> None:
    refusal(
        lambda: parse_date_of_birth("01/01/2010", TODAY, minimum_age=18),
        InvalidDate,
        "18 or older",
    )
    assert parse_date_of_birth("15/06/2007", TODAY, minimum_age=18) == date(2007, 6, 15)
    assert parse_date_of_birth("15/06/2025", TODAY, minimum_age=0) == TODAY


@pytest.mark.parametrize("minimum_age", [-1, 121])
def test_nonsense_minimum_age_is_a_caller_bug(minimum_age: int) -> None:
    with pytest.raises(ValueError) as caught:
        parse_date_of_birth("14/03/1990", TODAY, minimum_age=minimum_age)
    assert not isinstance(caught.value, InvalidInput)


# Someone exactly 120 today is the oldest accepted; a day older and they are 121.
OLDEST = date(TODAY.year - 121, TODAY.month, TODAY.day) + timedelta(days=1)
YOUNGEST = date(TODAY.year - 15, TODAY.month, TODAY.day)


@pytest.mark.parametrize("rendering", RENDERINGS)
@given(born=st.dates(min_value=OLDEST, max_value=YOUNGEST))
def test_date_round_trips_in_every_format(rendering: str, born: date) -> None:
    assert parse_date_of_birth(RENDERINGS[rendering](born), TODAY) == born


@given(
    born=st.dates(min_value=OLDEST, max_value=YOUNGEST),
    rendering=st.sampled_from(sorted(RENDERINGS)),
    padding=st.sampled_from(["", " ", "  ", "\t", "\u00a0"]),
)
def test_date_round_trips_with_stray_whitespace(born: date, rendering: str, padding: str) -> None:
    assert parse_date_of_birth(f"{padding}{RENDERINGS[rendering](born)}{padding}", TODAY) == born


@given(born=st.dates(min_value=TODAY + timedelta(days=1)))
def test_any_future_date_is_refused(born: date) -> None:
    refusal(lambda: parse_date_of_birth(born.isoformat(), TODAY), InvalidDate, "future")


@given(born=st.dates(min_value=YOUNGEST + timedelta(days=1), max_value=TODAY))
def test_anyone_under_minimum_age_is_refused(born: date) -> None:
    refusal(lambda: parse_date_of_birth(born.isoformat(), TODAY), InvalidDate, "15 or older")


@given(born=st.dates(min_value=date(1000, 1, 1), max_value=OLDEST - timedelta(days=1)))
def test_anyone_over_120_is_refused(born: date) -> None:
    refusal(lambda: parse_date_of_birth(born.isoformat(), TODAY), InvalidDate, "check the year")


@given(
    year=st.integers(min_value=1905, max_value=2010),
    month=st.integers(min_value=1, max_value=12),
    data=st.data(),
)
def test_days_past_the_end_of_the_month_are_named(
    year: int, month: int, data: st.DataObject
) -> None:
    days = calendar.monthrange(year, month)[1]
    day = data.draw(st.integers(min_value=days + 1, max_value=31 if days < 31 else 99))
    refusal(
        lambda: parse_date_of_birth(f"{day}/{month}/{year}", TODAY),
        InvalidDate,
        f"{MONTHS[month - 1]} {year} has only",
    )


@given(st.one_of(st.text(), st.text(DIGITS + "/-. stndrhmarchjunofs,", max_size=16)))
def test_date_parser_total_on_any_text(raw: str) -> None:
    try:
        born = parse_date_of_birth(raw, TODAY)
    except InvalidDate as refused:
        assert refused.message
    else:
        assert OLDEST <= born <= YOUNGEST


# --- Postcode districts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "district"),
    [
        ("SO17", "SO17"),
        ("so17", "SO17"),
        (" So17 ", "SO17"),
        ("SO 17", "SO17"),
        ("SO17 1BJ", "SO17"),
        ("so17 1bj", "SO17"),
        ("SO171BJ", "SO17"),
        ("  so17   1bj ", "SO17"),
        ("SO17\u00a01BJ", "SO17"),
        ("ＳＯ１７ １ＢＪ", "SO17"),
        ("M1", "M1"),  # A9
        ("M1 1AE", "M1"),
        ("B33", "B33"),  # A99
        ("B33 8TH", "B33"),
        ("W1A", "W1A"),  # A9A
        ("W1A 0AX", "W1A"),
        ("CR2", "CR2"),  # AA9
        ("CR2 6XH", "CR2"),
        ("DN55", "DN55"),  # AA99
        ("DN55 1PT", "DN55"),
        ("SW1A", "SW1A"),  # AA9A
        ("SW1A 1AA", "SW1A"),
        ("EC1A 1BB", "EC1A"),
        ("e1w", "E1W"),
        ("N1C 4AG", "N1C"),
        ("BT1", "BT1"),
        ("ZE1 0AA", "ZE1"),
    ],
)
def test_postcode_district_accepted(raw: str, district: str) -> None:
    assert normalise_postcode_district(raw) == district


@pytest.mark.parametrize(
    ("raw", "key_words"),
    [
        ("", ["first part", "SO17"]),
        ("   ", ["first part", "SO17"]),
        ("SO17-1BJ", ["letters and numbers", "SO17"]),
        ("SO17é", ["letters and numbers"]),
        ("hello", ["doesn't look like a UK postcode", "SO17"]),
        ("12AB", ["doesn't look like a UK postcode", "SO17"]),
        ("SO1777", ["doesn't look like a UK postcode"]),
        ("ABC1", ["doesn't look like a UK postcode"]),
        ("GIR 0AA", ["doesn't look like a UK postcode"]),
        ("QA1", ["never start with Q"]),
        ("V1", ["never start with V"]),
        ("XM4 5HQ", ["never start with X"]),
        ("AI1", ["never have I as the second letter"]),
        ("AJ1 1AA", ["never have J as the second letter"]),
        ("AZ12", ["never have Z as the second letter"]),
        ("W1I", ["W1I", "isn't a UK postcode district"]),  # A9A: I never last
        ("SW1C", ["SW1C", "isn't a UK postcode district"]),  # AA9A: C never last
        ("S017", ["did you mean SO17", "zero"]),
        ("s017 1bj", ["did you mean SO17", "zero"]),
        ("SO17 1B", ["second part", "SO17"]),
        ("SO17 BJ1", ["second part", "SO17"]),
    ],
)
def test_postcode_district_refused(raw: str, key_words: list[str]) -> None:
    refusal(lambda: normalise_postcode_district(raw), InvalidPostcode, *key_words)


FIRST = "ABCDEFGHIJKLMNOPRSTUWYZ"
SECOND = "ABCDEFGHKLMNOPQRSTUVWXY"
A9A_LAST = "ABCDEFGHJKPSTUW"
AA9A_LAST = "ABEHMNPRVWXY"


def joined(*parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(*parts).map("".join)


letter = st.sampled_from
digit = st.sampled_from(DIGITS)
districts = st.one_of(
    joined(letter(FIRST), digit),
    joined(letter(FIRST), digit, digit),
    joined(letter(FIRST), digit, letter(A9A_LAST)),
    joined(letter(FIRST), letter(SECOND), digit),
    joined(letter(FIRST), letter(SECOND), digit, digit),
    joined(letter(FIRST), letter(SECOND), digit, letter(AA9A_LAST)),
)
inward_codes = joined(digit, letter(LETTERS), letter(LETTERS))


def typed_casually(data: st.DataObject, text: str) -> str:
    parts = [data.draw(st.sampled_from(["", " ", "  "]))]
    for char in text:
        parts.append(char.lower() if data.draw(st.booleans()) else char)
        parts.append(data.draw(st.sampled_from(["", "", "", " ", "\u00a0"])))
    return "".join(parts)


@given(districts, st.one_of(st.none(), inward_codes), st.data())
def test_any_district_or_full_postcode_reduces_to_the_district(
    district: str, inward: str | None, data: st.DataObject
) -> None:
    typed = district if inward is None else f"{district} {inward}"
    assert normalise_postcode_district(typed_casually(data, typed)) == district


@given(st.sampled_from("QVX"), st.text(LETTERS + DIGITS, max_size=3), st.data())
def test_postcodes_starting_with_q_v_or_x_are_refused(
    first: str, rest: str, data: st.DataObject
) -> None:
    with pytest.raises(InvalidPostcode):
        normalise_postcode_district(typed_casually(data, first + rest))


@given(st.one_of(st.text(), st.text(LETTERS + string.ascii_lowercase + DIGITS + " ", max_size=9)))
def test_postcode_total_on_any_text_and_never_keeps_more_than_the_district(raw: str) -> None:
    try:
        district = normalise_postcode_district(raw)
    except InvalidPostcode as refused:
        assert refused.message
    else:
        assert re.fullmatch(r"[A-Z]{1,2}[0-9][A-Z0-9]?", district)
