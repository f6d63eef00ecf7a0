"""What each CLI command does (the argument parsing is in bot.cli)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.orm import Session

from bot import startup
from bot.introduction import intro_message, intro_team, post_introduction
from bot.oauth import NotInstalled
from bot.render.intro import IntroTeam
from bot.runtime import Runtime
from bot.services import Services
from bot.settings import Settings, SettingsError, load_settings
from bot.startup import from_slack
from practice.clock import Clock
from practice.keys import KeyProblem
from storage.db import Database
from storage.deliveries import DeliveryKind, last_error, waiting_since
from storage.models import Team
from storage.retention import forget_team, scrub
from storage.sealed_weeks import abandon_weeks, unopenable_weeks
from storage.team_weeks import current_team_week, planned
from storage.teams import DAYS, TeamError, TeamSpec, add_team, list_teams

log = logging.getLogger("securebase")


def run(settings: Settings) -> int:
    from bot.serve import serve

    return serve(settings)


def _workspace(args: argparse.Namespace, db: Database) -> str:
    """The workspace a CLI command is about: --workspace, else the only one, else ask Slack."""
    if args.workspace:
        return str(args.workspace)
    if os.environ.get("SLACK_CLIENT_ID", "").strip():
        raise TeamError(
            "SLACK_CLIENT_ID is set (installed through OAuth, possibly in several workspaces), "
            "so say which workspace: add --workspace T…"
        )
    with db.session() as session:
        known = {t.workspace_id for t in list_teams(session)}
    if len(known) == 1:
        return known.pop()
    try:
        with from_slack(load_settings(), "SLACK_BOT_TOKEN"):
            return str(_slack(db, None).auth_test()["team_id"])
    except SettingsError as error:
        raise TeamError(
            f"{error} (it is needed to ask Slack for the workspace's id; or add --workspace T…)"
        ) from None


def _slack(db: Database, workspace: str | None) -> WebClient:
    """A Web API client for `workspace`: SLACK_BOT_TOKEN's, or its OAuth installation's."""
    slack = load_settings()
    if slack.oauth and workspace is not None:
        from bot.app import web_client
        from bot.oauth import Installations, installation_store

        services = Services.create(slack, db)
        store = installation_store(slack, db)
        token = Installations(slack, store, web_client(services)).bot_token(workspace)
        return web_client(services, token)
    return WebClient(token=slack.bot_token, base_url=slack.api_url)


def _channel_name(db: Database, workspace: str, channel: str) -> str:
    """A new team's name when --name is left out: its channel's name, as /securebase does."""
    try:
        with from_slack(load_settings(), "SLACK_BOT_TOKEN"):
            try:
                info = _slack(db, workspace).conversations_info(channel=channel)["channel"]
            except SlackApiError as error:
                if error.response.get("error") != "channel_not_found":
                    raise
                raise TeamError(
                    f"Slack has no channel {channel} that Secure Base can see: check the id, "
                    "and for a private channel invite the bot first (/invite @Secure Base)"
                ) from None
    except SettingsError as error:
        raise TeamError(
            f"{error} (it is needed to look up the channel's name; or add --name)"
        ) from None
    except NotInstalled as error:
        raise TeamError(
            f"{error}: install it through /slack/install first, or add --name"
        ) from None
    name = info.get("name") if isinstance(info, dict) else None
    return f"#{name}" if name else f"Team in {channel}"


def _find(db: Database, args: argparse.Namespace) -> Team:
    with db.session() as session:
        matches = [t for t in list_teams(session) if t.channel_id == args.channel]
    elsewhere = sorted(t.workspace_id for t in matches)
    if args.workspace:
        matches = [t for t in matches if t.workspace_id == args.workspace]
    if not matches:
        where = f" of workspace {args.workspace}" if args.workspace else ""
        also = f" (it is set up in {', '.join(elsewhere)})" if elsewhere else ""
        raise TeamError(f"no team is set up in channel {args.channel}{where}{also}")
    if len(matches) > 1:
        raise TeamError(
            f"channel {args.channel} is set up in several workspaces ({', '.join(elsewhere)}): "
            "add --workspace with one of them"
        )
    return matches[0]


LIST_COLUMNS = ("WORKSPACE", "CHANNEL", "NAME", "PROMPT", "SUPERVISORS", "STATUS", "LAST ERROR")


def team(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    if args.team_command == "add":
        workspace = _workspace(args, db)
        spec = TeamSpec(
            workspace_id=workspace,
            channel_id=args.channel,
            name=args.name or _channel_name(db, workspace, args.channel),
            supervisors=tuple(args.supervisor),
            post_day=args.day,
            post_minute=args.time,
            timezone=args.tz or settings.timezone,
            pool_weeks=args.pool_weeks,
        )
        with db.session() as session:
            added = add_team(session, spec, Services.create(settings, db).clock.now())
            added.support_text = args.support
            intro = intro_team(added)
        print(
            f"Added {spec.name} ({spec.channel_id}): prompts on {DAYS[spec.post_day]} at "
            f"{spec.post_minute // 60:02d}:{spec.post_minute % 60:02d} {spec.timezone}"
        )
        if not args.no_intro:  # the team is saved first: a failure to post undoes nothing
            reason = _post_intro(settings, db, workspace, intro)
            if reason is not None:
                print(
                    f"securebase: the team is set up, but its introduction wasn't posted "
                    f"({reason}). Post it later with `/securebase intro` in the channel, or "
                    f"`securebase team intro --channel {spec.channel_id}`.",
                    file=sys.stderr,
                )
        return 0
    if args.team_command == "intro":
        found = _find(db, args)
        message = intro_message(Services.create(settings, db), intro_team(found))
        if args.dry_run:
            blocks = {"channel": found.channel_id, "text": message.text, "blocks": message.blocks}
            print(json.dumps(blocks, indent=2, ensure_ascii=False))
            return 0
        reason = _post_intro(settings, db, found.workspace_id, intro_team(found))
        if reason is not None:
            raise TeamError(f"the introduction wasn't posted in {found.channel_id} ({reason})")
        return 0
    if args.team_command == "list":
        now = Services.create(settings, db).clock.now()
        with db.session() as session:
            teams = list_teams(session)
            if not teams:
                print(
                    "No teams yet. Add one with: securebase team add --channel C… --supervisor U…"
                )
                return 0
            rows = [
                (
                    t.workspace_id,
                    t.channel_id,
                    t.name,
                    f"{DAYS[t.post_day]} {t.post_minute // 60:02d}:{t.post_minute % 60:02d} "
                    f"{t.timezone}",
                    ", ".join(s.user_id for s in t.supervisors),
                    "paused" if t.paused else "active",
                    _prompt_waiting(session, t, now) or last_error(session, t.id) or "",
                )
                for t in teams
            ]
        print(_table([LIST_COLUMNS, *rows]))
        return 0
    if args.team_command in ("remove", "forget"):
        # Removing a team is erasing it: nothing of a removed team is worth keeping, and half
        # an erasure (rows gone, old copies still in the database files) is worse than none.
        return forget(args, db)
    raise TeamError(f"unknown team action {args.team_command!r}")


def _post_intro(settings: Settings, db: Database, workspace: str, team: IntroTeam) -> str | None:
    """Post the team's introduction; None when it went (and says so), else why not."""
    message = intro_message(Services.create(settings, db), team)
    try:
        client = _slack(db, workspace)
    except (SettingsError, NotInstalled) as error:
        return str(error)
    except (SlackClientError, OSError):
        return "Slack could not be reached"
    reason = post_introduction(client, message, team.channel_id)
    if reason is None:
        print(f"Posted the team's introduction in {team.channel_id}.")
    return reason


def _prompt_waiting(session: Session, team: Team, now: datetime) -> str | None:
    """Why this week's prompt has not gone out yet though it is due, if the ledger says."""
    week = current_team_week(session, team, now)
    found = waiting_since(session, team.id, week.index, DeliveryKind.PROMPT)
    if found is None:
        return None
    since, code = found
    # A prompt waits only for its roster (`scheduler.weekly`): nothing about anyone is kept.
    return (
        f"prompt waiting since {since.astimezone(UTC):%a %H:%M} UTC: the channel's members "
        f"couldn't be read ({code}); trying again each sweep"
    )


def _confirmed(question: str, word: str) -> bool:
    """The person typed `word` at a terminal; never assumed when nobody can be asked."""
    if not sys.stdin.isatty():
        raise KeyProblem("not abandoning without confirmation: run it in a terminal, or add --yes")
    try:
        return input(question).strip() == word
    except EOFError:
        return False


def _table(rows: list[tuple[str, ...]]) -> str:
    """Rows as left-aligned columns two spaces apart (the first row is the header)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def forget(args: argparse.Namespace, db: Database) -> int:
    """Erase a team's data for good, after the person types the channel id (or gives --yes)."""
    found = _find(db, args)
    if not args.yes:
        if not sys.stdin.isatty():
            raise TeamError(
                f"not erasing {found.channel_id} without confirmation: run it in a terminal, "
                "or add --yes"
            )
        print(
            f"This erases {found.name} ({found.channel_id}) for good: the team, every week's "
            "answers and comments, the delivery record and the view log."
        )
        try:
            typed = input("Type the channel id to confirm: ").strip()
        except EOFError:
            typed = ""
        if typed != found.channel_id:
            print("Nothing was erased: the channel id did not match.")
            return 1
    with db.session() as session:
        erased = forget_team(session, found.id)
    scrub(db, everything=True)
    print(
        f"Erased {found.name} ({found.channel_id}): {erased['team_weeks']} weeks, "
        f"{erased['answers']} answers, {erased['comments']} comments, "
        f"{erased['deliveries']} deliveries, {erased['pulse_views']} view-log entries."
    )
    return 0


def export(
    args: argparse.Namespace, settings: Settings, db: Database, clock: Clock | None = None
) -> int:
    """`securebase export`: the team's anonymous figures per period, as CSV. Refuses, before
    anything is read or written, without `--by` (who it is for) and `--reason`."""
    from bot.export import ExportError, check_reason, export_team

    if args.by is None or args.reason is None:
        raise ExportError(
            'an export needs --by U… (the Slack id of who it is for) and --reason "…", '
            "which the team sees in its view log"
        )
    reason = check_reason(args.reason)
    found = _find(db, args)
    services = Services.create(settings, db, clock)
    if args.output is None:
        export_team(services, found, args.weeks, args.by, reason, sys.stdout)
        return 0
    try:
        with open(args.output, "w", newline="", encoding="utf-8") as stream:
            written = export_team(services, found, args.weeks, args.by, reason, stream)
    except OSError as error:
        raise ExportError(f"cannot write {args.output}: {error.strerror}") from None
    print(f"Wrote {written} periods of {found.name} to {args.output}.", file=sys.stderr)
    return 0


def prompt(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    found = _find(db, args)
    if args.dry_run:
        from bot.render.prompt import weekly_prompt

        services = Services.create(settings, db)
        with db.session() as session:
            team_row = session.merge(found)
            domain, index = planned(
                session,
                team_row,
                current_team_week(session, team_row, services.clock.now()),
                services.rotation,
            )
        message = weekly_prompt(
            services.library, services.library.domain(domain), index, found.channel_id
        )
        output: dict[str, Any] = {
            "channel": found.channel_id,
            "text": message.text,
            "blocks": message.blocks,
        }
        print(json.dumps(output, indent=2, ensure_ascii=False))
        return 0
    slack = load_settings()
    startup.slack(slack)  # a refused token or a silent Slack, in one line, before Bolt asks
    runtime = Runtime.create(slack)
    try:
        made = runtime.delivery.deliver(found.id)
    finally:
        runtime.stop()
    print(
        f"Posted this week's prompt to {found.channel_id}."
        if made
        else "This week's prompt was already posted (or Slack refused it: see `team list`)."
    )
    return 0


def keys(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    """`securebase keys check|abandon`: the key that opens the open weeks."""
    settings.require_keyring()
    with db.session() as session:
        lost = unopenable_weeks(session)
        if args.keys_command == "check":
            if lost:
                print(
                    f"{len(lost)} open week(s) are sealed under another key: set "
                    "SECUREBASE_SECRET_KEY to it, or give them up with `securebase keys abandon`"
                )
                return 1
            print("The key opens every open week.")
            return 0
        if not lost:
            print("Nothing to abandon: the key opens every open week.")
            return 0
        question = (
            f"{len(lost)} open week(s) will be closed with no answers; their check-ins cannot "
            "be recovered by anyone. Type 'abandon' to go on: "
        )
        if not args.yes and not _confirmed(question, "abandon"):
            print("Nothing changed.")
            return 1
        gone = abandon_weeks(session, lost)
    print(f"Abandoned {gone} open week(s): closed with no answers.")
    return 0
