"""Typed SQLAlchemy 2 models.

Privacy is in the shape of these tables (see PRIVACY.md):
- `answers` and `comments` have no user column, no timestamp and random primary keys. While a
  week is open they carry `respondent_key`, an HMAC of the member under that week's secret, so a
  second check-in replaces the first; when the week closes the secret and every key are wiped
  and the rows are rewritten in random order.
- comments live apart from scores, so a comment can never be read beside one person's answers.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
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


def new_week_secret() -> bytes:
    return secrets.token_bytes(32)


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


class Period(Base):
    """One team-week. Holds the week's secret until the week closes."""

    __tablename__ = "team_weeks"
    __table_args__ = (UniqueConstraint("team_id", "week_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    week_index: Mapped[int] = mapped_column(Integer)
    domain: Mapped[str] = mapped_column(String(32))
    prompt_index: Mapped[int] = mapped_column(SmallInteger)
    member_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    secret: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("period_id", "respondent_key"),
        CheckConstraint("availability BETWEEN 1 AND 5", name="availability"),
        CheckConstraint("stress BETWEEN 1 AND 5", name="stress"),
        CheckConstraint("domain_item BETWEEN 1 AND 5", name="domain_item"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    period_id: Mapped[int] = mapped_column(
        ForeignKey("team_weeks.id", ondelete="CASCADE"), index=True
    )
    respondent_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    availability: Mapped[int] = mapped_column(SmallInteger)
    stress: Mapped[int] = mapped_column(SmallInteger)
    domain_item: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        UniqueConstraint("period_id", "respondent_key"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    period_id: Mapped[int] = mapped_column(
        ForeignKey("team_weeks.id", ondelete="CASCADE"), index=True
    )
    respondent_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    body: Mapped[str] = mapped_column(Text)


class Delivery(Base):
    """The ledger that makes weekly posts exactly-once across restarts and replicas."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("team_id", "week_index", "kind", "recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    week_index: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # claimed | sent | failed
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str | None] = mapped_column(String(64), nullable=True)
    slack_ts: Mapped[str | None] = mapped_column(String(32), nullable=True)


class PulseView(Base):
    """Transparency log: every look at a team's pulse, which the team itself can read."""

    __tablename__ = "pulse_views"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    viewer_id: Mapped[str] = mapped_column(String(32))
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    what: Mapped[str] = mapped_column(String(200))
