"""The OBS connector's pure side: GetStreamStatus readings → canonical stream events,
the byte and frame deltas, when a stop counts as ended, and encoder actions checked
before anything is sent to OBS. (The real OBS is in tests/integration/test_obs_encoder.py.)"""

from __future__ import annotations

import pytest

from controlroom.connectors import obs
from controlroom.connectors.obs import (
    ENDED,
    INTERRUPTED,
    LIVE,
    RECONNECTING,
    STARTED,
    STARTING,
    STOPPED,
    STOPPING,
    Address,
    EncoderUnavailable,
    Reading,
    StreamWatch,
    bitrate_kbps,
    describe_action,
    dropped_share,
    lost_encoder_due,
    parse_action,
    parse_address,
    reading_from_status,
    stream_event,
    stream_status,
)
from controlroom.events import event_adapter

T0 = 1_763_700_000_000


def status(*, active=True, reconnecting=False, skipped=0, total=0, congestion=0.0, sent=0, duration=0) -> dict:
    """GetStreamStatus's responseData, as obs-websocket 5.1 sends it."""
    return {
        "outputActive": active, "outputReconnecting": reconnecting, "outputSkippedFrames": skipped,
        "outputTotalFrames": total, "outputCongestion": congestion, "outputBytes": sent,
        "outputDuration": duration, "outputTimecode": "00:00:00.000",
    }


def reading(at_s: float = 0, **fields) -> Reading:
    return reading_from_status(status(**fields), T0 + int(at_s * 1000))


# --- readings and deltas ----------------------------------------------------------------

def test_a_reading_takes_the_counters_obs_sends():
    r = reading_from_status(status(skipped=3, total=82, congestion=0.25, sent=209_170, duration=5466), T0)
    assert r == Reading(at_ms=T0, active=True, reconnecting=False, skipped_frames=3, total_frames=82,
                        congestion=0.25, bytes=209_170, duration_ms=5466)


def test_missing_counters_read_as_zero_but_a_missing_active_flag_is_not_a_status():
    r = reading_from_status({"outputActive": False}, T0)
    assert (r.active, r.reconnecting, r.bytes, r.total_frames, r.congestion) == (False, False, 0, 0, 0.0)
    with pytest.raises(EncoderUnavailable, match="outputActive"):
        reading_from_status({"outputBytes": 5}, T0)
    with pytest.raises(EncoderUnavailable):
        reading_from_status(None, T0)


def test_bitrate_is_the_byte_delta_over_obs_output_clock():
    # Figures from OBS 29 streaming 300 kbit/s CBR: 38,800 bytes in 1,000 ms of output.
    before = reading(0, sent=51_295, duration=1399)
    after = reading(1.05, sent=90_122, duration=2399)
    assert bitrate_kbps(before, after) == 311  # 38,827 B · 8 / 1,000 ms


def test_bitrate_falls_back_to_our_clock_when_obs_clock_stands_still():
    # Reconnecting: OBS's duration freezes and nothing goes out.
    before = reading(0, reconnecting=True, sent=209_170, duration=5466)
    after = reading(1, reconnecting=True, sent=209_170, duration=5466)
    assert bitrate_kbps(before, after) == 0


def test_no_bitrate_without_an_earlier_reading_a_reset_counter_or_an_output():
    assert bitrate_kbps(None, reading(sent=100, duration=10)) is None
    # A reconnect attempt starts the byte counter afresh.
    assert bitrate_kbps(reading(0, sent=209_170, duration=5466), reading(1, sent=0, duration=5466)) is None
    assert bitrate_kbps(reading(0, sent=10, duration=10), reading(1, active=False, sent=20, duration=20)) is None
    # The first reading of a stream: the one before was of an idle output (OBS 29 reads
    # 0 bytes at 0 ms just after STARTED), no rate rather than a false 0 kbit/s.
    assert bitrate_kbps(reading(0, active=False), reading(0.3, sent=0, duration=0)) is None
    # Two readings at the same instant say nothing about a rate.
    assert bitrate_kbps(reading(0, sent=10, duration=10), reading(0, sent=20, duration=10)) is None


def test_bitrate_is_capped_at_the_contract_maximum():
    assert bitrate_kbps(reading(0, sent=0, duration=1), reading(1, sent=10**13, duration=2)) == obs.MAX_BITRATE_KBPS


def test_dropped_share_is_skipped_over_total_frames_of_the_interval():
    before = reading(0, skipped=10, total=1000)
    after = reading(1, skipped=13, total=1030)
    assert dropped_share(before, after) == 0.1


def test_dropped_share_is_unknown_without_frames_and_never_above_one():
    assert dropped_share(None, reading(skipped=1, total=10)) is None
    assert dropped_share(reading(0, total=82), reading(1, total=82)) is None  # nothing went out
    assert dropped_share(reading(0, total=82), reading(1, total=0)) is None  # counters reset
    assert dropped_share(reading(0, active=False, total=0), reading(1, total=15)) is None
    assert dropped_share(reading(0, skipped=0, total=10), reading(1, skipped=50, total=20)) == 1.0


# --- statuses ----------------------------------------------------------------------------

def test_status_from_a_reading():
    assert stream_status(reading(), known=None, stop_announced=False) == LIVE
    # OBS keeps outputActive true while it reconnects.
    assert stream_status(reading(reconnecting=True), known=LIVE, stop_announced=False) == INTERRUPTED
    assert stream_status(reading(active=False, reconnecting=True), known=None, stop_announced=False) == INTERRUPTED


def test_a_stop_after_live_is_interrupted_unless_obs_announced_it():
    off = reading(active=False)
    assert stream_status(off, known=LIVE, stop_announced=False) == INTERRUPTED
    assert stream_status(off, known=INTERRUPTED, stop_announced=False) == INTERRUPTED
    assert stream_status(off, known=LIVE, stop_announced=True) == ENDED
    assert stream_status(off, known=ENDED, stop_announced=False) == ENDED


def test_an_encoder_that_never_streamed_has_no_status_to_tell():
    assert stream_status(reading(active=False), known=None, stop_announced=False) is None


# --- the watch: what to emit and when ---------------------------------------------------

def test_every_live_reading_is_emitted_with_its_figures():
    watch = StreamWatch()
    assert watch.on_reading(reading(0, active=False)) is None
    assert watch.on_reading(reading(0.3, sent=0, duration=0, total=0)) == (LIVE, {"congestion": 0.0})
    emitted = watch.on_reading(reading(1, sent=40_000, duration=1000, total=15, skipped=0, congestion=0.5))
    assert emitted == (LIVE, {"bitrate_kbps": 320, "dropped_share": 0.0, "congestion": 0.5})
    assert watch.on_reading(reading(2, sent=80_000, duration=2000, total=30))[0] == LIVE


def test_idle_before_the_show_emits_nothing():
    watch = StreamWatch()
    for second in range(20):
        assert watch.on_reading(reading(second, active=False)) is None
    assert watch.status is None


def test_a_deliberate_stop_ends_the_stream():
    watch = StreamWatch()
    watch.on_state_change(STARTING)
    watch.on_state_change(STARTED)
    assert watch.on_reading(reading(0, sent=0, duration=0))[0] == LIVE
    watch.on_state_change(STOPPING)
    assert watch.on_reading(reading(1, sent=40_000, duration=1000), urgent=True)[0] == LIVE
    watch.on_state_change(STOPPED)
    assert watch.on_reading(reading(2, active=False), urgent=True) == (ENDED, {})


def test_a_dropped_connection_interrupts_then_gives_up_still_interrupted():
    """As OBS 29 does it when the RTMP server goes away: RECONNECTING within a few ms,
    retries, then STOPPED without STOPPING."""
    watch = StreamWatch()
    watch.on_state_change(STARTED)
    watch.on_reading(reading(0, sent=100_000, duration=4399))
    watch.on_state_change(RECONNECTING)
    status_, figures = watch.on_reading(reading(0.01, reconnecting=True, sent=209_170, duration=5466), urgent=True)
    assert status_ == INTERRUPTED
    watch.on_state_change(STOPPED)
    assert watch.on_reading(reading(5, active=False), urgent=True) == (INTERRUPTED, {})


def test_not_live_statuses_are_emitted_on_change_and_refreshed_every_five_seconds():
    watch = StreamWatch(status=INTERRUPTED)
    off = [watch.on_reading(reading(second, active=False)) for second in range(11)]
    emitted_at = [second for second, item in enumerate(off) if item is not None]
    assert emitted_at == [0, 5, 10]
    assert {item[0] for item in off if item} == {INTERRUPTED}


def test_a_restart_after_a_stop_clears_the_announced_stop():
    watch = StreamWatch(status=ENDED, stop_announced=True)
    watch.on_state_change(STARTING)
    assert not watch.stop_announced
    watch.on_reading(reading(0))
    assert watch.on_reading(reading(1, active=False), urgent=True)[0] == INTERRUPTED


def test_obs_lost_while_live_counts_as_interrupted_after_the_grace_period():
    grace = int(obs.LOST_GRACE_S * 1000)
    assert not lost_encoder_due(known=LIVE, lost_since_ms=T0, now_ms=T0 + grace - 1)
    assert lost_encoder_due(known=LIVE, lost_since_ms=T0, now_ms=T0 + grace)
    assert not lost_encoder_due(known=ENDED, lost_since_ms=T0, now_ms=T0 + 10 * grace)
    assert not lost_encoder_due(known=LIVE, lost_since_ms=None, now_ms=T0 + 10 * grace)


# --- the canonical event -----------------------------------------------------------------

def test_the_event_is_a_valid_canonical_stream_event():
    event = stream_event(room="demo", event_id_ms=T0 + 1, ts=T0, status=LIVE,
                         figures={"bitrate_kbps": 2500, "dropped_share": 0.01, "congestion": 0.0})
    assert event["id"] == f"obs-demo-{T0 + 1}"
    assert (event["type"], event["ts"], event["source"], event["status"]) == ("stream", T0, "obs", LIVE)
    assert (event["bitrate_kbps"], event["dropped_share"], event["congestion"]) == (2500, 0.01, 0.0)
    event_adapter.validate_python(event)


def test_the_event_leaves_unknown_figures_out():
    event = stream_event(room="demo", event_id_ms=T0, ts=T0, status=INTERRUPTED, figures={"bitrate_kbps": None})
    assert "bitrate_kbps" not in event and event["status"] == INTERRUPTED


def test_event_ids_stay_unique_within_one_millisecond():
    memory = obs._Memory()
    assert [memory.next_id_ms(T0) for _ in range(3)] == [T0, T0 + 1, T0 + 2]
    assert memory.next_id_ms(T0 + 10) == T0 + 10


# --- the binding -------------------------------------------------------------------------

def test_the_binding_names_host_and_port():
    assert parse_address("127.0.0.1:4455") == Address("127.0.0.1", 4455)
    assert parse_address(" studio-pc.local:4460 ") == Address("studio-pc.local", 4460)
    assert parse_address("ws://10.0.0.5:4455/") == Address("10.0.0.5", 4455)
    assert parse_address("10.0.0.5") == Address("10.0.0.5", obs.DEFAULT_PORT)
    assert parse_address("[::1]:4455").url == "ws://[::1]:4455"
    assert str(parse_address("[::1]:4455")) == "[::1]:4455"


@pytest.mark.parametrize("text", ["", ":4455", "host:port", "host:0", "host:70000", "::1:4455", "[::1"])
def test_a_binding_that_is_not_host_port_is_refused(text):
    with pytest.raises(ValueError, match="external_id"):
        parse_address(text)


# --- encoder actions ---------------------------------------------------------------------

def test_actions_are_checked_and_described():
    assert parse_action({"op": "switch_scene", "scene": "备用画面"}) == {"op": "switch_scene", "scene": "备用画面"}
    assert parse_action({"op": "start_stream"}) == {"op": "start_stream"}
    assert parse_action({"op": "stop_output", "output": "backup_rtmp"}) == {"op": "stop_output", "output": "backup_rtmp"}
    assert describe_action({"op": "switch_scene", "scene": "备用画面"}) == "switch OBS to scene “备用画面”"
    assert describe_action({"op": "start_stream"}) == "start streaming in OBS"
    assert describe_action({"op": "stop_stream"}) == "stop streaming in OBS"
    assert describe_action({"op": "start_output", "output": "b"}) == "start OBS output “b”"
    assert describe_action({"op": "stop_output", "output": "b"}) == "stop OBS output “b”"


@pytest.mark.parametrize("data, field", [
    (["switch_scene"], "action"),
    ({}, "op"),
    ({"op": "reboot"}, "op"),
    ({"op": 3}, "op"),
    ({"op": "switch_scene"}, "scene"),
    ({"op": "switch_scene", "scene": "   "}, "scene"),
    ({"op": "switch_scene", "scene": "x" * 300}, "scene"),
    ({"op": "switch_scene", "scnee": "备用画面", "scene": "备用画面"}, "scnee"),
    ({"op": "start_output"}, "output"),
    ({"op": "stop_output", "output": 7}, "output"),
    ({"op": "start_stream", "scene": "备用画面"}, "scene"),
])
def test_a_bad_action_is_refused_naming_the_field(data, field):
    with pytest.raises(ValueError) as refused:
        parse_action(data)
    assert str(refused.value).startswith(f"{field}:")
