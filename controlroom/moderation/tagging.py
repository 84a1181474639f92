"""The tagger the worker applies to comments: moderation hits as (start, end, category)."""

from __future__ import annotations

from controlroom.metrics.state import Tagger


def default_tagger() -> Tagger:
    from controlroom.moderation.matcher import default_matcher

    matcher = default_matcher()

    def tag(text: str) -> list[tuple[int, int, str]]:
        return [(hit.start, hit.end, hit.category) for hit in matcher.scan(text)]

    return tag
