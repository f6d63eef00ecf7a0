"""The midweek reminder: one friendly DM to every member of the week's roster, checked in or not
(so Slack's history of who got one says nothing about who checked in), in working hours of
their own time zone, never twice in a week, never to someone who turned reminders off, and
without anyone (supervisor or database) being able to tell afterwards who was reminded."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from experience import CHANNEL, SUPERVISOR, World, button, experience, member, shown
from sqlalchemy import inspect, select, text

from bot.render.prompt import OPEN_CHECKIN
from bot.render.reminder import REMINDERS_OFF, REMINDERS_ON
from bot.sandboxed import WORKSPACE, wait_until
from practice.clock import ManualClock
from practice.weeks import week_containing
from scheduler.reminders import reminder_day
from storage.deliveries import DeliveryKind
from storage.models import Delivery, RosterEntry, SealedAnswer, Team, TeamWeek
from storage.team_weeks import week_seal

NOTE = "A midweek note"
TOKYO, NEW_YORK = 7, 3  # members living elsewhere
ZONES = {TOKYO: "Asia/Tokyo", NEW_YORK: "America/New_York"}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in the fixture's week (Monday 23 November 2026 is day 0), in UTC."""
    return datetime(2026, 11, 23 + day, hour, minute, tzinfo=UTC)


def reminded(world: World) -> list[str]:
    """Who has been sent a reminder so far, once per reminder (as Slack recorded the posts)."""
    return [
        world.sandbox.channel(call.params["channel"]).im_user
        for call in world.sandbox.calls("chat.postMessage")
        if call.ok and str(call.params.get("text", "")).startswith(NOTE)
    ]


def turn_off_from_home(world: World, user: str) -> None:
    home = world.home(user)
    world.bot.driver.click_button(user, REMINDERS_OFF, "off", view_id=home["id"])
    wait_until(lambda: "Reminders are off" in shown(world.sandbox.home_view(user)["blocks"]))


@pytest.mark.slow
def test_one_reminder_midweek_in_each_persons_own_working_hours(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock, timezones=ZONES) as world:
        world.seed(member(0), 4, 2, 4)
        world.seed(member(1), 3, 3)
        turn_off_from_home(world, member(2))

        assert world.remind() == 0  # Tuesday: too early in the week
        clock.set(at(2, 2))  # Wednesday 11:00 in Tokyo, 02:00 in London
        assert world.remind() == 1
        assert reminded(world) == [member(TOKYO)]
        clock.set(at(2, 9, 59))
        assert world.remind() == 0
        clock.set(at(2, 10, 30))
        assert world.remind() == 5  # members 0, 1 (checked in), 4, 5 and 6
        assert world.remind() == 0  # never a second one
        clock.set(at(2, 15, 30))  # 10:30 in New York
        assert world.remind() == 1
        clock.set(at(3, 11))
        assert world.remind() == 0
        # Everyone but the one who turned reminders off: checking in changes nothing.
        assert sorted(reminded(world)) == sorted(member(n) for n in (0, 1, 3, 4, 5, 6, 7))

        # The reminder: fallback text, a check-in button for the team, a way to stop them.
        [dm] = [m for m in world.sandbox.dms(member(4)) if m.text.startswith(NOTE)]
        assert "Duty and Assessment" in dm.text
        assert "If you've already checked in, thank you" in dm.text
        check_in = button(dm.blocks or [], OPEN_CHECKIN)
        assert check_in["value"] == CHANNEL
        assert button(dm.blocks or [], REMINDERS_OFF)
        assert "whether they've checked in or not" in shown(dm.blocks)
        # Someone who checked in got exactly the same note, and no other message at all.
        [theirs] = world.sandbox.dms(member(0))
        assert (theirs.text, shown(theirs.blocks)) == (dm.text, shown(dm.blocks))
        world.bot.driver.click_button(
            member(4), OPEN_CHECKIN, CHANNEL, channel_id=dm.channel, message_ts=dm.ts
        )
        modal = wait_until(lambda: world.sandbox.open_views(member(4)))[-1]
        week = week_containing(clock.now(), "Europe/London").index
        assert json.loads(modal["private_metadata"]) == {"channel": CHANNEL, "week": week}

        # The supervisor is told nothing about any of it.
        seen = world.everything_shown_to(SUPERVISOR)
        assert NOTE not in seen and not any(m in seen for m in world.members)


@pytest.mark.slow
def test_the_ledger_names_nobody_and_is_gone_once_the_week_closes(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock) as world:
        world.seed(member(0), 4, 2, 4)
        turn_off_from_home(world, member(1))
        clock.set(at(2, 11))
        assert world.remind() == 7
        db = world.bot.runtime.services.db
        with db.session() as session:
            recipients = set(
                session.scalars(
                    select(Delivery.recipient).where(Delivery.kind == DeliveryKind.REMINDER)
                )
            )
            period = session.scalars(select(TeamWeek).where(TeamWeek.closed.is_(False))).one()
            seal = week_seal(session, period)
            sealed_keys = set(session.scalars(select(SealedAnswer.respondent_key)))
            roster_keys = set(session.scalars(select(RosterEntry.member_key)))
        assert seal is not None and len(recipients) == 7 and len(sealed_keys) == 1
        assert all(len(r) == 64 and int(r, 16) >= 0 for r in recipients)
        assert recipients.isdisjoint(world.members)
        assert recipients.isdisjoint(sealed_keys | roster_keys)
        # While the week is open, the keys are the week's (only with the operator's key can the
        # bot tell, so as not to nag twice).
        expected = {seal.reminder_key(WORKSPACE, member(n)) for n in (0, *range(2, 8))}
        assert recipients == expected

        clock.set(at(7, 0, 1))  # the week has ended
        world.remind()
        with db.engine.connect() as connection:
            kinds = connection.execute(text("SELECT kind FROM deliveries")).scalars().all()
            assert DeliveryKind.REMINDER not in kinds
            found = {
                (table, column, value)
                for table in inspect(connection).get_table_names()
                for row in connection.execute(text(f"SELECT * FROM {table}")).mappings()
                for column, value in row.items()
                if any(m in str(value) for m in world.members)
            }
        # The only trace of any member: the one who asked not to be reminded.
        assert found == {("reminder_opt_outs", "user_id", member(1))}


@pytest.mark.slow
def test_stopping_and_restarting_reminders(database_url: str, clock: ManualClock) -> None:
    with experience(database_url, clock) as world:
        clock.set(at(2, 11))
        world.remind()
        [dm] = [m for m in world.sandbox.dms(member(4)) if m.text.startswith(NOTE)]
        world.bot.driver.click_button(
            member(4), REMINDERS_OFF, "off", channel_id=dm.channel, message_ts=dm.ts
        )
        wait_until(
            lambda: world.sandbox.message(dm.channel, dm.ts).text.startswith("Done: no more")  # type: ignore[union-attr]
        )
        assert "Reminders are off" in shown(world.home(member(4))["blocks"])

        world.next_week()  # Wednesday of the next week, 11:00
        world.remind()
        assert reminded(world).count(member(4)) == 1
        assert reminded(world).count(member(5)) == 2

        home = world.home(member(4))
        world.bot.driver.click_button(member(4), REMINDERS_ON, "on", view_id=home["id"])
        wait_until(
            lambda: "Reminders are on" in shown(world.sandbox.home_view(member(4))["blocks"])
        )
        world.next_week()
        world.remind()
        assert reminded(world).count(member(4)) == 2


@pytest.mark.slow
def test_no_reminder_in_a_paused_team(database_url: str, clock: ManualClock) -> None:
    with experience(database_url, clock) as world:
        with world.bot.runtime.services.db.session() as session:
            session.merge(world.team()).paused = True
        clock.set(at(2, 11))
        assert world.remind() == 0
        assert reminded(world) == []


@pytest.mark.parametrize(
    ("post_day", "expected"),
    [(0, 2), (1, 3), (2, 4), (3, 4), (4, None), (6, None)],
)
def test_the_reminder_comes_two_days_after_the_prompt_within_the_working_week(
    post_day: int, expected: int | None
) -> None:
    team = Team(post_day=post_day)
    assert reminder_day(team) == expected


@pytest.mark.slow
def test_members_who_left_the_channel_or_are_apps_are_not_reminded(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock) as world:
        world.sandbox.remove_member(CHANNEL, member(5))
        world.sandbox.update_user(member(6), deleted=True)
        world.sandbox.update_user(member(7), is_bot=True)
        clock.set(at(2, 11))
        world.remind()
        assert sorted(reminded(world)) == [member(n) for n in range(5)]
        clock.set(at(2, 11) + timedelta(minutes=15))
        assert world.remind() == 0
