"""The bot's seats, shared by every instance: no rolling second over the rate, replies first.

The property test drives the pure parts (SeatRules, SeatLedger, SeatPool) through arbitrary
interleavings of two instances' leases, sends, answers and crashes, with network delays and
clock skew, and checks every rolling second of arrivals at Telegram. The database tests check
that `DatabaseSeats` keeps the seats as the ledger does, on SQLite and PostgreSQL; a clock of
their own makes the arithmetic virtual seconds. Two SendBudget objects on one database are two
instances.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifications.pacing import RollingWindow, SendSlot
from notifications.send_budget import (
    CLOCK_ALLOWANCE_SECONDS,
    HELD_SECONDS,
    LEASE_LIFETIME_SECONDS,
    LONGEST_SEND_SECONDS,
    POLL_SECONDS,
    PRIORITY_HOLD_SECONDS,
    BudgetRateLimiter,
    DatabaseSeats,
    SeatLedger,
    SeatPool,
    SeatRules,
    SendBudget,
    bot_id_from_token,
)
from storage.db import Database

BOT = 123456
RATE = 5.0  # five seats: small enough for the property test to fill them often
START = 1_800_000_000.0


# -- the property: arbitrary interleavings of two instances --------------------------------------


@dataclass
class Instance:
    skew: float  # its clock minus the true time
    pools: dict[bool, SeatPool] = field(
        default_factory=lambda: {True: SeatPool(), False: SeatPool()}
    )
    unwritten: list[tuple[int, float]] = field(default_factory=list)
    flying: list[tuple[int, float]] = field(default_factory=list)  # (seat, started at)

    def due(self, local: float) -> list[tuple[int, float]]:
        """As SendBudget._due_releases: its releases, and leased seats that expired unused."""
        due, self.unwritten = self.unwritten, []
        for pool in self.pools.values():
            due += [(seat, leased - PRIORITY_HOLD_SECONDS) for seat, leased in pool.expired(local)]
        return due


class World:
    """Two instances over one ledger; `arrivals` are when Telegram saw each message."""

    def __init__(self, rules: SeatRules, skew: float) -> None:
        self.rules = rules
        self.ledger = SeatLedger(rules)
        self.now = START
        self.instances = [Instance(0.0), Instance(skew)]
        self.arrivals: list[float] = []

    def local(self, index: int) -> float:
        return self.now + self.instances[index].skew

    def answer(self, index: int, flying: int, delay_share: float) -> None:
        instance = self.instances[index]
        seat, started = instance.flying.pop(flying)
        # Telegram saw it somewhere between its start and its answer, now.
        self.arrivals.append(started + delay_share * (self.now - started))
        instance.unwritten.append((seat, self.rules.released(self.local(index))))

    def wait(self, seconds: float) -> None:
        """Time passes; a message on its way `LONGEST_SEND_SECONDS` times out meanwhile."""
        end = self.now + seconds
        while True:
            timeouts = [
                (started + LONGEST_SEND_SECONDS, index, n)
                for index, instance in enumerate(self.instances)
                for n, (_, started) in enumerate(instance.flying)
                if started + LONGEST_SEND_SECONDS <= end
            ]
            if not timeouts:
                break
            self.now, index, n = min(timeouts)
            self.answer(index, n, 1.0)  # the worst case: it arrived just as it timed out
        self.now = end

    def act(self, action: tuple[Any, ...]) -> None:
        kind = action[0]
        if kind == "wait":
            self.wait(action[1])
            return
        index = action[1]
        instance, local = self.instances[index], self.local(index)
        if kind == "lease":
            _, _, reply, want = action
            self.ledger.report(instance.due(local))
            granted, _ = self.ledger.lease(local, want, reply=reply)
            instance.pools[reply].add(granted, local)
        elif kind == "start":
            taken = instance.pools[action[2]].take(local)
            if taken is not None:
                instance.flying.append((taken[0], self.now))
        elif kind == "unused":  # taken for a message that then wasn't sent
            taken = instance.pools[action[2]].take(local)
            if taken is not None:
                instance.unwritten.append((taken[0], self.rules.unused(taken[1])))
        elif kind == "answer" and instance.flying:
            self.answer(index, action[2] % len(instance.flying), action[3])
        elif kind == "write":
            self.ledger.report(instance.due(local))
        elif kind == "crash":
            # Killed: nothing more is written; what it had on the way still arrives, as late
            # as its timeout.
            for _, started in instance.flying:
                self.arrivals.append(started + action[2] * LONGEST_SEND_SECONDS)
            self.instances[index] = Instance(instance.skew)

    def busiest_second(self) -> int:
        """The most arrivals in any rolling window (the stand-in's count)."""
        arrivals = sorted(self.arrivals)
        window = self.rules.window
        busiest, start = 0, 0
        for end, t in enumerate(arrivals):
            while arrivals[start] <= t - window:
                start += 1
            busiest = max(busiest, end - start + 1)
        return busiest


instance = st.integers(0, 1)
actions = st.lists(
    st.one_of(
        st.tuples(st.just("wait"), st.floats(0, 0.4)),
        st.tuples(st.just("lease"), instance, st.booleans(), st.integers(1, 4)),
        st.tuples(st.just("start"), instance, st.booleans()),
        st.tuples(st.just("start"), instance, st.booleans()),
        st.tuples(st.just("unused"), instance, st.booleans()),
        st.tuples(st.just("answer"), instance, st.integers(0, 50), st.floats(0, 1)),
        st.tuples(st.just("write"), instance),
        st.tuples(st.just("crash"), instance, st.floats(0, 1)),
    ),
    max_size=250,
)


@settings(max_examples=400, deadline=None)
@given(actions, st.floats(-CLOCK_ALLOWANCE_SECONDS, CLOCK_ALLOWANCE_SECONDS))
def test_no_interleaving_of_two_instances_puts_more_than_the_rate_in_a_second(
    script: list[tuple[Any, ...]], skew: float
) -> None:
    world = World(SeatRules(RATE), skew)
    for action in script:
        world.act(action)
    assert world.busiest_second() <= RATE


class WithoutTheWindow(SeatRules):
    """A broken rule: a seat free the moment its message is answered."""

    def released(self, answered_at: float) -> float:
        return answered_at


@pytest.mark.parametrize("rules, busiest", [(SeatRules(RATE), 5), (WithoutTheWindow(RATE), 10)])
def test_the_simulation_sees_a_rule_that_lets_a_second_overflow(
    rules: SeatRules, busiest: int
) -> None:
    # Two instances send five each, quickly, one after the other: only the real rule makes the
    # second five wait a second.
    world = World(rules, 0.0)
    for index in (0, 1):
        for _ in range(5):
            world.act(("lease", index, True, 1))
            world.act(("start", index, True))
            world.act(("wait", 0.01))
            world.act(("answer", index, 0, 1.0))
            world.act(("write", index))
    assert world.busiest_second() == busiest


def test_a_leased_seat_not_started_in_time_goes_back() -> None:
    pool = SeatPool()
    pool.add([3, 4], START)
    assert pool.take(START + LEASE_LIFETIME_SECONDS / 2) == (4, START)
    assert pool.take(START + LEASE_LIFETIME_SECONDS * 1.1) is None  # too late to start on it
    assert pool.expired(START + LEASE_LIFETIME_SECONDS * 1.1) == [(3, START)]
    assert len(pool) == 0


# -- the seats in the database ---------------------------------------------------------------------


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def seats(db: Database, rate: float = RATE, bot: int = BOT) -> DatabaseSeats:
    return DatabaseSeats(db, bot, SeatRules(rate))


async def test_two_instances_share_the_seats(db: Database) -> None:
    first, second = seats(db), seats(db)
    granted, _ = await first.lease(START, 100, reply=True, releases=[])
    assert sorted(granted) == [0, 1, 2, 3, 4]  # the whole second's worth
    granted, earliest = await second.lease(START, 100, reply=True, releases=[])
    assert granted == [] and earliest == START + HELD_SECONDS  # held, release not yet known
    assert first.rules.wait(earliest, START, reply=True) == POLL_SECONDS


async def test_a_seat_is_free_a_second_after_its_answer_and_not_before(db: Database) -> None:
    first, second = seats(db), seats(db)
    granted, _ = await first.lease(START, 100, reply=True, releases=[])
    answered = START + 0.3
    released = [(seat, first.rules.released(answered)) for seat in granted[:2]]
    await first.report(released)
    free_at = answered + 1.0 + CLOCK_ALLOWANCE_SECONDS
    granted, earliest = await second.lease(free_at - 0.001, 100, reply=True, releases=[])
    assert granted == [] and earliest == pytest.approx(free_at)
    assert second.rules.wait(earliest, free_at - 0.01, reply=True) == pytest.approx(0.011)
    granted, _ = await second.lease(free_at, 100, reply=True, releases=[])
    assert sorted(granted) == sorted(seat for seat, _ in released)


async def test_the_outbox_takes_a_freed_seat_only_after_replies_had_their_chance(
    db: Database,
) -> None:
    leader, other = seats(db), seats(db)
    granted, _ = await leader.lease(START, 100, reply=False, releases=[])
    assert len(granted) == 5
    free_at = leader.rules.released(START + 0.1)
    await leader.report([(seat, free_at) for seat in granted])
    assert (await leader.lease(free_at, 100, reply=False, releases=[]))[0] == []
    # A person's answer, on any instance, gets a seat the moment one frees...
    assert len((await other.lease(free_at, 2, reply=True, releases=[]))[0]) == 2
    # ... and the outbox the rest, a little later.
    later = free_at + PRIORITY_HOLD_SECONDS
    assert len((await leader.lease(later, 100, reply=False, releases=[]))[0]) == 3


async def test_an_unused_seat_is_free_at_once_and_adds_nothing(db: Database) -> None:
    first, second = seats(db), seats(db)
    granted, _ = await first.lease(START, 1, reply=False, releases=[])
    rules = first.rules
    # Handed back with the next lease, which may take it again straight away.
    again, _ = await first.lease(
        START + 0.01, 5, reply=False, releases=[(granted[0], rules.unused(START))]
    )
    assert len(again) == 5
    assert (await second.lease(START + 0.01, 5, reply=True, releases=[]))[0] == []


async def test_concurrent_leases_never_grant_a_seat_twice(db: Database) -> None:
    # Ten instances lease at the same moment: together they get each seat once at most.
    stores = [seats(db, rate=20) for _ in range(10)]
    await stores[0].lease(START, 0, reply=True, releases=[])  # the rows exist before the race
    results = await asyncio.gather(
        *(store.lease(START, 5, reply=True, releases=[]) for store in stores)
    )
    granted = [seat for seats_, _ in results for seat in seats_]
    assert len(granted) == len(set(granted)) == 20


async def test_a_killed_instances_seats_come_back_once_its_messages_are_surely_in(
    db: Database,
) -> None:
    killed, survivor = seats(db), seats(db)
    assert len((await killed.lease(START, 100, reply=True, releases=[]))[0]) == 5
    assert (await survivor.lease(START + HELD_SECONDS - 0.01, 1, reply=True, releases=[]))[0] == []
    assert len((await survivor.lease(START + HELD_SECONDS, 9, reply=True, releases=[]))[0]) == 5


async def test_another_bot_has_seats_of_its_own(db: Database) -> None:
    assert len((await seats(db).lease(START, 100, reply=True, releases=[]))[0]) == 5
    assert len((await seats(db, bot=BOT + 1).lease(START, 100, reply=True, releases=[]))[0]) == 5


async def test_a_lower_rate_uses_fewer_of_the_seats(db: Database) -> None:
    assert len((await seats(db, rate=30).lease(START, 100, reply=True, releases=[]))[0]) == 30
    await seats(db, rate=30).report([(seat, 0.0) for seat in range(30)])
    assert len((await seats(db, rate=2).lease(START, 100, reply=True, releases=[]))[0]) == 2


async def still_waiting(task: asyncio.Task[Any], budget: SendBudget) -> bool:
    """Whether `task` is still without a seat after its budget asked the seats twice more
    (a lease that found none free, and the next one)."""
    asked = budget.leases
    for _ in range(1000):
        if task.done() or budget.leases >= asked + 2:
            break
        await asyncio.sleep(0.01)
    return not task.done()


async def test_a_message_past_the_rate_waits_for_a_seat_from_either_instance(
    db: Database,
) -> None:
    clock = Clock()
    first, second = (SendBudget(db, BOT, RATE, clock=clock) for _ in range(2))
    taken = [await budget.acquire(reply=True) for budget in (first, second, first, second, first)]
    assert len({seat.seat for seat in taken}) == 5
    sixth = asyncio.create_task(second.acquire(reply=True))
    try:
        assert await still_waiting(sixth, second), "a sixth message in the same second"
        for seat in taken:
            seat.answered()  # answered at START: the seats free at START + 1
        clock.now += 0.5
        assert await still_waiting(sixth, second), "half a second later, still the same second"
        await first.close()  # writes the answers
        await second.close()
        clock.now += 0.5 + CLOCK_ALLOWANCE_SECONDS
        seat = await asyncio.wait_for(sixth, timeout=10)
        assert seat.seat in {s.seat for s in taken}
        seat.unused()
    finally:
        sixth.cancel()
        await first.close()
        await second.close()


# -- replies --------------------------------------------------------------------------------------


class RecordingBudget:
    def __init__(self) -> None:
        self.taken: list[bool] = []
        self.window = RollingWindow(1000)

    async def acquire(self, *, reply: bool) -> SendSlot:
        self.taken.append(reply)
        return await self.window.acquire()


async def test_replies_spend_from_the_budget_and_other_calls_do_not() -> None:
    budget = RecordingBudget()
    limiter = BudgetRateLimiter(budget)  # type: ignore[arg-type]
    calls: list[str] = []

    async def call(name: str) -> dict[str, Any]:
        calls.append(name)
        return {"ok": True}

    for endpoint in ("sendMessage", "sendPhoto", "editMessageText", "answerCallbackQuery"):
        await limiter.process_request(call, (endpoint,), {}, endpoint, {}, None)
    await limiter.process_request(call, ("getMe",), {}, "getMe", {}, None)
    assert calls == ["sendMessage", "sendPhoto", "editMessageText", "answerCallbackQuery", "getMe"]
    assert budget.taken == [True, True, True]  # three messages, each a reply


def test_the_seats_are_keyed_by_the_tokens_public_bot_id() -> None:
    assert bot_id_from_token("123456:ABC-secret") == 123456
    assert bot_id_from_token("not-a-token") == 0
