"""What the scenarios share: a room as a platform reports it, moving the show's clock to
a moment, and reading the alerts back from SQL the way a controller sees them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from controlroom.sim.pipeline import AlertRecord, Pipeline, SteadyRoom

# A scenario takes a few wall seconds; one that takes this long is stuck somewhere, and
# says where (the traceback of the cancelled await) instead of hanging the run.
SCENARIO_TIMEOUT_S = 90


@contextlib.asynccontextmanager
async def scenario(redis_url: str, database_url: str, **options: Any) -> AsyncIterator[Pipeline]:
    """`Pipeline.start(...)` with a wall-clock limit on the whole scenario."""
    async with asyncio.timeout(SCENARIO_TIMEOUT_S):
        async with Pipeline.start(redis_url, database_url, **options) as p:
            yield p


def room(p: Pipeline, **overrides: Any) -> SteadyRoom:
    """A steady live room fed from the show's start: 2,000 online, a platform total of
    viewers that grows as people come and go (so the average stay is a realistic
    couple of minutes, not the online count over a handful of commenters), ordinary
    chatter and likes, a stream report every 5 s."""
    settings: dict[str, Any] = {
        "online": 2000, "viewers_total": lambda s: 2000 + 20 * s, "comments_per_min": 30, "likes_per_min": 20,
    }
    settings.update(overrides)
    return p.add(SteadyRoom(p.started_ms, **settings))


async def run_until(p: Pipeline, show_s: float, *, step_s: float) -> None:
    """Advance the show to `show_s` seconds after its start in steps of `step_s`."""
    left = show_s - p.show_s()
    assert left >= 0, f"the show is already at {p.show_s():.0f} s, past {show_s} s"
    if left:
        await p.advance(left, step_s=step_s)
    assert abs(p.show_s() - show_s) < 1e-6, f"stepped to {p.show_s()} s instead of {show_s} s"


def story(p: Pipeline) -> str:
    """The alert timeline in show seconds, for assertion messages."""
    return "; ".join(f"{p.show_s(t.at):.0f}s {t.rule_key}/{t.level} {t.event}" for t in p.timeline) or "no alerts"


async def fired(p: Pipeline, key: str) -> AlertRecord | None:
    """The first alert of `key` that fired, as SQL records it."""
    raised = await p.raised(key)
    return raised[0] if raised else None


async def assert_fired(p: Pipeline, key: str, level: str, *, within: tuple[float, float], bound: str) -> float:
    """`key` fired at `level`, loud (not muted), first between `within` show seconds;
    returns when (show seconds). `bound` says where the bound comes from."""
    alert = await fired(p, key)
    assert alert is not None, f"{key} never fired ({bound}); timeline: {story(p)}"
    at = p.show_s(alert.fired_at)
    assert alert.level == level, f"{key} fired {alert.level}, not {level}"
    assert alert.muted_reason is None, f"{key} fired muted ({alert.muted_reason}): nobody would notice it"
    low, high = within
    print(f"{key}: fired at {at:.1f} s, bound [{low:.1f}, {high:.1f}] s")  # shown with -s or on failure
    assert low <= at <= high, f"{key} fired at {at:.1f} s, outside [{low:.1f}, {high:.1f}] s: {bound}; {story(p)}"
    return at


async def assert_quiet(p: Pipeline, *keys: str) -> None:
    """None of `keys` ever fired (a pending alert that cleared was never shown)."""
    loud = [(a.rule_key, round(p.show_s(a.fired_at))) for key in keys for a in await p.raised(key)]
    assert not loud, f"fired but should have stayed quiet: {loud}; timeline: {story(p)}"
