"""Platform adapters: signed platform pushes → canonical events (pure; see base.py).

Importing this package registers every adapter in `ADAPTERS` (platform name → adapter).
To add a platform, write one module like douyin.py and import it here.
"""

from __future__ import annotations

from controlroom.ingest.adapters import doudian, douyin, kuaishou
from controlroom.ingest.adapters.base import (
    ADAPTERS,
    Adapter,
    PushRejected,
    SignatureRejected,
    Translated,
)

__all__ = [
    "ADAPTERS", "Adapter", "PushRejected", "SignatureRejected", "Translated", "adapter", "doudian", "douyin", "kuaishou",
]


def adapter(platform: str) -> Adapter:
    """The adapter for `platform`; KeyError naming the known platforms otherwise."""
    try:
        return ADAPTERS[platform]
    except KeyError:
        raise KeyError(f"no adapter for platform {platform!r}; known: {', '.join(sorted(ADAPTERS))}") from None
