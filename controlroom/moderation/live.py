"""The lexicon a worker matches with, kept current: the version key is polled a few
times a second and the matcher rebuilt (off the event loop) when it changed."""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Callable

import orjson
import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError

from controlroom.bus import keys
from controlroom.metrics.state import Tagger
from controlroom.moderation.lexicon import default_allow, default_terms
from controlroom.moderation.matcher import Matcher
from controlroom.moderation.service import matcher_of

log = structlog.get_logger(__name__)

POLL_S = 0.25


class _Tagger:
    """Lexicon hits of a comment, or of a batch of comments in one pass (`many`)."""

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher

    def __call__(self, text: str) -> list[tuple[int, int, str]]:
        return [(hit.start, hit.end, hit.category) for hit in self.matcher.scan(text)]

    def many(self, texts: list[str]) -> list[list[tuple[int, int, str]]]:
        return [[(hit.start, hit.end, hit.category) for hit in hits] for hits in self.matcher.scan_many(texts)]


def tagger_of(matcher: Matcher) -> Tagger:
    return _Tagger(matcher)


@cache
def default_tagger() -> Tagger:
    """The built-in lexicon and question groups: until the published lexicon is read."""
    return tagger_of(matcher_of({"terms": [[t.text, t.category, t.severity] for t in default_terms()],
                                 "allow": default_allow()}))


class LiveLexicon:
    def __init__(self, client: aioredis.Redis) -> None:
        self.redis = client
        self.version: bytes | None = None
        # Until the published lexicon is read: the built-in one.
        self.tagger: Tagger = default_tagger()

    async def refresh(self) -> bool:
        """Rebuild if the published lexicon changed; returns whether it did."""
        version = await self.redis.get(keys.LEXICON_VERSION)
        if version is None or version == self.version:
            return False
        raw = await self.redis.get(keys.LEXICON)
        if raw is None:
            return False
        matcher = await asyncio.to_thread(lambda: matcher_of(orjson.loads(raw)))
        self.tagger = tagger_of(matcher)
        self.version = version
        log.info("lexicon.loaded", version=version.decode(), terms=len(matcher.terms))
        return True

    async def run(self, stop: asyncio.Event, on_change: Callable[[Tagger], None]) -> None:
        while not stop.is_set():
            try:
                if await self.refresh():
                    on_change(self.tagger)
            except (RedisError, ValueError) as exc:
                log.warning("lexicon.refresh_failed", error=str(exc))
            try:
                await asyncio.wait_for(stop.wait(), timeout=POLL_S)
            except asyncio.TimeoutError:
                pass


class PublishedMatcher:
    """The published lexicon's matcher for a web process (script checks), rebuilt when
    the version changes."""

    def __init__(self) -> None:
        self._version: bytes | None = None
        self._matcher: Matcher | None = None
        self._suggestions: dict[str, str] = {}

    async def get(self, client: aioredis.Redis) -> tuple[Matcher, dict[str, str]]:
        version = await client.get(keys.LEXICON_VERSION)
        if self._matcher is None or (version is not None and version != self._version):
            raw = await client.get(keys.LEXICON)
            if raw is None:
                return default_matcher_and_suggestions()
            data = orjson.loads(raw)
            self._matcher = await asyncio.to_thread(matcher_of, data)
            self._suggestions = {text: suggestion for text, _, _, suggestion, *_ in data["terms"] if suggestion}
            self._version = version
        return self._matcher, self._suggestions


@cache
def default_matcher_and_suggestions() -> tuple[Matcher, dict[str, str]]:
    return matcher_of({"terms": [[t.text, t.category, t.severity] for t in default_terms()],
                       "allow": default_allow()}), {}


# The one a web process reads the published lexicon through (script checks, exports,
# in-show corrections): one rebuild per lexicon version, not one per route module.
PUBLISHED = PublishedMatcher()
