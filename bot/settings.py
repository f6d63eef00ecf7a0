"""Settings from the environment (and `.env`, loaded by the CLI with python-dotenv).

A missing or malformed value raises SettingsError with one line that names the variable and
says where to get a good value; the CLI prints that line and exits, never a traceback.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from bot.manifest import bot_scopes
from practice.keys import HOW_TO_MAKE, KeyProblem, Keyring, SecretKey, parse_key

SLACK_API_DEFAULT = "https://slack.com/api/"
DATABASE_DEFAULT = "sqlite:///securebase.db"
POSTGRES_EXAMPLE = "postgresql+psycopg://user:password@host:5432/securebase"
# The drivers Secure Base is built and tested on, per database.
DRIVERS = {"sqlite": "pysqlite", "postgresql": "psycopg"}
# The values .env.example ships with: a copy of it left unedited must not look configured.
EXAMPLE_VALUES = {
    "SLACK_BOT_TOKEN": "xoxb-your-bot-token",
    "SLACK_SIGNING_SECRET": "your-signing-secret",
}
ANONYMITY_FLOOR = 3
# The bot scopes manifest.yml grants: what the OAuth install asks for unless SLACK_SCOPES says.
MANIFEST_SCOPES = bot_scopes()


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("text", "json")
METRICS_PORT_DEFAULT = 9464


class SettingsError(Exception):
    """One readable line about one setting."""


@dataclass(frozen=True)
class LogOptions:
    """LOG_LEVEL (None when unset: each command has its own default) and LOG_FORMAT."""

    level: str | None = None
    format: str = "text"


@dataclass(frozen=True)
class Settings:
    bot_token: str
    signing_secret: str
    app_token: str | None
    api_url: str
    database_url: str
    port: int
    anonymity_min: int
    timezone: str
    retention_weeks: int
    privacy_url: str | None = None
    # How long a delivery claim holds before another replica may take it over.
    claim_lease_seconds: int = 120
    # OAuth (many workspaces): set both to install through /slack/install; no SLACK_BOT_TOKEN.
    client_id: str | None = None
    client_secret: str | None = None
    scopes: tuple[str, ...] = MANIFEST_SCOPES
    redirect_uri: str | None = None
    # Prometheus metrics on their own port, off unless METRICS_ENABLED=1.
    metrics_enabled: bool = False
    metrics_host: str = "127.0.0.1"
    metrics_port: int = METRICS_PORT_DEFAULT
    # The operator's key (never in the database): None only where nothing opens or closes weeks.
    keyring: Keyring | None = None

    def require_keyring(self) -> Keyring:
        if self.keyring is None:
            raise SettingsError(
                f"SECUREBASE_SECRET_KEY is not set: {HOW_TO_MAKE} and put it in .env "
                "(or name a file holding it in SECUREBASE_SECRET_KEY_FILE)"
            )
        return self.keyring

    @property
    def oauth(self) -> bool:
        return self.client_id is not None


WHERE = {
    "SLACK_BOT_TOKEN": "your Slack app's 'OAuth & Permissions' page (Bot User OAuth Token, xoxb-…)",
    "SLACK_SIGNING_SECRET": "your Slack app's 'Basic Information' page (App Credentials)",
    "SLACK_APP_TOKEN": "'Basic Information' → App-Level Tokens, with the connections:write scope",
    "SLACK_CLIENT_ID": "your Slack app's 'Basic Information' page (App Credentials, Client ID)",
    "SLACK_CLIENT_SECRET": "your Slack app's 'Basic Information' page (App Credentials)",
}


def _required(env: Mapping[str, str], name: str, prefix: str | None = None) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"{name} is not set: copy it from {WHERE[name]} into .env")
    if value == EXAMPLE_VALUES.get(name):
        raise SettingsError(
            f"{name} is still the example from .env.example: copy the real one from "
            f"{WHERE[name]} into .env"
        )
    if prefix and not value.startswith(prefix):
        raise SettingsError(
            f"{name} should start with '{prefix}': copy it again from {WHERE[name]}"
        )
    return value


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int, why: str) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number ({why})") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={value} is out of range: use {low} to {high} ({why})")
    return value


def _api_url(env: Mapping[str, str]) -> str:
    url = env.get("SLACK_API_URL", "").strip() or SLACK_API_DEFAULT
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingsError(
            f"SLACK_API_URL={url!r} is not an http(s) URL: leave it unset for Slack's own "
            f"({SLACK_API_DEFAULT}) or point it at the sandbox"
        )
    return url if url.endswith("/") else url + "/"


def _database_url(env: Mapping[str, str]) -> str:
    """SQLite or PostgreSQL through psycopg, with its driver installed. The URL itself is never
    repeated back: it may hold a password."""
    url = env.get("DATABASE_URL", "").strip() or DATABASE_DEFAULT
    try:
        parsed: URL = make_url(url)
    except ArgumentError:
        raise SettingsError(
            f"DATABASE_URL is not a database URL: use {DATABASE_DEFAULT} or {POSTGRES_EXAMPLE}"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "postgres":
        raise SettingsError(
            f"DATABASE_URL starts with {parsed.drivername}://, which SQLAlchemy does not know: "
            f"write {POSTGRES_EXAMPLE} (same user, host and database)"
        )
    if backend not in DRIVERS:
        raise SettingsError(
            f"DATABASE_URL is a {backend} database: Secure Base runs on SQLite or PostgreSQL "
            f"only ({DATABASE_DEFAULT} or {POSTGRES_EXAMPLE})"
        )
    try:
        driver = parsed.get_driver_name()
    except NoSuchModuleError:
        driver = parsed.drivername.partition("+")[2]
    if driver != DRIVERS[backend]:
        raise SettingsError(
            f"DATABASE_URL needs a database driver Secure Base does not use ({driver}): write "
            f"{'sqlite:///' if backend == 'sqlite' else 'postgresql+psycopg://'}…"
        )
    try:
        parsed.get_dialect().import_dbapi()
    except ImportError:
        raise SettingsError(
            f"DATABASE_URL needs a database driver that is not installed here ({driver}): "
            "pip install 'securebase[postgres]' into the bot's environment"
        ) from None
    return url


def timezone_name(value: str, variable: str = "SECUREBASE_TIMEZONE") -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a directory
        near = _zone_like(value)
        hint = f"did you mean {near}?" if near else "e.g. Europe/London"
        raise SettingsError(f"{variable}={value!r} is not an IANA time zone ({hint})") from None
    return value


def _zone_like(value: str) -> str | None:
    """The zone someone probably meant: the same name in another case (europe/london), else
    a near spelling (Europe/Londn)."""
    zones = available_timezones()
    wanted = value.strip().replace(" ", "_").casefold()
    same = sorted(zone for zone in zones if zone.casefold() == wanted)
    if same:
        return same[0]
    by_fold = {zone.casefold(): zone for zone in zones}
    close = difflib.get_close_matches(wanted, by_fold, n=1, cutoff=0.85)
    return by_fold[close[0]] if close else None


def _oauth(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """SLACK_CLIENT_ID and SLACK_CLIENT_SECRET: both (OAuth mode) or neither (one workspace)."""
    client_id = env.get("SLACK_CLIENT_ID", "").strip() or None
    client_secret = env.get("SLACK_CLIENT_SECRET", "").strip() or None
    if client_id and not client_secret:
        return client_id, _required(env, "SLACK_CLIENT_SECRET")
    if client_secret and not client_id:
        return _required(env, "SLACK_CLIENT_ID"), client_secret
    return client_id, client_secret


def _scopes(env: Mapping[str, str]) -> tuple[str, ...]:
    raw = env.get("SLACK_SCOPES", "").strip()
    if not raw:
        return MANIFEST_SCOPES
    scopes = tuple(s.strip() for s in raw.split(",") if s.strip())
    bad = [s for s in scopes if not re.fullmatch(r"[a-z]+(:[a-z.]+)*", s)]
    if bad or not scopes:
        raise SettingsError(
            f"SLACK_SCOPES={raw!r} is not a comma-separated list of scopes "
            f"(e.g. {','.join(MANIFEST_SCOPES[:2])}): leave it empty for manifest.yml's"
        )
    return scopes


def _key_text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    path = env.get(f"{name}_FILE", "").strip()
    if value and path:
        raise SettingsError(f"{name} and {name}_FILE are both set: keep just one")
    if not path:
        return value or None
    try:
        with open(path, encoding="ascii") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not readable text"
        raise SettingsError(f"{name}_FILE={path!r} cannot be read ({reason})") from None


def _keyring(env: Mapping[str, str]) -> Keyring | None:
    """SECUREBASE_SECRET_KEY (or _FILE) and, while rotating, SECUREBASE_SECRET_KEY_PREVIOUS."""
    try:
        current = _key_text(env, "SECUREBASE_SECRET_KEY")
        previous = _key_text(env, "SECUREBASE_SECRET_KEY_PREVIOUS")
        if current is None:
            if previous is not None:
                raise SettingsError(
                    "SECUREBASE_SECRET_KEY_PREVIOUS is set without SECUREBASE_SECRET_KEY: "
                    f"set the new key too ({HOW_TO_MAKE})"
                )
            return None
        key = SecretKey(parse_key(current, "SECUREBASE_SECRET_KEY"))
        old = (
            None
            if previous is None
            else SecretKey(parse_key(previous, "SECUREBASE_SECRET_KEY_PREVIOUS"))
        )
    except KeyProblem as problem:
        raise SettingsError(str(problem)) from None
    if old is not None and old.key_id == key.key_id:
        raise SettingsError(
            "SECUREBASE_SECRET_KEY_PREVIOUS is the same as SECUREBASE_SECRET_KEY: "
            "leave it unset unless you are moving to a new key"
        )
    return Keyring(key, old)


def log_options(env: Mapping[str, str] | None = None) -> LogOptions:
    """LOG_LEVEL and LOG_FORMAT, read before anything else so that every line obeys them."""
    env = os.environ if env is None else env
    level = env.get("LOG_LEVEL", "").strip().upper() or None
    if level == "WARN":
        level = "WARNING"
    if level is not None and level not in LOG_LEVELS:
        raise SettingsError(
            f"LOG_LEVEL={env['LOG_LEVEL']!r} is not a log level: use one of {', '.join(LOG_LEVELS)}"
        )
    form = env.get("LOG_FORMAT", "").strip().lower() or "text"
    if form not in LOG_FORMATS:
        raise SettingsError(
            f"LOG_FORMAT={env['LOG_FORMAT']!r} is not a log format: use text or json "
            "(one JSON object per line)"
        )
    return LogOptions(level, form)


def _switch(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(
        f"{name}={env[name]!r} is neither on nor off: use 1 to turn it on, 0 or empty for off"
    )


def load_settings(env: Mapping[str, str] | None = None, *, need_slack: bool = True) -> Settings:
    """Read and check every setting. `need_slack=False` for commands that only touch the DB."""
    env = os.environ if env is None else env
    app_token = env.get("SLACK_APP_TOKEN", "").strip() or None
    if app_token is not None and not app_token.startswith("xapp-"):
        raise SettingsError(
            f"SLACK_APP_TOKEN should start with 'xapp-': get it from {WHERE['SLACK_APP_TOKEN']}"
        )
    anonymity_min = _int(
        env,
        "SECUREBASE_ANONYMITY_MIN",
        5,
        ANONYMITY_FLOOR,
        1000,
        "below 3, one person's answers could be worked out",
    )
    client_id, client_secret = _oauth(env) if need_slack else (None, None)
    if client_id and app_token:
        raise SettingsError(
            "SLACK_APP_TOKEN is set with SLACK_CLIENT_ID: installing in many workspaces needs "
            "HTTP mode (/slack/install), so leave SLACK_APP_TOKEN empty"
        )
    one_workspace = need_slack and not client_id
    port = _int(env, "PORT", 3000, 1, 65535, "the HTTP port for Slack's requests")
    metrics_enabled = _switch(env, "METRICS_ENABLED")
    metrics_port = _int(
        env, "METRICS_PORT", METRICS_PORT_DEFAULT, 1, 65535, "the port Prometheus scrapes"
    )
    if metrics_enabled and metrics_port == port:
        raise SettingsError(
            f"METRICS_PORT={metrics_port} is also PORT: metrics need a port of their own"
        )
    return Settings(
        bot_token=_required(env, "SLACK_BOT_TOKEN", "xoxb-") if one_workspace else "",
        signing_secret=_required(env, "SLACK_SIGNING_SECRET") if need_slack else "",
        app_token=app_token,
        api_url=_api_url(env),
        database_url=_database_url(env),
        port=port,
        anonymity_min=anonymity_min,
        timezone=timezone_name(env.get("SECUREBASE_TIMEZONE", "").strip() or "Europe/London"),
        retention_weeks=_int(
            env, "SECUREBASE_RETENTION_WEEKS", 104, 8, 1040, "how long answers are kept"
        ),
        privacy_url=env.get("SECUREBASE_PRIVACY_URL", "").strip() or None,
        claim_lease_seconds=_int(
            env,
            "SECUREBASE_CLAIM_LEASE_SECONDS",
            120,
            1,
            3600,
            "how long a replica's claim on a post holds before another may take it over",
        ),
        client_id=client_id,
        client_secret=client_secret,
        scopes=_scopes(env),
        redirect_uri=env.get("SLACK_REDIRECT_URI", "").strip() or None,
        keyring=_keyring(env),
        metrics_enabled=metrics_enabled,
        metrics_host=env.get("METRICS_HOST", "").strip() or "127.0.0.1",
        metrics_port=metrics_port,
    )
