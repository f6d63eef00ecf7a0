"""Guarantee 7: who can see what. Only a team's own supervisors see its pulse; asking from
another team's channel, or from another workspace, shows nothing of that team; and nobody,
supervisors included, is ever shown who has or has not checked in.
"""

from __future__ import annotations

import pytest
from privacy_world import TEAM_NAME, WORKSPACE, World, member, world
from sealed_weeks import member_check_in
from sqlalchemy import text

from bot.handlers.teampulse import NOT_SUPERVISOR
from bot.sandboxed import BOT_USER, SIGNING_SECRET, Person, wait_until
from practice.checkin import CheckinAnswers
from practice.clock import ManualClock
from sandbox.driver import SlackDriver
from storage.team_weeks import close_due_team_weeks
from storage.teams import TeamSpec, add_team

pytestmark = pytest.mark.slow

OTHER_CHANNEL, OTHER_SUPERVISOR, OTHER_NAME = "C0PRIVBBB1", "U0PBSUPER1", "Harbour team"
ELSEWHERE, ELSEWHERE_USER, ELSEWHERE_CHANNEL = "T0ELSEWHR1", "U0ELSEWHR1", "C0ELSEWHR1"
ELSEWHERE_NAME = "Another council's team"


def _second_team(w: World) -> None:
    """A second team in the same workspace, with a closed week of unmistakable answers."""
    w.bot.add_people([Person(OTHER_SUPERVISOR, "Bea Harbour")])
    w.bot.add_team(OTHER_CHANNEL, OTHER_NAME, [OTHER_SUPERVISOR], [member(n) for n in range(8)])
    w.deliver()  # Harbour's prompt goes out: its week opens
    for n in range(6):
        w.check_in(member(n), 5, 5, channel=OTHER_CHANNEL, comment=f"harbour note {n}")


def test_a_supervisor_sees_only_their_own_teams_wherever_they_ask(
    database_url: str, clock: ManualClock
) -> None:
    with world(database_url, clock) as w:
        _second_team(w)
        w.next_week()
        # Harbour's own supervisor sees Harbour's week (so there is something to leak).
        theirs = w.pulse(OTHER_SUPERVISOR, channel=OTHER_CHANNEL)
        assert OTHER_NAME in theirs.text and "support all High (4–5)" in theirs.text
        assert ": all 6 said " in theirs.everything
        # The first team's supervisor, asking in Harbour's channel, sees their own team only.
        mine = w.pulse(channel=OTHER_CHANNEL)
        assert TEAM_NAME in mine.text
        for leak in (OTHER_NAME, "harbour note", "all 6", "6 of"):
            assert leak not in mine.everything, leak
        # A member of both channels who supervises neither sees no figures at all.
        for channel in (w.channel, OTHER_CHANNEL):
            shown = w.pulse(member(0), channel=channel)
            assert shown.text == NOT_SUPERVISOR


def test_the_same_channel_id_in_another_workspace_is_another_team(
    database_url: str, clock: ManualClock
) -> None:
    """Slack ids are only unique within a workspace: a team elsewhere with the very same channel
    id and a supervisor with the very same user id must never be shown here, nor mixed in."""
    with world(database_url, clock) as w:
        services = w.bot.runtime.services
        with services.db.session() as session:
            spec = TeamSpec(ELSEWHERE, w.channel, ELSEWHERE_NAME, (w.supervisor,))
            elsewhere = add_team(session, spec, clock.now())
        for n in range(6):
            answers = CheckinAnswers(5, 5, 5, f"elsewhere note {n}")
            member_check_in(
                services.db, elsewhere, member(n), answers, clock.now(), services.rotation
            )
        for n in range(3):  # here: three check-ins, below the minimum
            w.check_in(member(n), 1, 1)
        w.next_week()
        with services.db.session() as session:
            close_due_team_weeks(session, clock.now())

        shown = w.pulse()
        assert TEAM_NAME in shown.text and "not enough answers" in shown.everything
        for leak in (ELSEWHERE_NAME, "elsewhere note", "all 6", "6 of"):
            assert leak not in shown.everything, leak
        w.command(w.supervisor, "/teampulse", "log")
        [log] = w.replies(w.supervisor)
        assert ELSEWHERE_NAME not in log.text and TEAM_NAME in log.text
        # The three check-ins here went into this workspace's team, none into the other.
        with services.db.engine.connect() as conn:
            per_team: dict[str, int] = dict(
                conn.execute(
                    text(
                        "SELECT t.workspace_id, COUNT(a.id) FROM teams t "
                        "JOIN team_weeks p ON p.team_id = t.id "
                        "JOIN answers a ON a.period_id = p.id GROUP BY t.workspace_id"
                    )
                ).all()
            )
        assert per_team == {WORKSPACE: 3, ELSEWHERE: 6}

        # Someone in the other workspace sees nothing of this one.
        sandbox = w.bot.sandbox
        sandbox.add_workspace(ELSEWHERE, "Elsewhere", bot_user_id="U0ELSEBOT1")
        sandbox.add_user(ELSEWHERE, ELSEWHERE_USER, "alex", "Alex Elsewhere")
        sandbox.add_channel(ELSEWHERE, ELSEWHERE_CHANNEL, "elsewhere", [ELSEWHERE_USER, BOT_USER])
        with SlackDriver(w.bot.events_url, SIGNING_SECRET, sandbox, ELSEWHERE) as outside:
            before = len(sandbox.ephemerals(ELSEWHERE_USER))
            response = outside.slash_command(ELSEWHERE_USER, ELSEWHERE_CHANNEL, "/teampulse")
            assert response.status_code == 200
            [reply] = wait_until(lambda: sandbox.ephemerals(ELSEWHERE_USER)[before:])
        assert reply.text == NOT_SUPERVISOR


def test_no_surface_shows_who_has_or_has_not_checked_in(
    database_url: str, clock: ManualClock
) -> None:
    with world(database_url, clock) as w:
        who = [member(n) for n in range(8)]
        names = [f"Member {n}" for n in range(8)]
        for n in (0, 2, 3, 5, 7):
            w.check_in(member(n), 3, 3, comment="fine")
        w.pulse()
        w.home(w.supervisor)
        w.command(w.supervisor, "/teampulse", "log")
        w.replies(w.supervisor)
        w.next_week()
        w.pulse()
        w.home(w.supervisor)
        w.command(member(1), "/teampulse", "log")  # a member reads the view log
        w.replies(member(1))
        for viewer in (w.supervisor, member(1), member(4)):  # and those who did not check in
            seen = w.everything_shown_to(viewer)
            for person, name in zip(who, names, strict=True):
                if person != viewer:
                    assert person not in seen and name not in seen, (viewer, person)
        # The channel everyone reads says nothing about who has answered.
        channel = "\n".join(m.text for m in w.bot.sandbox.timeline(w.channel))
        assert not any(person in channel for person in who)
