"""Passwords (argon2id), random tokens and their hashes, and signed values."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeSerializer

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters

API_KEY_PREFIX = "crk_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# Spent on unknown usernames too, so timing does not tell which usernames exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def burn_password_check(password: str) -> None:
    verify_password(_DUMMY_HASH, password)


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    """Session tokens and API keys are long random strings: a fast hash is enough to
    keep a stolen database from holding usable credentials."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


class Signer:
    """Signed cookie values and host-link tokens, keyed by the installation's secret."""

    def __init__(self, secret_key: str) -> None:
        self._session = URLSafeSerializer(secret_key, salt="controlroom.session")
        self._host_link = URLSafeSerializer(secret_key, salt="controlroom.host-link")
        self._alert_link = URLSafeSerializer(secret_key, salt="controlroom.alert-link")

    def session_cookie(self, token: str) -> str:
        return self._session.dumps(token)

    def session_token(self, cookie: str) -> str | None:
        try:
            value = self._session.loads(cookie)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None

    def host_link_token(self, link_id: int, nonce: str) -> str:
        return self._host_link.dumps([link_id, nonce])

    def alert_link_token(self, room: str, alert_id: int) -> str:
        """What a chat message's link to an alert carries: it opens (after sign-in) only
        the alert it was made for."""
        return self._alert_link.dumps([room, alert_id])

    def alert_link_matches(self, token: str, room: str, alert_id: int) -> bool:
        try:
            return self._alert_link.loads(token) == [room, alert_id]
        except BadSignature:
            return False

    def host_link(self, token: str) -> tuple[int, str] | None:
        try:
            value = self._host_link.loads(token)
        except BadSignature:
            return None
        if isinstance(value, list) and len(value) == 2 and isinstance(value[0], int) and isinstance(value[1], str):
            return value[0], value[1]
        return None
