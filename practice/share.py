"""A supervisor shares a finished period's summary with the team channel. Only the team's own
supervisors may; only a period that met the anonymity minimum can be shared; each period at
most once (the delivery ledger, claimed before the figures are read, so a period already
shared is not read — nor logged as a look — again); and the read is a look in the view log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from practice.context import Practice
from practice.delivery import Ledger, NothingToSend, Outcome
from practice.figures import Block, BlockFigures, Surface
from practice.pulse import team_pulse_for
from practice.teams import supervised_team
from practice.weeks import week_containing
from storage.deliveries import DeliveryKey, DeliveryKind

SHARE_WORKER = "share"  # shares are made by whoever clicks, not by a replica


class Shared(StrEnum):
    SENT = "sent"
    ALREADY = "already"  # shared before (or being shared this moment)
    NOT_SHOWN = "not_shown"  # below the anonymity minimum: nothing posted
    FAILED = "failed"  # Slack refused the post; the period can be shared again later
    NOT_SUPERVISOR = "not_supervisor"


@dataclass(frozen=True)
class ShareResult:
    outcome: Shared
    block: Block | None  # the period asked for (None when the asker may not share)


# Posts the summary in the team's channel and returns the message's ts; raises
# practice.delivery.DeliveryError when Slack refuses.
Post = Callable[[BlockFigures], str]

OUTCOMES = {
    Outcome.SENT: Shared.SENT,
    Outcome.TAKEN: Shared.ALREADY,
    Outcome.NOTHING: Shared.NOT_SHOWN,
}


def share_period(
    practice: Practice, workspace: str, channel: str, supervisor: str, first_week: int, post: Post
) -> ShareResult:
    """Share the channel's team's period starting `first_week`, posted by `post`."""
    team = supervised_team(practice, workspace, channel, supervisor)
    if team is None:
        return ShareResult(Shared.NOT_SUPERVISOR, None)
    this_week = week_containing(practice.clock.now(), team.timezone).index

    def send() -> str:
        readings = team_pulse_for(
            practice,
            supervisor,
            team,
            Surface.SHARE,
            weeks=max(1, this_week - first_week),
            block=first_week,
            detail="with the team",
        ).readings
        figures = next((r for r in readings if isinstance(r, BlockFigures)), None)
        if figures is None:
            raise NothingToSend
        return post(figures)

    key = DeliveryKey(team.id, first_week, DeliveryKind.SHARED, team.channel_id)
    ledger = Ledger(practice.db, practice.clock, SHARE_WORKER)
    outcome = ledger.deliver_once(key, send, channel=team.channel_id, give_back_refusals=True)
    block = Block(first_week, team.pool_weeks, ())
    return ShareResult(OUTCOMES.get(outcome, Shared.FAILED), block)
