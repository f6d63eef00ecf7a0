"""One team's trouble is that team's alone: every sweep (the weekly prompts, the reminders,
housekeeping) goes through its teams with `each_team`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from practice.delivery import DeliveryError, Refusal
from storage.models import Team
from storage.outage import is_unreachable

log = logging.getLogger(__name__)


def each_team(teams: Iterable[Team], work: Callable[[Team], int], what: str) -> int:
    """`work` for each team in turn; returns the sum of what it returns. A team whose work
    fails is logged (by channel, never a person) and left for the next sweep; once a workspace
    turns out to be uninstalled, its other teams are left alone for this sweep. A database that
    cannot be reached is every team's trouble: the sweep stops at once (and the scheduler says
    so once a minute), rather than failing once per team."""
    done = 0
    uninstalled: set[str] = set()
    for team in teams:
        if team.workspace_id in uninstalled:
            continue
        try:
            done += work(team)
        except DeliveryError as error:
            if error.refusal is Refusal.UNINSTALLED:
                uninstalled.add(team.workspace_id)
            log.warning("team %s: %s will be tried again: %s", team.channel_id, what, error.code)
        except Exception as error:
            if is_unreachable(error):
                raise
            log.exception("team %s: %s failed; the next sweep tries again", team.channel_id, what)
    return done
