"""The lexicon in SQL and its live copy in Redis.

SQL is the record: staff add and remove terms on the lexicon page. Every change is
published as one JSON snapshot to Redis with a content hash as its version; workers
watch the version and rebuild their matcher (controlroom/moderation/live.py), so an edit
changes matching within a second, without a restart.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controlroom.bus import keys
from controlroom.bus.client import Bus
from controlroom.live.projections import declare
from controlroom.moderation.compliance import suggest_wording
from controlroom.moderation.lexicon import BUILTIN_CATEGORIES, CATEGORIES, SEVERITIES, Term, default_allow, default_terms
from controlroom.moderation.matcher import Matcher
from controlroom.moderation.models import AllowPhrase, LexiconCategory, LexiconTerm, QuickReply
from controlroom.moderation.normalise import normalise
from controlroom.metrics.questions import question_groups
from controlroom.web.exports import restore_cell, safe_cell
from controlroom.moderation.question_terms import question_terms

CATEGORY_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
MAX_TERM = 100
MAX_IMPORT_LINES = 20_000


class LexiconError(ValueError):
    """What is wrong and where (field, or line of an imported file)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


def install_default_lexicon(session: Session) -> bool:
    """The built-in categories, terms and allow-list, on first start only: after that
    the lexicon is the team's."""
    if session.scalar(select(func.count()).select_from(LexiconCategory)):
        return False
    by_key = {}
    for key, label in CATEGORIES.items():
        by_key[key] = LexiconCategory(key=key, name=label.zh_cn, name_en=label.en, builtin=True, created_by="defaults")
        session.add(by_key[key])
    for term in default_terms():
        by_key[term.category].terms.append(
            LexiconTerm(text=term.text, severity=term.severity, suggestion=_default_suggestion(term),
                        whole_word=term.whole_word, created_by="defaults")
        )
    for phrase in default_allow():
        session.add(AllowPhrase(text=phrase, created_by="defaults"))
    for group in question_groups():
        for reply in group.replies:
            session.add(QuickReply(group=group.key, text=reply, created_by="defaults"))
    session.flush()
    return True


def _default_suggestion(term: Term) -> str:
    return suggest_wording(term.text) if term.category == "absolute" else ""


# --- reading ---------------------------------------------------------------------------


def categories(session: Session) -> list[LexiconCategory]:
    return list(session.scalars(select(LexiconCategory).order_by(LexiconCategory.builtin.desc(), LexiconCategory.id)))


def category_by_key(session: Session, key: str) -> LexiconCategory | None:
    return session.scalar(select(LexiconCategory).where(LexiconCategory.key == key))


def allow_phrases(session: Session) -> list[AllowPhrase]:
    return list(session.scalars(select(AllowPhrase).order_by(AllowPhrase.text)))


def snapshot(session: Session) -> dict[str, Any]:
    """The whole lexicon as plain data: what workers build their matcher from."""
    rows = session.execute(
        select(LexiconTerm.text, LexiconCategory.key, LexiconTerm.severity, LexiconTerm.suggestion,
               LexiconTerm.whole_word)
        .join(LexiconCategory).order_by(LexiconTerm.id)
    ).all()
    return {
        "categories": [[c.key, c.name, c.name_en] for c in categories(session)],
        "terms": [[text, category, severity, suggestion, whole_word]
                  for text, category, severity, suggestion, whole_word in rows],
        "allow": [phrase.text for phrase in allow_phrases(session)],
    }


def matcher_of(data: dict[str, Any]) -> Matcher:
    """The lexicon's terms (first: they win a tie) and the hot-question words, in one
    automaton, so a comment is scanned once for both."""
    # A snapshot from before whole-word terms has four columns: the default then.
    terms = [Term(text, category, severity, (rest[1] if len(rest) > 1 else None))
             for text, category, severity, *rest in data["terms"]]
    return Matcher.build([*terms, *question_terms()], data["allow"])


async def _write_lexicon(bus: Bus, room: str | None, data: dict[str, Any], as_of_ms: int) -> None:
    """The snapshot and its version (a content hash) in one step: workers rebuild their
    matcher when the version changes."""
    raw = orjson.dumps(data)
    pipe = bus.redis.pipeline(transaction=True)
    pipe.set(keys.LEXICON, raw)
    pipe.set(keys.LEXICON_VERSION, hashlib.sha256(raw).hexdigest()[:16])
    await pipe.execute()


LEXICON = declare("lexicon", per_room=False, build=lambda session, room, now: snapshot(session), write=_write_lexicon)
LEXICON_CATEGORIES = declare(
    "lexicon-categories", per_room=False, default=BUILTIN_CATEGORIES,
    build=lambda session, room, now: [[c.key, c.name, c.name_en] for c in categories(session)],
)
QUICK_REPLIES = declare("quick-replies", per_room=False, default={},
                        build=lambda session, room, now: quick_replies(session))
# What a lexicon change publishes.
LEXICON_PROJECTIONS = (LEXICON.name, LEXICON_CATEGORIES.name, QUICK_REPLIES.name)


# --- changing ---------------------------------------------------------------------------


def _clean_term(text: str, where: str) -> str:
    text = text.strip()
    if not text:
        raise LexiconError(where, "the term is empty")
    if len(text) > MAX_TERM:
        raise LexiconError(where, f"a term has at most {MAX_TERM} characters")
    if not normalise(text):
        raise LexiconError(where, f"{text!r} is only spaces or symbols, so it could never match")
    return text


def _severity(value: str | int, where: str) -> int:
    try:
        severity = int(value)
    except (TypeError, ValueError):
        raise LexiconError(where, f"severity {value!r} is not 1, 2 or 3") from None
    if severity not in SEVERITIES:
        raise LexiconError(where, f"severity {value!r} is not 1, 2 or 3")
    return severity


def add_category(session: Session, *, key: str, name: str, name_en: str, by: str) -> LexiconCategory:
    key = key.strip()
    if not CATEGORY_KEY.match(key):
        raise LexiconError("key", "1-32 characters of a-z, 0-9, '-' or '_', starting with a letter or digit")
    if category_by_key(session, key) is not None:
        raise LexiconError("key", f"a category {key!r} exists already")
    if not name.strip():
        raise LexiconError("name", "the category needs a name")
    category = LexiconCategory(key=key, name=name.strip()[:100], name_en=name_en.strip()[:100], created_by=by)
    session.add(category)
    session.flush()
    return category


def add_term(
    session: Session, *, category: LexiconCategory, text: str, severity: str | int, suggestion: str = "", by: str,
    whole_word: bool | None = None,
) -> LexiconTerm:
    text = _clean_term(text, "text")
    severity = _severity(severity, "severity")
    if any(term.text == text for term in category.terms):
        raise LexiconError("text", f"{text!r} is in {category.key} already")
    term = LexiconTerm(text=text, severity=severity, suggestion=suggestion.strip()[:200], whole_word=whole_word,
                       created_by=by)
    category.terms.append(term)
    session.flush()
    return term


def remove_term(session: Session, *, category: LexiconCategory, term_id: int) -> LexiconTerm:
    term = session.get(LexiconTerm, term_id)
    if term is None or term.category_id != category.id:
        raise LookupError(f"no term {term_id} in {category.key}")
    session.delete(term)
    session.flush()
    return term


@dataclass
class ImportResult:
    added: int = 0
    already: int = 0


def import_terms(session: Session, *, category: LexiconCategory, text: str, by: str) -> ImportResult:
    """One term per line, optionally `term<TAB>severity<TAB>suggestion` (what export
    writes). Every line is checked first: one bad line refuses the whole file, naming
    the line, so nothing is half-imported."""
    lines = text.splitlines()
    if len(lines) > MAX_IMPORT_LINES:
        raise LexiconError("file", f"at most {MAX_IMPORT_LINES} lines, got {len(lines)}")
    parsed: list[tuple[str, int, str]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split("\t")
        where = f"line {number}"
        # export_terms wrote "'-5元" for a term "-5元" (a spreadsheet would run it as a
        # formula); restore_cell takes off exactly that one quote, so export -> import
        # round-trips.
        parsed.append((
            _clean_term(restore_cell(fields[0].strip()), where),
            _severity(fields[1], where) if len(fields) > 1 and fields[1].strip() else 2,
            restore_cell(fields[2].strip())[:200] if len(fields) > 2 else "",
        ))
    existing = {term.text for term in category.terms}
    result = ImportResult()
    for term_text, severity, suggestion in parsed:
        if term_text in existing:
            result.already += 1
            continue
        existing.add(term_text)
        category.terms.append(LexiconTerm(text=term_text, severity=severity, suggestion=suggestion, created_by=by))
        result.added += 1
    session.flush()
    return result


def export_terms(category: LexiconCategory) -> str:
    """The category as import_terms reads it. Opened in a spreadsheet it is a
    tab-separated table, so a term or suggestion that would run as a formula gets a
    leading quote (safe_cell)."""
    lines = [f"# {category.key}: {category.name} — term<TAB>severity<TAB>suggestion"]
    lines += [f"{safe_cell(t.text)}\t{t.severity}\t{safe_cell(t.suggestion)}".rstrip("\t") for t in category.terms]
    return "\n".join(lines) + "\n"


def add_allow(session: Session, *, text: str, by: str) -> AllowPhrase:
    text = _clean_term(text, "text")
    if session.scalar(select(AllowPhrase).where(AllowPhrase.text == text)) is not None:
        raise LexiconError("text", f"{text!r} is allowed already")
    phrase = AllowPhrase(text=text, created_by=by)
    session.add(phrase)
    session.flush()
    return phrase


def _delete(session: Session, model: type, row_id: int, what: str):
    row = session.get(model, row_id)
    if row is None:
        raise LookupError(f"no {what} {row_id}")
    session.delete(row)
    session.flush()
    return row


def remove_allow(session: Session, *, phrase_id: int) -> AllowPhrase:
    return _delete(session, AllowPhrase, phrase_id, "allowed phrase")


# --- quick replies to hot questions ------------------------------------------------------

MAX_REPLY = 300


def quick_replies(session: Session) -> dict[str, list[list]]:
    """Question group -> [[id, text]], oldest first."""
    replies: dict[str, list[list]] = {group.key: [] for group in question_groups()}
    for reply in session.scalars(select(QuickReply).order_by(QuickReply.id)):
        replies.setdefault(reply.group, []).append([reply.id, reply.text])
    return replies


def add_quick_reply(session: Session, *, group: str, text: str, by: str) -> QuickReply:
    if group not in {g.key for g in question_groups()}:
        raise LexiconError("group", f"no question group {group!r}")
    text = text.strip()
    if not text:
        raise LexiconError("text", "the reply is empty")
    if len(text) > MAX_REPLY:
        raise LexiconError("text", f"a reply has at most {MAX_REPLY} characters")
    reply = QuickReply(group=group, text=text, created_by=by)
    session.add(reply)
    session.flush()
    return reply


def remove_quick_reply(session: Session, *, reply_id: int) -> QuickReply:
    return _delete(session, QuickReply, reply_id, "quick reply")
