"""Reaching the database and Slack when the bot starts.

A bot started while the database or Slack is down (a reboot, a network blip, PostgreSQL
coming up after the bot) keeps trying with backoff and says so once a minute, one line, no
traceback; `/readyz` answers 503 meanwhile. Only what trying again cannot mend stops it with
one line (exit 2): a malformed setting, a missing database driver, credentials the database or
Slack refuses. Each step below sorts what it meets into those two kinds: `Unavailable` (try
again) or SettingsError (stop). The steps run in this order: Slack's answer to the tokens, the
database (migrated), the bot, and in Socket Mode its first link.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from bot.runtime import Runtime, open_database
from bot.settings import WHERE, Settings, SettingsError
from bot.socket_mode import SocketModeLink
from storage.db import Database

T = TypeVar("T")
log = logging.getLogger("securebase")

FIRST_WAIT = 0.5
LONGEST_WAIT = 30.0
SAY_EVERY = 60.0
SLACK_TIMEOUT = 10
# Slack's answers to a token it will not take (trying again will not change them).
REFUSED = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "not_allowed_token_type",
    }
)
# Refusals of a token that was good once: copying it again will not help.
GONE = frozenset({"token_revoked", "token_expired", "account_inactive"})
REINSTALL = "reinstall the app (its 'Install App' page) and copy the new token"
# PostgreSQL's "the login was refused" SQLSTATEs: invalid_password, invalid_authorization.
REFUSED_LOGIN = frozenset({"28P01", "28000"})


class Unavailable(Exception):
    """Something the bot needs does not answer yet; the message says what, in one line."""


class Stopped(Exception):
    """Asked to stop (SIGTERM, Ctrl-C) while still waiting."""


def keep_trying(
    attempt: Callable[[], T],
    stop: threading.Event,
    *,
    clock: Callable[[], float] = time.monotonic,
    say_every: float = SAY_EVERY,
) -> T:
    """`attempt()`'s result once it succeeds; Stopped if `stop` is set first. Unavailable is
    tried again after 0.5 s, 1 s, 2 s, … up to 30 s between tries, and logged once a minute;
    anything else is raised."""
    wait = FIRST_WAIT
    started = clock()
    said_at: float | None = None
    while not stop.is_set():
        try:
            return attempt()
        except Unavailable as error:
            now = clock()
            if said_at is None or now - said_at >= say_every:
                said_at = now
                log.warning("%s; trying again (%.0f s so far)", error, now - started)
        if stop.wait(wait):
            break
        wait = min(wait * 2, LONGEST_WAIT)
    raise Stopped


def database(settings: Settings) -> Database:
    """The database, migrated."""
    try:
        return open_database(settings)
    except ArgumentError:
        raise SettingsError(
            "DATABASE_URL is not a database URL: use e.g. sqlite:///securebase.db or "
            "postgresql+psycopg://user@host/dbname"
        ) from None
    except (NoSuchModuleError, ImportError) as error:
        raise SettingsError(
            f"DATABASE_URL needs a database driver this installation does not have "
            f"({_first_line(error)}): use sqlite:/// or postgresql+psycopg://"
        ) from None
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) in REFUSED_LOGIN:
            raise SettingsError(
                "DATABASE_URL: the database refused the user name or password in it"
            ) from None
        if not error.connection_invalidated and not _connection_failed(error):
            raise
        raise Unavailable(f"the database is not answering ({_first_line(error.orig)})") from None


def _connection_failed(error: DBAPIError) -> bool:
    """An OperationalError or InterfaceError: the driver could not talk to the database (as
    opposed to a query the database rejected)."""
    return type(error).__name__ in ("OperationalError", "InterfaceError")


def slack(settings: Settings) -> None:
    """Slack answers and takes the bot's credentials: the bot token (one workspace; with OAuth
    only Slack's answer to `api.test`) and, in Socket Mode, the app token. Checked before
    anything else, so a refused token is the one line the bot prints."""
    client = WebClient(base_url=settings.api_url, timeout=SLACK_TIMEOUT)
    with from_slack(settings, "SLACK_BOT_TOKEN"):
        if settings.oauth:
            client.api_test()
        else:
            client.auth_test(token=settings.bot_token)
    if settings.app_token is not None:
        with from_slack(settings, "SLACK_APP_TOKEN"):
            client.apps_connections_open(app_token=settings.app_token)  # the URL goes unused


def runtime(settings: Settings, build: Callable[[], Runtime]) -> Runtime:
    """The bot (which asks Slack who it is once more)."""
    with from_slack(settings, "SLACK_BOT_TOKEN"):
        try:
            return build()
        except BoltError as error:  # Bolt's own auth.test, if Slack went away just now
            raise Unavailable(f"Slack did not answer ({_first_line(error)})") from None


def socket_link(settings: Settings, link: SocketModeLink) -> None:
    """The first Socket Mode link, open."""
    with from_slack(settings, "SLACK_APP_TOKEN"):
        link.connect()


@contextmanager
def from_slack(settings: Settings, token_setting: str) -> Iterator[None]:
    """Turns what slack_sdk raises into SettingsError (a refused token) or Unavailable; also
    for the one-off commands that ask Slack something (`team add`, `prompt`)."""
    try:
        yield
    except SlackApiError as error:
        code = error.response.get("error")
        if code in REFUSED:
            fix = REINSTALL if code in GONE else "copy it again"
            raise SettingsError(
                f"{token_setting} was refused by Slack ({code}): {fix} from {WHERE[token_setting]}"
            ) from None
        raise Unavailable(f"Slack answered {code or error.response.status_code!r}") from None
    except (SlackClientError, OSError) as error:  # urllib's URLError is an OSError
        raise Unavailable(
            f"Slack is not reachable at {settings.api_url} ({_reason(error)}): check the "
            "network, any proxy, and SLACK_API_URL"
        ) from None


def _reason(error: BaseException) -> str:
    return f"{type(error).__name__}: {_first_line(error)}"


def _first_line(error: BaseException | None) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
