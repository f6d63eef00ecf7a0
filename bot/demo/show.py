"""Printing what people see in Slack, as readable text, for the demo and the sandbox.

Everything printed fits the terminal's width (80 columns when the output is not a terminal),
so a transcript reads the same in a terminal, a pipe or a file.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from bot.demo.feed import Seen
from bot.demo.team import DemoTeam
from bot.render.text import framed, message_lines, questions, view_lines
from bot.sandboxed import Person
from sandbox.state import File

PLAIN_WIDTH = 80  # a pipe, a file, a test: the width every transcript is written for
WIDTH_RANGE = (40, 100)  # narrower is unreadable; wider lines are hard to follow
CHART_DIR = Path("demo-out")


def terminal_width(out: TextIO) -> int:
    """The width to print at: the terminal's (COLUMNS first, as shells set it) when `out` is
    one, else 80."""
    try:
        if not out.isatty():
            return PLAIN_WIDTH
        columns = os.environ.get("COLUMNS", "")
        width = int(columns) if columns.isdigit() else os.get_terminal_size(out.fileno()).columns
    except (OSError, ValueError, AttributeError):  # no fileno, a closed stream
        return PLAIN_WIDTH
    low, high = WIDTH_RANGE
    return min(max(width, low), high)


class Printer:
    def __init__(self, team: DemoTeam, out: TextIO) -> None:
        self.team = team
        self.out = out
        self.width = terminal_width(out)

    def line(self, text: str = "") -> None:
        """Lines as they are, any too long for the width wrapped under their own indent."""
        for raw in text.split("\n"):
            if len(raw) > self.width:
                lead = raw[: len(raw) - len(raw.lstrip())]
                raw = textwrap.fill(
                    raw.strip(),
                    self.width,
                    initial_indent=lead,
                    subsequent_indent=lead,
                    break_on_hyphens=False,
                )
            print(raw, file=self.out)

    def framed(self, lines: list[str]) -> None:
        """Lines behind a bar, the way a message sits in a Slack client."""
        self.line(framed(lines, width=self.width))

    def say(self, text: str, indent: str = "") -> None:
        """A paragraph of narration, wrapped."""
        wrapped = textwrap.fill(
            text,
            self.width,
            initial_indent=indent,
            subsequent_indent=indent,
            break_on_hyphens=False,
        )
        print(wrapped, file=self.out)

    def heading(self, title: str) -> None:
        self.line()
        self.line("═" * self.width)
        self.line(f"  {title}")
        self.line("═" * self.width)

    def moment(self, text: str) -> None:
        """Narration stamped with the team's local day and time."""
        self.line()
        self.say(f"{self.team.local_now():%a %d %b, %H:%M} · {text}")

    def new_messages(self) -> list[Seen]:
        """Print every message Slack has shown anyone since the last look; returns them.
        The same DM to several people in a row (midweek reminders) is printed once, with
        everyone it went to. A file in a message (the chart) is saved where the reader can
        open it."""
        shown = self.team.feed.take()
        groups: list[tuple[list[Seen], list[str]]] = []
        for seen in shown:
            message = seen.message
            files = [f"[file: {file.title or file.filename}]" for file in message.files]
            lines = [*message_lines(message.text, message.blocks, self.team.name), *files]
            previous = groups[-1] if groups else None
            if previous and _same_dm(previous[0][-1], seen) and previous[1] == lines:
                previous[0].append(seen)
            else:
                groups.append(([seen], lines))
        for seens, lines in groups:
            if len(seens) == 1:
                self.line(f"  {self.audience(seens[0])}")
            else:
                names = [self.team.name(s.person or "") or "someone" for s in seens]
                everyone = ", ".join(names[:-1]) + " and " + names[-1]
                self.line(f"  Secure Base sends {everyone} each the same direct message:")
            self.framed(lines)
            for file in seens[0].message.files:
                self.saved(file)
        return shown

    def saved(self, file: File) -> Path:
        """Write the file (a PNG chart) to demo-out/, and say where it is."""
        CHART_DIR.mkdir(exist_ok=True)
        path = CHART_DIR / "team-pulse-chart.png"
        path.write_bytes(file.content)
        self.line("  Saved on this computer, to open and see (in the folder you ran this from):")
        self.line(f"  {path}")
        if file.alt_txt:
            self.say(f"Its alt text, for screen readers: “{file.alt_txt}”", indent="  ")
        return path

    def audience(self, seen: Seen) -> str:
        who = self.team.name(seen.person or "") or seen.person or "someone"
        if seen.where == "channel":
            return f"Secure Base posts in {self.team.channel_name} (the whole team sees it):"
        if seen.where == "dm":
            return f"Secure Base sends {who} a direct message:"
        channel = self.team.bot.sandbox.channel(seen.message.channel)
        place = "their messages with Secure Base" if channel.is_im else f"#{channel.name}"
        return f"Only {who} can see this reply, in {place}:"

    def form(
        self,
        person: Person,
        view: Mapping[str, Any],
        answers: Mapping[str, str | None] | None = None,
    ) -> None:
        """The whole modal, with `answers` ticked if given."""
        first = person.name.split()[0]
        self.line(f"  The check-in form opens for {first} (only {first} sees it):")
        self.framed(view_lines(view, self.team.name, answers))

    def replaced_form(self, person: Person, view: Mapping[str, Any]) -> None:
        """The view the bot put in the modal's place once it was sent."""
        first = person.name.split()[0]
        self.line(f"  The form turns into this note, for {first} only, who then closes it:")
        self.framed(view_lines(view, self.team.name))

    def notice(self, person: Person, view: Mapping[str, Any]) -> None:
        """A note the bot opened instead of the form."""
        first = person.name.split()[0]
        self.line(f"  Instead of the form, {first} sees this note (only {first} sees it):")
        self.line(framed(view_lines(view, self.team.name)))

    def answers(
        self, person: Person, view: Mapping[str, Any], answers: Mapping[str, str | None]
    ) -> None:
        """Just what someone chose in the form, question by question."""
        self.line(f"  {person.name.split()[0]} fills in the same form privately:")
        lines: list[str] = []
        for question in questions(view, self.team.name):
            given = answers.get(question.block_id)
            options = dict(question.options)
            if not given:
                chosen = "(left blank)"
            elif options:
                chosen = options.get(given, given)
            else:
                chosen = f"“{given}”"
            lines.append(f"• {question.label} → {chosen}")
        self.framed(lines)


def _same_dm(first: Seen, then: Seen) -> bool:
    """Two DMs, to two people, that could be one printed message (no files to save)."""
    return (
        first.where == then.where == "dm"
        and first.person != then.person
        and not first.message.files
        and not then.message.files
    )
