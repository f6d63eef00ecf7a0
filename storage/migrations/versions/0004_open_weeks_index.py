"""partial index on the open team-weeks

`close_due_periods` (run by every weekly sweep and every /teampulse) selects the open weeks.
Without an index for that it read every row of team_weeks (a sequential scan on PostgreSQL;
every team's weeks through ix_team_weeks_team_id on SQLite), a cost growing with the whole
history. This partial index holds only the open weeks (about one per team), so SQLite's planner
picks it with or without ANALYZE statistics. See bench/results.md, benchmark 3.

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-25 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    open_only = sa.column("closed").is_(False)
    op.create_index(
        "ix_team_weeks_open",
        "team_weeks",
        ["closed"],
        unique=False,
        sqlite_where=open_only,
        postgresql_where=open_only,
    )


def downgrade() -> None:
    op.drop_index("ix_team_weeks_open", table_name="team_weeks")
