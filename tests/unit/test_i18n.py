"""Every UI string has its Chinese translation: the UI speaks zh-CN first."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from controlroom.paths import LOCALES_DIR

ROOT = LOCALES_DIR.parents[2]


def test_every_ui_string_is_translated_to_chinese():
    method_map = [("controlroom/**.py", "python"), ("web/templates/**.html", "jinja2")]
    options = {"web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    used = {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options)
    }
    with (LOCALES_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    assert sorted(used - translated) == [], "run `make messages` and translate the new entries"
    assert len(used) > 50
