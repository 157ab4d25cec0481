"""Issue 21, pacing that holds against a strict limiter: the stand-in refuses the 31st message
in any rolling second at 30/s, and the sender's RollingWindow never lets more than N arrive in
any rolling second, whatever the network's latency does. Fake clocks only."""

from __future__ import annotations

import asyncio
import heapq
import random
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifications.pacing import RollingWindow, SendSlot
from standin.common import _FloodLimit


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# -- the stand-in ---------------------------------------------------------------------------


def take_if_room(limit: _FloodLimit) -> bool:
    if not limit.has_room():
        return False
    limit.record()
    return True


def test_the_stand_in_refuses_the_31st_message_in_any_rolling_second() -> None:
    time = FakeTime()
    limit = _FloodLimit(30, clock=time)
    for n in range(30):  # 30 in the first 0.29 s
        time.now = n * 0.01
        assert take_if_room(limit)
    for moment in (0.3, 0.5, 0.99, 0.999):
        time.now = moment
        assert not take_if_room(limit), f"31st at {moment} s"
    assert limit.retry_after == 1
    time.now = 1.0  # the first left the window: one more, and only one
    assert take_if_room(limit)
    assert not take_if_room(limit)
    time.now = 1.01
    assert take_if_room(limit)


def test_a_bucket_would_have_let_a_second_burst_through_the_window_does_not() -> None:
    # 30 spread over the first second, then 30 at once just after: a bucket refilled in that
    # second would take them; Telegram's rolling second (and the stand-in's) refuses most.
    time = FakeTime()
    limit = _FloodLimit(30, clock=time)
    for n in range(30):
        time.now = n / 30
        assert take_if_room(limit)
    time.now = 1.0
    taken = sum(take_if_room(limit) for _ in range(30))
    assert taken == 1


def test_under_one_a_second_is_one_per_interval() -> None:
    time = FakeTime()
    limit = _FloodLimit(0.5, clock=time)
    assert take_if_room(limit)
    time.now = 1.9
    assert not take_if_room(limit) and limit.retry_after == 1
    time.now = 2.0
    assert take_if_room(limit)


# -- the sender ------------------------------------------------------------------------------


class Simulation:
    """A discrete-event clock: sleeps and answers happen in fake time, in order."""

    def __init__(self) -> None:
        self.time = FakeTime()
        self._events: list[tuple[float, int, Callable[[], None]]] = []
        self._count = 0

    def at(self, moment: float, action: Callable[[], None]) -> None:
        self._count += 1
        heapq.heappush(self._events, (moment, self._count, action))

    async def sleep(self, seconds: float) -> None:
        done = asyncio.get_running_loop().create_future()
        self.at(self.time.now + max(0.0, seconds), lambda: done.set_result(None))
        await done

    async def run(self, task: asyncio.Task[None]) -> None:
        while not task.done():
            for _ in range(10):  # let the sender run until it waits on something
                await asyncio.sleep(0)
            if task.done():
                break
            assert self._events, "the sender waits for something that never comes"
            self._next()
        task.result()
        while self._events:  # sends still on their way arrive and are answered
            self._next()

    def _next(self) -> None:
        moment, _, action = heapq.heappop(self._events)
        self.time.now = max(self.time.now, moment)
        action()


def check_against_the_stand_in(arrivals: list[float], rate: float) -> int:
    """Replays the arrival times into the stand-in's limiter: how many it would refuse."""
    time = FakeTime()
    limit = _FloodLimit(rate, clock=time)
    refused = 0
    for moment in sorted(arrivals):
        time.now = moment
        refused += not take_if_room(limit)
    return refused


def max_in_any_second(arrivals: list[float]) -> int:
    ordered = sorted(arrivals)
    most, start = 0, 0
    for end, moment in enumerate(ordered):
        while ordered[start] <= moment - 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


async def paced(
    rate: float, sends: int, latency: Callable[[], tuple[float, float]], stall_every: int = 0
) -> tuple[list[float], float]:
    """`sends` messages through a RollingWindow, each reaching "Telegram" `there` seconds
    after it starts and answered `back` seconds after that. Returns (arrivals, end time)."""
    sim = Simulation()
    window = RollingWindow(rate, clock=sim.time, sleep=sim.sleep)
    arrivals: list[float] = []

    def send(slot: SendSlot) -> None:
        there, back = latency()
        start = sim.time.now
        sim.at(start + there, lambda: arrivals.append(start + there))
        sim.at(start + there + back, slot.answered)

    async def sender() -> None:
        for n in range(sends):
            if stall_every and n % stall_every == stall_every - 1:
                await sim.sleep(0.7)  # a busy CPU: the evenly spaced schedule falls behind
            send(await window.acquire())

    await sim.run(asyncio.create_task(sender()))
    return arrivals, sim.time.now


async def test_paced_sends_never_exceed_the_rate_in_any_rolling_second() -> None:
    rng = random.Random(21)
    arrivals, _ = await paced(
        30, 1_500, lambda: (rng.uniform(0.0005, 0.05), rng.uniform(0.0005, 0.05)), stall_every=97
    )
    assert len(arrivals) == 1_500
    assert max_in_any_second(arrivals) <= 30
    assert check_against_the_stand_in(arrivals, 30) == 0


async def test_with_a_fast_network_the_window_costs_little_throughput() -> None:
    arrivals, _ = await paced(30, 3_000, lambda: (0.002, 0.002))
    assert check_against_the_stand_in(arrivals, 30) == 0
    rate = (len(arrivals) - 1) / (max(arrivals) - min(arrivals))
    assert rate >= 0.98 * 30  # fake time: 30 a (1 s + one 4 ms round trip)


async def test_a_send_left_unanswered_holds_the_one_a_window_later() -> None:
    sim = Simulation()
    window = RollingWindow(3, clock=sim.time, sleep=sim.sleep)
    slots = [await window.acquire() for _ in range(3)]
    fourth = asyncio.create_task(window.acquire())
    for _ in range(10):
        await asyncio.sleep(0)
    assert not fourth.done()  # the first is still in flight: it may yet arrive
    slots[0].answered()
    assert window.wait_before_next() == pytest.approx(1.0)
    sim.time.now = 1.0
    await sim.run(fourth)  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None)
@given(
    rate=st.sampled_from([1.0, 5.0, 30.0, 100.0]),
    seed=st.integers(0, 10_000),
    slow=st.floats(0.0001, 0.5),
)
def test_no_latency_pattern_gets_more_than_n_into_a_rolling_second(
    rate: float, seed: int, slow: float
) -> None:
    rng = random.Random(seed)
    arrivals, _ = asyncio.run(
        paced(rate, 300, lambda: (rng.uniform(0, slow), rng.uniform(0, slow)), stall_every=13)
    )
    assert max_in_any_second(arrivals) <= max(1, int(rate))
    assert check_against_the_stand_in(arrivals, rate) == 0
