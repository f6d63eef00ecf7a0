"""The `securebase` command. Every failure a person can cause ends in one readable line."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Callable, Sequence

from dotenv import load_dotenv
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.exc import SQLAlchemyError

from bot.export import FORMATS, ExportError
from bot.render.signpost import SUPPORT_MAX
from bot.settings import SettingsError, load_settings, timezone_name
from storage.db import Database
from storage.migrate import upgrade
from storage.teams import DAYS, TeamError

log = logging.getLogger("securebase")


class UsageError(Exception):
    """Bad command-line input, told back in one line."""


def _time(value: str) -> int:
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{value!r} is not a time like 09:30 (24-hour clock)")
    return int(match.group(1)) * 60 + int(match.group(2))


def _day(value: str) -> int:
    key = value.strip().lower()[:3]
    if key not in DAYS:
        raise argparse.ArgumentTypeError(f"{value!r} is not a day: use one of {', '.join(DAYS)}")
    return DAYS.index(key)


def _slack_id(prefixes: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        value = value.strip()
        if not re.fullmatch(rf"[{prefixes}][A-Z0-9]{{2,}}", value):
            raise argparse.ArgumentTypeError(
                f"{value!r} does not look like a Slack id (starts with {'/'.join(prefixes)})"
            )
        return value

    return check


def _zone(value: str) -> str:
    try:
        return timezone_name(value, "--tz")
    except SettingsError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _weeks(value: str) -> int:
    if not value.strip().isdigit() or not 1 <= int(value) <= 520:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of weeks from 1 to 520")
    return int(value)


def _support(value: str) -> str:
    text = value.strip()
    if not text or len(text) > SUPPORT_MAX:
        raise argparse.ArgumentTypeError(f"the support text needs 1 to {SUPPORT_MAX} characters")
    return text


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="securebase", description="Secure Base: a Slack bot for social work teams."
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help="start the bot (Socket Mode or HTTP)")

    team = commands.add_parser("team", help="set up, list and remove teams").add_subparsers(
        dest="team_command", required=True, metavar="ACTION"
    )
    add = team.add_parser("add", help="set up a team in a channel")
    add.add_argument("--channel", required=True, type=_slack_id("CG"))
    add.add_argument("--supervisor", required=True, action="append", type=_slack_id("UW"))
    add.add_argument("--day", type=_day, default=0, help="day of the weekly prompt (mon)")
    add.add_argument("--time", type=_time, default=9 * 60 + 30, help="local time (09:30)")
    add.add_argument("--tz", type=_zone, default=None, help="IANA zone (SECUREBASE_TIMEZONE)")
    add.add_argument("--name", default=None, help="team name shown to people")
    add.add_argument(
        "--pool-weeks",
        type=int,
        choices=(1, 2, 4),
        default=1,
        help="report weeks in fixed blocks of this many (for small teams); fixed for good",
    )
    add.add_argument("--workspace", type=_slack_id("TE"), default=None)
    add.add_argument(
        "--support",
        type=_support,
        default=None,
        help="where to get support, shown privately to anyone reporting high stress",
    )
    team.add_parser("list", help="list teams")
    remove = team.add_parser("remove", help="remove a team and erase its data (same as forget)")
    remove.add_argument("--channel", required=True, type=_slack_id("CG"))
    remove.add_argument("--workspace", type=_slack_id("TE"), default=None)
    remove.add_argument("--yes", action="store_true", help="erase without asking")
    forget = team.add_parser(
        "forget", help="erase everything stored about a team (asks you to confirm)"
    )
    forget.add_argument("--channel", required=True, type=_slack_id("CG"))
    forget.add_argument("--workspace", type=_slack_id("TE"), default=None)
    forget.add_argument("--yes", action="store_true", help="erase without asking")

    prompt = commands.add_parser("prompt", help="post this week's prompt now")
    prompt.add_argument("--channel", required=True, type=_slack_id("CG"))
    prompt.add_argument("--dry-run", action="store_true", help="print Block Kit JSON instead")
    prompt.add_argument("--workspace", type=_slack_id("TE"), default=None)

    export = commands.add_parser(
        "export", help="write a team's anonymous figures per period (for supervision records)"
    )
    export.add_argument("--channel", required=True, type=_slack_id("CG"))
    export.add_argument("--format", choices=FORMATS, default="csv")
    export.add_argument("--weeks", type=_weeks, default=52, help="finished weeks (52; 1 to 520)")
    export.add_argument("--output", default=None, help="file to write (default: standard output)")
    export.add_argument(
        "--by",
        type=_slack_id("UW"),
        default=None,
        help="required: the Slack id of the person the export is for (in the team's view log)",
    )
    export.add_argument(
        "--reason",
        default=None,
        help="required: why it is exported, in a few words (in the team's view log)",
    )
    export.add_argument("--workspace", type=_slack_id("TE"), default=None)

    db = commands.add_parser("db", help="database tasks").add_subparsers(
        dest="db_command", required=True, metavar="ACTION"
    )
    db.add_parser("upgrade", help="apply migrations up to the latest")
    commands.add_parser("demo", help="play three weeks offline against the Slack sandbox")
    commands.add_parser("sandbox", help="act as a member of the demo team, interactively")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    load_dotenv(".env")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = parser().parse_args(argv)
    try:
        return dispatch(args)
    except (SettingsError, TeamError, UsageError, ExportError) as error:
        print(f"securebase: {error}", file=sys.stderr)
        return 2
    except SlackApiError as error:
        print(f"securebase: Slack said {error.response.get('error')!r}", file=sys.stderr)
        return 1
    except SlackClientError as error:
        print(f"securebase: could not reach Slack: {error}", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        reason = str(error.orig if hasattr(error, "orig") else error).splitlines()[0]
        print(f"securebase: database problem: {reason}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def dispatch(args: argparse.Namespace) -> int:
    from bot import commands  # imported late: keeps `securebase --help` instant

    if args.command == "run":
        return commands.run(load_settings())
    if args.command == "demo":
        from bot.demo import run_demo

        return run_demo()
    if args.command == "sandbox":
        from bot.demo import run_interactive

        return run_interactive()
    # Alembic's INFO chatter would bury the one line these commands answer with.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    settings = load_settings(need_slack=False)
    db = Database(settings.database_url)
    try:
        upgrade(db)
        if args.command == "db":
            print("securebase: database is up to date")
            return 0
        if args.command == "team":
            return commands.team(args, settings, db)
        if args.command == "prompt":
            return commands.prompt(args, settings, db)
        if args.command == "export":
            return commands.export(args, settings, db)
    finally:
        db.dispose()
    raise UsageError(f"unknown command {args.command!r}")
