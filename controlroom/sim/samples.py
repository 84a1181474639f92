"""The sample recording shipped with controlroom: a realistic two-hour show made with the
simulator (seeded, so it is the same file every time), for demos, rehearsals and tests.

    python -m controlroom.sim.samples   # rewrites controlroom/sim/samples/show-2h.jsonl.gz
"""

from __future__ import annotations

from pathlib import Path

from controlroom.reports.recording import write_recording
from controlroom.sim.generator import ShowSimulator

SAMPLE = Path(__file__).with_name("samples") / "show-2h.jsonl.gz"
SAMPLE_START_MS = 1_763_728_800_000  # 2025-11-21 20:40 Asia/Shanghai
SAMPLE_SECONDS = 2 * 3600
SAMPLE_RATE = 6.0  # events per second, on average


def sample_events() -> list[dict]:
    """The show as the room applied it: in time order, each event once (the simulator's
    repeated pushes are what deduplication removes)."""
    simulator = ShowSimulator(seed=2025, start_ms=SAMPLE_START_MS, rate=SAMPLE_RATE)
    seen: set[str] = set()
    events = []
    for second in range(1, SAMPLE_SECONDS + 1):
        for event in simulator.events_until(SAMPLE_START_MS + second * 1000):
            if event["id"] not in seen:
                seen.add(event["id"])
                events.append(event)
    return events


if __name__ == "__main__":
    SAMPLE.parent.mkdir(exist_ok=True)
    with SAMPLE.open("wb") as out:
        print(write_recording(sample_events(), out), "events written to", SAMPLE)
