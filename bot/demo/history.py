"""`securebase sandbox --history`: the demo team with eight weeks already behind it, so that
`/teampulse`, the chart and the App Home's profile have something to show from the start.

Every one of those check-ins goes through the real bot, the same way as in the demo: the
form opens, is answered and sent. Who answers and how is fixed, so every run tells the same
story: six or seven people a week, support slowly rising and stress easing after a hard
winter.
"""

from __future__ import annotations

from bot.demo.script import Answers
from bot.demo.team import MEMBERS, DemoError, DemoTeam

HISTORY_WEEKS = 8
# (week, member index) → a comment; one a week at most (comments are shown in random order).
COMMENTS = {
    (2, 3): "Snowed under with court reports.",
    (5, 1): "The new duty rota is helping.",
    (7, 4): "Good to have the Friday catch-ups back.",
}


def history_answers(week: int, member: int) -> Answers | None:
    """How member `member` answered in week `week` (both from 0); None if they did not."""
    if (member + week) % 5 == 0:
        return None
    support = min(5, 2 + (week + member) % 3 + week // 4)
    stress = max(1, 4 - (week + 2 * member) % 3 - week // 4)
    belief = min(5, support + member % 2)
    return Answers(support, stress, belief, COMMENTS.get((week, member)))


def play_history(team: DemoTeam, weeks: int = HISTORY_WEEKS) -> list[str]:
    """Play `weeks` weeks of check-ins through the bot, from the team's first prompt; returns
    one line per week. The clock is left in the last of them: the caller moves on to the next."""
    summary: list[str] = []
    for week in range(weeks):
        if week:
            team.next_week()
        else:
            team.deliver_prompt()
        answered = 0
        for index, person in enumerate(MEMBERS):
            answers = history_answers(week, index)
            if answers is None:
                continue
            team.move_to(index % 5, f"{10 + index}:00")
            view = team.slash(person, "/checkin").view
            if view is None:
                raise DemoError(f"the check-in form did not open for {person.name}")
            sent = team.submit(person, view, answers.for_modal())
            if sent.errors:
                raise DemoError(f"Secure Base turned down {person.name}'s answers")
            if sent.showing is not None:
                team.cancel(person, sent.showing)
            answered += 1
        summary.append(f"{team.week().label()}: {answered} of {len(MEMBERS)} checked in")
    team.feed.take()  # those weeks' messages are not replayed
    return summary
