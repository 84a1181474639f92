"""A refusal reaches the person in their language: every refusal is built from a constant
message id (never a sentence formatted beforehand), `make messages` extracts it, and the
zh-CN catalog says it in Chinese with the same placeholders."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import controlroom
from controlroom.alerts.lifecycle import InvalidTransition
from controlroom.alerts.service import AlertActionRefused
from controlroom.i18n import translations
from controlroom.i18n.refusal import Refusal
from controlroom.paths import LOCALES_DIR
from controlroom.playbooks.runner import RunRefused
from controlroom.shows.engine import ActionRefused
from controlroom.shows.service import MessageRefused

PACKAGE = Path(controlroom.__file__).parent
ROOT = PACKAGE.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _trees() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(), filename=str(path)) for path in sorted(PACKAGE.rglob("*.py"))}


TREES = _trees()


def _name(node: ast.expr) -> str | None:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def _refusal_classes() -> set[str]:
    """Refusal and every class of the package that derives from it, by name."""
    names = {"Refusal"}
    classes = [node for tree in TREES.values() for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    while True:
        more = {c.name for c in classes if c.name not in names and any(_name(b) in names for b in c.bases)}
        if not more:
            return names
        names |= more


CLASSES = _refusal_classes()


def _refusals() -> list[tuple[str, ast.Call]]:
    """Every call that builds a refusal: (where, call)."""
    return [
        (f"{path.relative_to(ROOT)}:{node.lineno}", node)
        for path, tree in TREES.items() for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _name(node.func) in CLASSES
    ]


REFUSALS = _refusals()


def _message_ids() -> set[str]:
    return {call.args[0].value for _, call in REFUSALS
            if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)}


def _catalog(path: Path):
    with path.open("rb") as file:
        return read_po(file)


def test_the_refusals_people_meet_are_refusals():
    for refused in (ActionRefused, RunRefused, AlertActionRefused, MessageRefused, InvalidTransition):
        assert issubclass(refused, Refusal) and issubclass(refused, ValueError)
        assert refused.__name__ in CLASSES
    assert len(REFUSALS) > 40


def test_every_refusal_is_built_from_a_constant_message_id_with_its_values_as_params():
    wrong = []
    for where, call in REFUSALS:
        first = call.args[0] if call.args else None
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)) or len(call.args) != 1:
            wrong.append(f"{where}: {ast.unparse(call)[:100]}")
            continue
        if any(keyword.arg is None for keyword in call.keywords):
            continue  # **params: checked where they are built
        named = {keyword.arg for keyword in call.keywords}
        if named != set(PLACEHOLDER.findall(first.value)):
            wrong.append(f"{where}: placeholders {sorted(PLACEHOLDER.findall(first.value))} but params {sorted(named)}")
    assert wrong == [], "a refusal takes a constant message id with %(name)s placeholders, values as params"


def test_every_refusal_has_a_chinese_translation_with_the_same_placeholders():
    catalog = _catalog(LOCALES_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po")
    untranslated, mismatched = [], []
    for message_id in sorted(_message_ids()):
        message = catalog.get(message_id)
        if message is None or not message.string or message.fuzzy or message.string == message_id:
            untranslated.append(message_id)
        elif sorted(PLACEHOLDER.findall(message.string)) != sorted(PLACEHOLDER.findall(message_id)):
            mismatched.append((message_id, message.string))
    assert untranslated == []
    assert mismatched == []


def test_every_refusal_is_in_the_template_and_extracted_by_make_messages():
    template = _catalog(PACKAGE / "i18n" / "messages.pot")
    assert sorted(m for m in _message_ids() if m not in template) == []
    extract = next(line for line in (ROOT / "Makefile").read_text().replace("\\\n", " ").splitlines()
                   if "pybabel extract" in line)
    assert sorted(name for name in CLASSES if f"-k {name}" not in extract) == []


@pytest.mark.parametrize(("locale", "expected"), [
    ("zh_CN", "秒数：只能延长或缩短 60 秒或 300 秒，不能是 90"),
    ("en", "seconds: extend by ±60 or ±300, not 90"),
])
def test_a_refusal_says_itself_in_the_readers_language(locale, expected):
    refused = ActionRefused("seconds: extend by ±60 or ±300, not %(seconds)s", seconds=90)
    assert refused.translated(translations(locale).gettext) == expected
    assert str(refused) == "seconds: extend by ±60 or ±300, not 90"  # logs and tests: English


def test_values_from_people_are_not_read_as_placeholders():
    refused = RunRefused("“%(playbook)s” is already running in this room (started by %(who)s)",
                         playbook="100% 好评 %(who)s", who="小王")
    assert refused.translated(translations("zh_CN").gettext) == "「100% 好评 %(who)s」已在本直播间执行中（由 小王 启动）"
    assert str(refused) == "“100% 好评 %(who)s” is already running in this room (started by 小王)"
