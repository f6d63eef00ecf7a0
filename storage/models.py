"""Typed SQLAlchemy 2 models.

Privacy is in the shape of these tables (see PRIVACY.md):
- A closed week's `answers` and `comments` have no user column, no key, no timestamp and
  random primary keys, written in one shuffled batch when the week closes.
- While a week is open its check-ins are `sealed_answers`: AES-GCM ciphertexts of a fixed size
  under the week's own secret, found again by `respondent_key` (an HMAC of the member under the
  same secret) so that a second check-in replaces the first. The week's `roster_entries` are
  HMACs too. The secret itself is stored only wrapped under the operator's key (`week_keys`),
  which the database never holds: whoever has only the database cannot link anyone.
- comments live apart from scores, so a comment can never be read beside one person's answers.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    column,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would otherwise hand back naive ones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def random_id() -> str:
    return uuid.uuid4().hex


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (
        UniqueConstraint("workspace_id", "channel_id"),
        CheckConstraint("pool_weeks IN (1, 2, 4)", name="pool_weeks"),
        CheckConstraint("post_day BETWEEN 0 AND 6", name="post_day"),
        CheckConstraint("post_minute BETWEEN 0 AND 1439", name="post_minute"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    post_day: Mapped[int] = mapped_column(SmallInteger)  # 0 = Monday
    post_minute: Mapped[int] = mapped_column(SmallInteger)  # minutes after local midnight
    timezone: Mapped[str] = mapped_column(String(64))
    pool_weeks: Mapped[int] = mapped_column(SmallInteger, default=1)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Where to find support (e.g. the employee assistance programme), shown privately to someone
    # who reports high stress; None: a kind generic line.
    support_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The week the rotation of domains counts from (practice.rotation); None until the team's
    # first week opens, so every new team starts at availability.
    rotation_start: Mapped[int | None] = mapped_column(Integer, nullable=True)

    supervisors: Mapped[list[Supervisor]] = relationship(
        back_populates="team", cascade="all, delete-orphan", lazy="selectin"
    )


class Supervisor(Base):
    __tablename__ = "team_supervisors"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)

    team: Mapped[Team] = relationship(back_populates="supervisors")


class TeamWeek(Base):
    """One team-week, opened when its prompt goes out (with its roster) and closed when it
    ends. `member_count` is the roster's size."""

    __tablename__ = "team_weeks"
    __table_args__ = (
        UniqueConstraint("team_id", "week_index"),
        # Every sweep and /teampulse looks for the open weeks (about one per team) among all the
        # closed ones: a partial index holds just those, and planners use it with or without
        # statistics (see bench/results.md, benchmark 3).
        Index(
            "ix_team_weeks_open",
            "closed",
            sqlite_where=column("closed").is_(False),
            postgresql_where=column("closed").is_(False),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    week_index: Mapped[int] = mapped_column(Integer)
    domain: Mapped[str] = mapped_column(String(32))
    prompt_index: Mapped[int] = mapped_column(SmallInteger)
    member_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The version of the check-in items the week was answered with (bot/content/scales.toml):
    # figures of different versions are never joined into one line or one profile.
    items_version: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")

    # False only for a week that was already open when sealed weeks came in (migration 0007):
    # it has no roster, so any non-supervisor in the channel may check in until it closes.
    roster_known: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class WeekKey(Base):
    """An open week's secret, wrapped (AES-GCM) under the operator's key `key_id`; deleted when
    the week closes. Logged like any table, so crashes, failover and replicas keep it."""

    __tablename__ = "week_keys"

    period_id: Mapped[int] = mapped_column(
        ForeignKey("team_weeks.id", ondelete="CASCADE"), primary_key=True
    )
    key_id: Mapped[str] = mapped_column(String(16))
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)


class RosterEntry(Base):
    """One member of an open week's roster, as an HMAC under the week's secret."""

    __tablename__ = "roster_entries"
    __table_args__ = ({"sqlite_with_rowid": False},)

    period_id: Mapped[int] = mapped_column(
        ForeignKey("team_weeks.id", ondelete="CASCADE"), primary_key=True
    )
    member_key: Mapped[str] = mapped_column(String(64), primary_key=True)


class SealedAnswer(Base):
    """One member's check-in in an open week, sealed under the week's secret."""

    __tablename__ = "sealed_answers"
    __table_args__ = (
        UniqueConstraint("period_id", "respondent_key"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    period_id: Mapped[int] = mapped_column(
        ForeignKey("team_weeks.id", ondelete="CASCADE"), index=True
    )
    respondent_key: Mapped[str] = mapped_column(String(64))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class Answer(Base):
    """One closed week's answer: no key, no person, no time."""

    __tablename__ = "answers"
    __table_args__ = (
        CheckConstraint("availability BETWEEN 1 AND 5", name="availability"),
        CheckConstraint("stress BETWEEN 1 AND 5", name="stress"),
        CheckConstraint("domain_item BETWEEN 1 AND 5", name="domain_item"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    period_id: Mapped[int] = mapped_column(
        ForeignKey("team_weeks.id", ondelete="CASCADE"), index=True
    )
    # None: "I didn't need any this week" (checked in, but out of this item's figures).
    availability: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    stress: Mapped[int] = mapped_column(SmallInteger)
    domain_item: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)


class Comment(Base):
    """One closed week's comment, apart from any scores."""

    __tablename__ = "comments"
    __table_args__ = ({"sqlite_with_rowid": False},)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    period_id: Mapped[int] = mapped_column(
        ForeignKey("team_weeks.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)


class Delivery(Base):
    """The ledger that makes weekly posts exactly-once across restarts and replicas."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("team_id", "week_index", "kind", "recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    week_index: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))  # storage.deliveries.DeliveryKind
    recipient: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # storage.deliveries.DeliveryStatus
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str | None] = mapped_column(String(64), nullable=True)
    slack_ts: Mapped[str | None] = mapped_column(String(32), nullable=True)


class PulseView(Base):
    """Transparency log: every look at a team's pulse, which the team itself can read. Written
    only by storage.pulse.read_pulse_for, in the transaction that reads the figures.

    `viewer_id` is who looked (for an export: the person it was made for); `surface` where
    (practice.figures.Surface), `first_week`..`last_week` which weeks, `reason` why an export was
    made. Looks logged before those columns existed have only `what`.
    """

    __tablename__ = "pulse_views"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    viewer_id: Mapped[str] = mapped_column(String(32))
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    what: Mapped[str] = mapped_column(String(200))
    surface: Mapped[str | None] = mapped_column(String(16), nullable=True)
    first_week: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_week: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)


class ReminderOptOut(Base):
    """Someone who asked for no check-in reminders (per workspace). Says nothing about answers."""

    __tablename__ = "reminder_opt_outs"

    workspace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)


class WeekOff(Base):
    """A week a team takes off (a holiday): no prompt, no reflections, no reminder."""

    __tablename__ = "skipped_weeks"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    week_index: Mapped[int] = mapped_column(Integer, primary_key=True)


# -- Slack OAuth (many workspaces) -------------------------------------------------------------
# The tables of slack_sdk's SQLAlchemyInstallationStore and SQLAlchemyOAuthStateStore, which
# bot/oauth.py uses on this same database. Declared here (storage imports nothing from Slack) so
# that models and migrations agree; tests check they match the store classes' own metadata.


def _slack_token_columns() -> list[Column[object]]:
    return [
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("client_id", String(32), nullable=False),
        Column("app_id", String(32), nullable=False),
        Column("enterprise_id", String(32)),
        Column("enterprise_name", String(200)),
    ]


def _slack_bot_columns() -> list[Column[object]]:
    return [
        Column("team_id", String(32)),
        Column("team_name", String(200)),
        Column("bot_token", String(200)),
        Column("bot_id", String(32)),
        Column("bot_user_id", String(32)),
        Column("bot_scopes", String(1000)),
        Column("bot_refresh_token", String(200)),
        Column("bot_token_expires_at", DateTime),
    ]


slack_installations = Table(
    "slack_installations",
    Base.metadata,
    *_slack_token_columns(),
    Column("enterprise_url", String(200)),
    *_slack_bot_columns(),
    Column("user_id", String(32), nullable=False),
    Column("user_token", String(200)),
    Column("user_scopes", String(1000)),
    Column("user_refresh_token", String(200)),
    Column("user_token_expires_at", DateTime),
    Column("incoming_webhook_url", String(200)),
    Column("incoming_webhook_channel", String(200)),
    Column("incoming_webhook_channel_id", String(200)),
    Column("incoming_webhook_configuration_url", String(200)),
    Column("is_enterprise_install", Boolean, nullable=False),
    Column("token_type", String(32)),
    Column("installed_at", DateTime, nullable=False),
    Index(
        "slack_installations_idx",
        "client_id",
        "enterprise_id",
        "team_id",
        "user_id",
        "installed_at",
    ),
)

slack_bots = Table(
    "slack_bots",
    Base.metadata,
    *_slack_token_columns(),
    *_slack_bot_columns(),
    Column("is_enterprise_install", Boolean, nullable=False),
    Column("installed_at", DateTime, nullable=False),
    Index("slack_bots_idx", "client_id", "enterprise_id", "team_id", "installed_at"),
)

slack_oauth_states = Table(
    "slack_oauth_states",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("state", String(200), nullable=False),
    Column("expire_at", DateTime, nullable=False),
)
