"""Issue 17: digit terms match whole numbers only; any term can be whole-word only."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from controlroom.moderation.lexicon import Term, default_terms
from controlroom.moderation.matcher import Matcher, default_matcher

LABELLED = yaml.safe_load((Path(__file__).parent / "data" / "labelled_comments.yaml")
                          .read_text(encoding="utf-8"))["comments"]


def every_path(matcher: Matcher, text: str) -> set[str]:
    """The categories of ``text``, checked to be the same on all four paths."""
    categories = matcher.categories(text)
    assert matcher.categories_many(["主播好美", text, "打315"])[1] == categories
    from_scan = {hit.category for hit in matcher.scan(text)}
    assert {hit.category for hit in matcher.scan_many(["打315", text, "假货"])[1]} == from_scan
    assert set(categories) == from_scan
    return from_scan


@pytest.mark.parametrize("text", ["31.5码有吗", "3150毫安那款有吗", "订单尾号3151"])
def test_the_numbers_of_the_issue_are_not_315(text: str) -> None:
    assert every_path(default_matcher(), text) == set()
    assert default_matcher().scan(text) == []


@pytest.mark.parametrize("text, original", [
    ("打315", "315"), ("3 1 5", "3 1 5"), ("去3·15曝光", "3·15"), ("去3・15", "3・15"),
    ("3-15见", "3-15"), ("3.15晚会", "3.15"), ("３１５", "３１５"), ("打12315", "12315"),
    ("打１２３１５", "１２３１５"), ("315！", "315"),
])
def test_evasive_spacing_still_matches_and_is_reported_as_typed(text: str, original: str) -> None:
    hits = [hit for hit in default_matcher().scan(text) if hit.term in ("315", "12315")]
    assert [hit.text_original for hit in hits] == [original]
    assert [hit.text_original for hit in default_matcher().scan_many([text])[0]
            if hit.term in ("315", "12315")] == [original]


@pytest.mark.parametrize("text", ["31.5", "3，15", "3。15", "3:15", "1,315", "315.5", "0315",
                                  "3155", "315ml", "12315678", "3.1.5", "12.315"])
def test_other_numbers_do_not_match(text: str) -> None:
    assert every_path(default_matcher(), text) == set()


def test_digit_terms_are_whole_words_by_default_and_others_are_not() -> None:
    assert Term("315", "complaint", 3).whole_word is True
    assert Term("３１５", "complaint", 3).whole_word is True
    assert Term("投诉", "complaint", 3).whole_word is False
    assert Term("100%", "absolute", 2).whole_word is False
    assert Term("315", "complaint", 3, whole_word=False).whole_word is False
    by_text = {term.text: term for term in default_terms()}
    assert by_text["315"].whole_word and by_text["12315"].whole_word
    assert not by_text["投诉"].whole_word


def test_a_digit_term_marked_not_whole_word_matches_anywhere() -> None:
    matcher = Matcher.build([Term("315", "complaint", 3, whole_word=False)])
    assert every_path(matcher, "3150毫安") == {"complaint"}


def test_a_latin_whole_word_term_is_not_found_inside_a_longer_word() -> None:
    matcher = Matcher.build([Term("ass", "abuse", 2, whole_word=True)])
    assert every_path(matcher, "classic款") == set()
    assert every_path(matcher, "pass") == set()
    assert every_path(matcher, "you ass!") == {"abuse"}
    assert every_path(matcher, "主播ass") == {"abuse"}, "an ideograph is not a Latin letter"
    assert every_path(Matcher.build([Term("ass", "abuse", 2)]), "classic") == {"abuse"}


def test_a_cjk_whole_word_term_is_not_found_next_to_another_ideograph() -> None:
    matcher = Matcher.build([Term("水军", "doubt", 2, whole_word=True), Term("假货", "doubt", 3)])
    assert every_path(matcher, "潜水军团") == set()
    assert every_path(matcher, "水军！") == {"doubt"}
    assert every_path(matcher, "好多水军😀") == set(), "多 is an ideograph before it"
    assert every_path(matcher, "hi水军") == {"doubt"}
    assert every_path(matcher, "潜水军团卖假货") == {"doubt"}  # the other term still counts
    assert [hit.term for hit in matcher.scan("潜水军团卖假货")] == ["假货"]


def test_whole_word_is_read_from_the_yaml(tmp_path, monkeypatch) -> None:
    from controlroom.moderation import lexicon

    path = tmp_path / "lexicon.yaml"
    path.write_text('categories:\n  doubt:\n    2: [{text: 水军, whole_word: true}, 托儿]\n'
                    '  complaint:\n    3: ["315", {text: "12315", whole_word: false}]\n',
                    encoding="utf-8")
    monkeypatch.setattr(lexicon, "DEFAULT_LEXICON_FILE", path)
    lexicon._load_default.cache_clear()
    try:
        terms = {term.text: term.whole_word for term in lexicon.default_terms()}
        assert terms == {"水军": True, "托儿": False, "315": True, "12315": False}
        path.write_text('categories:\n  doubt:\n    2: [{text: 水军, whole: true}]\n',
                        encoding="utf-8")
        lexicon._load_default.cache_clear()
        with pytest.raises(ValueError, match="whole_word"):
            lexicon.default_terms()
    finally:
        lexicon._load_default.cache_clear()


@pytest.mark.parametrize("entry", [
    pytest.param(entry, id=entry["text"], marks=[pytest.mark.xfail(
        strict=True, reason=entry.get("why", "known gap"))] if entry.get("known_gap") else [])
    for entry in LABELLED])
def test_every_labelled_comment_gets_exactly_its_categories(entry: dict) -> None:
    assert every_path(default_matcher(), entry["text"]) == set(entry["expected"])


def test_the_labelled_set_is_big_enough_and_uses_real_categories() -> None:
    categories = {term.category for term in default_terms()}
    assert len(LABELLED) >= 150
    for entry in LABELLED:
        assert set(entry) <= {"text", "expected", "why", "known_gap"}
        assert set(entry["expected"]) <= categories
