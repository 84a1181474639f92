"""Run-of-show scripts to and from files: YAML for people and programs, CSV for
spreadsheets (columns 开始, 时长, 环节, 类型, 商品, 话术, 互动, 备注). Pure.

An import checks the whole file and reports every problem at once, each with the row
and the column a spreadsheet shows (header = row 1; for YAML the segment number and
the key), so a script can be fixed in one pass.

Durations and offsets are written ``mm:ss`` (``h:mm:ss`` from an hour on). CSV carries
no planned total (the show's slot): pass it to :func:`from_csv` if it is known."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from controlroom.shows.script import AUDIENCES, SEGMENT_KIND_NAMES, SEGMENT_KINDS, Cue, Product, Script, Segment
from controlroom.web.exports import csv_text, restore_cell

# Limits of an import. A 14-hour show (日不落直播) in one-minute segments is 840 rows;
# a day's script is split into shows well before 500.
MAX_TEXT_BYTES = 1024 * 1024
MAX_SEGMENTS = 500
MAX_SEGMENT_S = 6 * 3600
MAX_START_S = 24 * 3600  # a fixed start, or the planned total, within a day
MAX_TITLE_CHARS = 200
MAX_TALK_POINTS_CHARS = 5000
MAX_NOTES_CHARS = 5000
MAX_SKU_CHARS = 200
MAX_CUE_TEXT_CHARS = 500
MAX_CUES_PER_SEGMENT = 200
MAX_PRODUCTS = 200
MAX_PRODUCT_NAME_CHARS = 200
MAX_ONLINE_TARGET = 100_000_000
MAX_STOCK = 100_000_000
MAX_PRICE_YUAN = 100_000_000

DEFAULT_KIND = "product"

# CSV columns, in export order: field -> header written on export.
CSV_HEADERS = {
    "start": "开始", "duration": "时长", "title": "环节", "kind": "类型", "sku": "商品",
    "talk_points": "话术", "cues": "互动", "notes": "备注", "online_target": "在线目标",
}
# Headers accepted on import (compared after _header_key()).
_CSV_ALIASES = {
    "start": ("开始", "开始时间", "start", "starts_at", "start_at"),
    "duration": ("时长", "duration"),
    "title": ("环节", "标题", "segment", "title"),
    "kind": ("类型", "kind", "type"),
    "sku": ("商品", "sku", "product"),
    "talk_points": ("话术", "talk_points", "talkpoints"),
    "cues": ("互动", "cues", "cue"),
    "notes": ("备注", "notes", "note"),
    "online_target": ("在线目标", "目标在线", "online_target"),
}
_CSV_REQUIRED = ("duration", "title")

_AUDIENCE_SUFFIX = {"host": "主播", "controller": "场控", "both": "全部"}
_AUDIENCE_NAMES = {
    "host": "host", "controller": "controller", "both": "both",
    "主播": "host", "助播": "host", "场控": "controller", "全部": "both", "所有人": "both",
}

_KIND_NAMES: dict[str, str] = {}
for _kind in SEGMENT_KINDS:
    _zh, _en = SEGMENT_KIND_NAMES[_kind]
    _KIND_NAMES[_kind] = _KIND_NAMES[_zh] = _KIND_NAMES[_en.lower()] = _kind


# --- durations -------------------------------------------------------------------------

_DURATION = re.compile(r"(?:(\d{1,3})[:：])?(\d{1,4})[:：](\d\d)")


def format_duration(seconds: int) -> str:
    """``mm:ss`` below an hour, ``h:mm:ss`` from an hour on."""
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
        raise ValueError(f"{seconds!r} is not a number of seconds")
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def parse_duration(text: str) -> int:
    """Seconds of ``mm:ss`` or ``h:mm:ss`` (a full-width ``：`` is accepted; minutes may
    pass 59 in ``mm:ss``). ValueError with a readable message otherwise."""
    match = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not a duration (mm:ss)")
    hours, minutes, secs = match.groups()
    if int(secs) >= 60 or (hours is not None and int(minutes) >= 60):
        raise ValueError(f"{text!r} is not a duration (mm:ss)")
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(secs)


# --- errors ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ImportProblem:
    row: int | None  # 1-based as a spreadsheet shows it (header = 1); YAML: segment number
    column: str | None  # the header as written in the file; YAML: the key
    message: str

    def describe(self, unit: str = "row") -> str:
        where = ", ".join(part for part in (
            f"{unit} {self.row}" if self.row is not None else "", self.column or "") if part)
        return f"{where}: {self.message}" if where else self.message

    def __str__(self) -> str:
        return self.describe()


class ScriptImportError(ValueError):
    """Every problem of one file; ``unit`` names what ``row`` counts ("row" for CSV,
    "segment" for YAML)."""

    def __init__(self, errors: list[ImportProblem], *, unit: str = "row") -> None:
        self.errors = list(errors)
        self.unit = unit
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(problem.describe(self.unit) for problem in self.errors)


class _Problems(list[ImportProblem]):
    def add(self, row: int | None, column: str | None, message: str) -> None:
        self.append(ImportProblem(row, column, message))


# --- checks shared by both formats -----------------------------------------------------

def _check_duration(seconds: int, row: int, column: str, problems: _Problems) -> int | None:
    if seconds <= 0:
        problems.add(row, column, "the duration must be longer than 00:00")
        return None
    if seconds > MAX_SEGMENT_S:
        problems.add(row, column, f"{format_duration(seconds)} is longer than {format_duration(MAX_SEGMENT_S)}")
        return None
    return seconds


def _check_start(seconds: int, row: int | None, column: str, problems: _Problems) -> int | None:
    if seconds > MAX_START_S:
        problems.add(row, column, f"{format_duration(seconds)} is later than {format_duration(MAX_START_S)}")
        return None
    return seconds


def _check_title(title: str, row: int, column: str, problems: _Problems) -> str:
    title = title.strip()
    if not title:
        problems.add(row, column, "the segment needs a title")
    elif len(title) > MAX_TITLE_CHARS:
        problems.add(row, column, f"the title is longer than {MAX_TITLE_CHARS} characters")
    return title


def _check_length(text: str, limit: int, row: int, column: str, problems: _Problems) -> str:
    if len(text) > limit:
        problems.add(row, column, f"longer than {limit} characters")
    return text


def _check_online_target(value: Any, row: int, column: str, problems: _Problems) -> int | None:
    """A segment's online target: blank for none, else a whole number of viewers."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = int(str(value).strip().replace(",", "")) if not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or not 1 <= number <= MAX_ONLINE_TARGET:
        problems.add(row, column, f"{value!r} is not a number of viewers (1–{MAX_ONLINE_TARGET:,})")
        return None
    return number


def _check_kind(value: str, row: int, column: str, problems: _Problems) -> str:
    value = value.strip()
    if not value:
        return DEFAULT_KIND
    kind = _KIND_NAMES.get(value) or _KIND_NAMES.get(value.lower())
    if kind is None:
        names = ", ".join(f"{key}/{SEGMENT_KIND_NAMES[key][0]}" for key in SEGMENT_KINDS)
        problems.add(row, column, f"unknown kind {value!r} (one of {names})")
        return DEFAULT_KIND
    return kind


def _check_cue(number: int, offset: int, text: str, audience: str, duration: int | None,
               row: int, column: str, problems: _Problems) -> Cue | None:
    ok = True
    text = text.strip()
    if not text:
        problems.add(row, column, f"cue {number} at {format_duration(offset)} has no text")
        ok = False
    elif len(text) > MAX_CUE_TEXT_CHARS:
        problems.add(row, column, f"cue {number}: the text is longer than {MAX_CUE_TEXT_CHARS} characters")
        ok = False
    if duration is not None and offset > duration:
        problems.add(row, column, f"cue {number} at {format_duration(offset)} is past the end of the segment "
                                  f"({format_duration(duration)})")
        ok = False
    return Cue(offset, text, audience) if ok else None


# --- YAML ------------------------------------------------------------------------------

_YAML_HEADER = ("# controlroom run-of-show script (分钟级流程脚本). Durations and offsets: mm:ss or h:mm:ss.\n"
                "# kind: " + ", ".join(SEGMENT_KINDS) + "; cue audience: " + ", ".join(AUDIENCES) + ".\n")


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Multi-line talk points as literal blocks, as a person would write them.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def to_yaml(script: Script) -> str:
    document: dict[str, Any] = {}
    if script.planned_total_s is not None:
        document["planned_total"] = format_duration(script.planned_total_s)
    segments = []
    for segment in script.segments:
        item: dict[str, Any] = {"title": segment.title, "kind": segment.kind,
                                "duration": format_duration(segment.planned_s)}
        if segment.sku:
            item["sku"] = segment.sku
        if segment.talk_points:
            item["talk_points"] = segment.talk_points
        if segment.notes:
            item["notes"] = segment.notes
        if segment.starts_at_s is not None:
            item["starts_at"] = format_duration(segment.starts_at_s)
        if segment.online_target is not None:
            item["online_target"] = segment.online_target
        if segment.cues:
            item["cues"] = [{"at": format_duration(cue.offset_s), "text": cue.text, "audience": cue.audience}
                            for cue in segment.cues]
        segments.append(item)
    if script.products:
        document["products"] = [_yaml_product_item(product) for product in script.products]
    document["segments"] = segments
    return _YAML_HEADER + yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False,
                                    default_flow_style=False, width=100)


_YAML_SEGMENT_KEYS = ("title", "kind", "duration", "sku", "talk_points", "notes", "starts_at", "online_target", "cues")
_YAML_PRODUCT_KEYS = ("sku", "name", "price", "stock", "on_shelf")


def _yaml_product_item(product: Product) -> dict[str, Any]:
    item: dict[str, Any] = {"sku": product.sku}
    if product.name:
        item["name"] = product.name
    if product.price_cents is not None:
        yuan = Decimal(product.price_cents) / 100
        item["price"] = int(yuan) if yuan == int(yuan) else float(yuan)
    if product.stock is not None:
        item["stock"] = product.stock
    if not product.on_shelf:
        item["on_shelf"] = False
    return item


def _price_cents(value: Any) -> int | None:
    """A price in yuan (59.9, "59.90", "¥59.9") as cents; None if it is not one."""
    if isinstance(value, bool):
        return None
    try:
        yuan = Decimal(str(value).strip().lstrip("¥￥").strip())
    except InvalidOperation:
        return None
    if not yuan.is_finite() or yuan < 0 or yuan > MAX_PRICE_YUAN or yuan != yuan.quantize(Decimal("0.01")):
        return None
    return int(yuan * 100)


def _yaml_products(value: Any, problems: _Problems) -> tuple[Product, ...]:
    """The show's product list: sku, name, price (yuan), stock, on_shelf (rows P1, P2 …)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.add(None, "products", "expected a list of products (sku, name, price, stock)")
        return ()
    if len(value) > MAX_PRODUCTS:
        problems.add(None, "products", f"{len(value)} products, more than {MAX_PRODUCTS}")
        return ()
    products, seen = [], set()
    for number, item in enumerate(value, start=1):
        column = f"products {number}"
        if not isinstance(item, dict):
            problems.add(None, column, "a product must be a mapping (sku, name, price, stock)")
            continue
        before = len(problems)
        for key in item:
            if key not in _YAML_PRODUCT_KEYS:
                problems.add(None, f"{column}: {key}", f"unknown key (known: {', '.join(_YAML_PRODUCT_KEYS)})")
        sku = (_yaml_text(item.get("sku"), 0, f"{column}: sku", problems) or "").strip()
        if not sku:
            problems.add(None, f"{column}: sku", "the product needs a SKU")
        elif len(sku) > MAX_SKU_CHARS:
            problems.add(None, f"{column}: sku", f"longer than {MAX_SKU_CHARS} characters")
        elif sku in seen:
            problems.add(None, f"{column}: sku", f"{sku!r} is listed twice")
        seen.add(sku)
        name = _yaml_text(item.get("name"), 0, f"{column}: name", problems) or ""
        if len(name) > MAX_PRODUCT_NAME_CHARS:
            problems.add(None, f"{column}: name", f"longer than {MAX_PRODUCT_NAME_CHARS} characters")
        price = None
        if item.get("price") is not None:
            price = _price_cents(item["price"])
            if price is None:
                problems.add(None, f"{column}: price", f"{item['price']!r} is not a price in yuan (for example 59.9)")
        stock = item.get("stock")
        if stock is not None and (isinstance(stock, bool) or not isinstance(stock, int) or not 0 <= stock <= MAX_STOCK):
            problems.add(None, f"{column}: stock", f"{stock!r} is not a number of units (0–{MAX_STOCK:,})")
        on_shelf = item.get("on_shelf", True)
        if not isinstance(on_shelf, bool):
            problems.add(None, f"{column}: on_shelf", f"{on_shelf!r} is not true or false")
        if len(problems) == before:
            products.append(Product(sku=sku, name=name.strip(), price_cents=price, stock=stock, on_shelf=on_shelf))
    return tuple(products)
_YAML_CUE_KEYS = ("at", "text", "audience")


def _yaml_seconds(value: Any, row: int | None, column: str, problems: _Problems, what: str = "") -> int | None:
    # YAML 1.1 reads an unquoted 05:00 as the integer 300 already (base 60).
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError:
            pass
    problems.add(row, column, f"{what}{value!r} is not a duration (mm:ss or seconds)")
    return None


def _yaml_text(value: Any, row: int, column: str, problems: _Problems, what: str = "") -> str | None:
    """The text of a value, "" for none; None (and a problem) if it is not text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # an unquoted SKU such as 10023
    problems.add(row, column, f"{what}must be text, not {type(value).__name__}")
    return None


def _yaml_segment(row: int, item: Any, problems: _Problems) -> Segment | None:
    if not isinstance(item, dict):
        problems.add(row, None, "a segment must be a mapping (title, kind, duration, …)")
        return None
    before = len(problems)
    for key in item:
        if key not in _YAML_SEGMENT_KEYS:
            problems.add(row, str(key), f"unknown key (known: {', '.join(_YAML_SEGMENT_KEYS)})")

    def text(key: str, limit: int) -> str:
        value = _yaml_text(item.get(key), row, key, problems)
        return "" if value is None else _check_length(value, limit, row, key, problems)

    title = _yaml_text(item.get("title"), row, "title", problems)
    if title is not None:
        title = _check_title(title, row, "title", problems)
    kind = _yaml_text(item.get("kind"), row, "kind", problems)
    if kind is not None:
        kind = _check_kind(kind, row, "kind", problems)
    duration: int | None = None
    if item.get("duration") is None:
        problems.add(row, "duration", "the segment needs a duration (mm:ss)")
    else:
        seconds = _yaml_seconds(item["duration"], row, "duration", problems)
        duration = None if seconds is None else _check_duration(seconds, row, "duration", problems)
    sku = text("sku", MAX_SKU_CHARS).strip()
    talk_points = text("talk_points", MAX_TALK_POINTS_CHARS)
    notes = text("notes", MAX_NOTES_CHARS)
    starts_at: int | None = None
    if item.get("starts_at") is not None:
        seconds = _yaml_seconds(item["starts_at"], row, "starts_at", problems)
        starts_at = None if seconds is None else _check_start(seconds, row, "starts_at", problems)
    cues = _yaml_cues(item.get("cues"), duration, row, problems)
    online_target = _check_online_target(item.get("online_target"), row, "online_target", problems)
    if len(problems) > before or duration is None or title is None or kind is None:
        return None
    return Segment(title=title, kind=kind, planned_s=duration, sku=sku, talk_points=talk_points, notes=notes,
                   cues=cues, starts_at_s=starts_at, online_target=online_target)


def _yaml_cues(value: Any, duration: int | None, row: int, problems: _Problems) -> tuple[Cue, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.add(row, "cues", "must be a list of {at, text, audience}")
        return ()
    if len(value) > MAX_CUES_PER_SEGMENT:
        problems.add(row, "cues", f"more than {MAX_CUES_PER_SEGMENT} cues")
        return ()
    cues = []
    for number, item in enumerate(value, start=1):
        what = f"cue {number}: "
        if not isinstance(item, dict):
            problems.add(row, "cues", f"{what}must be a mapping {{at, text, audience}}")
            continue
        unknown = [str(key) for key in item if key not in _YAML_CUE_KEYS]
        if unknown:
            problems.add(row, "cues", f"{what}unknown key {', '.join(unknown)} (known: at, text, audience)")
        if item.get("at") is None:
            problems.add(row, "cues", f"{what}needs an offset (at: mm:ss)")
            continue
        offset = _yaml_seconds(item["at"], row, "cues", problems, what)
        text = _yaml_text(item.get("text"), row, "cues", problems, what)
        audience = item.get("audience", "both")
        if audience not in AUDIENCES:
            problems.add(row, "cues", f"{what}unknown audience {audience!r} (one of {', '.join(AUDIENCES)})")
            continue
        if offset is not None and text is not None:
            cue = _check_cue(number, offset, text, audience, duration, row, "cues", problems)
            if cue is not None:
                cues.append(cue)
    return tuple(cues)


def from_yaml(text: str | bytes) -> Script:
    problems = _Problems()
    decoded = _decode(text, problems)
    if problems:
        raise ScriptImportError(problems, unit="segment")
    try:
        document = yaml.safe_load(decoded)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise ScriptImportError([ImportProblem(None, None, f"not valid YAML{where}: {reason}")], unit="segment") from None
    except RecursionError:
        raise ScriptImportError([ImportProblem(None, None, "not valid YAML: nested too deeply")], unit="segment") from None
    if isinstance(document, list):  # a bare list of segments
        document = {"segments": document}
    if not isinstance(document, dict):
        raise ScriptImportError([ImportProblem(None, None, "expected a mapping with planned_total and segments")],
                                unit="segment")
    for key in document:
        if key not in ("planned_total", "products", "segments"):
            problems.add(None, str(key), "unknown key (known: planned_total, products, segments)")
    planned_total: int | None = None
    if document.get("planned_total") is not None:
        seconds = _yaml_seconds(document["planned_total"], None, "planned_total", problems)
        if seconds is not None and seconds <= 0:
            problems.add(None, "planned_total", "the planned total must be longer than 00:00")
        elif seconds is not None:
            planned_total = _check_start(seconds, None, "planned_total", problems)
    items = document.get("segments")
    segments: list[Segment] = []
    if not isinstance(items, list):
        problems.add(None, "segments", "expected a list of segments")
    elif len(items) > MAX_SEGMENTS:
        problems.add(None, "segments", f"{len(items)} segments, more than {MAX_SEGMENTS}")
    else:
        for row, item in enumerate(items, start=1):
            segment = _yaml_segment(row, item, problems)
            if segment is not None:
                segments.append(segment)
    products = _yaml_products(document.get("products"), problems)
    if problems:
        raise ScriptImportError(problems, unit="segment")
    return Script(segments=tuple(segments), planned_total_s=planned_total, products=products)


# --- CSV -------------------------------------------------------------------------------

# Cue items split at ；/;/newline only where the next item starts with its time, so
# a cue text may itself hold a ； ("开福袋；提醒点关注").
_CUE_SPLIT = re.compile(r"\s*[；;\r\n]+\s*(?=\+?\d{1,4}[:：]\d)")
_CUE_ITEM = re.compile(r"\+?((?:\d{1,3}[:：])?\d{1,4}[:：]\d\d)(?![\d:：])\s*(.*)", re.S)
_CUE_AUDIENCE = re.compile(r"\s*[@＠]\s*([^\s@＠]+)\s*$")


def _looks_like_audience(text: str) -> bool:
    """Would a cue text ending like this be read as an audience suffix (or a typo of one)?"""
    suffix = _CUE_AUDIENCE.search(text)
    if suffix is None:
        return False
    name = suffix.group(1)
    return name in _AUDIENCE_NAMES or name.lower() in _AUDIENCE_NAMES or (name.isascii() and name.isalpha())


def _cue_cell(cues: tuple[Cue, ...]) -> str:
    items = []
    for cue in cues:
        text = cue.text
        suffix = _AUDIENCE_SUFFIX[cue.audience]
        if cue.audience == "both" and not _looks_like_audience(text):
            suffix = ""  # "both" is the default
        items.append(f"{format_duration(cue.offset_s)} {text}" + (f"@{suffix}" if suffix else ""))
    return "\n".join(items)


def _parse_cue_cell(cell: str, duration: int | None, row: int, column: str, problems: _Problems) -> tuple[Cue, ...]:
    cell = cell.strip().strip("；;").strip()
    if not cell:
        return ()
    items = [item for item in _CUE_SPLIT.split(cell) if item.strip("；; \t\r\n")]
    if len(items) > MAX_CUES_PER_SEGMENT:
        problems.add(row, column, f"more than {MAX_CUES_PER_SEGMENT} cues")
        return ()
    cues = []
    for number, item in enumerate(items, start=1):
        item = item.strip()
        match = _CUE_ITEM.fullmatch(item)
        if match is None:
            problems.add(row, column, f"cue {number} {item!r} does not start with its time (mm:ss 文本)")
            continue
        try:
            offset = parse_duration(match.group(1))
        except ValueError as exc:
            problems.add(row, column, f"cue {number}: {exc}")
            continue
        text, audience = match.group(2), "both"
        suffix = _CUE_AUDIENCE.search(text)
        if suffix is not None:
            name = suffix.group(1)
            known = _AUDIENCE_NAMES.get(name) or _AUDIENCE_NAMES.get(name.lower())
            if known is not None:
                text, audience = text[:suffix.start()], known
            elif name.isascii() and name.isalpha():  # "@hots": a typo, not "感谢@小明"
                problems.add(row, column, f"cue {number}: unknown audience '@{name}' (@主播, @场控, @全部 or "
                                          "@host, @controller, @both)")
                continue
        cue = _check_cue(number, offset, text, audience, duration, row, column, problems)
        if cue is not None:
            cues.append(cue)
    return tuple(cues)


def to_csv(script: Script) -> str:
    """A UTF-8 CSV with a BOM (so Excel reads the Chinese) and one row per segment.
    ValueError if a cue text cannot be written so that it reads back the same (it
    ends with a ； or holds a ； followed by a time)."""
    rows = []
    start = 0
    for number, segment in enumerate(script.segments, start=1):
        if segment.starts_at_s is not None:
            start = segment.starts_at_s
        cues = _cue_cell(segment.cues)
        if _parse_cue_cell(cues, None, 0, "", _Problems()) != segment.cues:
            raise ValueError(f"segment {number}: a cue text cannot be written to CSV as it is")
        rows.append((format_duration(start), format_duration(segment.planned_s), segment.title,
                     SEGMENT_KIND_NAMES[segment.kind][0], segment.sku, segment.talk_points, cues, segment.notes,
                     "" if segment.online_target is None else str(segment.online_target)))
        start += segment.planned_s
    # csv_text defuses cells a spreadsheet would run as formulas (a talk point "-5 元立减"
    # is written "'-5 元立减"); from_csv takes that quote off again.
    return csv_text(rows, list(CSV_HEADERS.values()))


def _header_key(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


def _decode(data: str | bytes, problems: _Problems) -> str:
    """Text of a file: UTF-8 with or without BOM, UTF-16 with a BOM (Excel's "Unicode
    text"), or GB18030 (Excel's default CSV on a Chinese Windows)."""
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > MAX_TEXT_BYTES:
        problems.add(None, None, f"the file is larger than {MAX_TEXT_BYTES // (1024 * 1024)} MB")
        return ""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    problems.add(None, None, "the file is neither UTF-8 nor GB18030 text")
    return ""


def _sniff_delimiter(text: str) -> str:
    """Comma, tab or semicolon: whichever the header line holds most of."""
    header = next((line for line in text.split("\n") if line.strip()), "")
    counts = {delimiter: header.count(delimiter) for delimiter in (",", "\t", ";")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def from_csv(text: str | bytes, *, planned_total_s: int | None = None) -> Script:
    """A script from a spreadsheet's CSV (comma or tab separated, with or without BOM).
    The CSV has no planned total: ``planned_total_s`` is put into the Script as given."""
    problems = _Problems()
    decoded = _decode(text, problems)
    if problems:
        raise ScriptImportError(problems)
    try:
        records = list(csv.reader(io.StringIO(decoded, newline=""), delimiter=_sniff_delimiter(decoded)))
    except csv.Error as exc:
        raise ScriptImportError([ImportProblem(None, None, f"not a readable CSV file: {exc}")]) from None
    first = next((index for index, record in enumerate(records) if any(cell.strip() for cell in record)), None)
    if first is None:
        raise ScriptImportError([ImportProblem(None, None, "the file is empty (expected a header row: 开始, 时长, 环节, …)")])
    header_row = first + 1

    columns: dict[str, tuple[int, str]] = {}  # field -> (index, header as written)
    lookup = {_header_key(alias): field for field, aliases in _CSV_ALIASES.items() for alias in aliases}
    for index, raw in enumerate(records[first]):
        header = raw.strip().removeprefix("\ufeff").strip()
        field = lookup.get(_header_key(header))
        if field is None:
            continue  # a column of the team's own
        if field in columns:
            problems.add(header_row, header, f"a second column for {CSV_HEADERS[field]} (the first is {columns[field][1]!r})")
            continue
        columns[field] = (index, header)
    for field in _CSV_REQUIRED:
        if field not in columns:
            names = " / ".join(_CSV_ALIASES[field][:1] + _CSV_ALIASES[field][-1:])
            problems.add(header_row, CSV_HEADERS[field], f"the column is missing ({names})")

    rows = [(number, record) for number, record in enumerate(records[first + 1:], start=header_row + 1)
            if any(record[index].strip() for index, _ in columns.values() if index < len(record))]
    if len(rows) > MAX_SEGMENTS:
        problems.add(None, None, f"{len(rows)} segments, more than {MAX_SEGMENTS}")
        raise ScriptImportError(problems)

    segments: list[Segment] = []
    running: int | None = 0  # where the next segment starts when it has no fixed start
    for row, record in rows:
        segment, running = _csv_segment(row, record, columns, running, problems)
        if segment is not None:
            segments.append(segment)
    if problems:
        raise ScriptImportError(problems)
    return Script(segments=tuple(segments), planned_total_s=planned_total_s)


def _csv_segment(row: int, record: list[str], columns: dict[str, tuple[int, str]], running: int | None,
                 problems: _Problems) -> tuple[Segment | None, int | None]:
    def cell(field: str) -> tuple[str, str]:
        if field not in columns:
            return "", CSV_HEADERS[field]
        index, header = columns[field]
        # to_csv put a quote before a cell a spreadsheet would run as a formula ("'-5 元立减");
        # restore_cell takes off exactly that one quote, so export -> import gives back the
        # same text (a cell that itself began "'=" was written "''=" and keeps its own quote).
        value = restore_cell(record[index]).replace("\r\n", "\n") if index < len(record) else ""
        return value, header

    before = len(problems)
    value, header = cell("title")
    title = _check_title(value, row, header, problems)
    value, header = cell("kind")
    kind = _check_kind(value, row, header, problems)
    value, header = cell("duration")
    duration: int | None = None
    if "duration" in columns:
        if not value.strip():
            problems.add(row, header, "the segment needs a duration (mm:ss)")
        else:
            try:
                duration = _check_duration(parse_duration(value), row, header, problems)
            except ValueError as exc:
                problems.add(row, header, str(exc))
    value, header = cell("start")
    start: int | None = None
    if value.strip():
        try:
            start = _check_start(parse_duration(value), row, header, problems)
        except ValueError as exc:
            problems.add(row, header, str(exc))
    value, header = cell("sku")
    sku = _check_length(value.strip(), MAX_SKU_CHARS, row, header, problems)
    value, header = cell("talk_points")
    talk_points = _check_length(value, MAX_TALK_POINTS_CHARS, row, header, problems)
    value, header = cell("notes")
    notes = _check_length(value, MAX_NOTES_CHARS, row, header, problems)
    value, header = cell("cues")
    cues = _parse_cue_cell(value, duration, row, header, problems)
    value, header = cell("online_target")
    online_target = _check_online_target(value, row, header, problems)

    # 开始 equal to the running start is just the running clock; a different one is fixed.
    starts_at = start if start is not None and start != running else None
    begin = start if start is not None else running
    next_running = None if begin is None or duration is None else begin + duration
    if len(problems) > before or duration is None:
        return None, next_running
    segment = Segment(title=title, kind=kind, planned_s=duration, sku=sku, talk_points=talk_points, notes=notes,
                      cues=cues, starts_at_s=starts_at, online_target=online_target)
    return segment, next_running
