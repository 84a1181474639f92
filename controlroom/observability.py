"""Prometheus metrics and structured logging."""

from __future__ import annotations

import logging
import sys

import structlog
from prometheus_client import Counter, Gauge, Histogram

EVENTS_INGESTED = Counter("controlroom_events_ingested_total", "Events accepted into a room stream", ["room"])
EVENTS_REJECTED = Counter("controlroom_events_rejected_total", "Events refused as invalid", ["room"])
EVENTS_DUPLICATE = Counter("controlroom_events_duplicate_total", "Events dropped as repeats of an id", ["room"])
EVENTS_APPLIED = Counter("controlroom_events_applied_total", "Events applied to room state by a worker", ["room"])
EVENTS_NOT_APPLIED = Counter(
    "controlroom_events_not_applied_total",
    "Events a worker could not apply (left out of their batch and dead-lettered with the error)", ["room"],
)
STREAM_LAG_SECONDS = Gauge(
    "controlroom_stream_lag_seconds",
    "How far the room's applied state is behind its stream (newest entry minus last applied), at scrape time",
    ["room"],
)
STREAM_BACKLOG = Gauge(
    "controlroom_stream_backlog_events", "Events accepted but not yet applied, at scrape time", ["room"]
)
ALERT_ROUND_SECONDS = Histogram(
    "controlroom_alert_round_seconds",
    "How long one alert round over all of this process's rooms took (how late a rule can fire)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
WEBSOCKET_CLIENTS = Gauge("controlroom_websocket_clients", "Connected websocket clients", ["room"])
FANOUT_DROPS = Counter(
    "controlroom_fanout_drops_total", "Frames dropped for a slow client (resynced with a snapshot)", ["room"]
)
PUSH_REPLAYS = Counter(
    "controlroom_push_replays_total",
    "Signed platform pushes refused as byte-identical replays of one already received (answered 2xx, nothing stored)",
    ["platform"],
)
PUSH_ITEMS_SKIPPED = Counter(
    "controlroom_push_items_skipped_total",
    "Platform push items not counted because the platform marked them as test messages (kept in the dead letters)",
    ["platform"],
)


def configure_logging(*, json: bool, level: str) -> None:
    """structlog for our own events; the standard library's records (uvicorn's access
    and error lines, alembic) go through the same renderer, so JSON mode is JSON
    throughout."""
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json
        # The default "rich" tracebacks take about a second each to render, on the event
        # loop: during an outage, every logged failure froze the process that long.
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # One line per HTTP request from our own clients (simulator, replay) is noise.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
