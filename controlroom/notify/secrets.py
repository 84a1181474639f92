"""Sealing a channel's address and secret at rest: Fernet (AES-128-CBC with HMAC-SHA256,
from the `cryptography` package) under a key derived from CONTROLROOM_SECRET_KEY, so a
copy of the database alone cannot post into the team's chats."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


class Sealer:
    def __init__(self, secret_key: str) -> None:
        key = hashlib.sha256(b"controlroom.notify:" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode() if text else ""

    def open(self, sealed: str) -> str:
        """The text, or "" when it was sealed under another secret key."""
        if not sealed:
            return ""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return ""


def hint(text: str, *, keep: int = 4) -> str:
    """What may be shown again: the last few characters."""
    if not text:
        return ""
    return "••••" + text[-keep:] if len(text) > keep else "••••"


def url_hint(url: str) -> str:
    """Scheme and host of a robot's address, and the last four characters of the rest."""
    scheme, _, rest = url.partition("://")
    host, _, path = rest.partition("/")
    return f"{scheme}://{host}/…{path[-4:]}" if path else f"{scheme}://{host}"
