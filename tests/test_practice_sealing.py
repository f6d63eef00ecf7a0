"""A team-week's seal on its own: what it derives, and what a sealed answer holds and hides.

The derivations are pinned to fixed values because an open week outlives a release: the
roster, respondent and reminder keys and the sealed answers written by one version must be
recognised and opened by the next, which recomputes them from the same secret.
"""

from __future__ import annotations

import hashlib
import hmac
import struct

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from practice.sealing import (
    COMMENT_BYTES,
    SEALED_BYTES,
    SealBroken,
    SealedValues,
    WeekSeal,
)

SEAL = WeekSeal(bytes(range(32)), 7)


def test_the_keys_a_week_derives_stay_the_same_from_release_to_release() -> None:
    assert SEAL.respondent_key("T1", "U1") == (
        "319e800c64dfb06f347ae8ca416f280e33023dcf8af8435f1b31988af7e45bd3"
    )
    assert SEAL.roster_key("T1", "U1") == (
        "625564764b2b67606b47cbe34386e6500a8de8265ceba7338d15ecf5d01a2ef7"
    )
    assert SEAL.reminder_key("T1", "U1") == (
        "eca6b950b5aa8c324829e2f8519b61618602a842c1ce8de9dd08648edfc18509"
    )


def test_each_key_depends_on_the_workspace_the_member_and_the_weeks_secret() -> None:
    for derive in (SEAL.respondent_key, SEAL.roster_key, SEAL.reminder_key):
        key = derive("T1", "U1")
        assert derive("T2", "U1") != key
        assert derive("T1", "U2") != key
        assert getattr(WeekSeal(bytes(32), 7), derive.__name__)("T1", "U1") != key


def test_an_answer_sealed_by_an_earlier_release_still_opens() -> None:
    """Built here from the documented format, not by `seal`, as a stored row would be."""
    key = hmac.new(bytes(range(32)), b"seal answers", hashlib.sha256).digest()
    respondent = SEAL.respondent_key("T1", "U1")
    body = b"all good"
    plain = struct.pack(">BBBBH", 1, 4, 2, 3, len(body)) + body
    plain += b"\0" * (COMMENT_BYTES - len(body))
    nonce = bytes(12)
    stored = nonce + AESGCM(key).encrypt(nonce, plain, f"7:{respondent}".encode())
    assert SEAL.open(respondent, stored) == SealedValues(4, 2, 3, "all good")


def test_no_need_and_no_item_open_as_none_not_as_a_first_answer() -> None:
    key = SEAL.respondent_key("T1", "U1")
    values = SealedValues(availability=None, stress=3, domain_item=None, comment="")
    assert SEAL.open(key, SEAL.seal(key, values)) == values


def test_the_longest_comment_the_format_holds_seals_and_one_byte_more_does_not() -> None:
    key = SEAL.respondent_key("T1", "U1")
    longest = SealedValues(2, 3, 1, "\U0001f600" * (COMMENT_BYTES // 4))
    assert len(longest.comment.encode()) == COMMENT_BYTES
    assert SEAL.open(key, SEAL.seal(key, longest)) == longest
    with pytest.raises(ValueError):
        SealedValues(2, 3, 1, "x" * (COMMENT_BYTES + 1)).encode()


def test_every_sealed_answer_is_one_size_whatever_its_comment() -> None:
    key = SEAL.respondent_key("T1", "U1")
    sizes = {
        len(SEAL.seal(key, SealedValues(2, 3, None, comment)))
        for comment in ("", "x", "é" * 300, "x" * COMMENT_BYTES)
    }
    assert sizes == {SEALED_BYTES}


def test_an_answer_does_not_open_for_another_respondent_or_another_week() -> None:
    key = SEAL.respondent_key("T1", "U1")
    sealed = SEAL.seal(key, SealedValues(2, 3, None, ""))
    with pytest.raises(SealBroken):
        SEAL.open(SEAL.respondent_key("T1", "U2"), sealed)
    with pytest.raises(SealBroken):
        WeekSeal(bytes(range(32)), 8).open(key, sealed)


def test_an_unknown_sealed_format_is_refused() -> None:
    plain = SealedValues(2, 3, None, "").encode()
    with pytest.raises(SealBroken):
        SealedValues.decode(b"\x02" + plain[1:])
