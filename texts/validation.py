"""Why what someone typed while registering was refused (services.validation decides).

Each message is shown verbatim, so it says what is wrong and how to put it right, and none
repeats a full NI number: the chat may be seen over their shoulder, and the message may end up
in a support screenshot. Parts of what was typed are quoted only where services.validation
passes them, already cut down (a prefix, one letter, a short word).
"""

from __future__ import annotations

from texts.format import month_in_language
from texts.i18n import _

# --- National Insurance numbers ---------------------------------------------------------------

# HMRC's own specimen number: Q is never issued, so the example can't be anyone's real number.
NI_EXAMPLE = "QQ 12 34 56 C"
_NI_SHAPE = "two letters, six numbers, then A, B, C or D"
_WHERE_TO_FIND = "It's on your payslip, P60 or in the HMRC app."

NI_EMPTY = f"Please send your National Insurance number. It looks like {NI_EXAMPLE}: {_NI_SHAPE}."
NI_MISSING_SUFFIX = (
    "That's missing the last letter: an NI number ends with A, B, C or D after the "
    f"six numbers. {_WHERE_TO_FIND}"
)
NI_SUFFIX_NOT_A_LETTER = (
    "An NI number ends with a letter (A, B, C or D), not a number. Please check the last character."
)
NI_SPECIMEN = f"That's the example number. Please send your own NI number. {_WHERE_TO_FIND}"
NI_TEMPORARY = (
    "Numbers starting TN are temporary reference numbers, not a National Insurance "
    f"number. Please send your permanent NI number. {_WHERE_TO_FIND}"
)


def ni_stray_character(stray: str) -> str:
    # An invisible or control character can't be quoted usefully, so it is named instead.
    what = f"“{stray}”" if stray.isprintable() else _("that symbol")
    return _(
        "An NI number only has letters and numbers, so {what} can't be part of "
        "it. It looks like {ni_example}."
    ).format(what=what, ni_example=NI_EXAMPLE)


def ni_wrong_length(length: int) -> str:
    return _(
        "An NI number has 9 letters and numbers, but that's {length}. It looks "
        "like {ni_example}: {ni_shape}."
    ).format(length=length, ni_example=NI_EXAMPLE, ni_shape=_NI_SHAPE)


def ni_prefix_not_letters(*, has_zero: bool) -> str:
    hint = _(" Check for a zero typed instead of the letter O.") if has_zero else ""
    return _("An NI number starts with two letters, like QQ in {ni_example}.{hint}").format(
        ni_example=NI_EXAMPLE, hint=hint
    )


def ni_middle_not_digits(middle: str) -> str:
    """``middle`` is the six characters after the prefix, upper-cased."""
    return _(
        "The six characters after the first two letters should all be numbers, "
        "like 12 34 56 in {ni_example}.{digit_lookalike_hint}"
    ).format(ni_example=NI_EXAMPLE, digit_lookalike_hint=_digit_lookalike_hint(middle))


def _digit_lookalike_hint(middle: str) -> str:
    # Letters that look like digits are the usual reason the middle isn't all numbers.
    mixups = []
    if "O" in middle:
        mixups.append(_("the letter O instead of 0"))
    if "I" in middle or "L" in middle:
        mixups.append(_("I or L instead of 1"))
    if not mixups:
        return ""
    return _(" Check for ") + _(" or ").join(mixups) + "."


def ni_administrative(prefix: str) -> str:
    return _(
        "Numbers starting {prefix} are administrative numbers, not someone's "
        "personal NI number. Please check and send your own NI number. "
        "{where_to_find}"
    ).format(prefix=prefix, where_to_find=_WHERE_TO_FIND)


def ni_bad_letters(first: str, second: str) -> str:
    return _(
        "NI numbers never have {first} as the first letter or {second} as the "
        "second letter. Please check the first two letters."
    ).format(first=first, second=second)


def ni_bad_first_letter(first: str) -> str:
    return _(
        "NI numbers never start with the letter {first}. Please check the first letter."
    ).format(first=first)


def ni_bad_second_letter(second: str) -> str:
    return _(
        "NI numbers never have {second} as the second letter. Please check the first two letters."
    ).format(second=second)


def ni_never_allocated(prefix: str) -> str:
    return _(
        "No NI number starts with {prefix}: HMRC has never issued that prefix. "
        "Please check the first two letters."
    ).format(prefix=prefix)


def ni_bad_suffix(suffix: str) -> str:
    return _(
        "NI numbers end in A, B, C or D, but that one ends in {suffix}. Please "
        "check the last letter."
    ).format(suffix=suffix)


# --- Dates of birth ---------------------------------------------------------------------------

_DATE_FORMATS = "for example 14/03/1990, 14 March 1990 or 1990-03-14"

DOB_EMPTY = f"Please send your date of birth, {_DATE_FORMATS}."
DATE_UNREADABLE = f"I couldn't read that as a date. Please use day, month, year, {_DATE_FORMATS}."
YEAR_NOT_FOUR_DIGITS = f"The year needs four digits, {_DATE_FORMATS}."


def typed_date(day: int, month: int, year_digits: str) -> str:
    """The date as read, echoed back in the UK order: '14/03/1990'."""
    return f"{day:02d}/{month:02d}/{year_digits}"


def two_digit_year(year_digits: str, likely_year: str) -> str:
    return _(
        "Please write the year with all four digits, for example {likely_year} "
        "rather than {year_digits}."
    ).format(likely_year=likely_year, year_digits=year_digits)


def no_such_month(shown: str, month: int, *, day_could_be_month: bool) -> str:
    if day_could_be_month:
        fix = _(
            "It looks like the month came first; in the UK the day goes first, like 14/03/1990."
        )
    else:
        fix = _("Please write the day, then the month (1 to 12), then the year, like 14/03/1990.")
    return _("{shown}: month {month} doesn't exist. {fix}").format(
        shown=shown, month=month, fix=fix
    )


def day_zero(shown: str) -> str:
    return _("{shown}: day 0 doesn't exist. Please check the day.").format(shown=shown)


def no_such_day(
    shown: str, month_name: str, year_digits: str, days: int, *, not_leap_year: bool
) -> str:
    """``not_leap_year`` for 29 February of a year that has none."""
    why = (
        _(" ({year_digits} isn't a leap year)").format(year_digits=year_digits)
        if not_leap_year
        else ""
    )
    return _(
        "{shown}: {month_name} {year_digits} has only {days} days{why}. Please check the date."
    ).format(
        shown=shown,
        month_name=month_in_language(month_name),
        year_digits=year_digits,
        days=days,
        why=why,
    )


def born_in_future(shown: str) -> str:
    return _("{shown} is in the future. Please send the date you were born.").format(shown=shown)


def implausible_age(shown: str, age: int) -> str:
    return _(
        "{shown} would make you {age} years old, which looks like a typo. Please check the year."
    ).format(shown=shown, age=age)


def too_young(minimum_age: int) -> str:
    return _("Sorry, you need to be {minimum_age} or older to use Britizen.").format(
        minimum_age=minimum_age
    )


def unknown_month(word: str) -> str:
    return _(
        "I don't recognise “{word}” as a month. Please write it like 14 March 1990 or 14/03/1990."
    ).format(word=word)


# --- Postcode districts -----------------------------------------------------------------------

_POSTCODE_EXAMPLE = "for example SO17 (from SO17 1BJ)"

POSTCODE_EMPTY = f"Please send the first part of your postcode, {_POSTCODE_EXAMPLE}."
POSTCODE_NOT_ALPHANUMERIC = (
    "A postcode only has letters and numbers. Please send the first part of your "
    f"postcode, {_POSTCODE_EXAMPLE}."
)
NOT_A_POSTCODE = (
    "That doesn't look like a UK postcode. Please send the first part of your postcode, "
    f"{_POSTCODE_EXAMPLE}."
)


def bad_inward_code(district: str) -> str:
    return _(
        "The second part of that postcode doesn't look right. You can send "
        "just the first part, {district}, on its own."
    ).format(district=district)


def postcode_bad_first_letter(letter: str) -> str:
    return _(
        "UK postcodes never start with {letter}. Please check the first letter, {postcode_example}."
    ).format(letter=letter, postcode_example=_POSTCODE_EXAMPLE)


def postcode_bad_second_letter(letter: str) -> str:
    return _(
        "UK postcodes never have {letter} as the second letter. Please check "
        "it, {postcode_example}."
    ).format(letter=letter, postcode_example=_POSTCODE_EXAMPLE)


def not_a_district(district: str) -> str:
    return _(
        "{district} isn't a UK postcode district. Please check it: it's the "
        "first part of your postcode, {postcode_example}."
    ).format(district=district, postcode_example=_POSTCODE_EXAMPLE)


def zero_for_letter_o(lettered: str) -> str:
    return _(
        "Did you mean {lettered}? Postcodes start with letters, so check for a "
        "zero typed instead of the letter O."
    ).format(lettered=lettered)
