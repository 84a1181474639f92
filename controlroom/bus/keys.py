"""Every Redis key of a room carries the hash tag {room}, so Redis Cluster keeps a
room's keys on one shard and a Lua script may touch all of them at once. Keys that are
written together but belong to no room share a tag of their own ({lexicon}, {shared},
{bindings}, {login}), so each such group is one slot as well; every other global key is
read and written alone."""

from __future__ import annotations

import re

ROOM_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

# The keys that are not per room.
ROOMS = "cr:rooms"  # set of room slugs
WORKERS = "cr:workers"  # sorted set: worker name -> heartbeat expiry (ms)
CONSUMER_GROUP = "workers"
# The moderation lexicon, as workers build their matcher from it (SQL is the record).
LEXICON = "cr:{lexicon}"
LEXICON_VERSION = "cr:{lexicon}:version"
# Left by a full republish of every projection: gone means Redis lost its data.
PUBLISHED = "cr:{shared}:published"
# The ingest "key" of platform pushes, verified by signature (see bus/client.py).
PUSH_KEY = "platform-push"


def stream(room: str) -> str:
    return f"cr:{{{room}}}:events"


def dead_letters(room: str) -> str:
    return f"cr:{{{room}}}:dead"


def meta(room: str) -> str:
    return f"cr:{{{room}}}:meta"


def seen_ids(room: str, bucket: int) -> str:
    return f"cr:{{{room}}}:seen:{bucket}"


def checkpoint(room: str) -> str:
    return f"cr:{{{room}}}:checkpoint"


def order_statuses(room: str) -> str:
    return f"cr:{{{room}}}:orders"


def backlog(room: str) -> str:
    """Events accepted into the stream and not yet applied by a worker."""
    return f"cr:{{{room}}}:backlog"


def source_arrivals(room: str) -> str:
    """Hash: each feed source (the events' `source`) -> when ingest last heard from it (ms)."""
    return f"cr:{{{room}}}:sources"


# A room remembers this many sources at most: a sender cannot grow the hash without end.
MAX_SOURCES = 32


def api_keys(room: str) -> str:
    """Hash: sha256 of each valid ingest key -> 1 (SQL holds the keys' records)."""
    return f"cr:{{{room}}}:apikeys"


def api_keys_as_of(room: str) -> str:
    """When (ms) the SQL snapshot behind api_keys(room) was read."""
    return f"cr:{{{room}}}:apikeys:as-of"


def users(room: str, kind: str) -> str:
    """Set of distinct user ids of one kind (viewers, interacting, clickers, payers)."""
    return f"cr:{{{room}}}:users:{kind}"


def window_users_prefix(room: str) -> str:
    return f"cr:{{{room}}}:window:"


def window_users(room: str, kind: str, minute_ms: int) -> str:
    """HyperLogLog of one minute's distinct users of one kind (short-lived)."""
    return f"{window_users_prefix(room)}{kind}:{minute_ms}"


def minute_distinct(room: str) -> str:
    """Hash: complete minute (ms) -> JSON of its distinct-user counts, read from the
    short-lived HyperLogLogs before they expire (per-minute rates, the SQL archive)."""
    return f"cr:{{{room}}}:minute-distinct"



def recorded(room: str) -> str:
    """The stream id up to which the room's stream is recorded (or passed over, outside
    any show): the recorder resumes after it, and trimming never goes past it."""
    return f"cr:{{{room}}}:recorded"


def recorder_lock(room: str) -> str:
    """Held (SET NX PX) by the one process recording the room this round."""
    return f"cr:{{{room}}}:recorder-lock"


def recording_failure(room: str) -> str:
    """JSON {"since": ms, "error": "..."} while the room's recording keeps failing."""
    return f"cr:{{{room}}}:recording-failure"


def connector_health(room: str) -> str:
    """Hash: binding key ("<kind>:<external id>") -> JSON health of that connection, as
    the worker holding the room last reported it (the tech screen shows it)."""
    return f"cr:{{{room}}}:connectors"


def late_step_told(room: str, run_id: int, step: int) -> str:
    """Set (NX, with a TTL) once the chats were told that this playbook step is late."""
    return f"cr:{{{room}}}:late-step:{run_id}:{step}"


def projection(room: str, name: str) -> str:
    """JSON: a room's projection of SQL, as declared in controlroom/live/projections.py."""
    return f"cr:{{{room}}}:{name}"


def shared_projection(name: str) -> str:
    """JSON: a projection shared by every room (SQL is the record)."""
    return f"cr:{{shared}}:{name}"


def lease(room: str) -> str:
    return f"cr:{{{room}}}:lease"


def alert_outbox(room: str) -> str:
    """Stream: alert changes shown on the screens while SQL was away, in order, until
    they are recorded in SQL (controlroom/alerts/outbox.py)."""
    return f"cr:{{{room}}}:alert-outbox"


# Stream: what alerts and playbooks tell the team's chats (controlroom/alerts/notices.py),
# delivered by controlroom/notify/dispatcher.py through the consumer group NOTIFIERS.
NOTICES = "cr:notices"
NOTIFIERS = "notifiers"
NOTICES_MAXLEN = 100_000

# JSON {"down_since": ms, "error": "..."} while SQL is unreachable (expires by itself
# when nobody refreshes it); absent when SQL answers.
DATABASE_HEALTH = "cr:health:database"


def updates_channel(room: str) -> str:
    return f"cr:{{{room}}}:updates"


UPDATES_PATTERN = "cr:{*}:updates"
# Pub/sub: access just ended or changed (controlroom/auth/revocation.py); every web
# process closes the websockets it concerns.
REVOCATIONS = "cr:revocations"


def bindings(platform: str) -> str:
    """Hash: the platform's room or shop id -> JSON {room, secret} (SQL is the record)."""
    return f"cr:{{bindings}}:{platform}"


def unbound(platform: str) -> str:
    """Stream: pushes for platform rooms bound to none of ours, kept for tech staff."""
    return f"cr:unbound:{platform}"


def push_seen(room: str, platform: str, fingerprint: str) -> str:
    """String with a TTL: a signed platform push for the room already accepted, named
    by the sha256 (hex) of its replay fingerprint (signature, nonce, time stamp); set
    with SET NX EX so a byte-identical replay inside the push's time window is refused."""
    return f"cr:{{{room}}}:push-seen:{platform}:{fingerprint}"


def login_attempts(kind: str, who: str) -> str:
    """Counter with a TTL: recent failed sign-ins by user and address, address, or user
    (controlroom/auth/ratelimit.py counts all three in one script)."""
    return f"cr:{{login}}:attempts:{kind}:{who}"


def unbound_push_seen(platform: str, fingerprint: str) -> str:
    """As push_seen, for a push whose platform room is bound to none of ours (kept on
    /feeds/unbound): no room is known yet, so the key is platform-level."""
    return f"cr:push-seen:{platform}:{fingerprint}"


def room_from_channel(channel: str) -> str:
    return channel[len("cr:{") : channel.index("}")]
