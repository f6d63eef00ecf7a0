"""`securebase demo`: three weeks of the demo team, played through the real bot.

Week 1 someone who joins the team just after the prompt is told kindly to check in from next
week, and six people check in (one by the button under the prompt, one changes their mind
later in the week); week 2 only three do, so that week stays hidden; week 3 eight do, the new
joiner among them. Then the supervisor looks at the team pulse, and a member who tries to is
politely refused. At the
end the demo checks the pulse against the answers it gave, so a lost or doubled check-in
fails the demo.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from bot.demo.feed import Seen
from bot.demo.show import Printer
from bot.demo.team import (
    LATE_JOINER,
    MEMBERS,
    SUPERVISOR,
    TEAM_NAME,
    TEAM_TZ,
    DemoError,
    DemoTeam,
)
from bot.render.checkin import AVAILABILITY, COMMENT, DOMAIN_ITEM, STRESS
from bot.render.intro import POST_INTRO
from bot.render.talking import BUTTON_TEXT as TALKING_BUTTON
from bot.render.talking import TALKING
from bot.render.text import message_lines, view_lines
from practice.figures import Bands, BlockFigures, Suppressed, Surface
from practice.weeks import Week
from sandbox.state import Message
from storage.models import Team
from storage.pulse import read_pulse_for


@dataclass(frozen=True)
class Answers:
    support: int  # 1 "not at all" … 5 "always"
    stress: int  # 1 "not at all" … 5 "very much"
    belief: int | None = None  # agreement with the week's statement; optional
    comment: str | None = None

    def for_modal(self) -> dict[str, str | None]:
        return {
            AVAILABILITY: str(self.support),
            STRESS: str(self.stress),
            DOMAIN_ITEM: None if self.belief is None else str(self.belief),
            COMMENT: self.comment,
        }


@dataclass(frozen=True)
class Visit:
    day: int  # 0 is Monday
    at: str  # local time, HH:MM
    who: str
    answers: Answers
    via: Literal["command", "button"] = "command"


PLAN: tuple[tuple[str, tuple[Visit, ...]], ...] = (
    (
        "A usual week: six people check in, and one of them changes their mind on Thursday.",
        (
            Visit(
                0,
                "10:05",
                "Priya",
                Answers(4, 3, 4, "Thursday's case discussion helped me think a hard call through."),
                via="button",
            ),
            Visit(0, "13:40", "Tom", Answers(3, 4, 3)),
            Visit(1, "09:10", "Aisha", Answers(5, 2, 5)),
            Visit(
                1,
                "17:20",
                "Gareth",
                Answers(2, 4, 2, "Court all week; hard to find anyone after 4."),
            ),
            Visit(2, "11:30", "Mei", Answers(4, 3)),
            Visit(
                2,
                "15:45",
                "Callum",
                Answers(3, 3, 4, "Big thanks to @tom for covering my visit on Monday."),
            ),
            Visit(3, "12:15", "Gareth", Answers(3, 3, 3, "Better since Wednesday's team meeting.")),
        ),
    ),
    (
        "A stretched week: only three people check in, fewer than the five needed to show "
        "anything, so this week will stay hidden for good.",
        (
            Visit(0, "11:00", "Bethan", Answers(4, 2, 4)),
            Visit(1, "14:30", "Kofi", Answers(2, 5, 2, "Three new cases this week. Stretched.")),
            Visit(3, "10:00", "Priya", Answers(4, 3, 4)),
        ),
    ),
    (
        f"Eight people check in, {LATE_JOINER.name.split()[0]} (who joined in week 1) among them.",
        (
            Visit(0, "10:20", "Bethan", Answers(4, 3, 4), via="button"),
            Visit(0, "11:40", "Jess", Answers(4, 2, 4)),
            # One comment this week: comments are shown in a fresh random order at each look,
            # and the demo prints the same transcript every time.
            Visit(0, "15:05", "Tom", Answers(4, 3, 4)),
            Visit(1, "08:50", "Aisha", Answers(5, 2, 5)),
            Visit(1, "12:30", "Gareth", Answers(4, 3, 4)),
            Visit(2, "16:10", "Mei", Answers(3, 4, None, "Would like more time to debrief.")),
            Visit(3, "09:40", "Kofi", Answers(3, 4, 3)),
            Visit(4, "13:00", "Priya", Answers(5, 2, 4)),
        ),
    ),
)


def play(team: DemoTeam, show: Printer) -> None:
    show.heading(f"Secure Base demo · {TEAM_NAME}")
    show.say(
        f"Eight social workers and their practice supervisor, {SUPERVISOR.name}, in the Slack "
        "sandbox on this computer. Every step below goes through the real bot over HTTP, "
        "and what you see is what each person sees in Slack. Nothing leaves this machine."
    )
    introduce_team(team, show)
    given: dict[int, dict[str, Answers]] = defaultdict(dict)
    weeks: list[Week] = []
    for number, (story, visits) in enumerate(PLAN, start=1):
        if number > 1:
            team.next_week()
        else:
            team.deliver_prompt()
        week = team.week()
        weeks.append(week)
        show.heading(f"Week {number} of {len(PLAN)} · {week.label()}")
        show.say(story)
        show.moment("The weekly prompt goes out.")
        show.new_messages()
        if number == 1:
            late_joiner_waits(team, show)
        for index, visit in enumerate(visits):
            again = visit.who in given[number]
            play_visit(team, show, visit, full_form=index == 0, again=again)
            given[number][visit.who] = visit.answers
        show.line()
        show.say(
            f"Sunday midnight: the week closes. {len(given[number])} people checked in. Secure "
            "Base now forgets who they were: their answers stay, without names, in random order."
        )
    team.clock.set(weeks[-1].next().starts_at(TEAM_TZ))
    team.move_to(0, "08:45")
    supervisor_looks(team, show, weeks, given)


def introduce_team(team: DemoTeam, show: Printer) -> None:
    """Before the first prompt the supervisor previews the team's introduction (only she sees
    it) and posts it in the channel, so everyone knows what is coming and why."""
    show.heading("Before week 1 · the team's introduction")
    show.moment(f"{SUPERVISOR.name} types /securebase intro in {team.channel_name}.")
    team.slash(SUPERVISOR, "/securebase", "intro")
    previews = [s for s in show.new_messages() if s.message.text.startswith("Preview of the intro")]
    if not previews:
        raise DemoError(f"{SUPERVISOR.name} was not shown the team's introduction")
    show.moment("She presses “Post it in the channel”.")
    team.press(SUPERVISOR, previews[-1].message, POST_INTRO)
    seen = team.feed.take()  # the introduction, as previewed above, and her confirmation
    if not any(s.where == "channel" and s.message.text.startswith("Hello from") for s in seen):
        raise DemoError(f"the introduction was not posted in {team.channel_name}")
    show.say(
        f"Secure Base posts the introduction above in {team.channel_name}, for the whole "
        f"team, and tells {SUPERVISOR.name.split()[0]} it has.",
        indent="  ",
    )


def play_visit(
    team: DemoTeam, show: Printer, visit: Visit, *, full_form: bool, again: bool
) -> None:
    person = team.person(visit.who)
    first = person.name.split()[0]
    team.move_to(visit.day, visit.at)
    if visit.via == "button":
        show.moment(f"{person.name} presses “Check in privately” under the prompt.")
        view = team.click_checkin_button(person)
    else:
        note = " again: the new answers will replace the earlier ones" if again else ""
        show.moment(f"{person.name} types /checkin in {team.channel_name}{note}.")
        opened = team.slash(person, "/checkin").view
        if opened is None:
            show.new_messages()
            raise DemoError(f"the check-in form did not open for {person.name}")
        view = opened
    answers = visit.answers.for_modal()
    if full_form:
        show.form(person, view, answers)
    else:
        show.answers(person, view, answers)
    sent = team.submit(person, view, answers)
    if sent.errors:
        reasons = "; ".join(sent.errors.values())
        raise DemoError(f"Secure Base turned down {first}'s answers: {reasons}")
    if not sent.saved or sent.showing is None:
        raise DemoError(f"{first}'s check-in was not saved")
    show.line(f"  {first} presses “Send privately”.")
    show.replaced_form(person, sent.showing)
    team.cancel(person, sent.showing)
    if show.new_messages():
        raise DemoError(f"a message was sent about {first}'s check-in")


def late_joiner_waits(team: DemoTeam, show: Printer) -> None:
    """Someone added to the channel after the week's prompt is not on its roster: they are
    told kindly why, and check in from next week (so nobody can be added to pad a quiet week)."""
    first = LATE_JOINER.name.split()[0]
    team.move_to(0, "09:45")
    show.moment(
        f"{LATE_JOINER.name} joins the team today and is added to {team.channel_name}, just "
        "after the prompt went out. She types /checkin."
    )
    team.join_channel(LATE_JOINER)
    notice = team.slash(LATE_JOINER, "/checkin").view
    if notice is None or "from next week" not in json.dumps(notice["blocks"]):
        show.new_messages()
        raise DemoError(f"{LATE_JOINER.name} was not told she can check in from next week")
    show.notice(LATE_JOINER, notice)
    team.cancel(LATE_JOINER, notice)
    show.say(
        f"Each week counts only the people who were in the channel when its prompt went out, "
        f"so nobody can be added to make a quiet week show. {first} can check in from next week.",
        indent="  ",
    )


def supervisor_looks(
    team: DemoTeam, show: Printer, weeks: list[Week], given: dict[int, dict[str, Answers]]
) -> None:
    show.heading("Monday morning: the team pulse")
    show.moment(f"{SUPERVISOR.name} types /teampulse.")
    reply = team.slash(SUPERVISOR, "/teampulse")
    pulse = _replies(team, team.feed.waiting_for(SUPERVISOR.user_id, "ephemeral"))
    show.new_messages()
    if reply.view is not None or "Team pulse" not in pulse:
        raise DemoError(f"{SUPERVISOR.name} did not get the team pulse")
    show.line()
    show.say(
        f"Week 2 had only {len(given[2])} check-ins, so it is shown only as “not enough "
        "answers”, and its comments are never shown."
    )
    talking_about_it(team, show, pulse_message(team))

    member = next(m for m in MEMBERS if m.name.startswith("Kofi"))
    show.moment(f"{member.name}, a team member, tries /teampulse too.")
    team.slash(member, "/teampulse")
    refusal = _replies(team, team.feed.waiting_for(member.user_id, "ephemeral"))
    show.new_messages()
    if "Team pulse" in refusal or "answered" in refusal:
        raise DemoError(f"{member.name} was shown the team pulse, but is not a supervisor")
    show.moment(f"{member.name} checks who has looked at the team's results: /teampulse log.")
    team.slash(member, "/teampulse", "log")
    log = _replies(team, team.feed.waiting_for(member.user_id, "ephemeral"))
    show.new_messages()
    if SUPERVISOR.name not in log:
        raise DemoError(f"the view log does not show that {SUPERVISOR.name} looked")

    show_home_and_chart(team, show)
    check_pulse(team, weeks, given)

    team.check_sandbox()
    show.heading("That's the demo")
    sent = sum(len(visits) for _, visits in PLAN)
    counted = sum(len(people) for people in given.values())
    show.say(
        f"Three weeks, {sent} check-ins sent through the private form and {counted} counted "
        "(a second check-in in a week replaces the first), every Slack call checked by the "
        "sandbox. Try it yourself, as anyone in the team: securebase sandbox"
    )


def pulse_message(team: DemoTeam) -> Message:
    """The team pulse the supervisor was just shown (the newest reply she can see)."""
    replies = [m for m in team.bot.sandbox.ephemerals(SUPERVISOR.user_id) if "Team pulse" in m.text]
    if not replies:
        raise DemoError(f"{SUPERVISOR.name} has no team pulse to look at")
    return replies[-1]


def talking_about_it(team: DemoTeam, show: Printer, pulse: Message) -> None:
    """The card on talking with the team about the results, from its button under the pulse."""
    show.moment(f"{SUPERVISOR.name} presses “{TALKING_BUTTON}” under the pulse.")
    card = team.press(SUPERVISOR, pulse, TALKING)
    if card is None or card["title"]["text"] != "Talking about it":
        raise DemoError(f"the talking-about-it card did not open for {SUPERVISOR.name}")
    show.line(f"  A card opens (only {SUPERVISOR.name.split()[0]} sees it):")
    show.framed(view_lines(card, team.name))
    team.cancel(SUPERVISOR, card)


def show_home_and_chart(team: DemoTeam, show: Printer) -> None:
    """The supervisor's App Home tab, and `/teampulse chart` saved where the reader can open it."""
    show.moment(f"{SUPERVISOR.name} opens the Secure Base app's Home tab.")
    home = team.open_home(SUPERVISOR)
    show.line(f"  {SUPERVISOR.name}'s Home tab (only she sees it):")
    show.framed(view_lines(home, team.name))
    show.moment(f"{SUPERVISOR.name} asks for a chart: /teampulse chart.")
    before = len(team.bot.sandbox.uploaded_files())
    team.slash(SUPERVISOR, "/teampulse", "chart")
    charts = [seen for seen in show.new_messages() if seen.message.files]
    if len(team.bot.sandbox.uploaded_files()) <= before or not charts:
        raise DemoError(f"{SUPERVISOR.name} asked for the chart, but none was sent")


def _replies(team: DemoTeam, seen: list[Seen]) -> str:
    """The replies' text as people read it (names, not ids), fallback text included."""
    return "\n".join(
        "\n".join([s.message.text, *message_lines(s.message.text, s.message.blocks, team.name)])
        for s in seen
    )


def check_pulse(team: DemoTeam, weeks: list[Week], given: dict[int, dict[str, Answers]]) -> None:
    """The stored figures are exactly the answers the demo gave: last answer per person per
    week, nothing lost, nothing counted twice, small weeks hidden. Read like any export (and
    logged as one), after the demo has shown the view log."""
    services = team.bot.runtime.services
    minimum = services.settings.anonymity_min
    with services.db.session() as session:
        stored = session.get(Team, team.team_id)
        assert stored is not None
        readings = read_pulse_for(
            session,
            SUPERVISOR.user_id,
            stored,
            Surface.EXPORT,
            weeks=len(weeks),
            anonymity_min=minimum,
            retention_weeks=services.settings.retention_weeks,
            now=team.clock.now(),
            reason="the demo checks the figures against the answers it gave",
        ).readings
    by_week = {reading.block.first_week: reading for reading in readings}
    for number, week in enumerate(weeks, start=1):
        answers = list(given[number].values())
        reading = by_week.get(week.index)
        if len(answers) < minimum:
            if not isinstance(reading, Suppressed):
                raise DemoError(f"week {number} had {len(answers)} check-ins but was not hidden")
            continue
        if not isinstance(reading, BlockFigures):
            raise DemoError(f"week {number} has no figures in the team pulse")
        support = _bands([a.support for a in answers])
        stress = _bands([a.stress for a in answers])
        shown = (reading.availability, reading.stress)
        if reading.responses != len(answers) or shown != (support, stress):
            raise DemoError(
                f"week {number}: the pulse shows {reading.responses} check-ins with support "
                f"{reading.availability} and stress {reading.stress}, but the demo gave "
                f"{len(answers)} with {support} and {stress}"
            )


def _bands(values: list[int]) -> Bands:
    """The figures the demo's own answers should show, worked out the long way round."""
    low, middle, high = (sum(1 for v in values if v in band) for band in ((1, 2), (3,), (4, 5)))
    one_band = len(values) in (low, middle, high)
    mean = None if one_band else sum(values) / len(values)
    return Bands(len(values), low, middle, high, mean)
