"""Rules (definitions); their firings are alerts (controlroom/alerts/models.py)."""

from __future__ import annotations

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from controlroom.db.base import Base, Timestamped


class Rule(Timestamped, Base):
    """A rule's definition (controlroom/rules/schemas.py RuleDefinition, as JSON)."""

    __tablename__ = "rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    definition: Mapped[dict] = mapped_column(JSON)
    builtin: Mapped[bool] = mapped_column(default=False)  # shipped in defaults.yaml
    updated_by: Mapped[str] = mapped_column(String(64), default="")
