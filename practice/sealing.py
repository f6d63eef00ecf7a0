"""What a team-week's own secret does while the week is open.

The secret (32 random bytes, made when the week's prompt goes out) derives:
- the *roster key* of each member who was in the channel then: only they check in that week;
- the *respondent key* that lets a second check-in replace the first;
- the *reminder key* that makes each reminder exactly-once in the delivery ledger;
- the AES-GCM key that seals each answer until the week closes.

All are HMACs or ciphertexts that need the secret, and the database holds the secret only
wrapped under the operator's key (`practice.keys`). At the close the answers are opened,
written as keyless rows in a shuffled batch, and every sealed row, key and the wrapped secret
are deleted.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SECRET_BYTES = 32
NONCE_BYTES = 12
COMMENT_BYTES = 4000  # 1,000 characters of up to four UTF-8 bytes each
# format, availability (0 = didn't need any), stress, item (0 = none), comment length
_HEADER = struct.Struct(">BBBBH")
FORMAT = 1
SEALED_BYTES = NONCE_BYTES + _HEADER.size + COMMENT_BYTES + 16  # every answer the same size


class SealBroken(Exception):
    """A sealed answer that does not open under its week's secret (tampered or misfiled)."""


def new_week_secret() -> bytes:
    return os.urandom(SECRET_BYTES)


@dataclass(frozen=True)
class SealedValues:
    availability: int | None  # None: "I didn't need any this week"
    stress: int
    domain_item: int | None
    comment: str  # "" when none

    def encode(self) -> bytes:
        body = self.comment.encode()
        if len(body) > COMMENT_BYTES:
            raise ValueError("comment longer than the sealed format holds")
        header = _HEADER.pack(
            FORMAT, self.availability or 0, self.stress, self.domain_item or 0, len(body)
        )
        return header + body + b"\0" * (COMMENT_BYTES - len(body))  # padded: length hides nothing

    @classmethod
    def decode(cls, plain: bytes) -> SealedValues:
        version, availability, stress, item, length = _HEADER.unpack_from(plain)
        if version != FORMAT:
            raise SealBroken(f"unknown sealed format {version}")
        comment = plain[_HEADER.size : _HEADER.size + length].decode()
        return cls(availability or None, stress, item or None, comment)


@dataclass(frozen=True, repr=False)
class WeekSeal:
    """One open team-week's secret and everything derived from it."""

    secret: bytes
    period_id: int

    def __repr__(self) -> str:
        return f"WeekSeal(period={self.period_id})"

    def _mac(self, purpose: str, workspace_id: str, user_id: str) -> str:
        message = f"{purpose}{workspace_id}:{user_id}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def respondent_key(self, workspace_id: str, user_id: str) -> str:
        return self._mac("", workspace_id, user_id)

    def roster_key(self, workspace_id: str, user_id: str) -> str:
        return self._mac("roster\x1f", workspace_id, user_id)

    def reminder_key(self, workspace_id: str, user_id: str) -> str:
        return self._mac("reminder\x1f", workspace_id, user_id)

    def _aead(self) -> AESGCM:
        return AESGCM(hmac.new(self.secret, b"seal answers", hashlib.sha256).digest())

    def _label(self, respondent_key: str) -> bytes:
        return f"{self.period_id}:{respondent_key}".encode()

    def seal(self, respondent_key: str, values: SealedValues) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead().encrypt(nonce, values.encode(), self._label(respondent_key))
        return nonce + sealed

    def open(self, respondent_key: str, sealed: bytes) -> SealedValues:
        try:
            plain = self._aead().decrypt(
                sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], self._label(respondent_key)
            )
        except InvalidTag:
            raise SealBroken("a sealed answer does not open under its week's secret") from None
        return SealedValues.decode(plain)
