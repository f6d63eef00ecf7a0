"""Whoever holds only the database can never link a member to an answer; after the close,
nobody can, whatever they hold.

Eight known members check in over HTTP (one changes their mind). The attacker is an
administrator with raw SQL over every table (a `pg_dump`-style copy), PostgreSQL's planner
statistics after an explicit ANALYZE, and the write-ahead log written during the test. They
brute-force each member's id through HMAC-SHA256 with every key-like value they can find. The
same attack given the operator's key as well (`SECUREBASE_SECRET_KEY`) links every member while
the week is open — which proves the attack would find a link if one were there — and, once the
week has closed, nothing at all.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import hmac
import logging
import os
import sqlite3
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from privacy_world import WORKSPACE, World, member, world
from sqlalchemy import DateTime, create_engine, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError

from bot.sandboxed import wait_until
from practice.clock import ManualClock
from practice.sealing import SEALED_BYTES, WeekSeal

Dump = dict[str, list[dict[str, Any]]]

# Distinct answers, so a link can be checked against the truth.
ANSWERS = [(1, 5, 2), (2, 4, 4), (3, 3, 1), (4, 2, 5), (5, 1, 3), (2, 2, 2), (4, 4, 4), (1, 3, 5)]
CHANGED = 5  # this member checks in again: their first answers are replaced by these
FINAL = [*ANSWERS[:CHANGED], (3, 1, 4), *ANSWERS[CHANGED + 1 :]]


def dump(conn: Connection) -> Dump:
    """Every row of every table, as raw SQL returns it."""
    return {
        table: [dict(row) for row in conn.execute(text(f"SELECT * FROM {table}")).mappings()]
        for table in inspect(conn).get_table_names()
    }


def cells(data: Dump) -> Iterator[tuple[str, str, Any]]:
    for table, rows in data.items():
        for row in rows:
            for column, value in row.items():
                yield table, column, value.tobytes() if isinstance(value, memoryview) else value


def heap_bytes() -> set[bytes]:
    """Every byte string of key-like length anywhere in this process's memory."""
    found: set[bytes] = set()
    for holder in gc.get_objects():
        for value in gc.get_referents(holder):
            if isinstance(value, bytes | bytearray) and 16 <= len(value) <= 64:
                found.add(bytes(value))
    return found


def keylike(values: Iterable[Any]) -> set[bytes]:
    """Every value, as bytes and (if it is hex) decoded: each a candidate HMAC key."""
    keys: set[bytes] = {b""}
    for value in values:
        if isinstance(value, bytes):
            keys.add(value)
        elif isinstance(value, str):
            keys.add(value.encode())
            with contextlib.suppress(ValueError):
                keys.add(bytes.fromhex(value))
    return keys


def database_keys(data: Dump) -> set[bytes]:
    """What someone holding only the database could try as keys: every stored value."""
    return keylike(value for _, _, value in cells(data))


def everything_keys(data: Dump, w: World) -> set[bytes]:
    """...and what someone holding the bot's settings, key, environment and memory could."""
    settings = w.bot.runtime.services.settings
    loose: list[Any] = [*asdict(settings).values(), *os.environ.values()]
    keyring = settings.require_keyring()
    loose += [keyring.current.raw, keyring.current.raw.hex()]
    return database_keys(data) | keylike(loose) | heap_bytes()


def unwrapped_secrets(data: Dump, w: World) -> set[bytes]:
    """The open weeks' secrets, as the holder of the database AND the operator's key gets them."""
    keyring = w.bot.runtime.services.settings.require_keyring()
    found = set()
    for row in data["week_keys"]:
        key = keyring.by_id(row["key_id"])
        assert key is not None
        wrapped = row["wrapped"]
        found.add(key.unwrap(bytes(wrapped), row["period_id"]))
    return found


PURPOSES = ("", "roster\x1f", "reminder\x1f")  # every message the code ever keys


def link(data: Dump, members: Iterable[str], keys: set[bytes]) -> dict[str, set[str]]:
    """Every member id, written every way (and with every purpose prefix the code uses),
    through HMAC-SHA256 with every key, looked for in every value stored anywhere."""
    targets = {str(v).lower() for _, _, v in cells(data) if isinstance(v, str)}
    targets |= {v.hex() for _, _, v in cells(data) if isinstance(v, bytes)}
    places = {WORKSPACE, ""} | {row["workspace_id"] for row in data["teams"]}
    found: dict[str, set[str]] = {}
    for person in members:
        messages = {person.encode()}
        for place in places:
            for purpose in PURPOSES:
                messages |= {f"{purpose}{place}:{person}".encode(), f"{person}:{place}".encode()}
        for message in messages:
            digests = {hashlib.sha256(message).hexdigest()}
            digests |= {hmac.new(key, message, hashlib.sha256).hexdigest() for key in keys}
            if hits := digests & targets:
                found.setdefault(person, set()).update(hits)
    return found


def run_the_week(w: World) -> list[str]:
    """Eight check-ins over HTTP in a known order, one replaced; returns the members."""
    people = [member(n) for n in range(8)]
    for person, values in zip(people, ANSWERS, strict=True):
        w.check_in(person, *values, comment=f"from the person with {values}")
    w.check_in(people[CHANGED], *FINAL[CHANGED], comment=f"changed to {FINAL[CHANGED]}")
    w.home(people[0])  # everything a member might touch during the week
    w.command(people[1], "/teampulse", "log")
    w.replies(people[1])
    w.pulse()
    return people


def raw(w: World) -> Connection:
    return w.bot.runtime.services.db.engine.connect()


@pytest.mark.slow
def test_the_database_alone_links_no_one_while_the_week_is_open(
    database_url: str, clock: ManualClock
) -> None:
    with world(database_url, clock) as w:
        people = run_the_week(w)
        with raw(w) as conn:
            copy = dump(conn)  # a pg_dump (or a replica, or a backup) taken mid-week
        assert copy["sealed_answers"] and copy["roster_entries"] and copy["week_keys"]
        assert link(copy, people, database_keys(copy)) == {}  # the database alone: nothing

        # Whoever also holds the operator's key links everyone: the attack is a real one.
        secrets = unwrapped_secrets(copy, w)
        linked = link(copy, people, database_keys(copy) | secrets)
        assert set(linked) == set(people)
        [secret] = secrets
        [period_id] = {row["period_id"] for row in copy["week_keys"]}
        seal = WeekSeal(secret, period_id)
        for person, values in zip(people, FINAL, strict=True):
            [row] = [r for r in copy["sealed_answers"] if r["respondent_key"] in linked[person]]
            opened = seal.open(row["respondent_key"], bytes(row["sealed"]))
            assert (opened.availability, opened.stress, opened.domain_item) == values


@pytest.mark.slow
def test_after_the_close_no_one_links_even_with_the_key_and_the_process(
    database_url: str, clock: ManualClock
) -> None:
    with world(database_url, clock) as w:
        people = run_the_week(w)
        w.next_week()  # the scheduler's sweep closes the week (and opens the next)
        with raw(w) as conn:
            after = dump(conn)
        assert link(after, people, everything_keys(after, w)) == {}
        stored = Counter(
            (r["availability"], r["stress"], r["domain_item"]) for r in after["answers"]
        )
        assert stored == Counter(FINAL)  # the figures are all still there


@pytest.mark.slow
def test_nothing_stored_names_a_member_or_a_moment(database_url: str, clock: ManualClock) -> None:
    with world(database_url, clock) as w:
        people = run_the_week(w)
        w.next_week()
        with raw(w) as conn:
            data = dump(conn)
            schema = inspect(conn)
            for table in ("answers", "comments"):
                names = {column["name"] for column in schema.get_columns(table)}
                assert "respondent_key" not in names, table
                for column in schema.get_columns(table):
                    assert not isinstance(column["type"], DateTime), (table, column["name"])
    # No member's id anywhere in the database, in any table.
    for table, name, value in cells(data):
        shown = value.hex() if isinstance(value, bytes) else str(value)
        assert not any(p in shown for p in people), (table, name)
    for table in ("answers", "comments"):
        for row in data[table]:
            # Random ids (UUID4), not a sequence; no Slack payload or JSON in any value.
            assert uuid.UUID(row["id"]).version == 4
            assert not any("{" in str(v) for v in row.values()), table
    # Rows come back in no order that tells who answered first (a 1 in 8! chance of failing).
    arrival = [*FINAL[:CHANGED], *FINAL[CHANGED + 1 :], FINAL[CHANGED]]
    physical = [(r["availability"], r["stress"], r["domain_item"]) for r in data["answers"]]
    assert sorted(physical) == sorted(arrival) and physical != arrival


@pytest.mark.slow
def test_sealed_answers_are_all_one_size_whatever_was_written(
    database_url: str, clock: ManualClock
) -> None:
    """A comment's length (or its absence) would mark a row; every sealed row is as long."""
    with world(database_url, clock) as w:
        w.check_in(member(0), 3, 3)
        w.check_in(member(1), 2, 4, 5, comment="x" * 1000)
        w.check_in(member(2), 4, 2, 1, comment="short")
        with raw(w) as conn:
            sizes = {
                len(bytes(r)) for (r,) in conn.execute(text("SELECT sealed FROM sealed_answers"))
            }
    assert sizes == {SEALED_BYTES}


# --- PostgreSQL's physical pages --------------------------------------------------------------


@pytest.fixture
def own_database(database_url: str) -> Iterator[str]:
    """A PostgreSQL database of this test's own (not just a schema): whether VACUUM may drop
    an old row version depends on every transaction open in the same database, and other test
    runs share the test database."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL keeps old row versions in its pages; SQLite zeroes them")
    server = create_engine(make_url(database_url).set(query={}), isolation_level="AUTOCOMMIT")
    name = f"privacy_{uuid.uuid4().hex[:12]}"
    with server.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    url = make_url(database_url).set(database=name, query={})
    try:
        ours = create_engine(url)
        with ours.begin() as conn:
            try:
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pageinspect")
            except DBAPIError as error:  # pragma: no cover - a server without it
                pytest.skip(f"pageinspect is not available: {error}")
        ours.dispose()
        yield url.render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        server.dispose()


def now_xid(w: World) -> str:
    with raw(w) as conn:
        return str(conn.execute(text("SELECT txid_current()")).scalar_one())


def nothing_older_open(w: World, since: str) -> bool:
    """No transaction anywhere on the server (other databases' count too: their transaction ids
    hold back what VACUUM may remove) began before transaction `since`."""
    with raw(w) as conn:
        others = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND ("
                "age(backend_xmin) >= age(CAST(CAST(:since AS text) AS xid)) OR "
                "age(backend_xid) >= age(CAST(CAST(:since AS text) AS xid)))"
            ),
            {"since": since},
        ).scalar_one()
    return bool(others == 0)


def raw_pages(conn: Connection, table: str) -> bytes:
    """The table's pages byte for byte, as a superuser can read them (pageinspect)."""
    pages = conn.execute(text(f"SELECT pg_relation_size('{table}') / 8192")).scalar_one()
    return b"".join(
        bytes(conn.execute(text(f"SELECT get_raw_page('{table}', {p})")).scalar_one())
        for p in range(pages)
    )


def open_week_secret(w: World) -> tuple[bytes, bytes]:
    """The open week's wrapped secret (as stored) and the secret itself (with the key)."""
    with raw(w) as conn:
        [(period_id, key_id, wrapped)] = conn.execute(
            text("SELECT period_id, key_id, wrapped FROM week_keys")
        ).all()
    key = w.bot.runtime.services.settings.require_keyring().by_id(key_id)
    assert key is not None
    return bytes(wrapped), key.unwrap(bytes(wrapped), period_id)


def respondent_keys(w: World) -> list[str]:
    with raw(w) as conn:
        return [str(k) for k in conn.execute(text("SELECT respondent_key FROM sealed_answers"))]


def test_postgres_pages_lose_the_open_week_at_the_next_housekeeping(
    own_database: str, clock: ManualClock
) -> None:
    """Deleting a row leaves its old version in the page until VACUUM. The close rewrites the
    open-week tables at once and the hourly housekeeping job again, after which neither the
    wrapped secret nor any respondent key is left in any page (useful to someone who also
    holds the key)."""
    with world(own_database, clock) as w:
        run_the_week(w)
        wrapped, _secret = open_week_secret(w)
        keys = respondent_keys(w)
        w.next_week()
        closed = now_xid(w)
        job = w.bot.runtime.scheduler.housekeeping
        assert job is not None
        wait_until(lambda: nothing_older_open(w, closed), 60, what="older transactions to finish")
        job()
        tables = ("week_keys", "roster_entries", "sealed_answers", "team_weeks", "answers")
        with raw(w) as conn:
            for table in tables:
                pages = raw_pages(conn, table)
                assert wrapped not in pages, table
                assert not any(k.encode() in pages for k in keys), table


def wal_since(conn: Connection, start: str) -> bytes:
    """Every write-ahead log segment written since `start` (an LSN), as a superuser reads them."""
    names = conn.execute(
        text(
            "SELECT name FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$' "
            "AND name >= pg_walfile_name(CAST(:start AS pg_lsn)) ORDER BY name"
        ),
        {"start": start},
    ).scalars()
    return b"".join(
        bytes(conn.execute(text(f"SELECT pg_read_binary_file('pg_wal/{name}')")).scalar_one())
        for name in names
    )


def test_postgres_write_ahead_log_never_holds_the_secret_or_the_key(
    own_database: str, clock: ManualClock
) -> None:
    """Every link needs the week's secret. It reaches the log only wrapped: neither it nor the
    operator's key is anywhere in the WAL written while members checked in and the week closed,
    though the respondent keys and ciphertexts are (proving the log was read)."""
    with world(own_database, clock) as w, raw(w) as conn:
        start = str(conn.execute(text("SELECT pg_current_wal_lsn()")).scalar_one())
        conn.commit()
        run_the_week(w)
        wrapped, secret = open_week_secret(w)
        w.next_week()
        conn.execute(text("SELECT pg_switch_wal()"))
        conn.commit()
        log = wal_since(conn, start)
        raw_key = w.bot.runtime.services.settings.require_keyring().current.raw
    assert wrapped in log  # the log holds the week's rows...
    assert secret not in log and secret.hex().encode() not in log  # ...never its secret
    assert raw_key not in log and raw_key.hex().encode() not in log


def test_postgres_statistics_after_analyze_hold_no_key(
    own_database: str, clock: ManualClock
) -> None:
    """ANALYZE (autovacuum's) copies column values into pg_statistic; the key, secret and
    ciphertext columns collect none, and nothing in the statistics links anyone."""
    with world(own_database, clock) as w:
        people = run_the_week(w)
        with raw(w) as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
            rows = [
                dict(r)
                for r in conn.execute(
                    text(
                        "SELECT tablename, attname, most_common_vals::text AS mcv, "
                        "histogram_bounds::text AS hist FROM pg_stats "
                        "WHERE schemaname = current_schema()"
                    )
                ).mappings()
            ]
            data = dump(conn)
    guarded = {
        ("week_keys", "wrapped"),
        ("roster_entries", "member_key"),
        ("sealed_answers", "respondent_key"),
        ("sealed_answers", "sealed"),
        ("deliveries", "recipient"),
    }
    for row in rows:
        if (row["tablename"], row["attname"]) in guarded:
            assert row["mcv"] is None and row["hist"] is None, row
    statistics: Dump = {"pg_stats": rows, "teams": data["teams"]}
    keys = database_keys(data) | keylike(str(v) for r in rows for v in r.values())
    assert link(statistics, people, keys) == {}
    assert link(data, people, keys) == {}


# --- SQLite's write-ahead log -----------------------------------------------------------------


@pytest.mark.slow
def test_sqlite_close_is_complete_only_once_its_write_ahead_log_is_empty(
    database_url: str, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A reader holding a snapshot (a backup tool) when the week closes keeps the old pages in
    the -wal file. The close says so and every sweep retries until the log is emptied; then
    neither the database file nor its log holds the wrapped secret or a respondent key."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's own write-ahead log file")
    path = Path(make_url(database_url).database or "")
    with world(database_url, clock) as w:
        run_the_week(w)
        wrapped, _secret = open_week_secret(w)
        keys = respondent_keys(w)
        reader = sqlite3.connect(path)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM teams").fetchone()  # holds its snapshot
        db = w.bot.runtime.services.db
        with caplog.at_level(logging.WARNING, logger="storage.db"):
            w.next_week()
        assert db.scrub_pending
        assert "write-ahead log" in caplog.text
        reader.rollback()
        reader.close()
        w.deliver()  # the next sweep retries
        assert not db.scrub_pending
        wal = path.with_name(path.name + "-wal")
        leftovers = (wal.read_bytes() if wal.exists() else b"") + path.read_bytes()
        assert wrapped not in leftovers
        assert not any(k.encode() in leftovers for k in keys)
