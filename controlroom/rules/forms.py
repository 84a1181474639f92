"""The rule form: a RuleDefinition to fields and back. The condition's fields come from
its pydantic model, so a new condition kind gets its form for free."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any, Literal

from starlette.datastructures import FormData

from controlroom.rules.schemas import CONDITION_KINDS, RuleDefinition
from controlroom.rules.service import RuleInvalid

# Optional fields whose empty input means "not set".
OPTIONAL = {"escalate_after_s", "playbook", "cue"}
CHECKBOXES = ("only_live", "enabled")


@dataclass(frozen=True)
class Field:
    name: str  # form name: "condition.value"
    label: str
    widget: str  # select | number | text
    options: tuple[str, ...] = ()
    value: str = ""
    required: bool = False


def _literal_options(annotation: Any) -> tuple[str, ...]:
    """Choices of a Literal (or Optional[Literal]) annotation, else ()."""
    if typing.get_origin(annotation) is Literal:
        return tuple(str(option) for option in typing.get_args(annotation))
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is Literal:
            return ("",) + tuple(str(option) for option in typing.get_args(arg))
    return ()


def _is_number(annotation: Any) -> bool:
    return annotation in (int, float) or any(arg in (int, float) for arg in typing.get_args(annotation))


def condition_fields(kind: str, values: dict[str, Any]) -> list[Field]:
    model = CONDITION_KINDS[kind]
    fields = []
    for name, info in model.model_fields.items():
        if name == "kind":
            continue
        value = values.get(name, info.default if not info.is_required() else "")
        options = _literal_options(info.annotation)
        widget = "select" if options else ("number" if _is_number(info.annotation) else "text")
        fields.append(Field(
            name=f"condition.{name}", label=name, widget=widget, options=options,
            value="" if value is None else str(value), required=info.is_required(),
        ))
    return fields


def form_values(definition: dict[str, Any]) -> dict[str, str]:
    """A definition (JSON) as the strings the form shows."""
    values = {name: "" if value is None else str(value) for name, value in definition.items() if name != "condition"}
    values["inhibits"] = ", ".join(definition.get("inhibits") or [])
    values["labels"] = ", ".join(f"{k}={v}" for k, v in (definition.get("labels") or {}).items())
    for name in CHECKBOXES:
        values[name] = "on" if definition.get(name, True) else ""
    return values


def parse_form(form: FormData) -> dict[str, Any]:
    """The posted form as a definition to validate; leaves type errors to pydantic, so
    every message names its field."""
    data: dict[str, Any] = {}
    condition: dict[str, Any] = {}
    for name in RuleDefinition.model_fields:
        if name in ("condition", *CHECKBOXES):
            continue
        raw = str(form.get(name, "")).strip()
        if name in ("inhibits",):
            data[name] = [part.strip() for part in raw.split(",") if part.strip()]
        elif name == "labels":
            data[name] = _labels(raw)
        elif raw or name not in OPTIONAL:
            data[name] = raw
        else:
            data[name] = None
    for name in CHECKBOXES:
        data[name] = form.get(name) == "on"
    kind = str(form.get("condition.kind", ""))
    if kind not in CONDITION_KINDS:
        raise RuleInvalid.one("condition.kind", "unknown_kind", name=kind, choices=", ".join(CONDITION_KINDS))
    condition["kind"] = kind
    for name, info in CONDITION_KINDS[kind].model_fields.items():
        raw = str(form.get(f"condition.{name}", "")).strip()
        if name != "kind" and (raw or info.is_required()):
            condition[name] = raw
    data["condition"] = condition
    for name in ("for_s", "clear_for_s", "renotify_s"):
        if data.get(name) == "":
            data.pop(name)
    return data


def _labels(raw: str) -> dict[str, str]:
    labels = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        name, sep, value = part.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise RuleInvalid.one("labels", "not_a_label", text=part)
        labels[name.strip()] = value.strip()
    return labels
