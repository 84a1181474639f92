"""The permission matrix: written once, enforced on every route and websocket, shown
in the README (generated from this table by tests/unit/test_permissions.py)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    CONTROLLER = "controller"
    TECH = "tech"
    HOST = "host"
    ANALYST = "analyst"


class Permission(StrEnum):
    VIEW_DASHBOARD = "view_dashboard"  # control room page, live pushes, live numbers
    VIEW_STREAM_HEALTH = "view_stream_health"  # feed health, dead-letter stream
    DRIVE_SHOW = "drive_show"  # run-of-show actions
    MESSAGE_HOST = "message_host"  # messages to the host screen, host links
    ACK_ALERTS = "ack_alerts"
    MANAGE_ALERTS = "manage_alerts"  # resolve, silence
    START_PLAYBOOKS = "start_playbooks"
    RUN_PLAYBOOKS = "run_playbooks"  # tick steps, close runs
    VIEW_REVIEWS = "view_reviews"  # post-show reviews
    VIEW_HOST_SCREEN = "view_host_screen"  # the host's second screen, read-only
    ACK_HOST_MESSAGES = "ack_host_messages"
    EDIT_LEXICON = "edit_lexicon"  # moderation terms, allow-list, quick replies
    EXPORT_AUDIENCE = "export_audience"  # engaged viewers' platform ids, for the team's CRM
    ADMINISTER = "administer"  # users, rooms, API keys, rules, playbook definitions, audit log


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.CONTROLLER: frozenset({
        P.VIEW_DASHBOARD, P.VIEW_STREAM_HEALTH, P.DRIVE_SHOW, P.MESSAGE_HOST, P.ACK_ALERTS,
        P.MANAGE_ALERTS, P.START_PLAYBOOKS, P.VIEW_REVIEWS, P.VIEW_HOST_SCREEN, P.EDIT_LEXICON,
    }),
    Role.TECH: frozenset({
        P.VIEW_DASHBOARD, P.VIEW_STREAM_HEALTH, P.ACK_ALERTS, P.START_PLAYBOOKS, P.RUN_PLAYBOOKS,
    }),
    Role.HOST: frozenset({P.VIEW_HOST_SCREEN, P.ACK_HOST_MESSAGES}),
    Role.ANALYST: frozenset({P.VIEW_DASHBOARD, P.VIEW_REVIEWS, P.EXPORT_AUDIENCE}),
}

ROLE_NAMES_ZH = {
    Role.ADMIN: "管理员", Role.CONTROLLER: "场控", Role.TECH: "技术",
    Role.HOST: "主播", Role.ANALYST: "数据分析",
}

# Reachable without a login: everything else answers 401 before it looks at anything.
OPEN_PATHS = frozenset({"/login", "/healthz", "/readyz"})
# Platform pushes authenticate by their signature (controlroom/ingest/hooks.py).
OPEN_PREFIXES = ("/static/", "/hooks/")


def is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


def allows(role: Role | str, permission: Permission) -> bool:
    return Permission(permission) in ROLE_PERMISSIONS[Role(role)]


def matrix_markdown() -> str:
    """The matrix as the README shows it (a test keeps the two the same)."""
    roles = list(Role)
    lines = [
        "| permission | " + " | ".join(f"{role.value} {ROLE_NAMES_ZH[role]}" for role in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for permission in Permission:
        marks = " | ".join("✓" if permission in ROLE_PERMISSIONS[role] else "–" for role in roles)
        lines.append(f"| `{permission.value}` | {marks} |")
    return "\n".join(lines)
