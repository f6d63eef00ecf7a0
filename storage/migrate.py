"""Alembic migrations, driven from code (`securebase db upgrade` and `db current`, and at
start-up)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection, inspect, text

from practice.keys import key_needed_to_seal
from storage.db import Database, without_time_limits

MIGRATIONS = Path(__file__).with_name("migrations")


@dataclass(frozen=True)
class Migration:
    revision: str
    title: str  # the first line of its docstring

    @classmethod
    def of(cls, script: Script) -> Migration:
        return cls(script.revision, (script.doc or "").strip())


@dataclass(frozen=True)
class Status:
    current: tuple[str, ...]  # empty for a database never migrated
    pending: tuple[Migration, ...]  # oldest first


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(db: Database, revision: str = "heads") -> list[Migration]:
    """Bring the schema to `revision`, returning the migrations applied (in order); safe to run
    from several replicas at once on PostgreSQL."""
    config = alembic_config(db.url)
    applied: list[Migration] = []

    def note(*, step: Any, **_: Any) -> None:
        applied.append(Migration.of(step.up_revision))

    config.attributes["on_version_apply"] = note
    with db.engine.begin() as connection, without_time_limits(connection):
        if db.is_postgres:
            # One replica migrates at a time; the others wait and then find nothing to do.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(72737001)")
        config.attributes["connection"] = connection
        if db.has_keyring:  # open weeks are sealed under it (migration 0007)
            config.attributes["keyring"] = db.keyring
        elif waiting := _weeks_to_seal(connection):
            # Asked before any revision runs: SQLite cannot take DDL back, so failing half-way
            # through would leave a schema that no retry could move on from.
            raise key_needed_to_seal(waiting)
        command.upgrade(config, revision)
    return applied


def status(db: Database) -> Status:
    """Where the schema is, and what `upgrade` would apply; changes nothing."""
    scripts = ScriptDirectory.from_config(alembic_config(db.url))
    with db.engine.connect() as connection:
        current = tuple(sorted(MigrationContext.configure(connection).get_current_heads()))
    done = {s.revision for head in current for s in scripts.iterate_revisions(head, "base")}
    every = reversed(list(scripts.walk_revisions()))  # oldest first
    return Status(current, tuple(Migration.of(s) for s in every if s.revision not in done))


def _weeks_to_seal(connection: Connection) -> int:
    """Open weeks that migration 0007 will have to seal (0 once it has run)."""
    tables = set(inspect(connection).get_table_names())
    if "team_weeks" not in tables or "week_keys" in tables:
        return 0
    query = text("SELECT count(*) FROM team_weeks WHERE closed = :no")
    return int(connection.scalar(query, {"no": False}) or 0)
