"""The hot-question groups' words as lexicon terms, for the matcher's one automaton."""

from __future__ import annotations

from typing import Iterable

from controlroom.metrics.questions import QUESTION, TOPIC, QuestionGroup, question_groups
from controlroom.moderation.lexicon import Term


def question_terms(groups: Iterable[QuestionGroup] | None = None) -> list[Term]:
    terms = []
    for group in groups or question_groups():
        terms += [Term(word, QUESTION + group.key, 1) for word in group.questions]
        terms += [Term(word, TOPIC + group.key, 1) for word in group.topics]
    return terms
