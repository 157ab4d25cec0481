"""kill -9 in the middle of a broadcast: the restart finishes it, nobody gets it twice.

The dispatcher runs as its own process (bench/broadcast_child.py) against the stand-in
served by this test. It is killed with SIGKILL once at least half the recipients have the
message, then started again and left to finish. The stand-in's per-chat log is the truth:
zero duplicates, and every recipient without the message is one of the rows marked uncertain,
of which there are at most the dispatcher's in-flight bound.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from sqlalchemy import select

from bench.broadcast_seed import seed_broadcast
from standin import BotApiStandIn
from storage.db import Database
from storage.models import OutboxMessage
from tests.e2e.conftest import TEST_TOKEN

RECIPIENTS = 1_200
SEND_RATE = 400  # messages per second: the kill lands while hundreds are still to go
ROOT = Path(__file__).resolve().parents[2]


def child_command(db_url: str, standin: BotApiStandIn) -> list[str]:
    return [
        sys.executable, "-m", "bench.broadcast_child",
        db_url, standin.base_url, TEST_TOKEN, str(SEND_RATE),
    ]  # fmt: skip


def delivered(standin: BotApiStandIn) -> int:
    return int(standin.stats(per_chat=False)["messages_total"])


async def test_a_killed_broadcast_resumes_without_duplicates_or_losses(
    db: Database, db_url: str, standin: BotApiStandIn
) -> None:
    broadcast = await seed_broadcast(db, RECIPIENTS)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    first = await asyncio.create_subprocess_exec(
        *child_command(db_url, standin), cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL
    )
    killed_at = 0
    while first.returncode is None:
        if delivered(standin) >= RECIPIENTS // 2:
            first.send_signal(signal.SIGKILL)
            killed_at = delivered(standin)
            break
        await asyncio.sleep(0.005)
    await first.wait()
    assert first.returncode == -signal.SIGKILL, "the dispatcher should be killed mid-broadcast"
    assert RECIPIENTS // 2 <= killed_at < RECIPIENTS
    delivered_by_first = delivered(standin)  # including any that landed as it died

    second = await asyncio.create_subprocess_exec(
        *child_command(db_url, standin), cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(second.communicate(), timeout=120)
    assert second.returncode == 0
    summary = json.loads(out.decode().strip().splitlines()[-1])

    per_chat = {int(chat): count for chat, count in standin.stats()["messages_per_chat"].items()}
    async with db.transaction() as session:
        rows = (
            await session.execute(
                select(OutboxMessage.chat_id, OutboxMessage.status).where(
                    OutboxMessage.promotion_id == broadcast.promotion_id
                )
            )
        ).all()
    status_of = {chat: status for chat, status in rows}
    uncertain = {chat for chat, status in status_of.items() if status == "uncertain"}
    lost = set(broadcast.chat_ids) - set(per_chat)

    assert [chat for chat, count in per_chat.items() if count > 1] == []  # zero duplicates
    assert standin.stats(per_chat=False)["duplicates"] == 0
    assert set(per_chat) <= set(broadcast.chat_ids)
    assert lost <= uncertain  # zero lost beyond the uncertain ones
    assert len(uncertain) == summary["recovered_uncertain"]
    assert len(uncertain) <= summary["max_unsettled"]  # at most the in-flight bound
    assert set(status_of.values()) <= {"sent", "uncertain"}
    # A row marked sent really reached its chat; the restart sent what was left, once.
    assert {chat for chat, status in status_of.items() if status == "sent"} <= set(per_chat)
    assert summary["sent"] == len(per_chat) - delivered_by_first
