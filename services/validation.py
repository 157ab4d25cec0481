"""Pure checks for what people type while registering: NI number, date of birth, postcode.

Nothing here does I/O, so every rule can be tested exhaustively. Refusal messages are shown to
the person verbatim and are worded in texts.validation; this module decides which applies and
passes only short pieces of what was typed (never a full NI number).
"""

from __future__ import annotations

import calendar
import re
import string
import unicodedata
from datetime import date

from texts import validation as texts

__all__ = [
    "NI_NUMBER_PATTERN",
    "InvalidDate",
    "InvalidInput",
    "InvalidNINumber",
    "InvalidPostcode",
    "mask_ni_number",
    "normalise_ni_number",
    "normalise_postcode_district",
    "parse_date_of_birth",
]


class InvalidInput(ValueError):
    """A user-facing refusal; str(exc) / exc.message is a short plain-English sentence saying
    what is wrong and how to fix it."""

    message: str

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidNINumber(InvalidInput):
    """Not a National Insurance number HMRC could have issued to a person."""


class InvalidDate(InvalidInput):
    """Not a readable, real, plausible date of birth for someone allowed to register."""


class InvalidPostcode(InvalidInput):
    """Not the outward code (district) of a UK postcode."""


def _fold(raw: str) -> str:
    # Text pasted from payslip portals, PDFs and phone keyboards brings full-width characters,
    # non-breaking spaces and invisible format characters (zero-width spaces, direction marks).
    # NFKC turns the first two into their plain ASCII look-alikes and the last are dropped, so
    # the rules below only ever judge what the person can actually see.
    folded = unicodedata.normalize("NFKC", raw)
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")


# --- National Insurance numbers (HMRC NIM39110) ------------------------------------------------

# HMRC's own specimen number (texts.validation.NI_EXAMPLE). Q is never issued, so the example
# can't be anyone's real number and typing it back is refused.
_NI_SPECIMEN = "QQ123456C"
# Hyphen look-alikes as well as "-": phones turn hyphens into dashes as people type.
_NI_SEPARATORS = frozenset(".-\u2010\u2011\u2012\u2013\u2014\u2212")
_NEVER_FIRST = frozenset("DFIQUV")
_NEVER_SECOND = frozenset("DFIQUVO")
# NIM39110 also lists TN as never allocated; it gets its own message as a temporary number.
_NEVER_ALLOCATED = frozenset({"BG", "GB", "KN", "NK", "NT", "ZZ"})
_TEMPORARY = "TN"
_ADMINISTRATIVE = frozenset({"OO", "CR", "FY", "MW", "NC", "PP", "PY", "PZ"})
_SUFFIXES = frozenset("ABCD")
_CANONICAL_NI = re.compile(r"[A-Z]{2}[0-9]{6}[A-D]")
_NI_WITHOUT_SUFFIX = re.compile(r"[A-Z]{2}[0-9]{6}")


def _ni_number_pattern() -> str:
    """The canonical numbers normalise_ni_number accepts, as a regular expression (for the
    OpenAPI document): allowed prefixes, six digits, A-D. The specimen QQ123456C starts with
    Q, never issued, so it is outside already."""
    refused = _NEVER_ALLOCATED | _ADMINISTRATIVE | {_TEMPORARY}
    letters = string.ascii_uppercase
    prefixes = [
        first
        + "["
        + "".join(s for s in letters if s not in _NEVER_SECOND and first + s not in refused)
        + "]"
        for first in letters
        if first not in _NEVER_FIRST
    ]
    return "^(?:" + "|".join(prefixes) + ")[0-9]{6}[A-D]$"


NI_NUMBER_PATTERN = _ni_number_pattern()


def normalise_ni_number(raw: str) -> str:
    """Return the canonical form ("AB123456C") of a typed NI number, or raise InvalidNINumber.

    Checks run from the coarsest to the finest (characters, length, shape, then the letters),
    so the message describes the first thing the person needs to fix.
    """
    kept = "".join(ch for ch in _fold(raw) if not ch.isspace() and ch not in _NI_SEPARATORS)
    if not kept:
        raise InvalidNINumber(texts.NI_EMPTY)
    stray = next((ch for ch in kept if not (ch.isascii() and ch.isalnum())), None)
    if stray is not None:
        raise InvalidNINumber(texts.ni_stray_character(stray))
    # Upper-casing only after the ASCII check: "ß".upper() is "SS", which would change the length.
    compact = kept.upper()

    if len(compact) != 9:
        if _NI_WITHOUT_SUFFIX.fullmatch(compact):
            raise InvalidNINumber(texts.NI_MISSING_SUFFIX)
        raise InvalidNINumber(texts.ni_wrong_length(len(compact)))

    prefix, digits, suffix = compact[:2], compact[2:8], compact[8]
    if not prefix.isalpha():
        raise InvalidNINumber(texts.ni_prefix_not_letters(has_zero="0" in prefix))
    if not digits.isdigit():
        raise InvalidNINumber(texts.ni_middle_not_digits(digits))
    if not suffix.isalpha():
        raise InvalidNINumber(texts.NI_SUFFIX_NOT_A_LETTER)

    if compact == _NI_SPECIMEN:
        raise InvalidNINumber(texts.NI_SPECIMEN)
    # Temporary and administrative prefixes come before the letter rules because they name
    # the actual problem: OO breaks the second-letter rule, but "that's an administrative
    # number" is what tells the person they've copied the wrong reference.
    if prefix == _TEMPORARY:
        raise InvalidNINumber(texts.NI_TEMPORARY)
    if prefix in _ADMINISTRATIVE:
        raise InvalidNINumber(texts.ni_administrative(prefix))
    first, second = prefix[0], prefix[1]
    bad_first, bad_second = first in _NEVER_FIRST, second in _NEVER_SECOND
    if bad_first and bad_second:
        raise InvalidNINumber(texts.ni_bad_letters(first, second))
    if bad_first:
        raise InvalidNINumber(texts.ni_bad_first_letter(first))
    if bad_second:
        raise InvalidNINumber(texts.ni_bad_second_letter(second))
    if prefix in _NEVER_ALLOCATED:
        raise InvalidNINumber(texts.ni_never_allocated(prefix))
    if suffix not in _SUFFIXES:
        raise InvalidNINumber(texts.ni_bad_suffix(suffix))
    return compact


def mask_ni_number(canonical: str) -> str:
    """ "AB123456C" -> "AB •• •• •• C": enough to recognise, too little to reuse."""
    if not _CANONICAL_NI.fullmatch(canonical):
        # A bug in the caller, not a user error; the value is left out because it could be a
        # real number heading for a log.
        raise ValueError("mask_ni_number expects a canonical NI number such as QQ123456C")
    return f"{canonical[:2]} •• •• •• {canonical[8]}"


# --- Dates of birth ---------------------------------------------------------------------------

_MAXIMUM_AGE = 120
# The months as people type them (and as a refusal names one). Spelled out rather than taken
# from calendar.month_name, which follows the process locale.
_MONTHS = (
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
)
_NUMERIC_SEP = r"(?:\s*[/.\-]\s*|\s+)"
_NUMERIC_DATE = re.compile(rf"([0-9]+){_NUMERIC_SEP}([0-9]+){_NUMERIC_SEP}([0-9]+)")
_DAY = r"([0-9]{1,2})(?:st|nd|rd|th)?"
_WORD_SEP = r"[\s,/.\-]*"
_DAY_MONTH_YEAR = re.compile(rf"{_DAY}{_WORD_SEP}(?:of\s+)?([a-z]+){_WORD_SEP}([0-9]+)")
_MONTH_DAY_YEAR = re.compile(rf"([a-z]+){_WORD_SEP}{_DAY}{_WORD_SEP}([0-9]+)")
# Long enough for any month spelling, short enough that we never echo a paragraph back.
_LONGEST_ECHOED_WORD = 12


def parse_date_of_birth(raw: str, today: date, minimum_age: int = 15) -> date:
    """Read a UK-style date of birth (always day first) and check it is real and plausible.

    Raises InvalidDate for text that isn't a date, a two-digit year, a day or month that
    doesn't exist, a date in the future, someone younger than minimum_age, or an age over 120
    (almost always a mistyped year).
    """
    if not 0 <= minimum_age <= _MAXIMUM_AGE:
        raise ValueError(f"minimum_age must be between 0 and {_MAXIMUM_AGE}")
    text = " ".join(_fold(raw).split()).lower()
    if not text:
        raise InvalidDate(texts.DOB_EMPTY)
    day, month, year_digits = _split_date(text)

    if len(year_digits) == 2:
        raise InvalidDate(texts.two_digit_year(year_digits, _guess_century(year_digits, today)))
    if len(year_digits) != 4:
        raise InvalidDate(texts.YEAR_NOT_FOUR_DIGITS)
    year = int(year_digits)
    shown = texts.typed_date(day, month, year_digits)

    if not 1 <= month <= 12:
        raise InvalidDate(texts.no_such_month(shown, month, day_could_be_month=1 <= day <= 12))
    if day == 0:
        raise InvalidDate(texts.day_zero(shown))
    days = _days_in_month(year, month)
    if day > days:
        raise InvalidDate(
            texts.no_such_day(
                shown,
                _MONTHS[month - 1],
                year_digits,
                days,
                not_leap_year=month == 2 and day == 29,
            )
        )

    # Compared as tuples rather than dates so years before datetime.MINYEAR (e.g. 0000) are
    # reported as a typo instead of crashing the date constructor.
    if (year, month, day) > (today.year, today.month, today.day):
        raise InvalidDate(texts.born_in_future(shown))
    # Someone born on 29 February turns a year older on 1 March in other years (the usual UK
    # reading), which the tuple comparison gives for free.
    age = today.year - year - ((today.month, today.day) < (month, day))
    if age > _MAXIMUM_AGE:
        raise InvalidDate(texts.implausible_age(shown, age))
    if age < minimum_age:
        raise InvalidDate(texts.too_young(minimum_age))
    return date(year, month, day)


def _split_date(text: str) -> tuple[int, int, str]:
    """(day, month, year digits as typed) from lower-cased, whitespace-collapsed text.

    The year is kept as text so a two-digit year can be told apart from, say, 0090.
    """
    if numeric := _NUMERIC_DATE.fullmatch(text):
        first, middle, last = numeric.groups()
        # A four-digit first part can only be a year, so "1990-03-14" is unambiguous; any
        # other all-number date is read day first, the UK way.
        if len(first) == 4 and len(middle) <= 2 and len(last) <= 2:
            return int(last), int(middle), first
        if len(first) <= 2 and len(middle) <= 2:
            return int(first), int(middle), last
        raise InvalidDate(texts.DATE_UNREADABLE)

    if worded := _DAY_MONTH_YEAR.fullmatch(text):
        day_digits, word, year_digits = worded.groups()
    elif worded := _MONTH_DAY_YEAR.fullmatch(text):
        word, day_digits, year_digits = worded.groups()
    else:
        raise InvalidDate(texts.DATE_UNREADABLE)
    month = _month_number(word)
    if month is None:
        if len(word) <= _LONGEST_ECHOED_WORD:
            raise InvalidDate(texts.unknown_month(word))
        raise InvalidDate(texts.DATE_UNREADABLE)
    return int(day_digits), month, year_digits


def _month_number(word: str) -> int | None:
    # Any start of at least three letters is accepted ("Mar", "Sept", "Febr"); the first three
    # letters of the twelve months are all different, so this is never ambiguous.
    if len(word) < 3:
        return None
    for number, name in enumerate(_MONTHS, start=1):
        if name.lower().startswith(word):
            return number
    return None


def _days_in_month(year: int, month: int) -> int:
    # calendar.monthrange would do, but it builds a datetime.date and so fails for year 0.
    if month == 2:
        return 29 if calendar.isleap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _guess_century(two_digits: str, today: date) -> str:
    # Only used in the example we show, to make it look like the person's own year.
    recent = f"{today.year // 100}{two_digits}"
    return recent if int(recent) <= today.year else f"{today.year // 100 - 1}{two_digits}"


# --- Postcode districts -----------------------------------------------------------------------

# Outward codes take the forms A9, A99, A9A, AA9, AA99 and AA9A. The letter rules are Royal
# Mail's (as published by GOV.UK for postcode validation): Q, V and X never start a postcode;
# I, J and Z are never second; A9A and AA9A allow only a few final letters.
_OUTWARD = re.compile(
    r"[A-PR-UWYZ]"
    r"(?:[0-9][0-9]?|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][0-9]?|[A-HK-Y][0-9][ABEHMNPRVWXY])"
)
_OUTWARD_SHAPE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?")
# Only the shape of the inward code is checked: we throw it away, so being strict about its
# letters would refuse people for a detail we never use.
_INWARD = re.compile(r"[0-9][A-Z]{2}")


def normalise_postcode_district(raw: str) -> str:
    """Return the district ("SO17") from a district or a full postcode, or raise InvalidPostcode.

    A full postcode is accepted and cut down here, so the full postcode is never stored.
    """
    tokens = _fold(raw).split()
    compact = "".join(tokens)
    if not compact:
        raise InvalidPostcode(texts.POSTCODE_EMPTY)
    if not (compact.isascii() and compact.isalnum()):
        raise InvalidPostcode(texts.POSTCODE_NOT_ALPHANUMERIC)
    compact = compact.upper()
    # The inward code is always exactly three characters and a district at most four, so
    # anything five or longer must be a full postcode whatever the spacing.
    district = compact
    if len(compact) >= 5 and _INWARD.fullmatch(compact[-3:]):
        district = compact[:-3]
    if _OUTWARD.fullmatch(district):
        return district

    first_part = tokens[0].upper()
    if len(tokens) >= 2 and _OUTWARD.fullmatch(first_part):
        raise InvalidPostcode(texts.bad_inward_code(first_part))
    if _OUTWARD_SHAPE.fullmatch(district):
        if district[0] in "QVX":
            raise InvalidPostcode(texts.postcode_bad_first_letter(district[0]))
        if district[1] in "IJZ":
            raise InvalidPostcode(texts.postcode_bad_second_letter(district[1]))
        raise InvalidPostcode(texts.not_a_district(district))
    # "S017" for "SO17" is the commonest slip: postcodes start with letters, never a zero.
    lettered = district[:2].replace("0", "O") + district[2:]
    if lettered != district and _OUTWARD.fullmatch(lettered):
        raise InvalidPostcode(texts.zero_for_letter_o(lettered))
    raise InvalidPostcode(texts.NOT_A_POSTCODE)
