"""Writing exports that people open in a spreadsheet, without CSV injection.

A cell whose text starts with ``=``, ``+``, ``-`` or ``@`` is run as a formula by
Excel, LibreOffice and Google Sheets (``=HYPERLINK(...)``, ``@SUM(...)``, ``-2+3``), and
a leading tab or carriage return hides such a start. Viewers type nicknames and
comments, staff type titles, SKUs and lexicon terms: every string cell we write goes
through :func:`safe_cell`, which does what OWASP recommends — a leading single quote,
so the cell is shown as text. Numbers we write ourselves (an over-run of -120 s) stay
numbers: only ``str`` cells are touched.

The quote is reversible. A string that after its leading quotes starts dangerously gets
one more quote (``'=x`` is written ``''=x``), so :func:`restore_cell` — strip one quote
where the writer would have added one — gives back exactly what was written, for the
exports that are imported again (run-of-show scripts, lexicon terms).

Low in the house: imports nothing from controlroom, so every domain may use it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# What a spreadsheet takes for the start of a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

BOM = "\ufeff"  # so Excel reads the file as UTF-8 (the Chinese stays Chinese)


def _dangerous(text: str) -> bool:
    return text.lstrip("'").startswith(FORMULA_START)


def safe_cell(value: Any) -> Any:
    """A string that a spreadsheet would run, with a leading ``'``; anything else as it is."""
    if isinstance(value, str) and _dangerous(value):
        return "'" + value
    return value


def restore_cell(text: str) -> str:
    """The inverse of :func:`safe_cell` for text read back from our own export."""
    if text.startswith("'") and _dangerous(text):
        return text[1:]
    return text


def csv_text(rows: Iterable[Sequence[Any] | Mapping[str, Any]], header: Sequence[str], *, bom: bool = True) -> str:
    """A CSV (``csv.writer`` defaults: comma, minimal quoting, CRLF line ends) with the
    header first; a row is a sequence in header order, or a mapping read by the header's
    names (a missing name is an empty cell). Every cell goes through :func:`safe_cell`."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(name) for name in header])
    for row in rows:
        cells = [row.get(name) for name in header] if isinstance(row, Mapping) else row
        writer.writerow([safe_cell(cell) for cell in cells])
    return (BOM if bom else "") + out.getvalue()
