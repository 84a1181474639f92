"""Prometheus metrics and structured logging."""

from __future__ import annotations

import logging
import sys

import structlog
from prometheus_client import Counter, Gauge

EVENTS_INGESTED = Counter("controlroom_events_ingested_total", "Events accepted into a room stream", ["room"])
EVENTS_REJECTED = Counter("controlroom_events_rejected_total", "Events refused as invalid", ["room"])
EVENTS_DUPLICATE = Counter("controlroom_events_duplicate_total", "Events dropped as repeats of an id", ["room"])
EVENTS_APPLIED = Counter("controlroom_events_applied_total", "Events applied to room state by a worker", ["room"])
STREAM_LAG_SECONDS = Gauge(
    "controlroom_stream_lag_seconds", "Age of the newest applied stream entry when it was applied", ["room"]
)
WEBSOCKET_CLIENTS = Gauge("controlroom_websocket_clients", "Connected websocket clients", ["room"])
FANOUT_DROPS = Counter(
    "controlroom_fanout_drops_total", "Frames dropped for a slow client (resynced with a snapshot)", ["room"]
)


def configure_logging(*, json: bool, level: str) -> None:
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=level.upper(), force=True)
    # One line per HTTP request from our own clients (simulator, replay) is noise.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
