"""Which channels want a notice (controlroom/alerts/notices.py makes them). Pure."""

from __future__ import annotations

from typing import Any


def wants(channel: dict[str, Any], notice: dict[str, Any]) -> bool:
    """Does this channel (its room, levels and events) take this notice?"""
    return (channel["enabled"] and channel["room"] == notice["room"] and notice["event"] in channel["events"]
            and (notice.get("level") in channel["levels"] or notice["event"] in ("playbook_started", "step_late")))
