"""`securebase demo` and `securebase sandbox`: the bot, the Slack sandbox and a demo team of
social workers, all on this computer (no network, a throwaway SQLite file)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from bot.demo.script import play
from bot.demo.shell import Shell
from bot.demo.show import Printer
from bot.demo.team import DemoError, demo_team

__all__ = ["run_demo", "run_interactive"]


@contextmanager
def _quiet() -> Iterator[None]:
    """The bot's own INFO chatter would drown the story; warnings and errors still show."""
    loggers = [logging.getLogger(name) for name in ("", "securebase", "alembic", "apscheduler")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def run_demo(
    out: TextIO | None = None, database_url: str | None = None, *, socket_mode: bool = False
) -> int:
    """Play three weeks of the demo team (Slack reaching the bot over HTTP, or over Socket
    Mode); 0 when everything happened as it should."""
    try:
        with _quiet(), demo_team(database_url, socket_mode=socket_mode) as team:
            play(team, Printer(team, out or sys.stdout))
    except (DemoError, OSError) as error:
        print(f"securebase demo: {error}", file=sys.stderr)
        return 1
    return 0


def run_interactive(
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    database_url: str | None = None,
    *,
    history: bool = False,
) -> int:
    """Act as anyone in the demo team, typing commands at a prompt (or from a pipe); with
    `history`, the team starts with eight weeks already answered."""
    try:
        with _quiet(), demo_team(database_url) as team:
            show = Printer(team, out or sys.stdout)
            return Shell(team, stdin or sys.stdin, show, history=history).run()
    except (DemoError, OSError) as error:
        print(f"securebase sandbox: {error}", file=sys.stderr)
        return 1
