"""The `securebase` command. Every failure a person can cause ends in one readable line."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import version

from dotenv import load_dotenv
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from bot import logs
from bot.export import FORMATS, ExportError
from bot.render.signpost import SUPPORT_MAX
from bot.render.talking import FOR_LEARNING
from bot.settings import SettingsError, load_settings, log_options, timezone_name
from practice.keys import KeyProblem
from storage.db import Database
from storage.migrate import status, upgrade
from storage.teams import DAY_NAMES, DAYS, TeamError

# Commands that serve or play: they log (at INFO unless LOG_LEVEL says). The others answer in
# their own words, one line when something is wrong, and log only when LOG_LEVEL is set.
LOGGING_COMMANDS = {"run": "INFO", "demo": "WARNING", "sandbox": "WARNING"}


class UsageError(Exception):
    """Bad command-line input, told back in one line."""


def _time(value: str) -> int:
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{value!r} is not a time like 09:30 (24-hour clock)")
    return int(match.group(1)) * 60 + int(match.group(2))


def _day(value: str) -> int:
    """Monday to Sunday, or mon to sun, in any case; nothing else ("monkey" is not Monday)."""
    key = value.strip().lower()
    for index, name in enumerate(DAY_NAMES):
        if key in (name.lower(), DAYS[index]):
            return index
    raise argparse.ArgumentTypeError(f"{value!r} is not a day: use Monday to Sunday, or mon to sun")


# What each kind of Slack id looks like, and where a person finds it: the real rule, said whole.
SLACK_IDS = {
    "channel": (
        "CG",
        "a channel id starts with C (G for an older private channel), like C0123ABCD: "
        "in Slack, open the channel's details and copy the Channel ID at the bottom",
    ),
    "member": (
        "UW",
        "a member id starts with U or W, like U0123ABCD: in Slack, open the person's "
        "profile, then ⋮ → Copy member ID",
    ),
    "workspace": (
        "T",
        "a workspace id starts with T, like T0123ABCD: it is the T… part of your "
        "workspace's address in a browser, app.slack.com/client/T…",
    ),
}


def _slack_id(kind: str) -> Callable[[str], str]:
    prefixes, rule = SLACK_IDS[kind]

    def check(value: str) -> str:
        value = value.strip()
        if not re.fullmatch(rf"[{prefixes}][A-Z0-9]{{2,}}", value):
            raise argparse.ArgumentTypeError(f"{value!r} is not a {kind} id: {rule}")
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


CHANNEL_HELP = "the team's Slack channel id, C… (G… for an older private channel)"
WORKSPACE_HELP = (
    "the Slack workspace id, T…: needed when SLACK_CLIENT_ID is set (installed through OAuth), "
    "or when one channel id is set up in several workspaces"
)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="securebase", description="Secure Base: a Slack bot for social work teams."
    )
    root.add_argument("--version", action="version", version=f"securebase {version('securebase')}")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help="start the bot (Socket Mode or HTTP)")

    team = commands.add_parser("team", help="set up, list and remove teams").add_subparsers(
        dest="team_command", required=True, metavar="ACTION"
    )
    add = team.add_parser("add", help="set up a team in a channel")
    add.add_argument("--channel", required=True, type=_slack_id("channel"), help=CHANNEL_HELP)
    add.add_argument(
        "--supervisor",
        required=True,
        action="append",
        type=_slack_id("member"),
        help="a practice supervisor's Slack member id, U…; repeat it for each supervisor",
    )
    add.add_argument(
        "--day",
        type=_day,
        default=0,
        help="day of the weekly prompt: Monday to Sunday, or mon to sun (Monday)",
    )
    add.add_argument(
        "--time", type=_time, default=9 * 60 + 30, help="local time of the prompt, HH:MM (09:30)"
    )
    add.add_argument(
        "--tz",
        type=_zone,
        default=None,
        help="the team's IANA time zone, e.g. Europe/London (SECUREBASE_TIMEZONE)",
    )
    add.add_argument(
        "--name",
        default=None,
        help="team name shown to people (the channel's name, e.g. #duty-team, if left out)",
    )
    add.add_argument(
        "--pool-weeks",
        type=int,
        choices=(1, 2, 4),
        default=1,
        help="report weeks in fixed blocks of this many (for small teams); fixed for good",
    )
    add.add_argument("--workspace", type=_slack_id("workspace"), default=None, help=WORKSPACE_HELP)
    add.add_argument(
        "--support",
        type=_support,
        default=None,
        help="where to get support: on every member's Home tab, and shown privately to anyone "
        "reporting high stress",
    )
    add.add_argument(
        "--no-intro",
        action="store_true",
        help="don't post the team's introduction in the channel now (post it later with "
        "`securebase team intro` or `/securebase intro`)",
    )
    intro = team.add_parser(
        "intro", help="post the team's introduction in its channel again (or print it)"
    )
    intro.add_argument("--channel", required=True, type=_slack_id("channel"), help=CHANNEL_HELP)
    intro.add_argument("--dry-run", action="store_true", help="print Block Kit JSON instead")
    intro.add_argument(
        "--workspace", type=_slack_id("workspace"), default=None, help=WORKSPACE_HELP
    )
    team.add_parser("list", help="list teams")
    remove = team.add_parser("remove", help="remove a team and erase its data (same as forget)")
    forget = team.add_parser(
        "forget", help="erase everything stored about a team (asks you to confirm)"
    )
    for erase in (remove, forget):
        erase.add_argument("--channel", required=True, type=_slack_id("channel"), help=CHANNEL_HELP)
        erase.add_argument(
            "--workspace", type=_slack_id("workspace"), default=None, help=WORKSPACE_HELP
        )
        erase.add_argument("--yes", action="store_true", help="erase without asking")

    prompt = commands.add_parser("prompt", help="post this week's prompt now")
    prompt.add_argument("--channel", required=True, type=_slack_id("channel"), help=CHANNEL_HELP)
    prompt.add_argument("--dry-run", action="store_true", help="print Block Kit JSON instead")
    prompt.add_argument(
        "--workspace", type=_slack_id("workspace"), default=None, help=WORKSPACE_HELP
    )

    export = commands.add_parser(
        "export",
        help="write a team's anonymous figures per period, for reflective supervision records "
        "(never for appraisal or performance management)",
        description=f"A team's anonymous figures per period, for reflective supervision records. "
        f"{FOR_LEARNING}",
    )
    export.add_argument("--channel", required=True, type=_slack_id("channel"), help=CHANNEL_HELP)
    export.add_argument("--format", choices=FORMATS, default="csv", help="file format (csv)")
    export.add_argument("--weeks", type=_weeks, default=52, help="finished weeks (52; 1 to 520)")
    export.add_argument("--output", default=None, help="file to write (default: standard output)")
    export.add_argument(
        "--by",
        type=_slack_id("member"),
        default=None,
        help="required: the Slack member id (U…) of the person the export is for (in the "
        "team's view log)",
    )
    export.add_argument(
        "--reason",
        default=None,
        help="required: why it is exported, in a few words (in the team's view log)",
    )
    export.add_argument(
        "--workspace", type=_slack_id("workspace"), default=None, help=WORKSPACE_HELP
    )

    db = commands.add_parser("db", help="database tasks").add_subparsers(
        dest="db_command", required=True, metavar="ACTION"
    )
    db.add_parser("upgrade", help="apply migrations up to the latest, naming each one")
    db.add_parser("current", help="say which migration the database is at, and what is pending")

    keys = commands.add_parser(
        "keys", help="the secret key that seals open weeks (SECUREBASE_SECRET_KEY)"
    ).add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    keys.add_parser("check", help="say whether the key opens every open week")
    abandon = keys.add_parser(
        "abandon",
        help="give up open weeks sealed under a lost key (their check-ins are lost for good)",
    )
    abandon.add_argument("--yes", action="store_true", help="give them up without asking")
    demo = commands.add_parser("demo", help="play three weeks offline against the Slack sandbox")
    demo.add_argument(
        "--socket-mode",
        action="store_true",
        help="reach the bot over Socket Mode instead of HTTP (the story is the same)",
    )
    sandbox = commands.add_parser("sandbox", help="act as a member of the demo team, interactively")
    sandbox.add_argument(
        "--history",
        action="store_true",
        help="start with eight weeks already answered, so /teampulse and the chart have a story",
    )
    return root


def main(argv: Sequence[str] | None = None) -> int:
    load_dotenv(".env")
    args = parser().parse_args(argv)
    try:
        logs.configure(log_options(), default=LOGGING_COMMANDS.get(args.command))
        return dispatch(args)
    except (SettingsError, TeamError, UsageError, ExportError, KeyProblem) as error:
        return fail(str(error))
    except SlackApiError as error:
        return fail(f"Slack said {error.response.get('error')!r}", code=1)
    except SlackClientError as error:
        return fail(f"could not reach Slack: {error}")
    except (OperationalError, InterfaceError) as error:  # could not open or reach it
        return fail(
            f"could not use the database in DATABASE_URL ({_first_line(error)}): check that it "
            "is running and that the URL's host, name and password are right"
        )
    except SQLAlchemyError as error:
        return fail(f"database problem: {_first_line(error)}", code=1)
    except KeyboardInterrupt:
        return 130


def fail(line: str, code: int = 2) -> int:
    """The one line a failure gets. 2: nothing was done, fix what it says and run it again."""
    print(f"securebase: {line}", file=sys.stderr)
    return code


def _first_line(error: SQLAlchemyError) -> str:
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]


def dispatch(args: argparse.Namespace) -> int:
    from bot import startup  # imported late (with all of the bot): keeps `--help` instant

    try:
        return _command(args)
    except startup.Unavailable as error:  # a one-off command: no waiting, one line
        return fail(str(error))


def _command(args: argparse.Namespace) -> int:
    from bot import commands

    if args.command == "run":
        return commands.run(load_settings())
    if args.command == "demo":
        from bot.demo import run_demo

        return run_demo(socket_mode=args.socket_mode)
    if args.command == "sandbox":
        from bot.demo import run_interactive

        return run_interactive(history=args.history)
    settings = load_settings(need_slack=False)
    db = Database(settings.database_url, settings.keyring)
    try:
        if args.command == "db":
            return database(args.db_command, db)
        upgrade(db)
        if args.command == "team":
            return commands.team(args, settings, db)
        if args.command == "prompt":
            return commands.prompt(args, settings, db)
        if args.command == "export":
            return commands.export(args, settings, db)
        if args.command == "keys":
            return commands.keys(args, settings, db)
    finally:
        db.dispose()
    raise UsageError(f"unknown command {args.command!r}")


def database(action: str, db: Database) -> int:
    """`db upgrade` names each migration it applies; `db current` changes nothing."""
    if action == "upgrade":
        for migration in upgrade(db):
            print(f"Applied migration {migration.revision}: {migration.title}")
    now = status(db)
    at = ", ".join(now.current) or "no migration (an empty database)"
    if not now.pending:
        print(f"The database is up to date, at {at}.")
        return 0
    print(f"The database is at {at}; {len(now.pending)} to apply with `securebase db upgrade`:")
    for migration in now.pending:
        print(f"  {migration.revision}: {migration.title}")
    return 0
