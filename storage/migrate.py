"""Alembic migrations, driven from code (`securebase db upgrade`, and at start-up)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from storage.db import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(db: Database, revision: str = "heads") -> None:
    """Bring the schema to `revision`; safe to run from several replicas at once on PostgreSQL."""
    config = alembic_config(db.url)
    with db.engine.begin() as connection:
        if db.is_postgres:
            # One replica migrates at a time; the others wait and then find nothing to do.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(72737001)")
        config.attributes["connection"] = connection
        if db.has_keyring:  # open weeks are sealed under it (migration 0007)
            config.attributes["keyring"] = db.keyring
        command.upgrade(config, revision)
