"""The lexicon in SQL: categories, their terms, and the allow-list."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from controlroom.db.base import Base, UTCDateTime, utcnow


class LexiconCategory(Base):
    __tablename__ = "lexicon_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    builtin: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    terms: Mapped[list["LexiconTerm"]] = relationship(
        back_populates="category", order_by="(LexiconTerm.severity.desc(), LexiconTerm.text)",
        cascade="all, delete-orphan",
    )


class LexiconTerm(Base):
    __tablename__ = "lexicon_terms"
    __table_args__ = (UniqueConstraint("category_id", "text"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("lexicon_categories.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(100))
    severity: Mapped[int] = mapped_column(default=2)  # 1 context, 2 signal, 3 act now
    # A neutral wording to offer instead (absolute terms in the host's script).
    suggestion: Mapped[str] = mapped_column(String(200), default="")
    # Counts only standing on its own (not inside a longer number or word); None: the
    # default, which is whole-word for a term made only of digits (315, 12315).
    whole_word: Mapped[bool | None] = mapped_column(nullable=True)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    category: Mapped[LexiconCategory] = relationship(back_populates="terms")


class AllowPhrase(Base):
    """A harmless phrase that contains a term (第一次 contains 第一): no hit inside it."""

    __tablename__ = "lexicon_allow"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(100), unique=True)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuickReply(Base):
    """A ready answer to a hot-question group, copied or pushed to the host."""

    __tablename__ = "quick_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    group: Mapped[str] = mapped_column(String(32), index=True)
    text: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
