"""team experience: support text per team, reminder opt-outs, skipped weeks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(sa.Column("support_text", sa.Text(), nullable=True))

    op.create_table(
        "reminder_opt_outs",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "user_id", name=op.f("pk_reminder_opt_outs")),
    )
    op.create_table(
        "skipped_weeks",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("week_index", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_skipped_weeks_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", "week_index", name=op.f("pk_skipped_weeks")),
    )


def downgrade() -> None:
    op.drop_table("skipped_weeks")
    op.drop_table("reminder_opt_outs")
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_column("support_text")
