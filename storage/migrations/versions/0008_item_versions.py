"""check-in items have versions; "didn't need any" support; rotation counts from a start week

- `team_weeks.items_version`: the version of the check-in items a week was answered with. Every
  week before this revision was answered with the first wording (1).
- `answers.availability` may be NULL: "I didn't need any this week" counts as checking in but
  has no answer on that item.
- `teams.rotation_start`: the week a team's rotation counts from. Teams that already have weeks
  keep their place (the start their old hash-based offset gave them); a team with none yet
  starts with its first week, at availability.

Downgrading drops the answers that said "I didn't need any this week" (the old schema has no
way to hold them), so those weeks count fewer check-ins.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from practice.rotation import legacy_start

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOMAINS_BEFORE = 5  # the number of domains the old offset was taken modulo


def upgrade() -> None:
    # Plain ADD COLUMN on every backend; teams and team_weeks are never copied (see downgrade).
    op.add_column(
        "team_weeks",
        sa.Column("items_version", sa.SmallInteger(), nullable=False, server_default="1"),
    )
    op.add_column("teams", sa.Column("rotation_start", sa.Integer(), nullable=True))
    # SQLite cannot change a column's NULL-ness in place: answers is copied, which is safe as no
    # table refers to it.
    with op.batch_alter_table(
        "answers", schema=None, table_kwargs={"sqlite_with_rowid": False}
    ) as batch_op:
        batch_op.alter_column("availability", existing_type=sa.SmallInteger(), nullable=True)

    bind = op.get_bind()
    running = bind.execute(
        sa.text(
            "SELECT id, workspace_id, channel_id FROM teams WHERE EXISTS "
            "(SELECT 1 FROM team_weeks WHERE team_weeks.team_id = teams.id)"
        )
    ).all()
    for team_id, workspace_id, channel_id in running:
        bind.execute(
            sa.text("UPDATE teams SET rotation_start = :start WHERE id = :id"),
            {"start": legacy_start(workspace_id, channel_id, DOMAINS_BEFORE), "id": team_id},
        )


def downgrade() -> None:
    op.execute("DELETE FROM answers WHERE availability IS NULL")
    # Not in batch mode: on SQLite that copies the table and drops the old one, and dropping
    # teams or team_weeks would cascade to every row that refers to them. SQLite (3.35 on)
    # drops a plain column in place.
    op.drop_column("teams", "rotation_start")
    op.drop_column("team_weeks", "items_version")
    with op.batch_alter_table(
        "answers", schema=None, table_kwargs={"sqlite_with_rowid": False}
    ) as batch_op:
        batch_op.alter_column("availability", existing_type=sa.SmallInteger(), nullable=False)
