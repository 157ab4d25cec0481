"""The walk of a /score update: each layer once, one registration read (issue 14)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from bot.service import BritizenService
from tests.e2e.conftest import register
from tests.standin.driver import Citizen


async def test_a_score_update_reads_the_account_once(
    service: BritizenService, citizen: Callable[..., Citizen]
) -> None:
    nia = citizen(311, "Nia")
    await register(nia, "AB 12 34 56 C")
    await nia.expect_nothing()  # registration's follow-ups are all out before we count

    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()).lower())

    engine = service.services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        await nia.send("/score")
        await nia.expect("Your Britizen score")
    finally:
        event.remove(engine, "before_cursor_execute", record)

    account_reads = [s for s in statements if s.startswith("select") and "from citizens" in s]
    assert len(account_reads) == 1, statements
    score_reads = [s for s in statements if s.startswith("select") and "from scores" in s]
    assert len(score_reads) == 1, statements
    assert not any(s.startswith(("update citizens", "insert into citizens")) for s in statements)
