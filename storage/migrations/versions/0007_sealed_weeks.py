"""Open weeks are sealed under a key the database never holds.

Before this revision an open week's secret sat in the database (`week_secrets`), so a copy of
the database taken during an open week (a `pg_dump`, a replica, the WAL, planner statistics)
could link every member to their answers. From here on:

- the week's secret is stored only wrapped (AES-GCM) under the operator's key
  (SECUREBASE_SECRET_KEY) in `week_keys`, an ordinary logged table;
- an open week's check-ins are `sealed_answers`, ciphertexts of one fixed size under the week's
  secret; closed weeks keep their keyless `answers` and `comments` (their key columns go);
- each week has a roster (`roster_entries`, HMACs), taken when its prompt goes out.

Upgrading with open weeks needs the key: their secrets are wrapped and their answers sealed.
Those weeks have no roster (it was never taken): until they close, anyone in the channel except
the team's supervisors may check in, as before. Copies of the database taken *before* this
upgrade (backups, WAL archives, replicas' logs) still hold those weeks' secrets in the clear:
keep them no longer than you must.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from practice.keys import KeyProblem, Keyring, key_needed_to_seal
from practice.sealing import SealedValues, WeekSeal, new_week_secret

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("storage.migrations")

# Keys and ciphertexts are meaningless to the planner, and its statistics (pg_statistic) are a
# copy of column values that nobody expects to hold them: collect none.
NO_STATISTICS = (
    ("week_keys", "wrapped"),
    ("roster_entries", "member_key"),
    ("sealed_answers", "respondent_key"),
    ("sealed_answers", "sealed"),
    ("deliveries", "recipient"),
)


def _keyring(open_weeks: int) -> Keyring:
    config = op.get_context().config
    keyring = None if config is None else config.attributes.get("keyring")
    if not isinstance(keyring, Keyring):
        raise key_needed_to_seal(open_weeks)
    return keyring


def _create_tables() -> None:
    op.create_table(
        "week_keys",
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["team_weeks.id"],
            name=op.f("fk_week_keys_period_id_team_weeks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("period_id", name=op.f("pk_week_keys")),
    )
    op.create_table(
        "roster_entries",
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("member_key", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["team_weeks.id"],
            name=op.f("fk_roster_entries_period_id_team_weeks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("period_id", "member_key", name=op.f("pk_roster_entries")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "sealed_answers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("respondent_key", sa.String(length=64), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["team_weeks.id"],
            name=op.f("fk_sealed_answers_period_id_team_weeks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sealed_answers")),
        sa.UniqueConstraint(
            "period_id", "respondent_key", name=op.f("uq_sealed_answers_period_id")
        ),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_sealed_answers_period_id"), "sealed_answers", ["period_id"], unique=False
    )
    # A plain ALTER, not batch mode: on SQLite batch would rebuild team_weeks, and dropping the
    # old table would cascade to every answer and comment.
    op.add_column(
        "team_weeks",
        sa.Column("roster_known", sa.Boolean(), nullable=False, server_default=sa.true()),
    )


def _open_weeks(bind: sa.Connection) -> list[tuple[int, bytes | None]]:
    """Each open week and its secret (None if PostgreSQL lost it, UNLOGGED, in a crash)."""
    rows = bind.execute(
        sa.text(
            "SELECT w.id, s.secret FROM team_weeks w "
            "LEFT JOIN week_secrets s ON s.period_id = w.id WHERE w.closed = :f"
        ),
        {"f": False},
    ).all()
    return [
        (int(period_id), None if secret is None else bytes(secret)) for period_id, secret in rows
    ]


def _seal_open_weeks(
    bind: sa.Connection, weeks: list[tuple[int, bytes | None]], keyring: Keyring | None
) -> None:
    if not weeks or keyring is None:
        return
    for period_id, stored in weeks:
        secret = stored if stored is not None else new_week_secret()
        seal = WeekSeal(secret, period_id)
        bind.execute(
            sa.text("INSERT INTO week_keys (period_id, key_id, wrapped) VALUES (:p, :k, :w)"),
            {
                "p": period_id,
                "k": keyring.current.key_id,
                "w": keyring.current.wrap(secret, period_id),
            },
        )
        comments: dict[str, str] = dict(
            bind.execute(
                sa.text(
                    "SELECT respondent_key, body FROM comments "
                    "WHERE period_id = :p AND respondent_key IS NOT NULL"
                ),
                {"p": period_id},
            ).all()
        )
        answers = bind.execute(
            sa.text(
                "SELECT id, respondent_key, availability, stress, domain_item FROM answers "
                "WHERE period_id = :p AND respondent_key IS NOT NULL"
            ),
            {"p": period_id},
        ).all()
        for row_id, key, availability, stress, item in answers:
            values = SealedValues(availability, stress, item, comments.get(key, ""))
            bind.execute(
                sa.text(
                    "INSERT INTO sealed_answers (id, period_id, respondent_key, sealed) "
                    "VALUES (:i, :p, :k, :s)"
                ),
                {"i": row_id, "p": period_id, "k": key, "s": seal.seal(key, values)},
            )
        for table in ("answers", "comments"):
            bind.execute(
                sa.text(f"DELETE FROM {table} WHERE period_id = :p"),
                {"p": period_id},
            )
        bind.execute(
            sa.text("UPDATE team_weeks SET roster_known = :f WHERE id = :p"),
            {"f": False, "p": period_id},
        )
    log.warning(
        "%d open week(s) sealed under the secret key. Copies of the database taken before this "
        "upgrade (backups, WAL archives) still hold their secrets: keep them no longer than "
        "you must.",
        len(weeks),
    )


def _drop_keys(table: str) -> None:
    with op.batch_alter_table(table, table_kwargs={"sqlite_with_rowid": False}) as batch:
        batch.drop_constraint(op.f(f"uq_{table}_period_id"), type_="unique")
        batch.drop_column("respondent_key")


def upgrade() -> None:
    bind = op.get_bind()
    # Asked for before anything changes: pysqlite runs DDL outside the transaction, so a
    # missing key found halfway would leave SQLite half-migrated.
    weeks = _open_weeks(bind)
    keyring = _keyring(len(weeks)) if weeks else None
    _create_tables()
    _seal_open_weeks(bind, weeks, keyring)
    op.drop_table("week_secrets")
    _drop_keys("answers")
    _drop_keys("comments")
    if bind.dialect.name == "postgresql":
        for table, column in NO_STATISTICS:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS 0")


def downgrade() -> None:
    bind = op.get_bind()
    for table in ("answers", "comments"):
        with op.batch_alter_table(table, table_kwargs={"sqlite_with_rowid": False}) as batch:
            batch.add_column(sa.Column("respondent_key", sa.String(length=64), nullable=True))
            batch.create_unique_constraint(
                op.f(f"uq_{table}_period_id"), ["period_id", "respondent_key"]
            )
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
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE week_secrets SET UNLOGGED")
    _unseal_open_weeks(bind)
    op.drop_index(op.f("ix_sealed_answers_period_id"), table_name="sealed_answers")
    op.drop_table("sealed_answers")
    op.drop_table("roster_entries")
    op.drop_table("week_keys")
    op.drop_column("team_weeks", "roster_known")  # plain ALTER: see _create_tables


def _unseal_open_weeks(bind: sa.Connection) -> None:
    weeks = bind.execute(sa.text("SELECT period_id, key_id, wrapped FROM week_keys")).all()
    if not weeks:
        return
    keyring = _keyring(len(weeks))
    for period_id, key_id, wrapped in weeks:
        key = keyring.by_id(key_id)
        if key is None:
            raise KeyProblem(f"open week {period_id} was sealed under another key ({key_id})")
        secret = key.unwrap(bytes(wrapped), period_id)
        seal = WeekSeal(secret, period_id)
        bind.execute(
            sa.text("INSERT INTO week_secrets (period_id, secret) VALUES (:p, :s)"),
            {"p": period_id, "s": secret},
        )
        rows = bind.execute(
            sa.text("SELECT id, respondent_key, sealed FROM sealed_answers WHERE period_id = :p"),
            {"p": period_id},
        ).all()
        for row_id, key_text, sealed in rows:
            values = seal.open(key_text, bytes(sealed))
            bind.execute(
                sa.text(
                    "INSERT INTO answers (id, period_id, respondent_key, availability, stress, "
                    "domain_item) VALUES (:i, :p, :k, :a, :s, :d)"
                ),
                {
                    "i": row_id,
                    "p": period_id,
                    "k": key_text,
                    "a": values.availability,
                    "s": values.stress,
                    "d": values.domain_item,
                },
            )
            if values.comment:
                bind.execute(
                    sa.text(
                        "INSERT INTO comments (id, period_id, respondent_key, body) "
                        "VALUES (:i, :p, :k, :b)"
                    ),
                    {"i": row_id, "p": period_id, "k": key_text, "b": values.comment},
                )
