"""Rules in SQL: the shipped defaults loaded once, edits validated before they land."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from controlroom.i18n import N_
from controlroom.rules.models import Rule
from controlroom.rules.schemas import CONDITION_KINDS, RuleDefinition


@lru_cache(maxsize=1)
def default_rules() -> tuple[RuleDefinition, ...]:
    text = resources.files("controlroom.rules").joinpath("defaults.yaml").read_text(encoding="utf-8")
    return tuple(RuleDefinition.model_validate(item) for item in yaml.safe_load(text))


def install_default_rules(session: Session) -> int:
    """Add the shipped rules that are not in SQL yet; a rule the team edited keeps its
    edits across upgrades."""
    existing = set(session.scalars(select(Rule.key)))
    added = 0
    for rule in default_rules():
        if rule.key not in existing:
            session.add(Rule(key=rule.key, definition=rule.model_dump(mode="json"), builtin=True, updated_by="defaults"))
            added += 1
    session.flush()
    return added


def all_rules(session: Session) -> list[Rule]:
    return list(session.scalars(select(Rule).order_by(Rule.key)))


def rule_by_key(session: Session, key: str) -> Rule | None:
    return session.scalar(select(Rule).where(Rule.key == key))


def definitions(session: Session) -> list[RuleDefinition]:
    return [RuleDefinition.model_validate(rule.definition) for rule in all_rules(session)]


# Validation errors by pydantic's error type, as messages the catalogs translate
# (%(name)s placeholders filled from the error's context).
MESSAGES = {
    "missing": N_("required"),
    "string_too_short": N_("required"),
    "float_parsing": N_("not a number"),
    "float_type": N_("not a number"),
    "int_parsing": N_("not a whole number"),
    "int_from_float": N_("not a whole number"),
    "int_type": N_("not a whole number"),
    "greater_than_equal": N_("must be at least %(ge)s"),
    "greater_than": N_("must be more than %(gt)s"),
    "less_than_equal": N_("must be at most %(le)s"),
    "less_than": N_("must be less than %(lt)s"),
    "multiple_of": N_("must be a multiple of %(multiple_of)s"),
    "string_too_long": N_("at most %(max_length)s characters"),
    "string_pattern_mismatch": N_("only a-z, 0-9, '-' and '_', starting with a letter or digit"),
    "literal_error": N_("one of %(expected)s"),
    "unknown_metric": N_("unknown metric %(name)s; one of %(choices)s"),
    "no_minute_series": N_("%(name)s has no per-minute series; one of %(choices)s"),
    "needs_measure": N_("set sigmas or drop (or both)"),
    "needs_status_test": N_("set status or latency_ms_above"),
    "unknown_label": N_("unknown label %(name)s; one of room, sku, category, segment"),
    "group_name": N_("group name %(name)s must be 1-32 characters"),
    "unknown_kind": N_("unknown condition kind %(name)s; one of %(choices)s"),
    "not_a_label": N_("%(text)s is not name=value"),
    "no_such_rule": N_("no rule %(name)s"),
    "rule_exists": N_("a rule named %(name)s exists already"),
}

# (message, its parameters); parameters None: a message without translation.
FieldError = tuple[str, "dict[str, str] | None"]


class RuleInvalid(ValueError):
    """Field path ("condition.value") -> error, for the form to show next to each field."""

    def __init__(self, errors: dict[str, FieldError]) -> None:
        super().__init__("; ".join(f"{field}: {_english(error)}" for field, error in errors.items()))
        self.errors = errors

    @classmethod
    def one(cls, field: str, kind: str, **params: str) -> "RuleInvalid":
        return cls({field: (MESSAGES[kind], params)})


def _english(error: FieldError) -> str:
    message, params = error
    return message % params if params else message


def field_errors(error: ValidationError) -> dict[str, FieldError]:
    errors: dict[str, FieldError] = {}
    for item in error.errors():
        # Union members add their tag to the path (condition.change.value): drop it.
        loc = ".".join(str(part) for part in item["loc"] if part not in CONDITION_KINDS) or "rule"
        if item["type"] in MESSAGES:
            params = {name: str(value) for name, value in (item.get("ctx") or {}).items()}
            errors.setdefault(loc, (MESSAGES[item["type"]], params))
        else:
            errors.setdefault(loc, (item["msg"].removeprefix("Value error, "), None))
    return errors


def validate_definition(data: dict[str, Any]) -> RuleDefinition:
    try:
        return RuleDefinition.model_validate(data)
    except ValidationError as error:
        raise RuleInvalid(field_errors(error)) from None


def save_rule(session: Session, *, data: dict[str, Any], by: str, original_key: str | None = None) -> Rule:
    """Create a rule, or replace the one named `original_key`. Validates first: a
    refused edit changes nothing."""
    definition = validate_definition(data)
    clash = rule_by_key(session, definition.key)
    rule = rule_by_key(session, original_key) if original_key else None
    if original_key and rule is None:
        raise RuleInvalid.one("key", "no_such_rule", name=original_key)
    if clash is not None and clash is not rule:
        raise RuleInvalid.one("key", "rule_exists", name=definition.key)
    if rule is None:
        rule = Rule(key=definition.key, builtin=False)
        session.add(rule)
    rule.key = definition.key
    rule.definition = definition.model_dump(mode="json")
    rule.updated_by = by
    session.flush()
    return rule
