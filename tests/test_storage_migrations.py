"""Migrations match the models, run twice safely, and SQLite is tuned as designed."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.migrate import alembic_config, upgrade
from storage.models import Base

# Secure Base's own tables; the metadata may hold more (e.g. Slack's OAuth store).
CORE_TABLES = {
    "teams",
    "team_supervisors",
    "team_weeks",
    "answers",
    "comments",
    "week_keys",
    "roster_entries",
    "sealed_answers",
    "deliveries",
    "pulse_views",
}


def schema_diff(db: Database) -> list[Any]:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, Base.metadata))


def tables(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names())


TABLES = set(Base.metadata.tables)


def heads(db: Database) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(db.url)).get_heads())


def test_models_and_migrations_agree(db: Database) -> None:
    assert schema_diff(db) == []
    assert CORE_TABLES <= TABLES
    assert tables(db) == TABLES | {"alembic_version"}


def test_a_model_change_without_migration_is_noticed(db: Database) -> None:
    """The comparison above is not vacuous: drop an index and it is reported."""
    with db.engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_answers_period_id"))
    diff = schema_diff(db)
    assert [entry[0] for entry in diff] == ["add_index"]


def test_upgrade_is_idempotent(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO teams (workspace_id, channel_id, name, post_day, post_minute, "
                "timezone, pool_weeks, paused, created_at) VALUES ('T1', 'C1', 'Blue', 0, 570, "
                "'Europe/London', 1, false, '2026-11-24 10:00:00')"
            )
        )
    upgrade(db)
    upgrade(db)
    with db.engine.connect() as conn:
        versions = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
        assert versions == heads(db)
        assert conn.execute(text("SELECT name FROM teams")).all() == [("Blue",)]
    assert schema_diff(db) == []


@pytest.mark.slow
def test_downgrade_to_base_and_back(db: Database) -> None:
    config = alembic_config(db.url)
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert tables(db) <= {"alembic_version"}
    upgrade(db)
    assert tables(db) == TABLES | {"alembic_version"}
    assert schema_diff(db) == []


def test_replicas_migrating_at_once(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent migration is promised on PostgreSQL (advisory lock)")
    replicas = [Database(database_url) for _ in range(3)]
    barrier = threading.Barrier(len(replicas))
    errors: list[BaseException] = []

    def migrate(replica: Database) -> None:
        try:
            barrier.wait()
            upgrade(replica)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=migrate, args=(r,)) for r in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert errors == []
        assert tables(replicas[0]) == TABLES | {"alembic_version"}
        assert schema_diff(replicas[0]) == []
    finally:
        for replica in replicas:
            replica.dispose()


def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO answers (id, period_id, availability, stress) "
                "VALUES ('0123456789abcdef0123456789abcdef', 999, 3, 3)"
            )
        )


def test_sqlite_tuning(db: Database) -> None:
    if db.is_postgres:
        pytest.skip("SQLite pragmas")
    # Every pooled connection is tuned, not only the first.
    expected = {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 10000,
        "synchronous": 1,  # NORMAL
        "secure_delete": 1,
    }
    with db.engine.connect() as first, db.engine.connect() as second:
        for conn in (first, second):
            found = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in expected}
            assert found == expected
