"""Jinja2 rendering: one environment per UI language, autoescaping always on.

Every component is one partial under web/templates/partials/, rendered the same way for
the full page, an htmx response and a websocket push (with `oob=True`, which adds
hx-swap-oob to its root element).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import format_currency, format_decimal, format_percent
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from controlroom.metrics.questions import question_groups
from controlroom.i18n import LANGUAGE_NAMES, SUPPORTED_LOCALES, translations
from controlroom.paths import TEMPLATES_DIR

_BABEL_LOCALE = {"zh_CN": "zh_Hans_CN", "en": "en"}


# The only markup the highlight adds; both slots are filled with escaped text.
_MARK = '<mark class="hit" data-category="{category}">{text}</mark>'


def highlight(text: str, hits: list | None) -> Markup:
    """A comment with its moderation hits marked. The comment is typed by a stranger and
    a hit can span symbols inside it (假<b>货 hits 假货), so every piece of it — hit or
    not — and the category go through escape(); only the <mark> tags are ours."""
    pieces: list[str] = []
    position = 0
    for start, end, category in sorted(hits or []):
        if start < position or end > len(text):
            continue  # overlapping or stale offsets: leave the text as it is
        pieces.append(str(escape(text[position:start])))
        pieces.append(_MARK.format(category=escape(category), text=escape(text[start:end])))
        position = end
    pieces.append(str(escape(text[position:])))
    return Markup("".join(pieces))  # every piece above is escaped or our own tag


class Renderer:
    def __init__(self, *, tz: ZoneInfo) -> None:
        self.tz = tz
        self._envs = {locale: self._environment(locale) for locale in SUPPORTED_LOCALES}

    def render(self, template: str, *, locale: str, **context: Any) -> str:
        return self._envs[locale].get_template(template).render(locale=locale, **context)

    def _environment(self, locale: str) -> Environment:
        env = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR),
            autoescape=select_autoescape(["html"], default_for_string=True, default=True),
            extensions=["jinja2.ext.i18n"],
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
        babel_locale = _BABEL_LOCALE[locale]
        tz = self.tz

        def number(value: int | float | None) -> str:
            return "–" if value is None else format_decimal(round(value), locale=babel_locale)

        def money(cents: int | None) -> str:
            return "–" if cents is None else format_currency(cents / 100, "CNY", locale=babel_locale)

        def clock_time(ms: int | None) -> str:
            if not ms:
                return "–"
            return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).astimezone(tz).strftime("%H:%M:%S")

        def clock_date(ms: int | None) -> str:
            """A moment (ms) as a date and time of day in the show's time zone."""
            if not ms:
                return "–"
            return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).astimezone(tz).strftime("%Y-%m-%d %H:%M")

        def local_datetime(value: datetime | None) -> str:
            return "–" if value is None else value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")

        def percent(value: float | None) -> str:
            return "–" if value is None else format_percent(value, "#,##0.0%", locale=babel_locale)

        def duration(seconds: float | None) -> str:
            if seconds is None:
                return "–"
            minutes, secs = divmod(int(round(seconds)), 60)
            return f"{minutes}:{secs:02d}"

        def countdown(seconds: float | None) -> str:
            """Time left in a segment; past its end, counting up with a +."""
            if seconds is None:
                return "–"
            whole = int(round(abs(seconds)))
            return f"{'+' if seconds < 0 else ''}{whole // 60:02d}:{whole % 60:02d}"

        def measure(value: float | None) -> str:
            """A rule's measured value: fractions (rates, shares, changes) as percent."""
            if value is None:
                return "–"
            if value != 0 and abs(value) < 1:
                return percent(value)
            return format_decimal(round(value, 1), locale=babel_locale)

        env.filters.update(
            countdown=countdown, highlight=highlight, measure=measure, number=number, money=money, clock_time=clock_time, clock_date=clock_date, datetime=local_datetime, percent=percent,
            duration=duration,
        )
        env.globals.update(
            language_names=LANGUAGE_NAMES, timezone_name=str(tz),
            question_group_names={group.key: (group.name, group.name_en) for group in question_groups()},
        )
        return env
