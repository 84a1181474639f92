"""Traffic sources (流量结构): entries that name their channel, the platform's own split,
the 10-minute change of each share, the rules' share metrics, the review per segment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from controlroom.events import event_adapter
from controlroom.metrics.state import RoomState
from controlroom.metrics.view import traffic_structure
from controlroom.rules.signals import MIN_TRAFFIC_ENTRIES, build_signals

T0 = 1_763_700_000_000 - 1_763_700_000_000 % 60_000
MINUTE = 60_000


def enters(minute: int, **per_channel: int) -> list[dict]:
    out = []
    for channel, count in per_channel.items():
        out += [{"type": "enter", "ts": T0 + minute * MINUTE + i, "user": {"id": f"{channel}{minute}-{i}"},
                 "channel": channel} for i in range(count)]
    return out


def test_the_contract_takes_a_known_channel_and_refuses_an_unknown_one():
    ok = event_adapter.validate_python({"type": "enter", "id": "e1", "ts": T0, "user": {"id": "u"}, "channel": "paid"})
    assert ok.channel == "paid"
    with pytest.raises(ValidationError, match="channel"):
        event_adapter.validate_python({"type": "enter", "id": "e2", "ts": T0, "user": {"id": "u"}, "channel": "tv"})
    split = event_adapter.validate_python({"type": "viewers", "id": "v", "ts": T0, "online": 10,
                                           "channels": {"recommend": 7, "search": 3}})
    assert split.channels == {"recommend": 7, "search": 3}


def test_shares_over_the_show_and_their_change_in_the_last_ten_minutes():
    state = RoomState()
    for minute in range(10):  # the ten minutes before: 80 % recommendation feed
        state.apply(enters(minute, recommend=8, paid=2), {})
    for minute in range(10, 20):  # the last ten: paid promotion switched on, 50/50
        state.apply(enters(minute, recommend=5, paid=5), {})
    traffic = traffic_structure(state, T0 + 20 * MINUTE + 5_000)
    rows = {row["channel"]: row for row in traffic["rows"]}
    assert traffic["total"] == 200
    assert rows["recommend"]["count"] == 130 and rows["recommend"]["share"] == pytest.approx(0.65)
    assert rows["recommend"]["change_pp"] == pytest.approx(-30.0)
    assert rows["paid"]["change_pp"] == pytest.approx(30.0)
    assert [row["channel"] for row in traffic["rows"]] == ["recommend", "paid"]  # largest first


def test_the_platform_split_is_shown_when_entries_name_no_channel():
    state = RoomState()
    state.apply([{"type": "viewers", "ts": T0, "online": 100, "channels": {"recommend": 60, "follow": 40}},
                 {"type": "viewers", "ts": T0 - 1000, "online": 90, "channels": {"recommend": 1}}], {})  # older: ignored
    traffic = traffic_structure(state, T0 + MINUTE)
    assert traffic["from_platform"] and traffic["total"] == 100
    assert {row["channel"]: row["share"] for row in traffic["rows"]} == {"recommend": 0.6, "follow": 0.4}


def test_the_state_keeps_its_traffic_across_a_checkpoint():
    state = RoomState()
    state.apply(enters(0, recommend=3, search=1), {})
    again = RoomState.from_json(state.to_json())
    assert again.traffic == {"recommend": 3, "search": 1}
    assert again.traffic_window(T0, T0 + MINUTE) == {"recommend": 3, "search": 1}


def test_a_channel_share_for_the_rules_needs_enough_entries():
    state = RoomState()
    state.apply(enters(0, recommend=MIN_TRAFFIC_ENTRIES // 2 - 1, paid=MIN_TRAFFIC_ENTRIES // 2), {})
    assert build_signals(state, now_ms=T0 + 30_000, live=True).values["traffic_share_recommend"] is None
    state.apply(enters(1, recommend=1), {})
    signals = build_signals(state, now_ms=T0 + MINUTE + 30_000, live=True)
    assert signals.values["traffic_share_recommend"] == pytest.approx(50.0)
    assert signals.values["traffic_share_paid"] == pytest.approx(50.0)
    assert signals.values["traffic_share_search"] == 0
