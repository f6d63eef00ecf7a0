"""`securebase sandbox`: be anyone in the demo team and use Secure Base at a prompt.

Reads commands line by line, from a terminal or a pipe (end of input quits). The check-in
form is answered one question at a time: numbered options, Enter skips an optional question,
`cancel` closes the form without sending.
"""

from __future__ import annotations

from typing import TextIO

from bot.demo.show import Printer
from bot.demo.team import MEMBERS, SUPERVISOR, DemoError, DemoTeam
from bot.render.text import Question, blocks_to_lines, framed, questions, view_lines
from bot.sandboxed import Person

HELP = """\
  who                 everyone in the team (and who you are now)
  as <name>           become someone else, e.g. `as ruth` for the practice supervisor
  /checkin            check in privately: answer the form's questions here
  /teampulse [weeks]  the team's anonymised picture (supervisors only), e.g. /teampulse 4
  /teampulse log      who has looked at the team's results
  next week           move time on to next Monday, when the new prompt goes out
  home                open Secure Base's App Home tab
  help                this list
  quit                leave (end of input does too)"""


class _Cancelled(Exception):
    """The person closed the form (typed `cancel`, or input ended)."""


class Shell:
    def __init__(self, team: DemoTeam, stdin: TextIO, show: Printer) -> None:
        self.team = team
        self.stdin = stdin
        self.show = show
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
        self.team.deliver_prompt()
        show.moment("This week's prompt has gone out.")
        show.new_messages()
        show.line()
        show.line("Type `help` for what you can do.")
        while not self.ended:
            line = self.read(f"{self.me.name.split()[0]}> ")
            if line is None:
                break
            try:
                self.handle(line.strip())
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
        command, rest = words[0].lower(), " ".join(words[1:])
        if command in ("help", "?"):
            self.show.line(HELP)
        elif command in ("quit", "exit"):
            self.ended = True
        elif command == "who":
            self.who()
        elif command == "as":
            if not rest:
                raise DemoError("as whom? e.g. `as ruth`")
            self.me = self.team.person(rest)
            role = " (the practice supervisor)" if self.me == SUPERVISOR else ""
            self.show.line(f"  You are now {self.me.name}{role}.")
        elif line.lower() in ("next week", "next"):
            self.team.next_week()
            self.show.moment("A new week: the prompt goes out.")
            self.show.new_messages()
        elif command == "home":
            self.home()
        elif command == "/checkin":
            self.checkin()
        elif command == "/teampulse":
            self.team.slash(self.me, "/teampulse", rest)
            self.show.new_messages()
        elif command.startswith("/"):
            self.show.line(f"  Secure Base has no {command}: try /checkin or /teampulse.")
        else:
            self.show.line(f"  Sorry, I don't know “{line}”. Type `help` for what you can do.")

    def who(self) -> None:
        for person in (*MEMBERS, SUPERVISOR):
            role = ", practice supervisor" if person == SUPERVISOR else ""
            you = "  ← you" if person == self.me else ""
            self.show.line(f"  {person.name.split()[0].lower():<8} {person.name}{role}{you}")

    def home(self) -> None:
        view = self.team.open_home(self.me)
        self.show.line(f"  {self.me.name.split()[0]} opens Secure Base's Home tab:")
        self.show.line(framed(view_lines(view, self.team.name)))
        self.show.line("  (To check in from here, type /checkin.)")

    def checkin(self) -> None:
        view = self.team.slash(self.me, "/checkin").view
        if view is None:
            self.show.new_messages()
            return
        intro = [b for b in view["blocks"] if b.get("type") in ("section", "context")][:2]
        self.show.line("  The private check-in form opens (only you can see it):")
        self.show.line(framed(blocks_to_lines(intro, self.team.name)))
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


def _option(question: Question, typed: str) -> str | None:
    """The value of the option picked by number or by its words."""
    if typed.isdigit() and 1 <= int(typed) <= len(question.options):
        return question.options[int(typed) - 1][0]
    for value, label in question.options:
        if typed.lower() == label.lower():
            return value
    return None
