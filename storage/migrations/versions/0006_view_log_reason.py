"""the view log says where each look was, which weeks it showed, and why an export was made

`surface` (/teampulse, chart, App Home, share, export), `first_week`..`last_week` and `reason`
(an export's stated reason). Looks logged before this have only `what`, so all are nullable.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pulse_views", schema=None) as batch_op:
        batch_op.add_column(sa.Column("surface", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("first_week", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("last_week", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pulse_views", schema=None) as batch_op:
        batch_op.drop_column("reason")
        batch_op.drop_column("last_week")
        batch_op.drop_column("first_week")
        batch_op.drop_column("surface")
