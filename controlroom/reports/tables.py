"""A review as tables, for its exports: the CSVs (one table each) and the Excel workbook
(a sheet per table). Pure: a stored review in, rows out. Each column has a key (the CSV
header, stable for scripts that read it) and a label for people (the workbook's header,
translated); times are given in the show's time zone beside the Unix seconds."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo

import xlsxwriter

from controlroom.i18n import N_


@dataclass(frozen=True)
class Table:
    name: str
    title: str  # the sheet's name, a msgid
    keys: tuple[str, ...]
    labels: tuple[str, ...]  # msgids
    rows: list[list[Any]]


def _local(seconds: float | None, tz: ZoneInfo) -> str:
    if seconds is None:
        return ""
    return datetime.fromtimestamp(seconds, tz=timezone.utc).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def _columns(*pairs: tuple[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tuple(key for key, _ in pairs), tuple(label for _, label in pairs)


def review_tables(review: dict[str, Any], items: list[dict[str, Any]], tz: ZoneInfo) -> dict[str, Table]:
    tables: dict[str, Table] = {}

    def add(name: str, title: str, columns: tuple[tuple[str, str], ...], rows: list[list[Any]]) -> None:
        keys, labels = _columns(*columns)
        tables[name] = Table(name, title, keys, labels, rows)

    headline = review["headline"]
    add("headline", N_("Headline numbers"), (("metric", N_("Metric")), ("value", N_("Value"))),
        [[name, value] for name, value in headline.items()])
    s = review["series"]
    add("minutes", N_("Per minute"), (
        ("minute_local", N_("Minute (local time)")), ("minute_unix_s", N_("Minute (Unix seconds)")),
        ("online", N_("Online")), ("comments", N_("Comments")), ("likes", N_("Likes")), ("gmv_yuan", N_("GMV (yuan)")),
    ), [[_local(x, tz), x, online, comments, likes, gmv]
        for x, online, comments, likes, gmv in zip(s["x"], s["online"], s["comments"], s["likes"], s["gmv"])])
    add("segments", N_("Segments"), (
        ("index", N_("#")), ("title", N_("Segment")), ("kind", N_("Kind")), ("started_local", N_("Started (local time)")),
        ("planned_start_s", N_("Planned start (s into the show)")), ("planned_s", N_("Planned (s)")),
        ("actual_s", N_("Actual (s)")), ("over_s", N_("Over (s)")), ("skipped", N_("Skipped")),
        ("avg_online", N_("Average online")), ("new_viewers", N_("New viewers")), ("comments", N_("Comments")),
        ("orders_paid", N_("Orders")), ("gmv_cents", N_("GMV (fen)")), ("gmv_per_min_cents", N_("GMV/min (fen)")),
        ("conversion_rate", N_("Conversion rate")), ("rank", N_("Rank")),
    ), [[seg["index"], seg["title"], seg["kind"],
         _local(seg["actual_start"] / 1000 if seg.get("actual_start") else None, tz), seg["planned_start_s"],
         seg["planned_s"], seg["actual_s"], seg["over_s"], seg["skipped"], seg["avg_online"], seg["new_viewers"],
         seg["comments"], seg["orders_paid"], seg["gmv_cents"], seg["gmv_per_min_cents"], seg["conversion_rate"],
         seg.get("rank")] for seg in review["segments"]])
    add("products", N_("Products"), (
        ("sku", N_("SKU")), ("clicks", N_("Clicks")), ("orders", N_("Orders")), ("gmv_cents", N_("GMV (fen)")),
        ("refunds", N_("Refunds")),
    ), [[p["sku"], p["clicks"], p["orders"], p["gmv_cents"], p["refunds"]] for p in review["products"]])
    add("hot_words", N_("Hot words"), (("word", N_("Word")), ("count", N_("Count"))),
        [list(pair) for pair in review["hot_words"]])
    add("questions", N_("Hot questions"), (("group", N_("Question group")), ("count", N_("Count"))),
        [list(pair) for pair in review["questions"]])
    add("incidents", N_("Incidents"), (
        ("fired_local", N_("Fired (local time)")), ("level", N_("Level")), ("rule", N_("Rule")), ("name", N_("Alert")),
        ("ack_s", N_("Seconds to acknowledge")), ("resolve_s", N_("Seconds to resolve")), ("acked_by", N_("Acknowledged by")),
    ), [[_local(i["fired_at"] / 1000 if i.get("fired_at") else None, tz), i["level"], i["rule_key"], i["name"],
         i["ack_s"], i["resolve_s"], i.get("acked_by") or ""] for i in review["incidents"]])
    add("playbooks", N_("Playbooks"), (
        ("started_local", N_("Started (local time)")), ("name", N_("Playbook")), ("status", N_("Status")),
        ("steps_done", N_("Steps done")), ("steps_late", N_("Steps late")), ("started_by", N_("Started by")),
    ), [[_local(p["started_at"] / 1000, tz), p["name"], p["status"], p["done"], p["late"], p["started_by"]]
        for p in review["playbooks"]])
    add("review_items", N_("Review meeting"), (
        ("kind", N_("Kind")), ("text", N_("Text")), ("segment", N_("Segment")), ("sku", N_("SKU")),
        ("by", N_("Written by")), ("done_by", N_("Done by")),
    ), [[i["kind"], i["text"], (i["segment"] + 1) if i["segment"] is not None else "", i["sku"], i["by"],
         i["done_by"]] for i in items])
    return tables


def workbook(tables: dict[str, Table], gettext: Callable[[str], str]) -> bytes:
    """One .xlsx, a sheet per table with translated headers. Every string is written as
    a string (never a formula or a link, whatever a viewer typed); numbers as numbers."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                     "strings_to_numbers": False})
    bold = book.add_format({"bold": True})
    for table in tables.values():
        # Sheet names: at most 31 characters, none of []:*?/\ (our titles have none).
        sheet = book.add_worksheet(gettext(table.title)[:31])
        for column, label in enumerate(table.labels):
            sheet.write_string(0, column, gettext(label), bold)
        for row_number, row in enumerate(table.rows, start=1):
            for column, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, bool):
                    sheet.write_boolean(row_number, column, value)
                elif isinstance(value, (int, float)):
                    sheet.write_number(row_number, column, value)
                else:
                    sheet.write_string(row_number, column, str(value))
        sheet.freeze_panes(1, 0)
    book.close()
    return out.getvalue()
