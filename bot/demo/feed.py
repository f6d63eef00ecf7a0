"""What Slack has shown the demo team so far, and what is new since the last look."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sandbox.state import Message
from sandbox.webapi import SlackSandbox

Where = Literal["channel", "dm", "ephemeral"]


@dataclass(frozen=True)
class Seen:
    """One message as it reached people: a channel post, a DM to `person`, or an ephemeral
    reply only `person` can see."""

    message: Message
    where: Where
    person: str | None = None


class Feed:
    def __init__(
        self, sandbox: SlackSandbox, channels: Sequence[str], people: Sequence[str]
    ) -> None:
        self.sandbox = sandbox
        self.channels = tuple(channels)
        self.people = tuple(people)
        self._seen: set[tuple[str, str, str | None]] = set()

    def pending(self) -> list[Seen]:
        """Messages nobody has been shown yet, oldest first."""
        found: dict[tuple[str, str, str | None], Seen] = {}
        for channel in self.channels:
            for message in self.sandbox.timeline(channel):
                found[_key(message)] = Seen(message, "channel")
        for person in self.people:
            for message in self.sandbox.dms(person):
                found[_key(message)] = Seen(message, "dm", person)
            for message in self.sandbox.ephemerals(person):
                found[_key(message)] = Seen(message, "ephemeral", person)
        fresh = [seen for key, seen in found.items() if key not in self._seen]
        return sorted(fresh, key=lambda seen: float(seen.message.ts))

    def take(self) -> list[Seen]:
        """The pending messages, now marked as shown."""
        fresh = self.pending()
        self._seen.update(_key(seen.message) for seen in fresh)
        return fresh

    def waiting_for(self, person: str, where: Where) -> list[Seen]:
        return [s for s in self.pending() if s.person == person and s.where == where]


def _key(message: Message) -> tuple[str, str, str | None]:
    return (message.channel, message.ts, message.ephemeral_for)
