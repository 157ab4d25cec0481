"""The dispute service checks a reviewer's right itself, whatever the caller did before."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.clock import ManualClock
from services.disputes import DisputeService
from services.errors import NotAllowed
from storage.db import Database

ADMIN = 9001


async def test_only_a_reviewer_may_read_the_queue_or_decide(db: Database) -> None:
    clock = ManualClock(datetime(2026, 12, 5, 12, 0, tzinfo=UTC))
    disputes = DisputeService(db, clock, admin_ids=[ADMIN])
    assert disputes.is_reviewer(ADMIN) and not disputes.is_reviewer(1234)
    with pytest.raises(NotAllowed):
        await disputes.next_in_queue(1234)
    with pytest.raises(NotAllowed):
        await disputes.review(1, 1234, True, "looks fine to me")
    assert await disputes.next_in_queue(ADMIN) is None  # a reviewer gets the (empty) queue
