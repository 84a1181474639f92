"""What an alert's move tells the team's chats.

A notice is a plain dict: room, alert id, event (fired | escalated | resolved |
playbook_started | step_late), level, rule, names, the value that tripped it and the
suggested playbook, and when (ms). The alert engine writes notices to a Redis stream
(`keys.NOTICES`, controlroom/bus/notices.py) after the round that made them is recorded; the dispatcher
(controlroom/notify/dispatcher.py) delivers them, so delivery never holds up a round.
"""

from __future__ import annotations

from typing import Any, Iterable

from controlroom.alerts.lifecycle import ESCALATED, FIRING, MUTED, RESOLVED, Change

NOTICE_FIELDS = ("room", "alert_id", "event", "level", "rule", "name", "name_en", "value", "playbook", "advice", "at")


def alert_notices(*, room: str, alert_id: int, facts: dict[str, Any], changes: Iterable[Change], value: float | None,
                  now_ms: int) -> list[dict[str, Any]]:
    """The notices of one alert's changes in a round: firing (unless muted in the same
    round), escalation, and the resolution of an alert that had fired."""
    changes = list(changes)
    muted = any(change.event == MUTED for change in changes)
    events = []
    for change in changes:
        if change.event == FIRING and not muted:
            events.append("fired")
        elif change.event == ESCALATED:
            events.append("escalated")
        elif change.event == RESOLVED and change.from_state != "pending":
            events.append("resolved")
    return [
        {"room": room, "alert_id": alert_id, "event": event, "level": facts["level"], "rule": facts["rule_key"],
         "name": facts["name"], "name_en": facts.get("name_en") or "", "value": value, "playbook": facts.get("playbook"),
         "advice": facts.get("advice") or "", "at": now_ms}
        for event in events
    ]
