"""Growth outreach against the nightly pass's real figures, on SQLite and PostgreSQL: the
ambassador ranking follows the pass's betweenness among those who opted in, the role and area
filters, postcode areas matched by their letters (S is not SO), the 30-day rule made durable,
the operator's text validated, and contest counts refusing rejoined and self referrals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import networkx as nx
import pytest
from sqlalchemy import select, update

from services.clock import ManualClock
from services.contests import ContestService, ranked_board
from services.growth_outreach import (
    GrowthOutreach,
    OutreachError,
    check_campaign_text,
    parse_areas,
)
from services.invites import InviteService
from services.scoring_pass import ScoringPass
from storage.db import Database
from storage.models import (
    Citizen,
    ContestEntry,
    Erasure,
    Friendship,
    GrowthMessage,
    OutboxMessage,
    Referral,
    Score,
)

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SECRET = b"k" * 32
GRAPH: nx.Graph[int] = nx.barbell_graph(18, 4)  # two cliques joined by a 4-node path
DISTRICTS = ("SO17", "S1", "BH1", "SO18")


async def populate(db: Database) -> list[int]:
    ids: list[int] = []
    async with db.transaction() as session:
        for i in GRAPH.nodes():
            citizen = Citizen(
                telegram_id=7000 + i, chat_id=7000 + i, display_name=f"P{i}",
                ni_hash=f"{i:064d}", ni_masked="AB •• •• •• C", date_of_birth=date(1990, 1, 1),
                registered_at=START - timedelta(days=30), growth_opt_in=True,
                postcode_district=DISTRICTS[i % len(DISTRICTS)],
            )  # fmt: skip
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


def outreach(db: Database, clock: ManualClock) -> GrowthOutreach:
    return GrowthOutreach(db, clock, LONDON, InviteService(db, SECRET, clock))


async def queued_to(db: Database) -> list[int]:
    async with db.transaction() as session:
        rows = await session.scalars(
            select(OutboxMessage.chat_id)
            .where(OutboxMessage.kind == "ambassador")
            .order_by(OutboxMessage.id)
        )
        return [chat_id - 7000 for chat_id in rows]


async def test_ambassadors_follow_the_pass_betweenness_among_those_who_opted_in(
    db: Database,
) -> None:
    clock = ManualClock(START)
    ids = await populate(db)
    await ScoringPass(db, clock, LONDON).run(progress=lambda _: None)
    exact = nx.betweenness_centrality(GRAPH)
    by_betweenness = sorted(GRAPH.nodes(), key=lambda n: (-exact[n], ids[n]))
    # The best placed person said no: they are passed over, never replaced by a guess.
    async with db.transaction() as session:
        await session.execute(
            update(Citizen).where(Citizen.id == ids[by_betweenness[0]]).values(growth_opt_in=False)
        )
    growth = outreach(db, clock)
    run = await growth.invite_ambassadors(top=3, bot_username="BritizenTestBot")
    assert (run.chosen, run.queued, run.skipped_recent) == (3, 3, 0)
    chosen = await queued_to(db)
    # The path between the cliques carries all the shortest paths between them.
    assert set(chosen) <= {18, 19, 20, 21, 17, 22}
    assert set(chosen) == set(by_betweenness[1:4])

    again = await growth.invite_ambassadors(top=3, bot_username="BritizenTestBot")
    assert (again.chosen, again.queued, again.skipped_recent) == (3, 0, 3)
    assert len(await queued_to(db)) == 3

    # Roles and areas narrow the ranking; an area is its letters, so S1 is not in SO.
    async with db.transaction() as session:
        roles = {
            citizen_id: role
            for citizen_id, role in (
                await session.execute(select(Score.citizen_id, Score.network_role))
            ).all()
        }
    brokers = await growth.invite_ambassadors(
        top=100, bot_username="BritizenTestBot", role="broker"
    )
    assert brokers.chosen == sum(
        1 for n in GRAPH.nodes() if roles[ids[n]] == "broker" and n != by_betweenness[0]
    )
    clock.advance(days=31)
    async with db.transaction() as session:
        await session.execute(update(Citizen).values(growth_opt_in=True))
    in_s = await growth.invite_ambassadors(top=100, bot_username="X", areas=("S",))
    assert in_s.chosen == sum(1 for n in GRAPH.nodes() if DISTRICTS[n % 4] == "S1")
    async with db.transaction() as session:
        latest = (
            await session.scalars(
                select(Citizen.postcode_district)
                .join(OutboxMessage, OutboxMessage.citizen_id == Citizen.id)
                .where(OutboxMessage.created_at == clock())
            )
        ).all()
        assert set(latest) == {"S1"}
        assert await session.scalar(select(GrowthMessage.id).limit(1)) is not None


async def test_operator_input_is_checked() -> None:
    assert parse_areas("so, bh,SO") == ("BH", "SO")
    for bad in ("", "SO17", "S0", "ABC", ",,"):
        with pytest.raises(OutreachError):
            parse_areas(bad)
    assert check_campaign_text("  Nearly there!\nInvite a neighbour.  ").startswith("Nearly")
    for bad in ("", "   ", "bell\x07", "evil\u202etxt", "x" * 1001):
        with pytest.raises(OutreachError):
            check_campaign_text(bad)


def test_the_board_shares_places_on_ties_and_lists_only_who_chose_it() -> None:
    counts = {1: 3, 2: 3, 3: 1, 4: 5, 5: 0}
    names = {1: "Bea", 2: "al", 3: "Cy", 4: "Dee", 5: "Ed"}
    assert ranked_board(counts, names, {1, 2, 3, 5}) == [(1, "al", 3), (1, "Bea", 3), (3, "Cy", 1)]


def person(i: int, name: str) -> Citizen:
    return Citizen(
        telegram_id=8000 + i, chat_id=8000 + i, display_name=name, ni_hash=f"{i:064x}",
        ni_masked="AB •• •• •• C", date_of_birth=date(1990, 1, 1), registered_at=START,
    )  # fmt: skip


async def test_contest_counts_refuse_erased_inviters_and_own_hashes(db: Database) -> None:
    clock = ManualClock(START)
    contests = ContestService(db, clock, LONDON)
    contest = await contests.start("Spring", 7)
    with pytest.raises(OutreachError, match="still running"):
        await contests.start("Another", 7)
    async with db.transaction() as session:
        people = [person(i, name) for i, name in enumerate(("Ann", "Ben", "Cat", "Dev", "Eli"))]
        session.add_all(people)
        await session.flush()
        ann, ben, cat, dev, eli = people
        # Ben's NI number was erased once before: he rejoined, so his invites never count.
        session.add(Erasure(ni_hash=ben.ni_hash, erased_at=START - timedelta(days=1)))
        for who in (ann, ben):
            session.add(
                ContestEntry(contest_id=contest.id, citizen_id=who.id, listed=True, joined_at=START)
            )
        clock.advance(hours=1)
        session.add_all(
            [
                Referral(inviter_id=ann.id, invitee_id=cat.id, created_at=clock()),
                Referral(inviter_id=ben.id, invitee_id=dev.id, created_at=clock()),
                # Before the contest: not counted.
                Referral(inviter_id=ann.id, invitee_id=eli.id, created_at=START - timedelta(1)),
            ]
        )
    view = await contests.view(8000)
    assert view is not None and (view.my_count, view.board) == (1, [(1, "Ann", 1)])
    ben_view = await contests.view(8001)
    assert ben_view is not None and ben_view.my_count == 0
    # An invitee whose NI number was erased before (a rejoiner) stops counting for anyone.
    async with db.transaction() as session:
        session.add(Erasure(ni_hash=f"{2:064x}", erased_at=START))
    view = await contests.view(8000)
    assert view is not None and view.my_count == 0
    ended = await contests.end(contest.id)
    assert (ended.participants, ended.announced, ended.counted) == (2, 2, 0)
    assert await contests.view(8000) is None
