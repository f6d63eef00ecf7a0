"""Week secrets move to a table of their own (UNLOGGED on PostgreSQL); joins the branches.

A week's secret is what links a check-in to a person while the week is open. In `team_weeks`
it also went through PostgreSQL's write-ahead log, where a superuser could read it back after
the week had closed, until the log segment was recycled. An UNLOGGED table never reaches the
log (nor streaming replicas or base backups), and being tiny it is rewritten at once when a
week closes. The price: after a PostgreSQL crash the table is emptied, and the open weeks get
fresh secrets (see storage.periods.ensure_period).

Revision ID: 0005
Revises: 0002, 0003, 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: tuple[str, ...] = ("0002", "0003", "0004")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "week_secrets",
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.LargeBinary(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["team_weeks.id"],
            name=op.f("fk_week_secrets_period_id_team_weeks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("period_id", name=op.f("pk_week_secrets")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE week_secrets SET UNLOGGED")
    op.execute(
        "INSERT INTO week_secrets (period_id, secret) "
        "SELECT id, secret FROM team_weeks WHERE secret IS NOT NULL"
    )
    # A plain ALTER (SQLite 3.35+), not batch mode: batch would rebuild team_weeks, and dropping
    # the old table would cascade to every answer.
    op.execute("ALTER TABLE team_weeks DROP COLUMN secret")


def downgrade() -> None:
    op.add_column("team_weeks", sa.Column("secret", sa.LargeBinary(length=32), nullable=True))
    op.execute(
        "UPDATE team_weeks SET secret = "
        "(SELECT secret FROM week_secrets WHERE week_secrets.period_id = team_weeks.id)"
    )
    op.drop_table("week_secrets")
