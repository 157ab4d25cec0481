"""Network roles in the nightly pass, on SQLite and PostgreSQL: degree, betweenness and role
stored for everyone, scores exactly as without roles, and the person's own role in /mydata."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import networkx as nx
import numpy as np
from sqlalchemy import delete, select

from scoring.betweenness import network_roles
from services.clock import ManualClock
from services.data_rights import DataRightsService
from services.scoring_pass import ScoringPass
from storage.db import Database
from storage.models import Citizen, Friendship, OutboxMessage, Score, ScoreHistory

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
N = 60  # at most ScoringPass's pivots: the betweenness is exact
GRAPH: nx.Graph[int] = nx.powerlaw_cluster_graph(N, 2, 0.3, seed=3)


async def populate(db: Database) -> list[int]:
    ids: list[int] = []
    async with db.transaction() as session:
        for i in range(N):
            citizen = Citizen(
                telegram_id=5000 + i,
                chat_id=5000 + i,
                display_name=f"P{i}",
                ni_hash=f"{i:064d}",
                ni_masked="AB •• •• •• C",
                date_of_birth=date(1990, 1, 1),
                registered_at=START - timedelta(days=10 * (i + 1)),
            )
            session.add(citizen)
            await session.flush()
            ids.append(citizen.id)
        for a, b in GRAPH.edges():
            low, high = sorted((ids[a], ids[b]))
            session.add(
                Friendship(
                    low_id=low, high_id=high, requester_id=low, status="accepted",
                    created_at=START,
                )
            )  # fmt: skip
    return ids


async def stored(db: Database) -> dict[int, Score]:
    async with db.transaction() as session:
        return {s.citizen_id: s for s in (await session.scalars(select(Score))).all()}


async def forget_scores(db: Database) -> None:
    async with db.transaction() as session:
        for model in (OutboxMessage, ScoreHistory, Score):
            await session.execute(delete(model))


async def test_roles_are_stored_and_change_no_score(db: Database) -> None:
    ids = await populate(db)
    await ScoringPass(db, ManualClock(START), LONDON, roles=False).run(progress=lambda _: None)
    without = await stored(db)
    assert all(s.network_role is None and s.betweenness is None for s in without.values())

    await forget_scores(db)
    await ScoringPass(db, ManualClock(START), LONDON).run(progress=lambda _: None)
    with_roles = await stored(db)
    assert {c: s.score for c, s in with_roles.items()} == {c: s.score for c, s in without.items()}
    assert {c: s.band for c, s in with_roles.items()} == {c: s.band for c, s in without.items()}

    exact = nx.betweenness_centrality(GRAPH, normalized=True)
    effective = nx.effective_size(GRAPH)
    degree = np.array([GRAPH.degree[v] for v in range(N)], dtype=np.float64)
    btw = np.array([exact[v] for v in range(N)])
    expected_roles = network_roles(degree, btw, np.array([effective[v] for v in range(N)]))
    for v, citizen_id in enumerate(ids):
        row = with_roles[citizen_id]
        assert row.friend_count == GRAPH.degree[v]
        assert row.betweenness is not None and abs(row.betweenness - exact[v]) < 1e-9
        assert row.network_role == expected_roles[v]
    roles = {s.network_role for s in with_roles.values()}
    assert "connector" in roles or "broker" in roles
    assert sum(r is not None for r in expected_roles) <= N // 5


async def test_mydata_lists_only_the_persons_own_role(db: Database) -> None:
    ids = await populate(db)
    clock = ManualClock(START)
    await ScoringPass(db, clock, LONDON).run(progress=lambda _: None)
    rows = await stored(db)
    someone = next(v for v, i in enumerate(ids) if rows[i].network_role is not None)
    mine = rows[ids[someone]]
    export = await DataRightsService(db, clock).export(5000 + someone)
    data = json.loads(export.content)
    section = data["network_role"]
    assert section["role"] == mine.network_role
    assert section["degree"] == GRAPH.degree[someone]
    assert section["betweenness_estimate"] == mine.betweenness
    # Nobody else's role or betweenness appears anywhere in the document.
    others = {
        json.dumps(rows[i].betweenness) for i in ids if i != ids[someone] and rows[i].betweenness
    }
    text = export.content.decode()
    assert not any(
        f": {value}" in text for value in others if value != json.dumps(mine.betweenness)
    )
