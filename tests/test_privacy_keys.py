"""The operator's key is managed, never silently lost: a process with the wrong key refuses to
start, a rotation re-wraps the open weeks, a lost key is given up only on an explicit command,
and a restart (or failover) mid-week loses no check-in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from privacy_world import CHANNEL, SUPERVISOR, member, world
from sqlalchemy import text

from bot.runtime import Runtime
from bot.settings import SettingsError, load_settings
from practice.clock import ManualClock
from practice.keys import KeyProblem, SecretKey, key_needed_to_seal, parse_key

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main(sys.argv[1:]))"]


def key_hex() -> str:
    return os.urandom(32).hex()


def env_for(database_url: str, **keys: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "secret",
        "DATABASE_URL": database_url,
        **keys,
    }


def week_key_ids(database_url: str, w_key: str) -> set[str]:
    settings = load_settings(env_for(database_url, SECUREBASE_SECRET_KEY=w_key), need_slack=False)
    from storage.db import Database

    db = Database(database_url, settings.keyring)
    try:
        with db.engine.connect() as conn:
            return {str(k) for (k,) in conn.execute(text("SELECT key_id FROM week_keys"))}
    finally:
        db.dispose()


def test_a_malformed_or_missing_key_is_one_line_that_says_how_to_make_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    for bad in ("abc", "zz" * 32, key_hex()[:-1]):
        with pytest.raises(SettingsError, match=r"64 hex characters.*openssl rand -hex 32"):
            load_settings(env_for(url, SECUREBASE_SECRET_KEY=bad))
    settings = load_settings(env_for(url))
    with pytest.raises(SettingsError, match=r"SECUREBASE_SECRET_KEY is not set.*openssl"):
        settings.require_keyring()
    keyfile = tmp_path / "key"
    keyfile.write_text(key_hex() + "\n")
    from_file = load_settings(env_for(url, SECUREBASE_SECRET_KEY_FILE=str(keyfile)))
    assert from_file.require_keyring().current.raw == bytes.fromhex(keyfile.read_text().strip())
    with pytest.raises(SettingsError, match="both set"):
        load_settings(
            env_for(url, SECUREBASE_SECRET_KEY=key_hex(), SECUREBASE_SECRET_KEY_FILE=str(keyfile))
        )
    assert "raw" not in repr(from_file) and keyfile.read_text().strip() not in repr(from_file)


def test_a_key_in_capitals_is_the_same_key() -> None:
    raw = bytes(range(32))
    assert parse_key(f"  {raw.hex().upper()}\n", "SECUREBASE_SECRET_KEY") == raw


def test_a_key_of_the_wrong_length_says_how_to_make_one() -> None:
    with pytest.raises(KeyProblem, match=r"32 bytes.*openssl rand -hex 32"):
        SecretKey(bytes(31))


def test_upgrading_open_weeks_without_a_key_says_how_many_and_how_to_make_one() -> None:
    assert str(key_needed_to_seal(3)) == (
        "SECUREBASE_SECRET_KEY is needed to upgrade: 3 open week(s) must be sealed under it "
        "(make one with `openssl rand -hex 32`)"
    )


def test_a_keys_id_and_its_wrapping_stay_the_same_from_release_to_release() -> None:
    """Weeks outlive a release: the next version must find the key a week was wrapped under
    by its id, and open what the last one wrapped (HKDF-SHA256 of the key, one `info` per use).
    The id is stored in the clear, so it is derived apart from the wrapping key."""
    raw = bytes(range(32))
    key = SecretKey(raw)
    assert key.key_id == "642998410ab3a543"

    def hkdf(info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(raw)

    assert hkdf(b"securebase wrap week secret").hex()[:16] != key.key_id
    nonce, secret = bytes(12), os.urandom(32)
    wrapped = nonce + AESGCM(hkdf(b"securebase wrap week secret")).encrypt(
        nonce, secret, b"team-week 7"
    )
    assert key.unwrap(wrapped, 7) == secret


def test_a_secret_wrapped_under_another_key_or_for_another_week_does_not_open() -> None:
    key, other = SecretKey(os.urandom(32)), SecretKey(os.urandom(32))
    secret = os.urandom(32)
    assert key.unwrap(key.wrap(secret, 7), 7) == secret
    for wrapped, week in ((other.wrap(secret, 7), 7), (key.wrap(secret, 8), 7)):
        with pytest.raises(KeyProblem, match="is SECUREBASE_SECRET_KEY the one"):
            key.unwrap(wrapped, week)


@pytest.mark.subprocess
def test_run_without_a_key_stops_with_one_line(tmp_path: Path) -> None:
    env = (
        {k: v for k, v in os.environ.items() if not k.startswith(("SECUREBASE_", "SLACK_"))}
        | env_for(f"sqlite:///{tmp_path / 'k.db'}")
        | {"SLACK_API_URL": "http://127.0.0.1:9/"}
    )
    done = subprocess.run(
        [*CLI, "run"],
        cwd=tmp_path,
        env=env | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "SECUREBASE_SECRET_KEY" in lines[0] and "openssl" in lines[0]
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_another_key_refuses_to_start_rotation_rewraps_and_nothing_is_lost(
    database_url: str, clock: ManualClock
) -> None:
    first, second = key_hex(), key_hex()
    with world(database_url, clock, settings_env={"SECUREBASE_SECRET_KEY": first}) as w:
        w.check_in(member(0), 2, 4, 3)
        w.check_in(member(1), 4, 2, 5)
        settings = w.bot.runtime.services.settings
    assert week_key_ids(database_url, first) == {SecretKey(bytes.fromhex(first)).key_id}

    # A replica started with a different key would lose the open week: it refuses, in one line.
    wrong = load_settings(env_for(database_url, SECUREBASE_SECRET_KEY=second))
    with pytest.raises(KeyProblem, match="sealed under a key this process does not have"):
        Runtime.create(wrong, clock)

    # Rotating: the new key with the old one as PREVIOUS re-wraps the open week on start.
    rotated_env = {"SECUREBASE_SECRET_KEY": second, "SECUREBASE_SECRET_KEY_PREVIOUS": first}
    with world(database_url, clock, settings_env=rotated_env, restart=True) as w:
        assert week_key_ids(database_url, second) == {SecretKey(bytes.fromhex(second)).key_id}
        # The same member checking in again still replaces (the week's secret survived).
        w.check_in(member(1), 5, 1, 5)
        w.next_week()
        with w.bot.runtime.services.db.engine.connect() as conn:
            rows = conn.execute(text("SELECT availability, stress FROM answers")).all()
    assert sorted(map(tuple, rows)) == [(2, 4), (5, 1)]
    assert settings.keyring is not None


@pytest.mark.slow
@pytest.mark.subprocess
def test_a_lost_key_is_given_up_only_by_the_explicit_command(
    database_url: str, clock: ManualClock, tmp_path: Path
) -> None:
    lost, new = key_hex(), key_hex()
    with world(database_url, clock, settings_env={"SECUREBASE_SECRET_KEY": lost}) as w:
        w.check_in(member(0), 3, 3)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECUREBASE_", "SLACK_"))}
    env |= {"DATABASE_URL": database_url, "SECUREBASE_SECRET_KEY": new, "PYTHONPATH": str(ROOT)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, "keys", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )

    check = cli("check")
    assert check.returncode == 1 and "1 open week(s)" in check.stdout
    unconfirmed = cli("abandon")
    assert unconfirmed.returncode == 2 and "without confirmation" in unconfirmed.stderr
    assert week_key_ids(database_url, new) == {SecretKey(bytes.fromhex(lost)).key_id}
    done = cli("abandon", "--yes")
    assert done.returncode == 0 and "Abandoned 1 open week(s)" in done.stdout
    assert week_key_ids(database_url, new) == set()
    assert cli("check").returncode == 0


@pytest.mark.slow
def test_a_restart_mid_week_loses_no_checkin(database_url: str, clock: ManualClock) -> None:
    """The wrapped secret is an ordinary (logged) row: a replica restarting, a crash or a
    failover mid-week keeps it, so later check-ins still replace and none is lost."""
    key = key_hex()
    with world(database_url, clock, settings_env={"SECUREBASE_SECRET_KEY": key}) as w:
        for n in range(5):
            w.check_in(member(n), 3, 3)
    with world(database_url, clock, settings_env={"SECUREBASE_SECRET_KEY": key}, restart=True) as w:
        w.check_in(member(0), 1, 5)  # replaces, after the "crash"
        w.next_week()
        shown = w.pulse()
        with w.bot.runtime.services.db.engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM answers")).scalar_one()
    assert count == 5
    assert shown.everything.count("5 of") >= 1
    assert CHANNEL and SUPERVISOR
