"""A stolen phone can't borrow: a loan is confirmed by typing the NI number again.

The number is checked against the keyed hash kept at registration (never stored or logged in
clear). Wrong tries are counted on the citizen's row, across applications; the third in a row
locks borrowing for a day (the person can still use everything else), and a right one resets
the count.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from services.clock import Clock, as_aware_utc
from services.errors import NotRegistered
from services.loans.model import LoanError
from services.secrets import ni_number_hash
from services.validation import InvalidInput, normalise_ni_number
from storage.db import Database
from storage.repositories import citizens

MAX_NI_TRIES = 3
LOCK_FOR = timedelta(days=1)


class WrongIdentity(LoanError):
    """The NI number typed isn't the account's."""

    def __init__(self, tries_left: int) -> None:
        super().__init__("wrong NI number")
        self.tries_left = tries_left


class BorrowingLocked(LoanError):
    """Three wrong NI numbers in a row: no borrowing until `until`."""

    def __init__(self, until: datetime) -> None:
        super().__init__("borrowing locked")
        self.until = until


class IdentityCheck:
    def __init__(self, db: Database, secret_key: bytes, clock: Clock) -> None:
        self._db = db
        self._key = secret_key
        self._clock = clock

    async def check(self, telegram_id: int, typed: str) -> None:
        """Pass if `typed` is the account's NI number; else WrongIdentity or BorrowingLocked."""
        now = self._clock()
        failure: LoanError | None = None
        async with self._db.transaction() as session:
            # Two answers typed at once are counted one after the other.
            await citizens.lock_by_telegram_id(session, telegram_id)
            citizen = await citizens.by_telegram_id(session, telegram_id)
            if citizen is None:
                raise NotRegistered()
            locked = citizen.borrowing_locked_until
            if locked is not None and as_aware_utc(locked) > now:
                raise BorrowingLocked(as_aware_utc(locked))
            if _matches(self._key, typed, citizen.ni_hash):
                citizen.ni_check_failures = 0
                return
            citizen.ni_check_failures = (citizen.ni_check_failures or 0) + 1
            if citizen.ni_check_failures >= MAX_NI_TRIES:
                citizen.ni_check_failures = 0
                citizen.borrowing_locked_until = now + LOCK_FOR
                failure = BorrowingLocked(now + LOCK_FOR)
            else:
                failure = WrongIdentity(MAX_NI_TRIES - citizen.ni_check_failures)
        # Raised after the commit: the count of wrong tries must stick.
        raise failure


def _matches(key: bytes, typed: str, ni_hash: str) -> bool:
    try:
        canonical = normalise_ni_number(typed)
    except InvalidInput:
        return False  # not even the shape of an NI number: a wrong try all the same
    return hmac.compare_digest(ni_number_hash(key, canonical), ni_hash)
