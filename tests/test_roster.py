"""A week's roster is the channel's people when the prompt goes out: not supervisors, not the
bot, not any other bot or app. Its size is participation's denominator."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.sandboxed import WORKSPACE, Person, SandboxedBot
from practice.clock import ManualClock

pytestmark = pytest.mark.slow

CHANNEL = "C0ROSTER01"
SUPERVISOR = Person("U0RSUPER01", "Rosa Supervisor")
MEMBERS = [Person(f"U0RMEM{n:04d}", f"Member {n}") for n in range(4)]


def test_the_roster_leaves_out_supervisors_and_every_bot(
    database_url: str, clock: ManualClock
) -> None:
    with SandboxedBot(database_url, clock) as bot:
        bot.add_people([SUPERVISOR, *MEMBERS])
        bot.sandbox.add_user(WORKSPACE, "U0POLLBOT1", "poll-bot", "Poll bot", is_bot=True)
        people = [m.user_id for m in MEMBERS]
        bot.add_team(CHANNEL, "Roster team", [SUPERVISOR.user_id], [*people, "U0POLLBOT1"])
        assert bot.runtime.delivery.run_due() == 2
        with bot.runtime.services.db.engine.connect() as conn:
            [size] = conn.execute(text("SELECT member_count FROM team_weeks")).scalars()
            entries = conn.execute(text("SELECT count(*) FROM roster_entries")).scalar_one()
    assert size == entries == len(MEMBERS)
