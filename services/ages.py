"""Ages that decide what someone may do: credit (loans, deposit-free contracts) is for adults.

A credit agreement can't be enforced against a minor in the UK, so Britizen lends only to
people who are 18 on the day they apply. Registration itself is open from 15.
"""

from __future__ import annotations

from datetime import date

ADULT_AGE = 18


def birthday(born: date, years: int) -> date:
    """The day someone born on `born` turns `years`; a 29 February birthday falls on
    1 March in a year that has no 29 February (when English law treats the year as complete)."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return date(born.year + years, 3, 1)


def credit_from(born: date, today: date) -> date | None:
    """The day credit unlocks (their 18th birthday), or None if they are an adult today."""
    adult_on = birthday(born, ADULT_AGE)
    return adult_on if today < adult_on else None
