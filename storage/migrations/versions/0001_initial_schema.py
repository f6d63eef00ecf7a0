"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 18:20:26.761215
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("post_day", sa.SmallInteger(), nullable=False),
        sa.Column("post_minute", sa.SmallInteger(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("pool_weeks", sa.SmallInteger(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("pool_weeks IN (1, 2, 4)", name=op.f("ck_teams_pool_weeks")),
        sa.CheckConstraint("post_day BETWEEN 0 AND 6", name=op.f("ck_teams_post_day")),
        sa.CheckConstraint("post_minute BETWEEN 0 AND 1439", name=op.f("ck_teams_post_minute")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("workspace_id", "channel_id", name=op.f("uq_teams_workspace_id")),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("week_index", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=64), nullable=True),
        sa.Column("slack_ts", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_deliveries_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint(
            "team_id", "week_index", "kind", "recipient", name=op.f("uq_deliveries_team_id")
        ),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deliveries_team_id"), ["team_id"], unique=False)

    op.create_table(
        "pulse_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("viewer_id", sa.String(length=32), nullable=False),
        sa.Column("viewed_at", sa.DateTime(), nullable=False),
        sa.Column("what", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_pulse_views_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_views")),
    )
    with op.batch_alter_table("pulse_views", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pulse_views_team_id"), ["team_id"], unique=False)

    op.create_table(
        "team_supervisors",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_team_supervisors_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_team_supervisors")),
    )
    op.create_table(
        "team_weeks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("week_index", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=32), nullable=False),
        sa.Column("prompt_index", sa.SmallInteger(), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=True),
        sa.Column("secret", sa.LargeBinary(length=32), nullable=True),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_team_weeks_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_weeks")),
        sa.UniqueConstraint("team_id", "week_index", name=op.f("uq_team_weeks_team_id")),
    )
    with op.batch_alter_table("team_weeks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_team_weeks_team_id"), ["team_id"], unique=False)

    op.create_table(
        "answers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("respondent_key", sa.String(length=64), nullable=True),
        sa.Column("availability", sa.SmallInteger(), nullable=False),
        sa.Column("stress", sa.SmallInteger(), nullable=False),
        sa.Column("domain_item", sa.SmallInteger(), nullable=True),
        sa.CheckConstraint("availability BETWEEN 1 AND 5", name=op.f("ck_answers_availability")),
        sa.CheckConstraint("domain_item BETWEEN 1 AND 5", name=op.f("ck_answers_domain_item")),
        sa.CheckConstraint("stress BETWEEN 1 AND 5", name=op.f("ck_answers_stress")),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["team_weeks.id"],
            name=op.f("fk_answers_period_id_team_weeks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answers")),
        sa.UniqueConstraint("period_id", "respondent_key", name=op.f("uq_answers_period_id")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_answers_period_id"), ["period_id"], unique=False)

    op.create_table(
        "comments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("respondent_key", sa.String(length=64), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["team_weeks.id"],
            name=op.f("fk_comments_period_id_team_weeks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
        sa.UniqueConstraint("period_id", "respondent_key", name=op.f("uq_comments_period_id")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comments_period_id"), ["period_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comments_period_id"))

    op.drop_table("comments")
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answers_period_id"))

    op.drop_table("answers")
    with op.batch_alter_table("team_weeks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_team_weeks_team_id"))

    op.drop_table("team_weeks")
    op.drop_table("team_supervisors")
    with op.batch_alter_table("pulse_views", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pulse_views_team_id"))

    op.drop_table("pulse_views")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_team_id"))

    op.drop_table("deliveries")
    op.drop_table("teams")
