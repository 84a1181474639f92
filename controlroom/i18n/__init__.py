"""UI language: zh-CN first, English available, through Babel message catalogs.

Message ids are English; controlroom/i18n/locales/<locale>/LC_MESSAGES/messages.po
holds the translations. The .po files are compiled in memory at start-up, so there is
no build step and no binary file in the repository (see `make messages` to update).
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from io import BytesIO

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from controlroom.paths import LOCALES_DIR

SUPPORTED_LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


@lru_cache
def N_(message: str) -> str:
    """Marks a message for the catalogs (pybabel finds N_); it is translated where it is
    shown, in the reader's language."""
    return message


def translations(locale: str) -> gettext.NullTranslations:
    po_path = LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return gettext.NullTranslations()  # English: the message ids themselves
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=locale)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def normalise_locale(value: str | None) -> str | None:
    """'zh-CN', 'zh_cn', 'zh' -> 'zh_CN'; 'en-US' -> 'en'; anything else -> None."""
    if not value:
        return None
    try:
        parsed = Locale.parse(value.strip().replace("-", "_"))
    except (ValueError, TypeError):
        return None
    if parsed.language == "zh":
        return "zh_CN"
    if parsed.language == "en":
        return "en"
    return None


def pick_locale(*, query: str | None, cookie: str | None, default: str = DEFAULT_LOCALE) -> str:
    return normalise_locale(query) or normalise_locale(cookie) or default
