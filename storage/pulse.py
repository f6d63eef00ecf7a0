"""The anonymised team picture. Aggregation happens in SQL; a period resting on fewer answers
than the anonymity minimum is filtered out by the query itself (HAVING), so its figures are
never computed for display. The same holds for each item on its own: an item with fewer
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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, case, cast, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from practice.blocks import first_kept_week
from practice.figures import Bands, Block, BlockFigures, Pulse, Reading, Suppressed, Surface
from storage.models import Answer, Comment, PulseView, Team, TeamWeek
from storage.team_weeks import close_due_team_weeks, current_week


def _band_columns(
    column: InstrumentedAttribute[Any], prefix: str, minimum: int | None = None
) -> list[ColumnElement[Any]]:
    """How many answered the item, how many in each band, and the mean unless one band holds
    every answer. Unanswered (NULL) items count in none of them. With `minimum`, every one of
    them is NULL unless at least that many answered the item."""
    answered = func.count(column)
    low = func.sum(case((column <= 2, 1), else_=0))
    middle = func.sum(case((column == 3, 1), else_=0))
    high = func.sum(case((column >= 4, 1), else_=0))
    one_band = or_(low == answered, middle == answered, high == answered)
    mean = case((one_band, None), else_=func.avg(cast(column, Float)))
    figures: dict[str, ColumnElement[Any]] = {
        "answered": answered,
        "low": low,
        "middle": middle,
        "high": high,
        "mean": mean,
    }
    if minimum is not None:
        enough = answered >= minimum
        figures = {name: case((enough, value), else_=None) for name, value in figures.items()}
    return [value.label(f"{prefix}_{name}") for name, value in figures.items()]


def _shown_bands(row: object, prefix: str) -> Bands | None:
    """The item's figures, or None where the query withheld them (too few answered it)."""
    return None if getattr(row, f"{prefix}_answered") is None else _bands(row, prefix)


def _bands(row: object, prefix: str) -> Bands:
    mean = getattr(row, f"{prefix}_mean")
    return Bands(
        answered=int(getattr(row, f"{prefix}_answered")),
        low=int(getattr(row, f"{prefix}_low")),
        middle=int(getattr(row, f"{prefix}_middle")),
        high=int(getattr(row, f"{prefix}_high")),
        mean=None if mean is None else float(mean),
    )


def team_pulse(
    session: Session,
    team: Team,
    weeks: int,
    anonymity_min: int,
    now: datetime,
    *,
    oldest_week: int = 0,
) -> list[Reading]:
    """The closed blocks covering the last `weeks` complete weeks, newest first: whole blocks
    (the one the oldest of those weeks is in counts from its first week), none starting before
    `oldest_week`."""
    close_due_team_weeks(session, now, team.id)
    pool = team.pool_weeks
    this_week = current_week(team, now).index
    # Only whole blocks that have fully ended; never the block the current week is in.
    last_block = this_week // pool - 1
    first_block = max(0, (this_week - weeks) // pool, -(-oldest_week // pool))
    if last_block < first_block:
        return []
    lo, hi = first_block * pool, (last_block + 1) * pool - 1
    block_of = (TeamWeek.week_index // pool).label("block")
    in_range = (
        (TeamWeek.team_id == team.id)
        & TeamWeek.closed.is_(True)
        & TeamWeek.week_index.between(lo, hi)
    )

    periods = session.execute(
        select(
            block_of,
            TeamWeek.domain,
            TeamWeek.member_count,
            TeamWeek.items_version,
            TeamWeek.week_index,
        )
        .where(in_range)
        .order_by(TeamWeek.week_index)
    ).all()
    blocks: dict[int, list[tuple[str, int | None, int]]] = {}
    for period_row in periods:
        blocks.setdefault(int(period_row.block), []).append(
            (period_row.domain, period_row.member_count, period_row.items_version)
        )

    figures = session.execute(
        select(
            block_of,
            func.count(Answer.id).label("responses"),
            # Its own count too: those who didn't need support gave it no answer, and the item
            # must not be shown on the strength of the block's check-ins.
            *_band_columns(Answer.availability, "availability", anonymity_min),
            *_band_columns(Answer.stress, "stress"),
        )
        .join(TeamWeek, Answer.period_id == TeamWeek.id)
        .where(in_range)
        .group_by(block_of)
        .having(
            func.count(Answer.id) >= anonymity_min,
            func.count(Answer.stress) >= anonymity_min,
        )
    ).all()
    domain_rows = session.execute(
        select(block_of, TeamWeek.domain, *_band_columns(Answer.domain_item, "item"))
        .join(TeamWeek, Answer.period_id == TeamWeek.id)
        .where(in_range)
        .group_by(block_of, TeamWeek.domain)
        .having(func.count(Answer.domain_item) >= anonymity_min)
    ).all()
    items: dict[int, dict[str, Bands]] = {}
    for item_row in domain_rows:
        items.setdefault(int(item_row.block), {})[item_row.domain] = _bands(item_row, "item")

    shown = {int(row.block): row for row in figures}
    readings: list[Reading] = []
    for index in sorted(blocks, reverse=True):
        members_known = [count for _, count, _ in blocks[index]]
        block = Block(
            first_week=index * pool,
            weeks=pool,
            domains=tuple(dict.fromkeys(domain for domain, _, _ in blocks[index])),
            items_version=blocks[index][-1][2],  # the newest week's
        )
        row = shown.get(index)
        if row is None:
            readings.append(Suppressed(block))
            continue
        readings.append(
            BlockFigures(
                block=block,
                responses=int(row.responses),
                members=None
                if any(c is None for c in members_known)
                else sum(c or 0 for c in members_known),
                availability=_shown_bands(row, "availability"),
                stress=_bands(row, "stress"),
                domain_items=items.get(index, {}),
            )
        )
    return readings


def block_comments(session: Session, team: Team, block: Block, anonymity_min: int) -> list[str]:
    """Comments of a shown block, in random order; none when the block is below the minimum."""
    pool = team.pool_weeks
    if block.weeks != pool or block.first_week % pool:
        # Only the team's own fixed blocks: a slice of one (a single week of a pooled team)
        # could be differenced against the whole block.
        return []
    in_block = (
        (TeamWeek.team_id == team.id)
        & TeamWeek.closed.is_(True)
        & TeamWeek.week_index.between(block.first_week, block.last_week)
    )
    responses = session.scalar(
        select(func.count(Answer.id))
        .join(TeamWeek, Answer.period_id == TeamWeek.id)
        .where(in_block)
    )
    if (responses or 0) < anonymity_min:
        return []
    bodies = list(
        session.scalars(
            select(Comment.body).join(TeamWeek, Comment.period_id == TeamWeek.id).where(in_block)
        )
    )
    random.SystemRandom().shuffle(bodies)
    return bodies


REASON_MAX = 200


def read_pulse_for(
    session: Session,
    viewer: str,
    team: Team,
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
    session.add(
        PulseView(
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
    session.flush()  # the look is in the log (this transaction) before its figures leave
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
