"""Printing what people see in Slack, as readable text, for the demo and the sandbox."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any, TextIO

from bot.demo.feed import Seen
from bot.demo.team import DemoTeam
from bot.render.text import WIDTH, framed, message_lines, questions, view_lines
from bot.sandboxed import Person


class Printer:
    def __init__(self, team: DemoTeam, out: TextIO) -> None:
        self.team = team
        self.out = out

    def line(self, text: str = "") -> None:
        print(text, file=self.out)

    def say(self, text: str, indent: str = "") -> None:
        """A paragraph of narration, wrapped."""
        wrapped = textwrap.fill(
            text, WIDTH, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False
        )
        print(wrapped, file=self.out)

    def heading(self, title: str) -> None:
        self.line()
        self.line("═" * WIDTH)
        self.line(f"  {title}")
        self.line("═" * WIDTH)

    def moment(self, text: str) -> None:
        """Narration stamped with the team's local day and time."""
        self.line()
        self.say(f"{self.team.local_now():%a %d %b, %H:%M} · {text}")

    def new_messages(self) -> list[Seen]:
        """Print every message Slack has shown anyone since the last look; returns them."""
        shown = self.team.feed.take()
        for seen in shown:
            self.line(f"  {self.audience(seen)}")
            names = self.team.name
            self.line(framed(message_lines(seen.message.text, seen.message.blocks, names)))
        return shown

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
        self.line(framed(view_lines(view, self.team.name, answers)))

    def replaced_form(self, person: Person, view: Mapping[str, Any]) -> None:
        """The view the bot put in the modal's place once it was sent."""
        first = person.name.split()[0]
        self.line(f"  The form turns into this note, for {first} only, who then closes it:")
        self.line(framed(view_lines(view, self.team.name)))

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
        self.line(framed(lines))
