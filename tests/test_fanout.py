"""The in-process fan-out: channels, ordering, closing, overflow."""

from __future__ import annotations

import asyncio

import pytest

from parley.fanout import InProcessFanout, Overflow


async def test_subscribers_get_their_channel_in_order():
    hub = InProcessFanout()
    one, two, other = hub.subscribe("a"), hub.subscribe("a"), hub.subscribe("b")
    for n in range(3):
        await hub.publish("a", {"n": n})
    await hub.publish("b", {"n": "b"})
    assert [(await one.__anext__())["n"] for _ in range(3)] == [0, 1, 2]
    assert [(await two.__anext__())["n"] for _ in range(3)] == [0, 1, 2]
    assert (await other.__anext__())["n"] == "b"
    await hub.close()


async def test_subscription_is_live_before_the_first_await():
    hub = InProcessFanout()
    subscription = hub.subscribe("a")  # no await in between: nothing published after this is missed
    await hub.publish("a", {"x": 1})
    assert await asyncio.wait_for(subscription.__anext__(), 1) == {"x": 1}


async def test_close_ends_iteration_and_unsubscribes():
    hub = InProcessFanout()
    subscription = hub.subscribe("a")
    received = []

    async def consume():
        async for payload in subscription:
            received.append(payload)

    task = asyncio.create_task(consume())
    await hub.publish("a", {"x": 1})
    await asyncio.sleep(0)  # one turn of the loop, no time: the consumer takes the payload
    await subscription.close()
    await asyncio.wait_for(task, 1)
    assert received == [{"x": 1}]
    assert hub.subscriber_count("a") == 0
    await hub.publish("a", {"x": 2})  # nobody listening: no error


async def test_a_slow_subscriber_overflows_instead_of_blocking_the_publisher():
    hub = InProcessFanout(queue_size=3)
    slow = hub.subscribe("a")
    for n in range(10):
        await asyncio.wait_for(hub.publish("a", {"n": n}), 1)
    with pytest.raises(Overflow):
        await slow.__anext__()
    assert hub.subscriber_count("a") == 0
