"""Settings from the environment (and `.env`, loaded by the CLI with python-dotenv).

A missing or malformed value raises SettingsError with one line that names the variable and
says where to get a good value; the CLI prints that line and exits, never a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SLACK_API_DEFAULT = "https://slack.com/api/"
ANONYMITY_FLOOR = 3


class SettingsError(Exception):
    """One readable line about one setting."""


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


WHERE = {
    "SLACK_BOT_TOKEN": "your Slack app's 'OAuth & Permissions' page (Bot User OAuth Token, xoxb-…)",
    "SLACK_SIGNING_SECRET": "your Slack app's 'Basic Information' page (App Credentials)",
    "SLACK_APP_TOKEN": "'Basic Information' → App-Level Tokens, with the connections:write scope",
}


def _required(env: Mapping[str, str], name: str, prefix: str | None = None) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"{name} is not set: copy it from {WHERE[name]} into .env")
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


def timezone_name(value: str, variable: str = "SECUREBASE_TIMEZONE") -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a directory
        raise SettingsError(
            f"{variable}={value!r} is not an IANA time zone (e.g. Europe/London)"
        ) from None
    return value


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
    return Settings(
        bot_token=_required(env, "SLACK_BOT_TOKEN", "xoxb-") if need_slack else "",
        signing_secret=_required(env, "SLACK_SIGNING_SECRET") if need_slack else "",
        app_token=app_token,
        api_url=_api_url(env),
        database_url=env.get("DATABASE_URL", "").strip() or "sqlite:///securebase.db",
        port=_int(env, "PORT", 3000, 1, 65535, "the HTTP port for Slack's requests"),
        anonymity_min=anonymity_min,
        timezone=timezone_name(env.get("SECUREBASE_TIMEZONE", "").strip() or "Europe/London"),
        retention_weeks=_int(
            env, "SECUREBASE_RETENTION_WEEKS", 104, 8, 1040, "how long answers are kept"
        ),
        privacy_url=env.get("SECUREBASE_PRIVACY_URL", "").strip() or None,
    )
