"""Alembic environment: runs against the connection or URL that storage.migrate hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from storage.db import make_engine, without_time_limits
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # storage.migrate.upgrade passes a callback to learn which migrations it applied.
        on_version_apply=config.attributes.get("on_version_apply"),
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn, without_time_limits(conn):
        _run(conn)
    engine.dispose()
