"""Privacy attacks on the stored data, played by an administrator who holds the whole database.

The attacker knows every team member's Slack id and reads every table and column with raw SQL
(and, on SQLite, the database files themselves). While a week is open the attack succeeds —
the week's secret is in the database, so that a member can replace their own check-in — which
shows the attack is real. Once the week has closed it must find nothing.
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
from sqlalchemy import Date, DateTime, String, Time, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from storage.checkins import CheckinAnswers, record_checkin
from storage.clock import ManualClock
from storage.db import Database
from storage.deliveries import claim, finish
from storage.models import Team
from storage.periods import close_due_periods
from storage.pulse import Surface, read_pulse_for
from storage.rotation import Rotation
from storage.teams import TeamSpec, add_team

ORDER = ("availability", "sensitivity", "acceptance", "co-operation", "team-belonging")
ROTATION = Rotation(order=ORDER, prompts_per_domain={k: 5 for k in ORDER})
WS = "T07QX3AB9"
CHANNEL = "C07QX3CD1"
SUPERVISOR = "U07SUPERV1"
WEEK_END = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # the fixture clock's week, London

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
    answers: dict[str, tuple[int, int, int]] = {}
    comments: dict[str, str] = {}
    arrival: list[tuple[int, int, int]] = []
    for n, values in zip(range(members), distinct_answers(), strict=False):
        user = member_id(n)
        answers[user], comments[user] = values, f"note {n}: workload {values[0]}"
        arrival.append(values)
        with db.session() as s:
            record_checkin(s, team, user, CheckinAnswers(*values, comments[user]), now, ROTATION)
        now += timedelta(minutes=7)
    # The rest of the bot's week, touching every other table the supervisor's id may sit in.
    with db.session() as s:
        for kind, recipient in (("prompt", CHANNEL), ("reflections", SUPERVISOR)):
            key = {"team_id": team.id, "week_index": 151, "kind": kind, "recipient": recipient}
            assert claim(s, **key, worker="replica-1", now=now)
            finish(s, **key, worker="replica-1", slack_ts="1764000000.000200")
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


def close_week(db: Database) -> None:
    with db.session() as s:
        assert close_due_periods(s, WEEK_END) == 1


# --- the attacker's tools -------------------------------------------------------------------


def dump(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, as raw SQL returns it."""
    everything: dict[str, list[dict[str, Any]]] = {}
    with db.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            rows = conn.execute(text(f"SELECT * FROM {table}")).mappings().all()
            everything[table] = [dict(row) for row in rows]
    return everything


def values(data: dict[str, list[dict[str, Any]]]) -> Iterable[tuple[str, str, Any]]:
    for table, rows in data.items():
        for row in rows:
            for column, value in row.items():
                if isinstance(value, memoryview):
                    value = value.tobytes()
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


def link(data: dict[str, list[dict[str, Any]]], members: Iterable[str]) -> dict[str, set[str]]:
    """Brute force: every key found anywhere, every way of naming a member, every string."""
    targets = {value.lower() for _, _, value in values(data) if isinstance(value, str)} | {
        value.hex() for _, _, value in values(data) if isinstance(value, bytes)
    }
    workspaces = {row["workspace_id"] for row in data["teams"]} | {""}
    keys = candidate_keys(data)
    found: dict[str, set[str]] = {}
    for member in members:
        messages = {member.encode()}
        for ws in workspaces:
            messages |= {f"{ws}:{member}".encode(), f"{ws}/{member}".encode()}
            messages |= {f"{member}:{ws}".encode()}
        for message in messages:
            digests = {hashlib.sha256(message).hexdigest()}
            digests |= {hmac.new(key, message, hashlib.sha256).hexdigest() for key in keys}
            hits = digests & targets
            if hits:
                found.setdefault(member, set()).update(hits)
    return found


# --- the attacks ----------------------------------------------------------------------------


def test_brute_force_links_everyone_while_open_and_no_one_once_closed(
    db: Database, clock: ManualClock
) -> None:
    truth = run_a_week(db, clock, members=8)

    # While the week is open, the secret is in week_secrets and the attack works on everyone:
    # it recovers each member's answers and comment. (This is what closing must undo.)
    before = dump(db)
    linked = link(before, truth.answers)
    assert set(linked) == set(truth.answers)
    for member, keys in linked.items():
        [answer] = [r for r in before["answers"] if r["respondent_key"] in keys]
        assert (answer["availability"], answer["stress"], answer["domain_item"]) == (
            truth.answers[member]
        )
        [comment] = [r for r in before["comments"] if r["respondent_key"] in keys]
        assert comment["body"] == truth.comments[member]

    close_week(db)

    after = dump(db)
    assert link(after, truth.answers) == {}
    assert not any(isinstance(v, bytes) and v for _, _, v in values(after))  # no key material
    # Not even a guess at the old secret's shape is left: every period's secret is gone.
    assert after["week_secrets"] == []
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
            if SUPERVISOR in text_value:
                supervisor_seen.add((table, column))
        assert supervisor_seen == SUPERVISOR_COLUMNS, moment


def test_comments_cannot_be_joined_to_answers_once_closed(db: Database, clock: ManualClock) -> None:
    run_a_week(db, clock, members=8)

    def shared_values(data: dict[str, list[dict[str, Any]]]) -> set[Any]:
        def of(table: str) -> set[Any]:
            return {
                v for r in data[table] for c, v in r.items() if c != "period_id" and v is not None
            }

        return of("answers") & of("comments")

    assert shared_values(dump(db))  # while open: the respondent key pairs them up
    close_week(db)
    assert shared_values(dump(db)) == set()


def test_answers_and_comments_have_no_people_and_no_time(db: Database) -> None:
    schema = inspect(db.engine)
    columns = {
        table: {c["name"]: c["type"] for c in schema.get_columns(table)}
        for table in ("answers", "comments", "team_weeks", "week_secrets")
    }
    assert set(columns["answers"]) == {
        "id",
        "period_id",
        "respondent_key",
        "availability",
        "stress",
        "domain_item",
    }
    assert set(columns["comments"]) == {"id", "period_id", "respondent_key", "body"}
    # A period is a week number, not a timestamp.
    assert set(columns["team_weeks"]) == {
        "id",
        "team_id",
        "week_index",
        "domain",
        "prompt_index",
        "member_count",
        "closed",
    }
    assert set(columns["week_secrets"]) == {"period_id", "secret"}
    for table, cols in columns.items():
        for name, type_ in cols.items():
            assert not isinstance(type_, DateTime | Date | Time), (table, name)
    # The primary keys are random strings, not a sequence that would give arrival order away.
    for table in ("answers", "comments"):
        assert schema.get_pk_constraint(table)["constrained_columns"] == ["id"]
        assert isinstance(columns[table]["id"], String)


def test_row_order_after_close_is_not_arrival_order(db: Database, clock: ManualClock) -> None:
    truth = run_a_week(db, clock, members=30)

    def stored_order() -> list[tuple[int, int, int]]:
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT * FROM answers")).mappings().all()
        return [(r["availability"], r["stress"], r["domain_item"]) for r in rows]

    if db.is_postgres:
        # Without the shuffle, PostgreSQL hands rows back in the order they were written.
        assert stored_order() == truth.arrival
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
            xmins = {r[0] for r in conn.execute(text("SELECT xmin::text FROM answers"))}
            assert len(xmins) == 8
        else:
            # SQLite tables without rowid have no hidden insertion counter to read.
            for table in ("answers", "comments"):
                with pytest.raises(OperationalError):
                    conn.execute(text(f"SELECT rowid FROM {table}"))
    close_week(db)
    if db.is_postgres:
        with db.engine.connect() as conn:
            # ...but every row of a closed week was rewritten by the one closing transaction.
            for table in ("answers", "comments"):
                xmins = {r[0] for r in conn.execute(text(f"SELECT xmin::text FROM {table}"))}
                assert len(xmins) == 1, table


def sqlite_files(db: Database) -> list[Path]:
    database = Path(make_url(db.url).database or "")
    return [p for p in database.parent.iterdir() if p.name.startswith(database.name)]


def test_sqlite_files_hold_no_secret_after_close(db: Database, clock: ManualClock) -> None:
    """The admin copies the database files while the bot runs: the write-ahead log keeps old
    pages, so the secret (and every key) would outlive the close unless the log is cleared."""
    if db.is_postgres:
        pytest.skip("reads the SQLite files")
    truth = run_a_week(db, clock, members=8)
    data = dump(db)
    [secret] = [row["secret"] for row in data["week_secrets"]]
    keys = [row["respondent_key"].encode() for row in data["answers"]]

    def raw() -> bytes:
        return b"".join(p.read_bytes() for p in sqlite_files(db))

    assert secret in raw()  # the scan can see it while the week is open
    close_week(db)
    leftover = raw()
    assert secret not in leftover
    assert not any(key in leftover for key in keys)
    for member in truth.answers:
        assert member.encode() not in leftover
    # The database still works and holds the figures.
    assert len(dump(db)["answers"]) == 8


def test_linking_fails_across_weeks_too(db: Database, clock: ManualClock) -> None:
    """Week two's secret, still in the database, does not unlock week one."""
    truth = run_a_week(db, clock, members=6)
    close_week(db)
    later = WEEK_END + timedelta(days=1)
    with db.session() as s:
        for member, values_ in truth.answers.items():
            record_checkin(s, truth.team, member, CheckinAnswers(*values_), later, ROTATION)
    data = dump(db)
    linked = link(data, truth.answers)
    assert set(linked) == set(truth.answers)  # week two is open, so it links...
    week_two = {r["period_id"] for r in data["week_secrets"]}
    week_one = next(r["id"] for r in data["team_weeks"] if r["id"] not in week_two)
    week_one_keys = {r["respondent_key"] for r in data["answers"] if r["period_id"] == week_one}
    assert week_one_keys == {None}
    for hits in linked.values():  # ...but only ever to week two's rows
        rows = [r for r in data["answers"] if r["respondent_key"] in hits]
        assert rows and all(r["period_id"] != week_one for r in rows)
