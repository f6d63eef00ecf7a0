"""`securebase sandbox`: be anyone in the demo team and use Secure Base at a prompt.

Reads commands line by line, from a terminal or a pipe (end of input quits). The check-in
form is answered one question at a time: numbered options, Enter skips an optional question,
`cancel` closes the form without sending. Each command waits for every reply it leads to, so
what is printed under a command is all that command caused.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from bot.demo.history import HISTORY_WEEKS, play_history
from bot.demo.show import CHART_DIR, Printer
from bot.demo.team import MEMBERS, SUPERVISOR, DemoError, DemoTeam
from bot.render.text import Question, blocks_to_lines, questions, view_lines
from bot.sandboxed import Person


@dataclass(frozen=True)
class Command:
    word: str  # what the line starts with
    usage: str  # as `help` shows it
    about: str
    run: Callable[[Shell, str], None]  # given the rest of the line


class _Cancelled(Exception):
    """The person closed the form (typed `cancel`, or input ended)."""


class Shell:
    def __init__(
        self, team: DemoTeam, stdin: TextIO, show: Printer, *, history: bool = False
    ) -> None:
        self.team = team
        self.stdin = stdin
        self.show = show
        self.history = history
        self.me: Person = MEMBERS[0]
        self.ended = False

    def run(self) -> int:
        show = self.show
        show.heading("Secure Base sandbox")
        show.say(
            "The demo team is here: eight social workers and their practice supervisor, "
            f"{SUPERVISOR.name}. You can be any of them. Everything goes through the real bot "
            "and a pretend Slack on this computer."
        )
        if self.history:
            show.line()
            show.say(
                f"The team has {HISTORY_WEEKS} weeks behind it, each answered through the same "
                "private form, so /teampulse, its chart and the Home tab have a story to tell:"
            )
            for line in play_history(self.team):
                show.line(f"  {line}")
            self.team.next_week()
        else:
            self.team.deliver_prompt()
        show.moment("This week's prompt has gone out.")
        show.new_messages()
        show.line()
        show.line("Type `help` for what you can do.")
        while not self.ended:
            typed = self.read(f"{self.me.name.split()[0]}> ")
            if typed is None:
                break
            try:
                self.handle(typed.strip())
            except DemoError as error:
                show.line(f"  ! {error}")
        self.team.check_sandbox()
        show.line("Bye.")
        return 0

    def read(self, prompt: str) -> str | None:
        """One line, or None at the end of input. From a pipe, the line is echoed after the
        prompt so the transcript reads like a session."""
        out = self.show.out
        if self.stdin.isatty():
            out.write(prompt)
            out.flush()
        line = self.stdin.readline()
        if not line:
            self.ended = True
            return None
        line = line.rstrip("\r\n")
        if not self.stdin.isatty():
            out.write(f"{prompt}{line}\n")
        return line

    def handle(self, line: str) -> None:
        words = line.split()
        if not words:
            return
        first, rest = words[0].lower(), " ".join(words[1:])
        command = next((c for c in COMMANDS if c.word == first), None)
        if command is not None:
            command.run(self, rest)
        elif first.startswith("/"):
            self.show.line(
                f"  Secure Base has no {first}: try /checkin, /teampulse or /securebase."
            )
        else:
            self.show.line(f"  Sorry, I don't know “{line}”. Type `help` for what you can do.")

    # -- the commands ------------------------------------------------------------------------

    def who(self, _: str) -> None:
        for person in (*MEMBERS, SUPERVISOR):
            role = ", practice supervisor" if person == SUPERVISOR else ""
            you = "  ← you" if person == self.me else ""
            self.show.line(f"  {person.name.split()[0].lower():<8} {person.name}{role}{you}")

    def become(self, rest: str) -> None:
        if not rest:
            raise DemoError("as whom? e.g. `as ruth`")
        self.me = self.team.person(rest)
        role = " (the practice supervisor)" if self.me == SUPERVISOR else ""
        self.show.line(f"  You are now {self.me.name}{role}.")

    def teampulse(self, rest: str) -> None:
        self.slash("/teampulse", rest)

    def securebase(self, rest: str) -> None:
        self.slash("/securebase", rest)

    def slash(self, command: str, rest: str) -> None:
        """A command whose answer is a message, or a form to read (only /checkin's form is
        filled in here; others are shown, then closed)."""
        view = self.team.slash(self.me, command, rest).view
        self.show.new_messages()
        if view is None:
            return
        self.show.line(f"  A form opens (only {self.me.name.split()[0]} sees it):")
        self.show.framed(view_lines(view, self.team.name))
        self.show.line("  (The sandbox shows this form but does not fill it in; it is closed.)")
        self.team.cancel(self.me, view)
        self.show.new_messages()

    def next_week(self, rest: str) -> None:
        if rest.lower() not in ("", "week"):
            raise DemoError("did you mean `next week`?")
        self.team.next_week()
        self.show.moment("A new week: the prompt goes out.")
        self.show.new_messages()

    def midweek(self, _: str) -> None:
        sent = self.team.midweek()
        if not sent:
            self.show.moment(
                "Midweek: no reminders are due. Everyone has had this week's note already, or "
                "turned reminders off."
            )
            return
        plural = "s go" if sent != 1 else " goes"
        self.show.moment(
            f"Midweek: {sent} gentle reminder{plural} out, by direct message, to everyone on "
            "this week's list, checked in or not, so it tells nobody who has."
        )
        self.show.new_messages()

    def home(self, _: str) -> None:
        view = self.team.open_home(self.me)
        self.show.line(f"  {self.me.name.split()[0]} opens Secure Base's Home tab:")
        self.show.framed(view_lines(view, self.team.name))
        self.show.line("  (To check in from here, type /checkin.)")

    def help(self, _: str) -> None:
        self.show.line(help_text(self.show.width))

    def quit(self, _: str) -> None:
        self.ended = True

    def checkin(self, _: str) -> None:
        view = self.team.slash(self.me, "/checkin").view
        if view is None:
            self.show.new_messages()
            return
        intro = [b for b in view["blocks"] if b.get("type") in ("section", "context")][:2]
        self.show.line("  The private check-in form opens (only you can see it):")
        self.show.framed(blocks_to_lines(intro, self.team.name))
        asked = questions(view, self.team.name)
        answers: dict[str, str | None] = {}
        try:
            for number, question in enumerate(asked, start=1):
                answers[question.block_id] = self.ask(number, question)
            while (sent := self.team.submit(self.me, view, answers)).errors:
                for number, question in enumerate(asked, start=1):
                    if question.block_id in sent.errors:
                        self.show.line(f"  ! {sent.errors[question.block_id]}")
                        answers[question.block_id] = self.ask(number, question)
        except _Cancelled:
            self.team.cancel(self.me, view)
            self.show.line("  The form is closed. Nothing was sent.")
            return
        self.show.line("  Sent privately.")
        if sent.showing is not None:
            self.show.replaced_form(self.me, sent.showing)
            self.team.cancel(self.me, sent.showing)
        self.show.new_messages()

    def ask(self, number: int, question: Question) -> str | None:
        """Ask until the answer is one the form takes; None for a skipped optional one."""
        show = self.show
        show.line()
        skip = ""
        if question.optional:
            said = "optional" in question.label.lower()
            skip = " (press Enter to skip)" if said else " (optional: press Enter to skip)"
        show.say(f"{number}. {question.label}{skip}", indent="  ")
        for index, (_, label) in enumerate(question.options, start=1):
            show.line(f"     {index}) {label}")
        if not question.options and question.hint:
            show.say(question.hint, indent="     ")
        while True:
            line = self.read("  answer> ")
            if line is None or line.strip().lower() == "cancel":
                raise _Cancelled
            text = line.strip()
            if not text:
                if question.optional:
                    return None
                show.line("  This one needs an answer (or type `cancel` to close the form).")
                continue
            if not question.options:
                if question.max_length is not None and len(text) > question.max_length:
                    show.line(f"  Please keep it under {question.max_length} characters.")
                    continue
                return text
            chosen = _option(question, text)
            if chosen is not None:
                return chosen
            show.line(f"  Please type a number from 1 to {len(question.options)}.")


# Everything the shell understands; `help` lists exactly these, in this order.
COMMANDS = (
    Command("who", "who", "everyone in the team (and who you are now)", Shell.who),
    Command("as", "as <name>", "become someone else, e.g. `as ruth`, the supervisor", Shell.become),
    Command("/checkin", "/checkin", "check in privately: answer the form here", Shell.checkin),
    Command(
        "/teampulse",
        "/teampulse [weeks]",
        "the team's anonymised picture (supervisors only), e.g. /teampulse 4",
        Shell.teampulse,
    ),
    Command(
        "/teampulse", "/teampulse log", "who has looked at the team's results", Shell.teampulse
    ),
    Command(
        "/teampulse",
        "/teampulse chart",
        f"the trend chart as a PNG, saved in {CHART_DIR}/ (supervisors only)",
        Shell.teampulse,
    ),
    Command(
        "/securebase",
        "/securebase [pause|resume|preview|intro|weeks off|setup]",
        "the team's settings (supervisors and admins only)",
        Shell.securebase,
    ),
    Command("home", "home", "open Secure Base's App Home tab", Shell.home),
    Command(
        "midweek",
        "midweek",
        "move time on to midweek, when everyone in the team gets a reminder",
        Shell.midweek,
    ),
    Command(
        "next",
        "next week",
        "move time on to next Monday, when the new prompt goes out",
        Shell.next_week,
    ),
    Command("help", "help", "this list", Shell.help),
    Command("quit", "quit", "leave (end of input does too)", Shell.quit),
)


def help_text(width: int) -> str:
    """Every command with what it does, the descriptions in a column that wraps in place."""
    column = 2 + max(len(c.usage) for c in COMMANDS if len(c.usage) <= 20) + 2
    lines: list[str] = []
    for command in COMMANDS:
        usage = f"  {command.usage}"
        if len(usage) + 2 > column:  # too long for the column: description on its own line
            lines.append(usage)
            usage = ""
        lines.append(
            textwrap.fill(
                command.about,
                width,
                initial_indent=usage.ljust(column),
                subsequent_indent=" " * column,
                break_on_hyphens=False,
            )
        )
    return "\n".join(lines)


def _option(question: Question, typed: str) -> str | None:
    """The value of the option picked by number or by its words."""
    if typed.isdigit() and 1 <= int(typed) <= len(question.options):
        return question.options[int(typed) - 1][0]
    for value, label in question.options:
        if typed.lower() == label.lower():
            return value
    return None
