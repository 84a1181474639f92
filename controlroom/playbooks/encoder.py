"""The encoder actions of playbook steps, carried out against the room's OBS (the I/O edge
of a run: the run itself, runner.py, only says which steps are due).

An action runs after the tick or start that made it due has been committed, in the
background: the answer to the click does not wait for OBS, and a slow or unreachable
OBS never holds up the playbook. What OBS did — or why it did not — goes into the run's
timeline and is pushed to the room's screens like any change of the run.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import orjson
import structlog
from sqlalchemy.orm import Session

from controlroom.bus import keys
from controlroom.connectors import obs
from controlroom.db.session import run_in_transaction
from controlroom.playbooks import service
from controlroom.playbooks.schemas import PlaybookDefinition
from controlroom.playbooks.models import PlaybookRunRow
from controlroom.rooms.service import room_by_slug
from controlroom.services import Services

log = structlog.get_logger(__name__)

# Longest an encoder action may take before it counts as failed.
ACTION_TIMEOUT_S = 15
_running: set[asyncio.Task[None]] = set()


async def room_encoder(services: Services, room: str) -> tuple[str, str] | None:
    """(address, password) of the OBS bound to the room, if one is."""
    for external, raw in (await services.redis.hgetall(keys.bindings(obs.KIND))).items():
        binding = orjson.loads(raw)
        if binding["room"] == room:
            return external.decode(), binding["secret"]
    return None


def perform_due(services: Services, room: str, run_id: int, steps: list[int], *, by: str) -> None:
    """Start the due steps' encoder actions in the background (in step order)."""
    if not steps:
        return
    task = asyncio.create_task(_perform(services, room, run_id, steps, by=by), name=f"encoder-{room}-{run_id}")
    _running.add(task)
    task.add_done_callback(_running.discard)


async def _perform(services: Services, room: str, run_id: int, steps: list[int], *, by: str) -> None:
    def definition_of(session: Session) -> PlaybookDefinition:
        return PlaybookDefinition.model_validate(session.get(PlaybookRunRow, run_id).definition)

    definition = await run_in_transaction(services.sessions, definition_of)
    encoder = await room_encoder(services, room)
    if encoder is None:
        # A shipped playbook in a room that streams without OBS (or with OBS not bound):
        # the steps are done by hand, as their instructions say; nothing to record.
        log.info("playbook.encoder_unbound", room=room, run=run_id, steps=[index + 1 for index in steps])
        return
    for index in steps:
        action = definition.steps[index].encoder.action()
        try:
            text = await asyncio.wait_for(obs.perform(*encoder, action), timeout=ACTION_TIMEOUT_S)
            failed = False
        except asyncio.TimeoutError:
            text, failed = f"could not {obs.describe_action(action)}: OBS did not answer within {ACTION_TIMEOUT_S} s", True
        except (obs.EncoderActionFailed, ValueError) as exc:
            text, failed = str(exc), True
        log.info("playbook.encoder", room=room, run=run_id, step=index + 1, failed=failed, text=text)
        now = datetime.fromtimestamp(services.clock.now_ms() / 1000, tz=timezone.utc)

        def record(session: Session, index: int = index, text: str = text, failed: bool = failed) -> None:
            room_row = room_by_slug(session, room)
            service.record_encoder(session, room=room_row, run_id=run_id, step=index, text=text, failed=failed,
                                   by=by, now=now)

        await run_in_transaction(services.sessions, record)
        await services.projections.publish(room, service.PLAYBOOKS.name)
