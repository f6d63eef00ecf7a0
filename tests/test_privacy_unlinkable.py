"""Guarantee 4, end to end: once a week has closed, nobody can link an answer to a person.

Eight known members check in over HTTP (one changes their mind), the scheduler's sweep closes
the week, and then the attacker is an administrator holding everything that is left: every
table and column through raw SQL, the bot's settings and environment, and every short byte
string in the bot process's memory. They brute-force each member's id through HMAC-SHA256 with
every candidate key they can find. Before the close the same attack links every member to their
answers, which proves the attack would find a link if one were left; after, it finds nothing.

(tests/test_storage_privacy.py plays the same attacker at the storage level; this adds the
HTTP loop, the process's own secrets and memory, and PostgreSQL's physical pages.)
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import hmac
import os
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from typing import Any

import pytest
from privacy_world import WORKSPACE, World, member, world
from sqlalchemy import DateTime, create_engine, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError

from bot.sandboxed import wait_until
from storage.clock import ManualClock

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


def candidate_keys(data: Dump, w: World) -> set[bytes]:
    keys: set[bytes] = {b""}
    loose: list[Any] = [value for _, _, value in cells(data)]
    loose += list(asdict(w.bot.runtime.services.settings).values())
    loose += list(os.environ.values())
    for value in loose:
        if isinstance(value, bytes):
            keys.add(value)
        elif isinstance(value, str):
            keys.add(value.encode())
            with contextlib.suppress(ValueError):
                keys.add(bytes.fromhex(value))
    return keys | heap_bytes()


def link(data: Dump, members: Iterable[str], keys: set[bytes]) -> dict[str, set[str]]:
    """Every member id, written every way, through HMAC-SHA256 with every key, looked for
    in every value stored anywhere."""
    targets = {str(v).lower() for _, _, v in cells(data) if isinstance(v, str)}
    targets |= {v.hex() for _, _, v in cells(data) if isinstance(v, bytes)}
    places = {WORKSPACE, ""} | {row["workspace_id"] for row in data["teams"]}
    found: dict[str, set[str]] = {}
    for person in members:
        messages = {person.encode()}
        for place in places:
            messages |= {f"{place}:{person}".encode(), f"{person}:{place}".encode()}
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


def test_brute_force_links_everyone_before_the_close_and_no_one_after(
    database_url: str, clock: ManualClock
) -> None:
    with world(database_url, clock) as w:
        people = run_the_week(w)
        with raw(w) as conn:
            before = dump(conn)
        linked = link(before, people, candidate_keys(before, w))
        assert set(linked) == set(people)  # the attack works while the week is open...
        for person, values in zip(people, FINAL, strict=True):
            [row] = [r for r in before["answers"] if r["respondent_key"] in linked[person]]
            assert (row["availability"], row["stress"], row["domain_item"]) == values
        del before, linked

        w.next_week()  # the scheduler's sweep closes the week

        with raw(w) as conn:
            after = dump(conn)
        assert link(after, people, candidate_keys(after, w)) == {}  # ...and not after
        stored = Counter(
            (r["availability"], r["stress"], r["domain_item"]) for r in after["answers"]
        )
        assert stored == Counter(FINAL)  # the figures are all still there


def test_nothing_stored_names_a_member_or_a_moment(database_url: str, clock: ManualClock) -> None:
    with world(database_url, clock) as w:
        people = run_the_week(w)
        w.next_week()
        with raw(w) as conn:
            data = dump(conn)
            schema = inspect(conn)
            for table in ("answers", "comments"):
                for column in schema.get_columns(table):
                    assert not isinstance(column["type"], DateTime), (table, column["name"])
    # No member's id anywhere in the database, in any table.
    for table, name, value in cells(data):
        shown = value.hex() if isinstance(value, bytes) else str(value)
        assert not any(p in shown for p in people), (table, name)
    for table in ("answers", "comments"):
        for row in data[table]:
            assert row["respondent_key"] is None
            # Random ids (UUID4), not a sequence; no Slack payload or JSON in any value.
            assert uuid.UUID(row["id"]).version == 4
            assert not any("{" in str(v) for v in row.values()), table
    # Rows come back in no order that tells who answered first (a 1 in 8! chance of failing).
    arrival = [*FINAL[:CHANGED], *FINAL[CHANGED + 1 :], FINAL[CHANGED]]
    physical = [(r["availability"], r["stress"], r["domain_item"]) for r in data["answers"]]
    assert sorted(physical) == sorted(arrival) and physical != arrival


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


def nothing_older_open(w: World) -> bool:
    with raw(w) as conn:
        others = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() "
                "AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL)"
            )
        ).scalar_one()
    return bool(others == 0)


def raw_pages(conn: Connection, table: str) -> bytes:
    """The table's pages byte for byte, as a superuser can read them (pageinspect)."""
    pages = conn.execute(text(f"SELECT pg_relation_size('{table}') / 8192")).scalar_one()
    return b"".join(
        bytes(conn.execute(text(f"SELECT get_raw_page('{table}', {p})")).scalar_one())
        for p in range(pages)
    )


def test_postgres_pages_lose_the_secret_at_the_next_housekeeping(
    own_database: str, clock: ManualClock
) -> None:
    """Deleting or updating a row leaves its old version in the page until VACUUM. The close
    rewrites the (UNLOGGED) week_secrets table at once and the hourly housekeeping job rewrites
    it and team_weeks again, after which the secret is gone from every page."""
    with world(own_database, clock) as w:
        run_the_week(w)
        with raw(w) as conn:
            [secret] = [bytes(s) for (s,) in conn.execute(text("SELECT secret FROM week_secrets"))]
        w.next_week()
        tables = ("week_secrets", "team_weeks", "answers", "comments")
        with raw(w) as conn:
            stored = conn.execute(text("SELECT secret FROM week_secrets")).scalars().all()
            assert secret not in [bytes(s) for s in stored]
        # An old version may only go once no transaction that began before the close is still
        # open (PostgreSQL's own autovacuum works in this new database too): wait for that.
        wait_until(lambda: nothing_older_open(w), what="older transactions to finish")
        job = w.bot.runtime.scheduler.housekeeping
        assert job is not None
        job()
        with raw(w) as conn:
            for table in tables:
                assert secret not in raw_pages(conn, table), table


def test_postgres_write_ahead_log_holds_no_secret_after_close(
    own_database: str, clock: ManualClock
) -> None:
    with world(own_database, clock) as w:
        run_the_week(w)
        with raw(w) as conn:
            [secret] = [bytes(s) for (s,) in conn.execute(text("SELECT secret FROM week_secrets"))]
        w.next_week()
        w.bot.runtime.scheduler.housekeeping()  # type: ignore[misc]
        with raw(w) as conn:
            newest = conn.execute(
                text("SELECT name FROM pg_ls_waldir() ORDER BY modification DESC LIMIT 1")
            ).scalar_one()
            wal = conn.execute(text(f"SELECT pg_read_binary_file('pg_wal/{newest}')")).scalar_one()
        assert secret not in bytes(wal)
