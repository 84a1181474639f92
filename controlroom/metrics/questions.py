"""Hot questions: which question group a comment belongs to. The groups (with their
quick replies) are read from controlroom/metrics/questions.yaml; their words go into
the same automaton as the lexicon (one pass per comment, see
controlroom/moderation/question_terms.py), under categories of their own: "?<group>"
for questions, "~<group>" for topics that count only in a question."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Sequence

import yaml

QUESTION, TOPIC = "?", "~"
QUESTION_MARKERS = re.compile(r"[?？吗嘛呢么]|怎么|几|多少|什么|哪|有没有|能不能|可不可以|是不是")


@dataclass(frozen=True)
class QuestionGroup:
    key: str
    name: str
    name_en: str
    questions: tuple[str, ...]
    topics: tuple[str, ...]
    replies: tuple[str, ...]


@cache
def question_groups() -> tuple[QuestionGroup, ...]:
    text = resources.files("controlroom").joinpath("metrics", "questions.yaml").read_text(encoding="utf-8")
    return tuple(
        QuestionGroup(key, spec["name"], spec.get("name_en", ""), tuple(spec["questions"]), tuple(spec.get("topics", ())),
                      tuple(spec.get("replies", ())))
        for key, spec in yaml.safe_load(text)["groups"].items()
    )


def is_moderation(category: str) -> bool:
    return not category.startswith((QUESTION, TOPIC))


def question_group(text: str, categories: Sequence[str]) -> str | None:
    """The group a comment asks about (the first it names), or None."""
    for category in categories:
        if category.startswith(QUESTION):
            return category[1:]
    if QUESTION_MARKERS.search(text):
        for category in categories:
            if category.startswith(TOPIC):
                return category[1:]
    return None
