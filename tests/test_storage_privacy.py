"""Privacy attacks on the stored data, played by an administrator who holds the whole database.

The attacker knows every team member's Slack id and reads every table and column with raw SQL
(and, on SQLite, the database files themselves). The operator's key (SECUREBASE_SECRET_KEY)
is not in the database, so with the database alone the attack must find nothing, even while a
week is open. Given the key as well, the same attack links everyone while the week is open
(which shows the attack is real: that is what a replaceable check-in needs); once the week has
closed it must find nothing even then.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sealed_weeks import open_week
from sqlalchemy import Date, DateTime, String, Time, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from practice.checkin import CheckinAnswers, CheckinResult, check_in
from practice.clock import ManualClock
from practice.figures import Surface
from practice.keys import KeyProblem, Keyring
from practice.rotation import Rotation
from practice.sealing import WeekSeal
from storage.db import Database
from storage.deliveries import DeliveryKey, DeliveryKind, claim, finish
from storage.models import Team
from storage.pulse import read_pulse_for
from storage.team_weeks import close_due_team_weeks, current_week
from storage.teams import TeamSpec, add_team

ORDER = ("availability", "sensitivity", "acceptance", "co-operation", "team-belonging")
ROTATION = Rotation(order=ORDER, prompts_per_domain={k: 5 for k in ORDER}, items_version=2)
WS = "T07QX3AB9"
CHANNEL = "C07QX3CD1"
SUPERVISOR = "U07SUPERV1"
WEEK_END = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # the fixture clock's week, London
OPEN_WEEK_TABLES = ("week_keys", "roster_entries", "sealed_answers")
# The purposes `practice.sealing` derives keys for: the attacker has read the code.
PURPOSES = ("", "roster\x1f", "reminder\x1f")

# Who may appear in the database at all: supervisors, where their role needs them.
SUPERVISOR_COLUMNS = {
    ("team_supervisors", "user_id"),
    ("pulse_views", "viewer_id"),
    ("deliveries", "recipient"),
}


def member_id(n: int) -> str:
    return f"U0{n:02d}M3MB{n:02d}"


@dataclass(frozen=True)
class Truth:
    """What really happened, which the attacker must not be able to reconstruct."""

    team: Team
    answers: dict[str, tuple[int, int, int]]  # member -> (availability, stress, domain item)
    comments: dict[str, str]
    arrival: list[tuple[int, int, int]]


def distinct_answers() -> Iterable[tuple[int, int, int]]:
    # Mixed so that arrival order is not also sorted order.
    combos = list(itertools.product(range(1, 6), repeat=3))
    return (combos[(i * 37) % len(combos)] for i in range(len(combos)))


def run_a_week(db: Database, clock: ManualClock, members: int) -> Truth:
    now = clock.now()
    with db.session() as s:
        team = add_team(s, TeamSpec(WS, CHANNEL, "Blue team", (SUPERVISOR,)), now)
    everyone = [member_id(n) for n in range(members)]
    period = open_week(db, team, now, ROTATION, everyone)  # the prompt goes out
    answers: dict[str, tuple[int, int, int]] = {}
    comments: dict[str, str] = {}
    arrival: list[tuple[int, int, int]] = []
    for user, values in zip(everyone, distinct_answers(), strict=False):
        answers[user], comments[user] = values, f"note {user[-2:]}: workload {values[0]}"
        arrival.append(values)
        result = check_in(
            db, team, period.week_index, user, CheckinAnswers(*values, comments[user]), now
        )
        assert isinstance(result, CheckinResult), result
        now += timedelta(minutes=7)
    # The rest of the bot's week, touching every other table a person's id or key may sit in.
    week = current_week(team, now).index
    with db.session() as s:
        for kind, recipient in (
            (DeliveryKind.PROMPT, CHANNEL),
            (DeliveryKind.REFLECTIONS, SUPERVISOR),
        ):
            key = DeliveryKey(team.id, week, kind, recipient)
            assert claim(s, key, worker="replica-1", now=now)
            finish(s, key, worker="replica-1", slack_ts="1764000000.000200")
        seal = WeekSeal(_secret(db, period.id), period.id)
        for user in everyone:  # the midweek reminder, claimed under each member's reminder key
            sealed = seal.reminder_key(WS, user)
            reminder = DeliveryKey(team.id, week, DeliveryKind.REMINDER, sealed)
            assert claim(s, reminder, worker="r", now=now)
        read_pulse_for(
            s,
            SUPERVISOR,
            team,
            Surface.TEAMPULSE,
            weeks=4,
            anonymity_min=5,
            retention_weeks=104,
            now=now,
            detail="4 weeks",
        )
    return Truth(team, answers, comments, arrival)


def _secret(db: Database, period_id: int) -> bytes:
    with db.engine.connect() as conn:
        key_id, wrapped = conn.execute(
            text("SELECT key_id, wrapped FROM week_keys WHERE period_id = :p"), {"p": period_id}
        ).one()
    key = db.keyring.by_id(key_id)
    assert key is not None
    return key.unwrap(bytes(wrapped), period_id)


def close_week(db: Database) -> None:
    with db.session() as s:
        assert close_due_team_weeks(s, WEEK_END) == 1


# --- the attacker's tools -------------------------------------------------------------------


def dump(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, as raw SQL returns it."""
    everything: dict[str, list[dict[str, Any]]] = {}
    with db.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            rows = conn.execute(text(f"SELECT * FROM {table}")).mappings().all()
            everything[table] = [
                {c: v.tobytes() if isinstance(v, memoryview) else v for c, v in row.items()}
                for row in rows
            ]
    return everything


def values(data: dict[str, list[dict[str, Any]]]) -> Iterable[tuple[str, str, Any]]:
    for table, rows in data.items():
        for row in rows:
            for column, value in row.items():
                yield table, column, value


def candidate_keys(data: dict[str, list[dict[str, Any]]]) -> set[bytes]:
    keys: set[bytes] = {b""}
    for _, _, value in values(data):
        if isinstance(value, bytes):
            keys.add(value)
        elif isinstance(value, str):
            keys.add(value.encode())
            with contextlib.suppress(ValueError):
                keys.add(bytes.fromhex(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            keys.add(str(value).encode())
    return keys


def unwrapped(data: dict[str, list[dict[str, Any]]], keyring: Keyring) -> set[bytes]:
    """What the operator's key opens: every week secret wrapped anywhere in the database."""
    periods = [row["id"] for row in data["team_weeks"]]
    blobs = [value for _, _, value in values(data) if isinstance(value, bytes)]
    found: set[bytes] = set()
    for key, blob, period in itertools.product([keyring.current], blobs, periods):
        with contextlib.suppress(KeyProblem, ValueError):
            found.add(key.unwrap(blob, period))
    return found


def link(
    data: dict[str, list[dict[str, Any]]], members: Iterable[str], more_keys: Iterable[bytes] = ()
) -> dict[str, set[str]]:
    """Brute force: every key found anywhere (and any given), every way of naming a member,
    every purpose, against every string stored."""
    targets = {value.lower() for _, _, value in values(data) if isinstance(value, str)} | {
        value.hex() for _, _, value in values(data) if isinstance(value, bytes)
    }
    workspaces = {row["workspace_id"] for row in data["teams"]} | {""}
    keys = candidate_keys(data) | set(more_keys)
    found: dict[str, set[str]] = {}
    for member in members:
        messages = {member.encode()}
        for ws, purpose in itertools.product(workspaces, PURPOSES):
            messages |= {f"{purpose}{ws}:{member}".encode(), f"{ws}/{member}".encode()}
            messages |= {f"{member}:{ws}".encode()}
        for message in messages:
            digests = {hashlib.sha256(message).hexdigest()}
            digests |= {hmac.new(key, message, hashlib.sha256).hexdigest() for key in keys}
            hits = digests & targets
            if hits:
                found.setdefault(member, set()).update(hits)
    return found


# --- the attacks ----------------------------------------------------------------------------


@pytest.mark.slow
def test_brute_force_links_no_one_without_the_key_and_no_one_once_closed(
    db: Database, clock: ManualClock
) -> None:
    truth = run_a_week(db, clock, members=8)

    # With the database alone, nobody links even while the week is open.
    before = dump(db)
    assert link(before, truth.answers) == {}
    # Given the operator's key too, the attack works on everyone while the week is open: it
    # recovers each member's answers and comment. (This is what closing must undo.)
    secrets = unwrapped(before, db.keyring)
    assert len(secrets) == 1
    linked = link(before, truth.answers, secrets)
    assert set(linked) == set(truth.answers)
    [period_id] = [row["id"] for row in before["team_weeks"]]
    seal = WeekSeal(next(iter(secrets)), period_id)
    for member, keys in linked.items():
        [row] = [r for r in before["sealed_answers"] if r["respondent_key"] in keys]
        opened = seal.open(row["respondent_key"], row["sealed"])
        assert (opened.availability, opened.stress, opened.domain_item) == truth.answers[member]
        assert opened.comment == truth.comments[member]
    # Nothing in the clear while open: no answer, no comment.
    assert before["answers"] == [] and before["comments"] == []

    close_week(db)

    after = dump(db)
    assert link(after, truth.answers) == {}
    assert unwrapped(after, db.keyring) == set()  # the key has nothing left to open
    # Even someone who kept the old secret finds no key on a closed week's answers or comments.
    closed_rows = {table: after[table] for table in ("teams", "answers", "comments")}
    assert link(closed_rows, truth.answers, secrets) == {}
    assert not any(isinstance(v, bytes) and v for _, _, v in values(after))  # no key material
    for table in OPEN_WEEK_TABLES:
        assert after[table] == [], table
    # The figures are still all there.
    assert Counter(
        (r["availability"], r["stress"], r["domain_item"]) for r in after["answers"]
    ) == Counter(truth.answers.values())


def test_no_member_id_anywhere(db: Database, clock: ManualClock) -> None:
    truth = run_a_week(db, clock, members=8)
    for moment in ("open", "closed"):
        if moment == "closed":
            close_week(db)
        supervisor_seen: set[tuple[str, str]] = set()
        for table, column, value in values(dump(db)):
            text_value = value.hex() if isinstance(value, bytes) else str(value)
            for member in truth.answers:
                assert member not in text_value, (moment, table, column)
                assert member.lower() not in text_value.lower(), (moment, table, column)
                if isinstance(value, bytes):
                    assert member.encode() not in value, (moment, table, column)
            if SUPERVISOR in text_value:
                supervisor_seen.add((table, column))
        assert supervisor_seen == SUPERVISOR_COLUMNS, moment


@pytest.mark.slow
def test_comments_cannot_be_joined_to_answers(db: Database, clock: ManualClock) -> None:
    truth = run_a_week(db, clock, members=8)

    def shared_values(data: dict[str, list[dict[str, Any]]]) -> set[Any]:
        def of(table: str) -> set[Any]:
            return {
                v for r in data[table] for c, v in r.items() if c != "period_id" and v is not None
            }

        return of("answers") & of("comments")

    # While open, a comment is sealed with its own answer: no comment is readable at all.
    data = dump(db)
    assert data["comments"] == [] and len(data["sealed_answers"]) == 8
    blobs = b"".join(r["sealed"] for r in data["sealed_answers"])
    assert not any(comment.encode() in blobs for comment in truth.comments.values())
    close_week(db)
    data = dump(db)
    assert len(data["comments"]) == 8
    assert shared_values(data) == set()


def test_stored_rows_have_no_people_and_no_time(db: Database) -> None:
    schema = inspect(db.engine)
    names = ("answers", "comments", "team_weeks", *OPEN_WEEK_TABLES)
    columns = {table: {c["name"]: c["type"] for c in schema.get_columns(table)} for table in names}
    assert set(columns["answers"]) == {"id", "period_id", "availability", "stress", "domain_item"}
    assert set(columns["comments"]) == {"id", "period_id", "body"}
    # A period is a week number, not a timestamp.
    assert set(columns["team_weeks"]) == {
        "id",
        "team_id",
        "week_index",
        "domain",
        "prompt_index",
        "member_count",
        "closed",
        "items_version",
        "roster_known",
    }
    assert set(columns["week_keys"]) == {"period_id", "key_id", "wrapped"}
    assert set(columns["roster_entries"]) == {"period_id", "member_key"}
    assert set(columns["sealed_answers"]) == {"id", "period_id", "respondent_key", "sealed"}
    for table, cols in columns.items():
        for name, type_ in cols.items():
            assert not isinstance(type_, DateTime | Date | Time), (table, name)
    # The primary keys are random strings, not a sequence that would give arrival order away.
    for table in ("answers", "comments", "sealed_answers"):
        assert schema.get_pk_constraint(table)["constrained_columns"] == ["id"]
        assert isinstance(columns[table]["id"], String)


@pytest.mark.slow
def test_row_order_after_close_is_not_arrival_order(db: Database, clock: ManualClock) -> None:
    truth = run_a_week(db, clock, members=30)

    def stored_order() -> list[tuple[int, int, int]]:
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT * FROM answers")).mappings().all()
        return [(r["availability"], r["stress"], r["domain_item"]) for r in rows]

    if db.is_postgres:
        # Without the shuffle, PostgreSQL hands rows back in the order they were written: the
        # sealed rows, opened with the key, come back in arrival order.
        data = dump(db)
        [secret] = unwrapped(data, db.keyring)
        seal = WeekSeal(secret, data["team_weeks"][0]["id"])
        opened = [seal.open(r["respondent_key"], r["sealed"]) for r in data["sealed_answers"]]
        assert [(v.availability, v.stress, v.domain_item) for v in opened] == truth.arrival
    close_week(db)
    after = stored_order()
    assert Counter(after) == Counter(truth.arrival)
    assert after != truth.arrival  # 1 in 30! to happen by chance
    assert after != sorted(truth.arrival)


def test_no_hidden_row_order_or_transaction_trail(db: Database, clock: ManualClock) -> None:
    run_a_week(db, clock, members=8)
    with db.engine.connect() as conn:
        if db.is_postgres:
            # xmin is the writing transaction: one per check-in while open, so it would give
            # arrival order away...
            xmins = {r[0] for r in conn.execute(text("SELECT xmin::text FROM sealed_answers"))}
            assert len(xmins) == 8
        else:
            # SQLite tables without rowid have no hidden insertion counter to read.
            for table in ("answers", "comments", "sealed_answers", "roster_entries"):
                with pytest.raises(OperationalError):
                    conn.execute(text(f"SELECT rowid FROM {table}"))
    close_week(db)
    if db.is_postgres:
        with db.engine.connect() as conn:
            # ...but every row of a closed week was written by the one closing transaction.
            for table in ("answers", "comments"):
                xmins = {r[0] for r in conn.execute(text(f"SELECT xmin::text FROM {table}"))}
                assert len(xmins) == 1, table


def test_postgres_statistics_hold_no_keys(db: Database, clock: ManualClock) -> None:
    """pg_statistic keeps sample values of analysed columns: none of the keys' columns."""
    if not db.is_postgres:
        pytest.skip("PostgreSQL's planner statistics")
    run_a_week(db, clock, members=8)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
        analysed = conn.execute(
            text(
                "SELECT tablename, attname FROM pg_stats WHERE schemaname = current_schema() "
                "AND tablename IN ('week_keys', 'roster_entries', 'sealed_answers', "
                "'deliveries')"
            )
        ).all()
    assert analysed  # ANALYZE ran and recorded the other columns...
    assert not {
        ("week_keys", "wrapped"),
        ("roster_entries", "member_key"),
        ("sealed_answers", "respondent_key"),
        ("sealed_answers", "sealed"),
        ("deliveries", "recipient"),
    } & set(map(tuple, analysed))  # ...but none of these


def sqlite_files(db: Database) -> list[Path]:
    database = Path(make_url(db.url).database or "")
    return [p for p in database.parent.iterdir() if p.name.startswith(database.name)]


def test_sqlite_files_hold_no_secret_and_no_key_after_close(
    db: Database, clock: ManualClock
) -> None:
    """The admin copies the database files while the bot runs: the write-ahead log keeps old
    pages, so the wrapped secret (and every key) would outlive the close unless the log is
    cleared. The week's secret itself and the comments are never in the files while open."""
    if db.is_postgres:
        pytest.skip("reads the SQLite files")
    truth = run_a_week(db, clock, members=8)
    data = dump(db)
    [wrapped] = [row["wrapped"] for row in data["week_keys"]]
    [secret] = unwrapped(data, db.keyring)
    keys = [row["respondent_key"].encode() for row in data["sealed_answers"]]
    keys += [row["member_key"].encode() for row in data["roster_entries"]]
    # The start of each ciphertext (a whole one spans SQLite overflow pages, not contiguous).
    sealed = [row["sealed"][:64] for row in data["sealed_answers"]]

    def raw() -> bytes:
        return b"".join(p.read_bytes() for p in sqlite_files(db))

    while_open = raw()
    assert wrapped in while_open and all(s in while_open for s in sealed)  # the scan works
    assert secret not in while_open
    assert not any(comment.encode() in while_open for comment in truth.comments.values())
    close_week(db)
    leftover = raw()
    assert wrapped not in leftover
    assert not any(key in leftover for key in keys)
    assert not any(s in leftover for s in sealed)
    for member in truth.answers:
        assert member.encode() not in leftover
    # The database still works and holds the figures.
    assert len(dump(db)["answers"]) == 8


@pytest.mark.slow
def test_linking_fails_across_weeks_too(db: Database, clock: ManualClock) -> None:
    """Week two's secret, unwrapped with the operator's key, does not unlock week one."""
    truth = run_a_week(db, clock, members=6)
    close_week(db)
    later = WEEK_END + timedelta(days=1)
    period = open_week(db, truth.team, later, ROTATION, list(truth.answers))
    for member, values_ in truth.answers.items():
        result = check_in(
            db, truth.team, period.week_index, member, CheckinAnswers(*values_), later
        )
        assert isinstance(result, CheckinResult), result
    data = dump(db)
    assert link(data, truth.answers) == {}
    linked = link(data, truth.answers, unwrapped(data, db.keyring))
    assert set(linked) == set(truth.answers)  # week two is open, so with the key it links...
    week_one = next(r["id"] for r in data["team_weeks"] if r["id"] != period.id)
    assert [r for r in data["sealed_answers"] if r["period_id"] == week_one] == []
    assert {r["period_id"] for r in data["answers"]} == {week_one}
    for hits in linked.values():  # ...but only ever to week two's rows
        keyed = [
            (table, r["period_id"])
            for table in OPEN_WEEK_TABLES
            for r in data[table]
            if set(map(str, r.values())) & hits
        ]
        assert keyed and all(period_id == period.id for _, period_id in keyed)
