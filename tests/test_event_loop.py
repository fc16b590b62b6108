"""parley.event_loop: the server's processes run on uvloop (when installed) with the
collector tuned (GC_THRESHOLDS, start-up objects frozen); bench/LATEST.md says why."""

from __future__ import annotations

import asyncio
import gc

import pytest

from parley import event_loop


@pytest.fixture
def restored_collector():
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()


async def _what_runs() -> tuple[str, tuple[int, int, int], int]:
    return type(asyncio.get_running_loop()).__module__, gc.get_threshold(), gc.get_freeze_count()


def test_run_uses_uvloop_and_the_tuned_collector(restored_collector):
    pytest.importorskip("uvloop")
    loop_module, thresholds, frozen = event_loop.run(_what_runs())
    assert loop_module.startswith("uvloop")
    assert thresholds == event_loop.GC_THRESHOLDS
    assert frozen > 0  # what existed at start-up is out of the collector's way


def test_run_returns_the_coroutines_result_and_closes_its_loop(restored_collector):
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert event_loop.run(answer()) == 42
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()  # nothing left running
