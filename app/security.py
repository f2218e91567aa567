"""Credentials and roles: argon2 hashes for passwords and API keys, random session tokens, and what each role may do."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HASHER = PasswordHasher()
KEY_PREFIX = "cck_"
MIN_PASSWORD_LENGTH = 10
# A verified API key is remembered (by its SHA-256, in this process only) so argon2 does not run on every request;
# revocation is still checked in the database on every request.
VERIFIED_KEY_TTL_S = 300.0

# What each kind of caller may do. API keys belong to systems (the UM platform).
PERMISSIONS: dict[str, frozenset[str]] = {
    "intake": frozenset({"case:create", "case:status"}),
    "reviewer": frozenset({"case:status", "case:read", "case:decide", "file:download"}),
    "admin": frozenset({"case:status", "users:manage", "keys:manage", "audit:read", "metrics:read"}),
    "system": frozenset({"case:create", "case:status", "case:read", "file:download", "metrics:read"}),
}


@dataclass(frozen=True)
class Principal:
    """Who is calling: a signed-in user or an API key."""

    kind: str  # "user" | "apikey"
    id: int
    name: str
    role: str
    csrf_token: str | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this caller (never a patient identifier)."""
        return f"{self.kind}:{self.name}"

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())


def hash_secret(secret: str) -> str:
    return HASHER.hash(secret)


def verify_secret(stored_hash: str, secret: str) -> bool:
    try:
        return HASHER.verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def new_api_key() -> tuple[str, str]:
    """A new key and its public prefix (which finds the key's row; the rest is secret)."""
    prefix = secrets.token_hex(6)
    return f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}", prefix


def key_prefix(key: str) -> str | None:
    if not key.startswith(KEY_PREFIX):
        return None
    prefix, _, secret = key[len(KEY_PREFIX):].partition("_")
    return prefix if prefix and secret else None


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class VerifiedKeys:
    """API keys this process has verified recently, by SHA-256 digest, with their row id."""

    def __init__(self, ttl_s: float = VERIFIED_KEY_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._known: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> int | None:
        digest = token_digest(key)
        with self._lock:
            found = self._known.get(digest)
            if found is None or found[1] < time.monotonic():
                self._known.pop(digest, None)
                return None
            return found[0]

    def remember(self, key: str, key_id: int) -> None:
        with self._lock:
            self._known[token_digest(key)] = (key_id, time.monotonic() + self.ttl_s)
