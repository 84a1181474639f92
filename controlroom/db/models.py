"""Every model, imported in one place so Alembic sees the whole metadata."""

from controlroom.db.base import Base
from controlroom.rooms.models import Room, Show

__all__ = ["Base", "Room", "Show"]
