"""The permission table: what the issue says each role may do, and the README shows it."""

from __future__ import annotations

from pathlib import Path

from controlroom.auth.permissions import ROLE_PERMISSIONS, Permission, Role, allows, matrix_markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_shows_the_table_the_code_enforces():
    text = README.read_text()
    shown = text.split("<!-- permission-matrix -->\n", 1)[1].split("\n<!-- /permission-matrix -->", 1)[0]
    assert shown == matrix_markdown()


def test_roles_do_their_own_job_only():
    assert ROLE_PERMISSIONS[Role.ADMIN] == frozenset(Permission)
    # Hosts see their screen and acknowledge messages; nothing else.
    assert ROLE_PERMISSIONS[Role.HOST] == {Permission.VIEW_HOST_SCREEN, Permission.ACK_HOST_MESSAGES}
    # Analysts only read, and export the engaged audience for the CRM (as admins can).
    assert ROLE_PERMISSIONS[Role.ANALYST] == {Permission.VIEW_DASHBOARD, Permission.VIEW_REVIEWS,
                                              Permission.EXPORT_AUDIENCE}
    assert [role for role in Role if allows(role, Permission.EXPORT_AUDIENCE)] == [Role.ADMIN, Role.ANALYST]
    # Controllers drive the show and alerts; tech runs playbooks and sees stream health.
    for permission in (Permission.DRIVE_SHOW, Permission.MESSAGE_HOST, Permission.MANAGE_ALERTS):
        assert allows(Role.CONTROLLER, permission) and not allows(Role.TECH, permission)
    for permission in (Permission.RUN_PLAYBOOKS, Permission.VIEW_STREAM_HEALTH, Permission.ACK_ALERTS):
        assert allows(Role.TECH, permission)
    assert not any(allows(role, Permission.ADMINISTER) for role in Role if role != Role.ADMIN)
