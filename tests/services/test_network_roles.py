"""Network roles in the nightly pass, on SQLite and PostgreSQL: degree, betweenness and role
stored for everyone, scores exactly as without roles, and the person's own role in /mydata."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import networkx as nx
import numpy as np
import pytest
from sqlalchemy import delete, select

from scoring.betweenness import network_roles
from services.clock import ManualClock, as_aware_utc
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


async def test_each_night_blends_fresh_pivots_into_the_stored_estimate(db: Database) -> None:
    """Above ROLE_EXACT_UP_TO people the pass estimates from 16 pivots a night and, for each
    row it writes, keeps ROLE_CARRY of the stored estimate (a row it leaves unchanged keeps its
    stored estimate until its next write, at least weekly): after several nights the estimate
    rests on many more pivots than one night's and tracks networkx's exact values closely."""
    from scoring.betweenness import estimate_betweenness
    from services.scoring_pass import ROLE_CARRY, ROLE_PIVOTS

    big: nx.Graph[int] = nx.powerlaw_cluster_graph(400, 2, 0.3, seed=5)
    ids: list[int] = []
    async with db.transaction() as session:
        for i in range(big.number_of_nodes()):
            citizen = Citizen(
                telegram_id=9000 + i, chat_id=9000 + i, display_name=f"Q{i}",
                ni_hash=f"q{i:063d}", ni_masked="AB •• •• •• C", date_of_birth=date(1990, 1, 1),
                registered_at=START - timedelta(days=30),
            )  # fmt: skip
            session.add(citizen)
            await session.flush()
            ids.append(citizen.id)
        for a, b in big.edges():
            low, high = sorted((ids[a], ids[b]))
            session.add(
                Friendship(
                    low_id=low, high_id=high, requester_id=low, status="accepted",
                    created_at=START,
                )
            )  # fmt: skip
    position = {citizen_id: v for v, citizen_id in enumerate(ids)}
    src = np.array([a for a, _ in big.edges()])
    dst = np.array([b for _, b in big.edges()])
    exact = nx.betweenness_centrality(big, normalized=True)
    truth = np.array([exact[v] for v in range(len(ids))])

    clock = ManualClock(START)
    before = np.full(len(ids), np.nan)
    written_before: dict[int, object] = {}
    errors, blended_rows = [], 0
    for night in range(10):
        summary = await ScoringPass(db, clock, LONDON).run(progress=lambda _: None)
        fresh = estimate_betweenness(
            len(ids), src, dst, k=ROLE_PIVOTS, seed=clock().astimezone(LONDON).date().toordinal()
        ).estimate
        got = np.zeros(len(ids))
        for citizen_id, row in (await stored(db)).items():
            v = position[citizen_id]
            assert row.betweenness is not None
            got[v] = row.betweenness
            if as_aware_utc(row.computed_at) != summary.computed_at and night > 0:
                assert row.computed_at == written_before[citizen_id]
                assert got[v] == before[v]  # left alone: the stored estimate stays
            elif night == 0:
                assert got[v] == pytest.approx(fresh[v], rel=1e-9, abs=1e-12)
            else:
                blend = ROLE_CARRY * before[v] + (1 - ROLE_CARRY) * fresh[v]
                assert got[v] == pytest.approx(blend, rel=1e-9, abs=1e-12)
                blended_rows += 1
            written_before[citizen_id] = row.computed_at
        before = got
        errors.append(float(np.abs(got - truth).mean()))
        clock.advance(days=1)
    assert blended_rows > 0
    assert errors[-1] < errors[0]  # the blend beats one night's 16 pivots


async def test_on_a_large_network_the_searches_finish_before_the_graph_step(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above ROLE_OVERLAP_UP_TO friendships the betweenness searches and the graph step do not
    hold their working memory at the same time: the graph step starts once the searches are
    done. What is stored is the same as when they overlap."""
    import services.scoring_pass as scoring_pass

    await populate(db)
    await ScoringPass(db, ManualClock(START), LONDON).run(progress=lambda _: None)
    before = await stored(db)
    overlapped = {c: (s.score, s.betweenness, s.network_role) for c, s in before.items()}
    await forget_scores(db)

    steps: list[str] = []
    real_search, real_graph = scoring_pass.estimate_betweenness, scoring_pass.compute_graph_features

    def search(*args: object, **kwargs: object) -> object:
        steps.append("searches start")
        found = real_search(*args, **kwargs)  # type: ignore[arg-type]
        steps.append("searches done")
        return found

    def graph(*args: object, **kwargs: object) -> object:
        steps.append("graph start")
        return real_graph(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(scoring_pass, "estimate_betweenness", search)
    monkeypatch.setattr(scoring_pass, "compute_graph_features", graph)
    monkeypatch.setattr(scoring_pass, "ROLE_OVERLAP_UP_TO", len(GRAPH.edges()) - 1)
    lines: list[str] = []
    summary = await ScoringPass(db, ManualClock(START), LONDON).run(progress=lines.append)

    assert steps == ["searches start", "searches done", "graph start"]
    assert {"read", "roles", "graph", "score", "write"} <= set(summary.timings)
    assert any("searches done before the graph step" in line for line in lines)
    again = {c: (s.score, s.betweenness, s.network_role) for c, s in (await stored(db)).items()}
    assert again == overlapped
