"""Every model, imported in one place so Alembic sees the whole metadata."""

from controlroom.alerts.models import Alert, AlertTransition, Rule, Silence
from controlroom.auth.models import ApiKey, AuditEntry, HostLink, LoginSession, User, user_rooms
from controlroom.db.base import Base
from controlroom.metrics.models import RoomMinute
from controlroom.moderation.models import AllowPhrase, LexiconCategory, LexiconTerm, QuickReply
from controlroom.ingest.bindings import PlatformBinding
from controlroom.playbooks.models import PlaybookEvent, PlaybookRow, PlaybookRunRow
from controlroom.shows.models import CueFiring, HostMessage, SegmentRow
from controlroom.rooms.models import Room
from controlroom.shows.models import Show

__all__ = ["PlatformBinding", "PlaybookEvent", "PlaybookRow", "PlaybookRunRow", "CueFiring", "SegmentRow", "HostMessage", "QuickReply", "AllowPhrase", "LexiconCategory", "LexiconTerm", "Alert", "AlertTransition", "Rule", "Silence", "ApiKey", "AuditEntry", "Base", "HostLink", "LoginSession", "Room", "RoomMinute", "Show", "User", "user_rooms"]
