"""The operator's secret key, which never enters the database.

Each open team-week has a random secret of its own (`practice.sealing`). The database keeps
that secret only *wrapped* (AES-GCM) under the operator's key, so whoever holds just the
database — its files, WAL, replicas, dumps or statistics — holds nothing that links a member to
an answer. The key comes from `SECUREBASE_SECRET_KEY` (64 hex characters) or the file named by
`SECUREBASE_SECRET_KEY_FILE`; `SECUREBASE_SECRET_KEY_PREVIOUS` lets an operator rotate.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
NONCE_BYTES = 12
HOW_TO_MAKE = "make one with `openssl rand -hex 32`"


class KeyProblem(Exception):
    """One readable line about the operator's key."""


def key_needed_to_seal(open_weeks: int) -> KeyProblem:
    """Upgrading to sealed weeks with weeks open, and no key to seal them under."""
    return KeyProblem(
        f"SECUREBASE_SECRET_KEY is needed to upgrade: {open_weeks} open week(s) must be "
        f"sealed under it ({HOW_TO_MAKE})"
    )


def _derive(key: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(key)


def parse_key(text: str, name: str) -> bytes:
    """The 32 bytes written as 64 hex characters in `text` (surrounding blanks ignored)."""
    value = text.strip()
    if not re.fullmatch(r"[0-9a-fA-F]{64}", value):
        raise KeyProblem(f"{name} must be 64 hex characters (32 random bytes): {HOW_TO_MAKE}")
    return bytes.fromhex(value)


@dataclass(frozen=True, repr=False)
class SecretKey:
    """One operator key. `key_id` is not secret: it names the key a week was wrapped under."""

    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != KEY_BYTES:
            raise KeyProblem(f"a secret key is {KEY_BYTES} bytes: {HOW_TO_MAKE}")

    def __repr__(self) -> str:
        return f"SecretKey(id={self.key_id})"

    @property
    def key_id(self) -> str:
        return _derive(self.raw, "securebase key id").hex()[:16]

    def _aead(self) -> AESGCM:
        return AESGCM(_derive(self.raw, "securebase wrap week secret"))

    def wrap(self, secret: bytes, period_id: int) -> bytes:
        """The week's secret sealed to this key and to its own team-week (a wrapped secret
        copied onto another week does not open)."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead().encrypt(nonce, secret, _label(period_id))

    def unwrap(self, wrapped: bytes, period_id: int) -> bytes:
        try:
            return self._aead().decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _label(period_id)
            )
        except InvalidTag:
            raise KeyProblem(
                "a week's secret does not open with this key: "
                "is SECUREBASE_SECRET_KEY the one the weeks were opened with?"
            ) from None


def _label(period_id: int) -> bytes:
    return f"team-week {period_id}".encode()


@dataclass(frozen=True)
class Keyring:
    """The key in use and, while rotating, the one before it."""

    current: SecretKey
    previous: SecretKey | None = None

    def by_id(self, key_id: str) -> SecretKey | None:
        for key in (self.current, self.previous):
            if key is not None and key.key_id == key_id:
                return key
        return None

    @classmethod
    def generate(cls) -> Keyring:
        """A fresh key for a throwaway world (the demo, the sandbox, tests)."""
        return cls(SecretKey(os.urandom(KEY_BYTES)))
