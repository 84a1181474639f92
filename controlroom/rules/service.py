"""Rules in SQL: the shipped defaults loaded once, edits validated before they land."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from controlroom.alerts.models import Rule
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


class RuleInvalid(ValueError):
    """Field path ("condition.value") -> message, for the form to show next to each field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


def field_errors(error: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for item in error.errors():
        # Union members add their tag to the path (condition.change.value): drop it.
        loc = [str(part) for part in item["loc"] if part not in CONDITION_KINDS]
        message = item["msg"].removeprefix("Value error, ")
        errors.setdefault(".".join(loc) or "rule", message)
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
        raise RuleInvalid({"key": f"no rule {original_key!r}"})
    if clash is not None and clash is not rule:
        raise RuleInvalid({"key": f"a rule named {definition.key!r} exists already"})
    if rule is None:
        rule = Rule(key=definition.key, builtin=False)
        session.add(rule)
    rule.key = definition.key
    rule.definition = definition.model_dump(mode="json")
    rule.updated_by = by
    session.flush()
    return rule
