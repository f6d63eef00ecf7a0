"""The anonymised team picture. Aggregation happens in SQL; a period resting on fewer answers
than the anonymity minimum has its figures withheld by the query itself (they come back NULL),
so they never reach Python. The same holds for each item on its own: an item with fewer
answers than the minimum has no figures.

Each item is reported in three bands, never per level: low (1–2), middle (3) and high (4–5),
with how many answered and the mean. When one band holds every answer the mean is withheld
(NULL from the query itself): the band says all there is to say, and a mean of, say, 5.0 or
4.8 would give away exactly what each person chose.

Weeks are reported in fixed, non-overlapping blocks of `team.pool_weeks` (1, 2 or 4 weeks,
decided when the team is set up), and only once every week of a block has closed.

Someone who checked in saying they didn't need any support this week counts in the block's
responses but not in the support item: that item shows figures only when enough people gave it
a real answer (its own count, checked in SQL like the others); otherwise it has none.

Each week records the version of the check-in items it was answered with; a block carries its
newest week's version so that figures of different wordings are never read as one line.

Every look goes through `read_pulse_for`, which writes the look into the team's view log in
the same transaction as the read: nothing outside storage calls `team_pulse` or
`block_comments` (tests/test_privacy_transparency.py checks the imports).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    Float,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal_column,
    not_,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.util import AliasedClass
from sqlalchemy.sql.elements import ColumnElement

from practice.blocks import first_kept_week
from practice.figures import BANDS, Bands, Block, BlockFigures, Pulse, Reading, Suppressed, Surface
from storage.models import Answer, Comment, PulseView, Team, TeamWeek
from storage.team_weeks import close_due_team_weeks, current_week, has_ended

# Short aliases: PostgreSQL's driver caches its parsing only of statements under 4 kB.
_W, _A = TeamWeek.__table__.alias("w"), Answer.__table__.alias("a")
_WEEKS, _ANSWERS = _W.c, _A.c
ITEMS = {"av": _ANSWERS.availability, "st": _ANSWERS.stress, "it": _ANSWERS.domain_item}
FIGURES = ("answered", *BANDS, "mean")  # each item's columns in a statement's rows, in order
# Constants are written into the SQL, not sent as parameters.
_ZERO: ColumnElement[int] = literal_column("0")
_ONE: ColumnElement[int] = literal_column("1")


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((condition, _ONE), else_=_ZERO))


def _answer_sums() -> dict[str, ColumnElement[Any]]:
    """Aggregates over a group of answers: how many responded, and for each item how many
    answered it, how many in each band and the sum of their answers. Unanswered (NULL) items
    count in none of them."""
    sums: dict[str, ColumnElement[Any]] = {"responses": func.count(_ANSWERS.id)}
    for prefix, column in ITEMS.items():
        sums[f"{prefix}_answered"] = func.count(column)
        sums[f"{prefix}_low"] = _count_if(column <= literal_column("2"))
        sums[f"{prefix}_middle"] = _count_if(column == literal_column("3"))
        sums[f"{prefix}_high"] = _count_if(column >= literal_column("4"))
        sums[f"{prefix}_total"] = func.sum(column)
    return sums


def _enough(
    sums: Mapping[str, ColumnElement[Any]], domain_responses: ColumnElement[Any] | None = None
) -> dict[str, ColumnElement[bool]]:
    """When each item's figures may be shown, from its block's `sums` (`_answer_sums`' names):
    only when the block has at least :minimum responses (:shown, which is :minimum but at least
    1: a block nobody answered has no figures; stress must be answered, so as many answered it
    as responded), and each item only when at least :minimum answered it. The domain item is
    counted over the block's weeks of its domain, who gave `domain_responses` (None: all the
    block's, as a week asks one domain); it needs at least one of those too."""
    minimum = bindparam("minimum", type_=Integer)
    shown = sums["responses"] >= bindparam("shown", type_=Integer)
    item = sums["it_answered"] >= minimum
    return {
        "av": and_(shown, sums["av_answered"] >= minimum),
        "st": shown,
        "it": and_(shown, item)
        if domain_responses is None
        else and_(shown, domain_responses > _ZERO, item),
    }


def _shown_figures(
    sums: Mapping[str, ColumnElement[Any]],
    enough: Mapping[str, ColumnElement[bool]],
    means: Mapping[str, ColumnElement[Any]],
) -> list[ColumnElement[Any]]:
    """A block's responses, then each of ITEMS' FIGURES, from its `sums`: each NULL unless
    `enough` says it may be shown (`_enough`), and a mean NULL, too, where one band holds every
    answer. Nothing else about the answers leaves the query."""
    figures: list[ColumnElement[Any]] = [
        case((enough["st"], sums["responses"]), else_=None).label("responses")
    ]
    for prefix in ITEMS:
        answered = sums[f"{prefix}_answered"]
        one_band = or_(*(sums[f"{prefix}_{band}"] == answered for band in BANDS))
        values = {name: sums[f"{prefix}_{name}"] for name in ("answered", *BANDS)}
        conditions = {name: enough[prefix] for name in values}
        values["mean"], conditions["mean"] = means[prefix], and_(enough[prefix], not_(one_band))
        figures += [
            case((conditions[name], values[name]), else_=None).label(f"{prefix}_{name}")
            for name in FIGURES
        ]
    return figures


def _weeks_in_range() -> tuple[ColumnElement[bool], ...]:
    return (
        _WEEKS.team_id == bindparam("team", type_=Integer),
        _WEEKS.closed.is_(True),
        _WEEKS.week_index.between(bindparam("lo", type_=Integer), bindparam("hi", type_=Integer)),
    )


_WEEK_COLUMNS = (_WEEKS.week_index, _WEEKS.domain, _WEEKS.member_count, _WEEKS.items_version)


def _oldest_open() -> ColumnElement[int | None]:
    """The team's oldest week still open, so that a look needs no statement of its own to find
    out whether a week is due to close. Index-backed: PostgreSQL reads the partial index
    ix_team_weeks_open (only open weeks); SQLite, for min(), the team's own weeks in order."""
    weeks = TeamWeek.__table__.c
    return (
        select(func.min(weeks.week_index))
        .where(weeks.team_id == bindparam("team", type_=Integer), weeks.closed.is_(False))
        .correlate(None)
        .scalar_subquery()
        .label("oldest_open")
    )


def _weekly_statement() -> Select[*tuple[Any, ...]]:
    """For a team reporting weekly, where each week is a block of its own: one aggregate."""
    sums = _answer_sums()
    means = {prefix: func.avg(cast(column, Float)) for prefix, column in ITEMS.items()}
    return (
        select(*_WEEK_COLUMNS, *_shown_figures(sums, _enough(sums), means), _oldest_open())
        .select_from(_W.outerjoin(_A, _ANSWERS.period_id == _WEEKS.id))
        .where(*_weeks_in_range())
        .group_by(_WEEKS.id, *_WEEK_COLUMNS)
        .order_by(_WEEKS.week_index)
    )


def _pooled_statement() -> Select[*tuple[Any, ...]]:
    """For a team reporting in blocks of :pool weeks: each week's sums, then beside each week
    its block's sums (the domain item's over the block's weeks of that domain) and what of
    them may be shown, summed over windows; then the figures."""
    weekly = (
        select(
            *_WEEK_COLUMNS,
            (_WEEKS.week_index // bindparam("pool", type_=Integer)).label("block"),
            # Integers: PostgreSQL would sum bigints into numerics.
            *(cast(value, Integer).label(name) for name, value in _answer_sums().items()),
        )
        .select_from(_W.outerjoin(_A, _ANSWERS.period_id == _WEEKS.id))
        .where(*_weeks_in_range())
        .group_by(_WEEKS.id, *_WEEK_COLUMNS)
        .subquery("wk")
    )
    week = weekly.c
    in_block: list[ColumnElement[Any]] = [week.block]
    in_domain: list[ColumnElement[Any]] = [week.block, week.domain]
    summed = {
        name: func.sum(week[name]).over(
            partition_by=in_domain if name.startswith("it_") else in_block
        )
        for name in _answer_sums()
    }
    domain_responses = func.sum(week.responses).over(partition_by=in_domain)
    enough = _enough(summed, domain_responses)
    blocks = select(
        *(week[column.name] for column in _WEEK_COLUMNS),
        *(value.label(name) for name, value in summed.items()),
        *(condition.label(f"{prefix}_ok") for prefix, condition in enough.items()),
    ).subquery("bk")
    block = blocks.c
    means = {
        prefix: cast(block[f"{prefix}_total"], Float)
        / type_coerce(func.nullif(block[f"{prefix}_answered"], _ZERO), Float)
        for prefix in ITEMS
    }
    return select(
        *(block[column.name] for column in _WEEK_COLUMNS),
        *_shown_figures(
            {name: block[name] for name in summed},
            {prefix: block[f"{prefix}_ok"] for prefix in ITEMS},
            means,
        ),
        _oldest_open(),
    ).order_by(block.week_index)


# Built once, so that every look reuses their compiled forms (building them took about a
# quarter of a look's time, and four ORM statements half of it: bench/summary.py). Parameters:
# :team, :lo, :hi, :minimum, :shown and (pooled) :pool. One row per closed week of the range,
# oldest first: _WEEK_COLUMNS, then its block's figures (`_shown_figures`), the domain item's
# over the block's weeks of that domain; last, the team's oldest open week (`_oldest_open`).
_WEEKLY, _POOLED = _weekly_statement(), _pooled_statement()
_RESPONSES = len(_WEEK_COLUMNS)
_AVAILABILITY, _STRESS, _ITEM = (_RESPONSES + 1 + i * len(FIGURES) for i in range(len(ITEMS)))


def _shown_bands(row: Sequence[Any], first: int) -> Bands | None:
    """The item whose FIGURES start at column `first`, or None where the query withheld it."""
    answered, low, middle, high, mean = row[first : first + len(FIGURES)]
    if answered is None:
        return None
    return Bands(
        answered=int(answered),
        low=int(low),
        middle=int(middle),
        high=int(high),
        mean=None if mean is None else float(mean),
    )


class PulseTeam(Protocol):
    """What reading a team's figures needs of it (a row, or the application layer's TeamRef:
    no second read of the team)."""

    @property
    def id(self) -> int: ...

    @property
    def pool_weeks(self) -> int: ...

    @property
    def timezone(self) -> str: ...


def team_pulse(
    session: Session,
    team: PulseTeam,
    weeks: int,
    anonymity_min: int,
    now: datetime,
    *,
    oldest_week: int = 0,
) -> list[Reading]:
    """The closed blocks covering the last `weeks` complete weeks, newest first: whole blocks
    (the one the oldest of those weeks is in counts from its first week), none starting before
    `oldest_week`."""
    pool = team.pool_weeks
    this_week = current_week(team, now).index
    # Only whole blocks that have fully ended; never the block the current week is in.
    last_block = this_week // pool - 1
    first_block = max(0, (this_week - weeks) // pool, -(-oldest_week // pool))
    if last_block < first_block:
        close_due_team_weeks(session, now, team.id)
        return []
    if session.autoflush:
        session.flush()  # as a query through the ORM would
    statement = _WEEKLY if pool == 1 else _POOLED
    parameters = {
        "team": team.id,
        "lo": first_block * pool,
        "hi": (last_block + 1) * pool - 1,
        "pool": pool,
        "minimum": anonymity_min,
        "shown": max(anonymity_min, 1),
    }
    rows = session.execute(statement, parameters).all()
    # Every look first closes the team's weeks that have ended. The rows say which week is the
    # oldest still open (none: nothing to close); with no rows, there is no telling.
    oldest_open = rows[0][-1] if rows else None
    due = not rows or (oldest_open is not None and has_ended(oldest_open, team.timezone, now))
    if due and close_due_team_weeks(session, now, team.id):
        rows = session.execute(statement, parameters).all()
    by_block: dict[int, list[Sequence[Any]]] = {}
    for row in rows:
        by_block.setdefault(row[0] // pool, []).append(row)
    readings: list[Reading] = []
    for index in sorted(by_block, reverse=True):
        block_rows = by_block[index]  # its weeks, oldest first; columns as _WEEK_COLUMNS
        block = Block(
            first_week=index * pool,
            weeks=pool,
            domains=tuple(dict.fromkeys(row[1] for row in block_rows)),
            items_version=block_rows[-1][3],  # the newest week's
        )
        first = block_rows[0]
        stress = _shown_bands(first, _STRESS)
        if stress is None:  # below the minimum: the query gave no figures
            readings.append(Suppressed(block))
            continue
        members = [row[2] for row in block_rows]
        items = {row[1]: _shown_bands(row, _ITEM) for row in block_rows}
        readings.append(
            BlockFigures(
                block=block,
                responses=int(first[_RESPONSES]),
                members=None if None in members else sum(members),
                availability=_shown_bands(first, _AVAILABILITY),
                stress=stress,
                domain_items={d: bands for d, bands in items.items() if bands is not None},
            )
        )
    return readings


def _in_block(weeks: type[TeamWeek] | AliasedClass[TeamWeek]) -> ColumnElement[bool]:
    return (
        (weeks.team_id == bindparam("team", type_=Integer))
        & weeks.closed.is_(True)
        & weeks.week_index.between(
            bindparam("first", type_=Integer), bindparam("last", type_=Integer)
        )
    )


_ANSWERED = aliased(TeamWeek)
# A block's comments, in one statement built once: none unless the block's closed weeks hold
# at least the minimum of answers.
_BLOCK_COMMENTS = (
    select(Comment.body)
    .join(TeamWeek, Comment.period_id == TeamWeek.id)
    .where(
        _in_block(TeamWeek),
        select(func.count(Answer.id))
        .join(_ANSWERED, Answer.period_id == _ANSWERED.id)
        .where(_in_block(_ANSWERED))
        .scalar_subquery()
        >= bindparam("minimum", type_=Integer),
    )
)


def block_comments(
    session: Session, team: PulseTeam, block: Block, anonymity_min: int
) -> list[str]:
    """Comments of a shown block, in random order; none when the block is below the minimum."""
    pool = team.pool_weeks
    if block.weeks != pool or block.first_week % pool:
        # Only the team's own fixed blocks: a slice of one (a single week of a pooled team)
        # could be differenced against the whole block.
        return []
    bodies = list(
        session.scalars(
            _BLOCK_COMMENTS,
            {
                "team": team.id,
                "first": block.first_week,
                "last": block.last_week,
                "minimum": anonymity_min,
            },
        )
    )
    random.SystemRandom().shuffle(bodies)
    return bodies


REASON_MAX = 200


def read_pulse_for(
    session: Session,
    viewer: str,
    team: PulseTeam,
    surface: Surface,
    *,
    weeks: int,
    anonymity_min: int,
    retention_weeks: int,
    now: datetime,
    newest: int | None = None,
    block: int | None = None,
    comments: bool = False,
    detail: str = "",
    reason: str | None = None,
) -> Pulse:
    """The only way to read a team's figures: `viewer` looks at the blocks of the last `weeks`
    finished weeks (at most the `newest` ones, or only the one starting at week `block`), and
    the look is written into the team's view log in this same transaction, before any figure is
    handed back. A look that finds nothing to show is logged too.

    `detail` says more about the look in the log (e.g. "12 weeks"); `reason` is why an export
    was made. Blocks past retention are never read (practice.blocks).
    """
    oldest = first_kept_week(current_week(team, now).index, team.pool_weeks, retention_weeks)
    readings = team_pulse(session, team, weeks, anonymity_min, now, oldest_week=oldest)
    if block is not None:
        readings = [r for r in readings if r.block.first_week == block]
    if newest is not None:
        readings = readings[:newest]
    latest = readings[0] if readings else None
    said = (
        block_comments(session, team, latest.block, anonymity_min)
        if comments and isinstance(latest, BlockFigures)
        else []
    )
    labels = dict.fromkeys(r.block.label() for r in (readings[-1:] + readings[:1]))
    shown = " to ".join(labels) or "nothing to show"
    # The look is in the log (this transaction) before its figures leave.
    session.execute(
        insert(PulseView).values(
            team_id=team.id,
            viewer_id=viewer,
            viewed_at=now,
            surface=surface.value,
            first_week=readings[-1].block.first_week if readings else None,
            last_week=readings[0].block.last_week if readings else None,
            reason=None if reason is None else reason[:REASON_MAX],
            what=f"{' '.join(filter(None, (surface.value, detail)))}: {shown}"[:200],
        )
    )
    return Pulse(readings, said)


@dataclass(frozen=True)
class LogSlice:
    looks: Sequence[PulseView]  # newest first
    page: int  # 1 is the newest
    pages: int


def view_log_page(session: Session, team: Team, page: int, per_page: int) -> LogSlice:
    """One page of the team's view log, which holds every look within the retention period
    (a page number out of range gives the nearest page)."""
    total = session.scalar(
        select(func.count()).select_from(PulseView).where(PulseView.team_id == team.id)
    )
    pages = max(1, -(-int(total or 0) // per_page))
    page = min(max(1, page), pages)
    looks = session.scalars(
        select(PulseView)
        .where(PulseView.team_id == team.id)
        .order_by(PulseView.viewed_at.desc(), PulseView.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return LogSlice(looks, page, pages)
