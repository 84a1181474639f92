"""Editing a show's script: one segment from a form, structural changes (add, duplicate,
delete, reorder), templates and imports. Segments already run in a live show stay put:
only what comes after the current segment can be moved or deleted."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from typing import Any, Mapping

import yaml

from controlroom.shows import engine
from controlroom.shows.engine import ActionRefused, RunState
from controlroom.shows.script import Product, Script, Segment
from controlroom.shows.script_io import ImportProblem, ScriptImportError, format_duration, from_yaml

CUE_LINE = re.compile(r"^\s*(\S+)\s+(.+?)\s*(?:@(主播|场控|全部|host|controller|both))?\s*$")
AUDIENCE = {"主播": "host", "场控": "controller", "全部": "both"}


def segment_from_form(form: Mapping[str, str]) -> Segment:
    """A segment from the editor's fields; every problem names its field
    (ScriptImportError with the form's field names as columns)."""
    cues, problems = [], []
    for line in str(form.get("cues", "")).splitlines():
        if not line.strip():
            continue
        match = CUE_LINE.match(line)
        if match is None:
            problems.append(_problem("cues", f"{line.strip()!r} is not 'mm:ss text' (optionally @主播/@场控)"))
            continue
        at, text, audience = match.groups()
        cues.append({"at": at, "text": text, "audience": AUDIENCE.get(audience or "全部", audience or "both")})
    item = {
        "title": str(form.get("title", "")).strip(), "kind": str(form.get("kind", "product")),
        "duration": str(form.get("duration", "")).strip(), "sku": str(form.get("sku", "")).strip(),
        "talk_points": str(form.get("talk_points", "")), "notes": str(form.get("notes", "")), "cues": cues,
    }
    if str(form.get("starts_at", "")).strip():
        item["starts_at"] = str(form["starts_at"]).strip()
    if str(form.get("online_target", "")).strip():
        item["online_target"] = str(form["online_target"]).strip()
    try:
        segment = from_yaml(yaml.safe_dump({"segments": [item]}, allow_unicode=True)).segments[0]
    except ScriptImportError as error:
        raise ScriptImportError([*error.errors, *problems]) from None
    if problems:
        raise ScriptImportError(problems)
    return segment


PRODUCT_FIELDS = ("sku", "name", "price", "stock", "on_shelf")


def products_from_form(form: Mapping[str, str], rows: int) -> tuple[Product, ...]:
    """The product table of the editor (fields sku_0, name_0, … per row); a row without
    a SKU is left out. Problems name the product's row (ScriptImportError)."""
    items = []
    for row in range(rows):
        sku = str(form.get(f"sku_{row}", "")).strip()
        if not sku:
            continue
        item: dict[str, Any] = {"sku": sku, "name": str(form.get(f"name_{row}", "")).strip(),
                                "on_shelf": bool(form.get(f"on_shelf_{row}"))}
        if str(form.get(f"price_{row}", "")).strip():
            item["price"] = str(form[f"price_{row}"]).strip()
        stock = str(form.get(f"stock_{row}", "")).strip()
        if stock:
            item["stock"] = int(stock) if stock.isdigit() else stock
        items.append(item)
    return from_yaml(yaml.safe_dump({"products": items, "segments": []}, allow_unicode=True)).products


def product_form_rows(products: tuple[Product, ...], blank: int = 3) -> list[dict[str, Any]]:
    rows = [{"sku": p.sku, "name": p.name,
             "price": "" if p.price_cents is None else str((Decimal(p.price_cents) / 100).quantize(Decimal("0.01"))),
             "stock": "" if p.stock is None else str(p.stock), "on_shelf": p.on_shelf} for p in products]
    return rows + [{"sku": "", "name": "", "price": "", "stock": "", "on_shelf": True} for _ in range(blank)]


def _problem(column: str, message: str) -> ImportProblem:
    return ImportProblem(1, column, message)


def segment_form_values(segment: Segment) -> dict[str, str]:
    back = {"host": "@主播", "controller": "@场控", "both": ""}
    return {
        "title": segment.title, "kind": segment.kind, "duration": format_duration(segment.planned_s),
        "sku": segment.sku, "talk_points": segment.talk_points, "notes": segment.notes,
        "starts_at": format_duration(segment.starts_at_s) if segment.starts_at_s is not None else "",
        "online_target": str(segment.online_target) if segment.online_target is not None else "",
        "cues": "\n".join(f"{format_duration(c.offset_s)} {c.text}{back[c.audience]}" for c in segment.cues),
    }


def first_movable(run: RunState) -> int:
    """Segments from here on may be moved or deleted (a live show keeps its past)."""
    return run.index + 1 if run.status in (engine.LIVE, engine.HELD) else 0 if run.status == engine.SCHEDULED else 10**9


def _check_movable(run: RunState, *indexes: int) -> None:
    floor = first_movable(run)
    for index in indexes:
        if index < floor:
            raise ActionRefused("segment %(n)s has already run or is running: it stays where it is", n=index + 1)


def first_editable(run: RunState) -> int:
    """Segments from here on may be edited: in a live show the running one (its words
    reach the host screen at once) and those to come; what already ran stays as it ran."""
    return run.index if run.status in (engine.LIVE, engine.HELD) else 0 if run.status == engine.SCHEDULED else 10**9


def replace_segment(script: Script, index: int, segment: Segment, run: RunState | None = None) -> Script:
    _in_range(script, index)
    if run is not None and index < first_editable(run):
        raise ActionRefused("Segment %(n)s has already run: it stays as it ran", n=index + 1)
    segments = list(script.segments)
    segments[index] = segment
    return replace(script, segments=tuple(segments))


def add_segment(script: Script, run: RunState, segment: Segment) -> Script:
    if run.status == engine.ENDED:
        raise ActionRefused("The show has ended")
    return replace(script, segments=script.segments + (segment,))


def duplicate_segment(script: Script, run: RunState, index: int) -> Script:
    _in_range(script, index)
    _check_movable(run, index + 1)
    segments = list(script.segments)
    segments.insert(index + 1, script.segments[index])
    return replace(script, segments=tuple(segments))


def delete_segment(script: Script, run: RunState, index: int) -> Script:
    _in_range(script, index)
    _check_movable(run, index)
    return replace(script, segments=script.segments[:index] + script.segments[index + 1:])


def reorder(script: Script, run: RunState, order: list[int]) -> Script:
    """`order` lists the current indexes in their new order."""
    if sorted(order) != list(range(len(script.segments))):
        raise ActionRefused("order must list each of the %(count)s segments once", count=len(script.segments))
    moved = [new for new, old in enumerate(order) if new != old]
    if moved:
        _check_movable(run, min(moved))
    return replace(script, segments=tuple(script.segments[i] for i in order))


def replace_script(script: Script, run: RunState, new: Script) -> Script:
    """A template or an import replaces the script of a show that has not started."""
    if run.status != engine.SCHEDULED:
        raise ActionRefused("the show has started: edit its segments one by one instead")
    return new


def _in_range(script: Script, index: int) -> None:
    if not 0 <= index < len(script.segments):
        raise ActionRefused("there is no segment %(n)s", n=index + 1)
