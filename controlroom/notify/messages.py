"""The words of a chat message: one line per notice, in the team's language, each with
its room, rule, level, the value that tripped it, the suggested playbook and the signed
link that opens the alert to acknowledge it. Pure."""

from __future__ import annotations

from typing import Any, Callable

from controlroom.i18n import N_, translations

LEVELS = {"red": N_("red"), "yellow": N_("yellow"), "blue": N_("blue")}
EVENTS = {
    "fired": N_("fired"), "escalated": N_("escalated: nobody has acknowledged it"), "resolved": N_("resolved"),
    "playbook_started": N_("playbook started"), "step_late": N_("playbook step late"), "test": N_("test message"),
}
MARKS = {"red": "🔴", "yellow": "🟡", "blue": "🔵"}


def _value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value != 0 and abs(value) < 1:
        return f"{value:.1%}"
    return f"{value:,.0f}" if isinstance(value, (int, float)) and abs(value) >= 100 else f"{value:g}"


def render(notices: list[dict[str, Any]], *, channel: dict[str, Any], link: Callable[[dict[str, Any]], str],
           locale: str) -> tuple[str, str]:
    """(title, text) of one message carrying these notices."""
    _ = translations(locale).gettext
    english = locale == "en"
    room = channel.get("room_name") or channel.get("room") or ""
    lines = []
    for notice in notices:
        name = (notice.get("name_en") if english else None) or notice.get("name") or notice.get("rule") or ""
        parts = [f"{MARKS.get(notice.get('level'), '⚪')} [{_(LEVELS.get(notice.get('level'), notice.get('level') or ''))}]",
                 f"{room} · {name} · {_(EVENTS.get(notice['event'], notice['event']))}"]
        if notice.get("value") is not None:
            parts.append(_("value %(value)s") % {"value": _value(notice["value"])})
        if notice.get("playbook"):
            parts.append(_("suggested playbook: %(playbook)s") % {"playbook": notice["playbook"]})
        if notice.get("alert_id"):
            parts.append(_("acknowledge: %(link)s") % {"link": link(notice)})
        elif notice.get("alert_id", 0) is None:
            # Raised while the database was away: acknowledged on the room's screens.
            parts.append(_("open the room: %(link)s") % {"link": link(notice)})
        lines.append(" · ".join(parts))
    if len(notices) == 1:
        first = notices[0]
        title = f"{room} · {(first.get('name_en') if english else None) or first.get('name') or first.get('rule') or ''}"
    else:
        title = _("%(room)s · %(n)s alerts") % {"room": room, "n": len(notices)}
    return title, "\n".join(lines)
