"""Alembic on SQLite and PostgreSQL: empty → heads, every revision upgrades with data in place,
migration 0003 holds exactly the tables slack_sdk's OAuth stores expect, and migration 0007
seals the weeks that are open when it runs (and needs the operator's key to)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection

from bot.settings import load_settings
from practice.checkin import CheckinAnswers, CheckinResult, check_in
from practice.keys import KeyProblem, Keyring
from practice.sealing import SealedValues, WeekSeal
from practice.weeks import Week
from storage.db import Database
from storage.migrate import alembic_config, upgrade
from storage.models import Team

SCRIPTS = ScriptDirectory.from_config(alembic_config("sqlite://"))
STEPS = [s for s in SCRIPTS.walk_revisions() if s.down_revision is not None]

# One row in each table of the first revision, in foreign-key order (column: SQL literal). A
# column a later revision dropped (team_weeks.secret, 0005) is left out where it is gone: only
# a NULL may be, so no data is silently skipped.
ROWS: dict[str, dict[str, str]] = {
    "teams": {
        "id": "7",
        "workspace_id": "'T1'",
        "channel_id": "'C1'",
        "name": "'Blue'",
        "post_day": "0",
        "post_minute": "570",
        "timezone": "'Europe/London'",
        "pool_weeks": "1",
        "paused": "false",
        "created_at": "'2026-11-24 10:00:00'",
    },
    "team_supervisors": {"team_id": "7", "user_id": "'U1'"},
    "team_weeks": {
        "id": "3",
        "team_id": "7",
        "week_index": "151",
        "domain": "'availability'",
        "prompt_index": "0",
        "member_count": "8",
        "secret": "NULL",
        "closed": "true",
    },
    "answers": {
        "id": "'a1'",
        "period_id": "3",
        "respondent_key": "NULL",
        "availability": "4",
        "stress": "2",
        "domain_item": "5",
    },
    "comments": {
        "id": "'c1'",
        "period_id": "3",
        "respondent_key": "NULL",
        "body": "'Thanks for Thursday'",
    },
    "deliveries": {
        "team_id": "7",
        "week_index": "151",
        "kind": "'channel_prompt'",
        "recipient": "'C1'",
        "status": "'sent'",
        "claimed_at": "'2026-11-24 09:30:00'",
        "claimed_by": "'host:1'",
        "attempts": "1",
        "error": "NULL",
        "slack_ts": "'1.2'",
    },
    "pulse_views": {
        "team_id": "7",
        "viewer_id": "'U1'",
        "viewed_at": "'2026-11-24 11:00:00'",
        "what": "'/teampulse 8 weeks'",
    },
}


def insert_rows(conn: Connection) -> None:
    for table, row in ROWS.items():
        present = {column["name"] for column in inspect(conn).get_columns(table)}
        gone = {name: value for name, value in row.items() if name not in present}
        assert set(gone.values()) <= {"NULL"}, (table, gone)
        kept = {name: value for name, value in row.items() if name in present}
        conn.execute(
            text(f"INSERT INTO {table} ({', '.join(kept)}) VALUES ({', '.join(kept.values())})")
        )


CHECKS = {
    "teams": ("SELECT id, workspace_id, channel_id, name FROM teams", [(7, "T1", "C1", "Blue")]),
    "team_supervisors": ("SELECT team_id, user_id FROM team_supervisors", [(7, "U1")]),
    "team_weeks": ("SELECT id, domain, member_count FROM team_weeks", [(3, "availability", 8)]),
    "answers": ("SELECT id, availability, stress, domain_item FROM answers", [("a1", 4, 2, 5)]),
    "comments": ("SELECT body FROM comments", [("Thanks for Thursday",)]),
    "deliveries": (
        "SELECT kind, status, slack_ts FROM deliveries",
        [("channel_prompt", "sent", "1.2")],
    ),
    "pulse_views": ("SELECT viewer_id, what FROM pulse_views", [("U1", "/teampulse 8 weeks")]),
}


OAUTH_ENV = {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_SIGNING_SECRET": "x"}


def migrate(db: Database, revision: str) -> None:
    config = alembic_config(db.url)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def versions(connection: Connection) -> set[str]:
    return {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}


def test_empty_database_upgrades_to_every_head(db: Database) -> None:
    with db.engine.connect() as conn:
        assert versions(conn) == set(SCRIPTS.get_heads())
    assert {"teams", "slack_installations", "slack_bots", "slack_oauth_states"} <= set(
        inspect(db.engine).get_table_names()
    )


@pytest.mark.slow
@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.revision)
def test_each_revision_upgrades_with_data_in_place(database_url: str, step: Script) -> None:
    db = Database(database_url)
    try:
        before = step.down_revision
        for parent in (before,) if isinstance(before, str) else tuple(before or ()):
            migrate(db, parent)
        with db.engine.begin() as conn:
            insert_rows(conn)
        migrate(db, step.revision)
        upgrade(db)  # and on to every head
        with db.engine.connect() as conn:
            for query, expected in CHECKS.values():
                assert conn.execute(text(query)).all() == expected, query
            assert versions(conn) == set(SCRIPTS.get_heads())
    finally:
        db.dispose()


def test_0001_then_rows_then_heads(database_url: str) -> None:
    """The upgrade path every existing install takes: data written under 0001 survives."""
    db = Database(database_url)
    try:
        migrate(db, "0001")
        with db.engine.begin() as conn:
            insert_rows(conn)
        upgrade(db)
        with db.engine.connect() as conn:
            for query, expected in CHECKS.values():
                assert conn.execute(text(query)).all() == expected, query
    finally:
        db.dispose()


# --- 0007: the weeks open at the upgrade are sealed ------------------------------------------

SECRET = bytes(range(32))  # week 152's secret, in the clear in week_secrets before 0007
OPEN = WeekSeal(SECRET, 4)
OLD_KEYS = {user: OPEN.respondent_key("T1", user) for user in ("UMEMBER1", "UMEMBER2")}


def add_an_open_week(db: Database) -> None:
    """At 0005: week 151 closed (ROWS) and week 152 open, two keyed answers and a comment."""
    k1, k2 = OLD_KEYS["UMEMBER1"], OLD_KEYS["UMEMBER2"]
    with db.engine.begin() as conn:
        insert_rows(conn)
        conn.execute(
            text(
                "INSERT INTO team_weeks (id, team_id, week_index, domain, prompt_index, "
                "member_count, closed) VALUES (4, 7, 152, 'sensitivity', 1, 9, false)"
            )
        )
        conn.execute(text("INSERT INTO week_secrets VALUES (4, :s)"), {"s": SECRET})
        conn.execute(
            text(
                "INSERT INTO answers (id, period_id, respondent_key, availability, stress, "
                "domain_item) VALUES ('a2', 4, :k1, 5, 1, 3), ('a3', 4, :k2, 2, 4, NULL)"
            ),
            {"k1": k1, "k2": k2},
        )
        conn.execute(
            text(
                "INSERT INTO comments (id, period_id, respondent_key, body) "
                "VALUES ('c2', 4, :k1, 'Sealed at the upgrade')"
            ),
            {"k1": k1},
        )


def closed_week_intact(db: Database) -> None:
    """Every row of ROWS as it was (week 151's among the weeks)."""
    for table, (query, expected) in CHECKS.items():
        if table in ("team_weeks", "answers", "comments"):
            query += " WHERE id = 3" if table == "team_weeks" else " WHERE period_id = 3"
        assert rows(db, query) == expected, query


def rows(db: Database, query: str) -> list[Any]:
    with db.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(query))]


def test_upgrading_with_an_open_week_seals_it_and_downgrading_unseals_it(
    database_url: str,
) -> None:
    keyring = Keyring.generate()
    db = Database(database_url, keyring)
    try:
        migrate(db, "0005")
        add_an_open_week(db)
        upgrade(db)

        [(key_id, wrapped)] = rows(db, "SELECT key_id, wrapped FROM week_keys WHERE period_id = 4")
        assert key_id == keyring.current.key_id
        assert keyring.current.unwrap(bytes(wrapped), 4) == SECRET
        sealed = dict(rows(db, "SELECT respondent_key, sealed FROM sealed_answers"))
        # Found again by the same respondent keys as before, so members can still replace them.
        assert {key: OPEN.open(key, bytes(blob)) for key, blob in sealed.items()} == {
            OLD_KEYS["UMEMBER1"]: SealedValues(5, 1, 3, "Sealed at the upgrade"),
            OLD_KEYS["UMEMBER2"]: SealedValues(2, 4, None, ""),
        }
        # Nothing of the open week is left in the clear; the closed week is untouched.
        assert rows(db, "SELECT period_id FROM answers") == [(3,)]
        assert rows(db, "SELECT period_id FROM comments") == [(3,)]
        closed_week_intact(db)
        assert "week_secrets" not in inspect(db.engine).get_table_names()
        # It was never given a roster, so it has none: anyone but supervisors may check in.
        flags = rows(db, "SELECT id, roster_known FROM team_weeks ORDER BY id")
        assert [(i, bool(known)) for i, known in flags] == [(3, True), (4, False)]
        assert rows(db, "SELECT COUNT(*) FROM roster_entries") == [(0,)]

        with db.session() as session:
            team = session.get(Team, 7)
            assert team is not None
        during = Week(152).starts_at("Europe/London") + timedelta(days=2)
        again = check_in(db, team, 152, "UMEMBER2", CheckinAnswers(3, 3, 3, "changed"), during)
        assert isinstance(again, CheckinResult) and again.replaced is True
        assert rows(db, "SELECT COUNT(*) FROM sealed_answers") == [(2,)]

        config = alembic_config(db.url)
        with db.engine.begin() as conn:
            config.attributes["connection"] = conn
            config.attributes["keyring"] = keyring
            command.downgrade(config, "0005")
        assert rows(db, "SELECT period_id, secret FROM week_secrets") == [(4, SECRET)]
        keyed = rows(
            db,
            "SELECT respondent_key, availability, stress, domain_item FROM answers "
            "WHERE period_id = 4 ORDER BY availability",
        )
        assert keyed == [(OLD_KEYS["UMEMBER2"], 3, 3, 3), (OLD_KEYS["UMEMBER1"], 5, 1, 3)]
        assert sorted(
            rows(db, "SELECT respondent_key, body FROM comments WHERE period_id = 4")
        ) == sorted(
            [(OLD_KEYS["UMEMBER1"], "Sealed at the upgrade"), (OLD_KEYS["UMEMBER2"], "changed")]
        )
        closed_week_intact(db)
        assert not {"week_keys", "sealed_answers", "roster_entries"} & set(
            inspect(db.engine).get_table_names()
        )
    finally:
        db.dispose()


def test_upgrading_with_an_open_week_needs_the_key(database_url: str) -> None:
    db = Database(database_url)  # no SECUREBASE_SECRET_KEY
    try:
        migrate(db, "0005")
        add_an_open_week(db)
        with pytest.raises(KeyProblem, match="SECUREBASE_SECRET_KEY"):
            upgrade(db)
        # Nothing changed: still at 0005, the open week's keyed rows where they were.
        with db.engine.connect() as conn:
            assert versions(conn) == {"0005"}
        assert rows(db, "SELECT period_id, secret FROM week_secrets") == [(4, SECRET)]
        assert rows(db, "SELECT COUNT(*) FROM answers WHERE period_id = 4") == [(2,)]
        assert "week_keys" not in inspect(db.engine).get_table_names()
    finally:
        db.dispose()
    # With the key, the same database then upgrades.
    keyed = Database(database_url, Keyring.generate())
    try:
        upgrade(keyed)
        assert rows(keyed, "SELECT COUNT(*) FROM sealed_answers") == [(2,)]
    finally:
        keyed.dispose()


def slack_store_metadata() -> MetaData:
    """The tables as slack_sdk's own store classes define them, from the classes themselves."""
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    from bot.oauth import installation_store

    settings = load_settings(
        {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_SIGNING_SECRET": "x"}
    )
    metadata = MetaData()
    for table in installation_store(settings, Database("sqlite://")).metadata.tables.values():
        table.to_metadata(metadata)
    SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, "slack_oauth_states")
    return metadata


def test_migration_0003_matches_slack_sdk_stores(db: Database) -> None:
    """If a slack_sdk upgrade changes its tables, this fails: write a new revision for it."""
    metadata = slack_store_metadata()
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_name": lambda name, kind, _parent: (
                    kind != "table" or name in metadata.tables
                ),
            },
        )
        assert list(compare_metadata(context, metadata)) == []


def test_slack_stores_work_on_the_migrated_tables(db: Database) -> None:
    from slack_sdk.oauth.installation_store import Installation

    from bot.oauth import installation_store

    settings = load_settings(
        {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_SIGNING_SECRET": "x"}
    )
    store = installation_store(settings, db)
    store.save(
        Installation(
            app_id="A1",
            team_id="T1",
            user_id="U1",
            bot_token="xoxb-1",
            bot_id="B1",
            bot_user_id="UB1",
            installed_at=datetime(2026, 11, 24, 10, tzinfo=UTC).timestamp(),
        )
    )
    found = store.find_installation(enterprise_id=None, team_id="T1")
    assert found is not None and (found.bot_token, found.bot_user_id) == ("xoxb-1", "UB1")
    assert store.find_bot(enterprise_id=None, team_id="T1") is not None
    assert store.find_installation(enterprise_id=None, team_id="T2") is None
