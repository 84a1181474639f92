"""Every model, imported in one place so Alembic sees the whole metadata."""

from controlroom.alerts.models import Alert, AlertTransition, Silence
from controlroom.audit.models import AuditEntry
from controlroom.auth.models import ApiKey, HostLink, LoginSession, User, user_rooms
from controlroom.db.base import Base
from controlroom.ingest.bindings import PlatformBinding
from controlroom.metrics.models import RoomMinute
from controlroom.moderation.models import AllowPhrase, LexiconCategory, LexiconTerm, QuickReply
from controlroom.notify.models import NotifyChannel, NotifyDelivery
from controlroom.playbooks.models import PlaybookEvent, PlaybookRow, PlaybookRunRow
from controlroom.reports.models import ReviewItem, ShowReview
from controlroom.rooms.models import Room
from controlroom.rules.models import Rule
from controlroom.shows.models import CueFiring, HostMessage, SegmentRow, Show

__all__ = [
    "Alert", "AlertTransition", "AllowPhrase", "ApiKey", "AuditEntry", "Base", "CueFiring", "HostLink", "HostMessage",
    "LexiconCategory", "LexiconTerm", "NotifyChannel", "NotifyDelivery", "LoginSession", "PlatformBinding", "PlaybookEvent", "PlaybookRow",
    "PlaybookRunRow", "QuickReply", "Room", "ReviewItem", "RoomMinute", "Rule", "SegmentRow", "Show", "ShowReview", "Silence", "User",
    "user_rooms",
]
