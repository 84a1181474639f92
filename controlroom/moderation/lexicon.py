"""The built-in lexicon: category keys and labels, default terms and allow-list.

The terms live in ``lexicon_default.yaml`` beside this module so that people who do not
read Python can review and extend them; this module turns that file into plain data and
refuses a malformed one loudly, because a silently dropped term is a compliance gap
nobody notices.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

import yaml

from controlroom.moderation.normalise import normalise

DEFAULT_LEXICON_FILE = Path(__file__).with_name("lexicon_default.yaml")

SEVERITIES = (1, 2, 3)


class CategoryLabel(NamedTuple):
    zh_cn: str
    en: str


# The built-in categories, in the order the UI lists them. Staff may add categories of
# their own; these keys are the ones the default lexicon and the rules engine know.
CATEGORIES: MappingProxyType[str, CategoryLabel] = MappingProxyType({
    "absolute": CategoryLabel("绝对化用语", "Absolute terms (Advertising Law)"),
    "doubt": CategoryLabel("质疑产品", "Product doubt"),
    "complaint": CategoryLabel("投诉与监管", "Complaint / regulator"),
    "after_sale": CategoryLabel("售后问题", "After-sale"),
    "abuse": CategoryLabel("辱骂与引流", "Abuse / spam"),
})
# [key, name, name_en] of each built-in category: the feed's filter before the
# lexicon is published.
BUILTIN_CATEGORIES = [[key, label.zh_cn, label.en] for key, label in CATEGORIES.items()]


@dataclass(frozen=True, slots=True)
class Term:
    """One lexicon entry as staff wrote it; the matcher folds ``text`` itself.

    ``whole_word``: a hit counts only where the term stands on its own in the comment as
    typed, not inside a longer word or number (see ``matcher``): not next to an ASCII
    letter or digit for an edge of the term that is one, not next to another ideograph
    for an edge that is CJK. Left out (``None``), it is decided here: true for a term
    made only of digits once folded ("315", "１２３１５"), whose hits must be whole
    numbers (31.5 and 3150 are not 315), false for every other term.
    """

    text: str
    category: str
    severity: int
    whole_word: bool | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise ValueError(f"lexicon term must be non-empty text, got {self.text!r}")
        if not isinstance(self.category, str) or not self.category:
            raise ValueError(f"lexicon term {self.text!r} has no category")
        if self.severity not in SEVERITIES:
            raise ValueError(f"lexicon term {self.text!r}: severity must be 1, 2 or 3, "
                             f"got {self.severity!r}")
        if self.whole_word is None:
            object.__setattr__(self, "whole_word", is_number_term(self.text))
        elif not isinstance(self.whole_word, bool):
            raise ValueError(f"lexicon term {self.text!r}: whole_word must be true or "
                             f"false, got {self.whole_word!r}")


def is_number_term(text: str) -> bool:
    """Whether ``text`` folds to ASCII digits only (full-width digits fold to ASCII)."""
    folded = normalise(text)
    return bool(folded) and folded.isascii() and folded.isdigit()


@cache
def _load_default() -> dict[str, Any]:
    with DEFAULT_LEXICON_FILE.open(encoding="utf-8") as file:
        return yaml.load(file, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _text_entry(value: object, where: str) -> str:
    # YAML reads an unquoted 315 as a number: refuse it rather than guess, so the
    # file's author quotes it and nobody wonders why "0315" became 315.
    if not isinstance(value, str):
        raise ValueError(f"{DEFAULT_LEXICON_FILE.name}: {where}: {value!r} is not text "
                         "(quote terms made of digits)")
    return value


def default_terms() -> list[Term]:
    """The default terms, category by category in ``CATEGORIES`` order, severity 3 first."""
    categories = _load_default()["categories"]
    unknown = set(categories) - set(CATEGORIES)
    if unknown:
        raise ValueError(f"{DEFAULT_LEXICON_FILE.name}: unknown categories {sorted(unknown)}")
    terms: list[Term] = []
    for category in CATEGORIES:
        by_severity = categories.get(category) or {}
        for severity in sorted(by_severity, reverse=True):
            for value in by_severity[severity] or ():
                where = f"{category}/{severity}"
                whole_word = None
                if isinstance(value, dict):  # {text: ..., whole_word: true}
                    unknown_keys = set(value) - {"text", "whole_word"}
                    if unknown_keys or "text" not in value:
                        raise ValueError(f"{DEFAULT_LEXICON_FILE.name}: {where}: {value!r} "
                                         "needs a text and may have whole_word, nothing else")
                    whole_word = value.get("whole_word")
                    if whole_word is not None and not isinstance(whole_word, bool):
                        raise ValueError(f"{DEFAULT_LEXICON_FILE.name}: {where}: whole_word "
                                         f"of {value['text']!r} must be true or false")
                    value = value["text"]
                text = _text_entry(value, where)
                terms.append(Term(text, category, severity, whole_word))
    return terms


def default_allow() -> list[str]:
    """Phrases that contain a default term but are harmless (最近, 第一次, 垃圾袋 …)."""
    return [_text_entry(value, "allow") for value in _load_default().get("allow") or ()]
