"""Settings: every default, and one readable line naming the variable for each bad value."""

from __future__ import annotations

from pathlib import Path

import pytest
from dotenv import dotenv_values

from bot.settings import (
    METRICS_PORT_DEFAULT,
    LogOptions,
    Settings,
    SettingsError,
    load_settings,
    log_options,
)

REPO = Path(__file__).resolve().parents[1]

GOOD = {"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_SIGNING_SECRET": "s3cret"}


def settings(**overrides: str) -> Settings:
    return load_settings({**GOOD, **overrides})


def refused(env: dict[str, str], variable: str, *, need_slack: bool = True) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(env, need_slack=need_slack)
    message = str(caught.value)
    assert "\n" not in message and message.strip() == message and message
    assert variable in message
    return message


def test_defaults() -> None:
    loaded = load_settings(dict(GOOD))
    assert loaded == Settings(
        bot_token="xoxb-1-2-abc",
        signing_secret="s3cret",
        app_token=None,
        api_url="https://slack.com/api/",
        database_url="sqlite:///securebase.db",
        port=3000,
        anonymity_min=5,
        timezone="Europe/London",
        retention_weeks=104,
        privacy_url=None,
    )


def test_every_value_can_be_set() -> None:
    loaded = settings(
        SLACK_APP_TOKEN=" xapp-1-A0-xyz ",
        SLACK_API_URL="http://127.0.0.1:8765/api/",
        DATABASE_URL="postgresql+psycopg://sb@db/sb",
        PORT="8080",
        SECUREBASE_ANONYMITY_MIN="3",
        SECUREBASE_TIMEZONE="America/New_York",
        SECUREBASE_RETENTION_WEEKS="52",
        SECUREBASE_PRIVACY_URL="https://example.org/privacy",
    )
    assert loaded.app_token == "xapp-1-A0-xyz"
    assert loaded.api_url == "http://127.0.0.1:8765/api/"
    assert loaded.database_url == "postgresql+psycopg://sb@db/sb"
    assert (loaded.port, loaded.anonymity_min, loaded.retention_weeks) == (8080, 3, 52)
    assert loaded.timezone == "America/New_York"
    assert loaded.privacy_url == "https://example.org/privacy"


def test_blank_values_mean_the_default() -> None:
    loaded = settings(PORT="  ", SECUREBASE_TIMEZONE="", SLACK_APP_TOKEN="", SLACK_API_URL=" ")
    assert (loaded.port, loaded.timezone, loaded.app_token) == (3000, "Europe/London", None)
    assert loaded.api_url == "https://slack.com/api/"


def test_api_url_gets_a_trailing_slash() -> None:
    assert settings(SLACK_API_URL="http://localhost:9000/api").api_url == (
        "http://localhost:9000/api/"
    )
    assert settings(SLACK_API_URL="https://slack.com/api/").api_url == "https://slack.com/api/"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"SLACK_SIGNING_SECRET": "s3cret"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "   ", "SLACK_SIGNING_SECRET": "s3cret"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token", "SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({**GOOD, "SLACK_APP_TOKEN": "xoxb-not-an-app-token"}, "SLACK_APP_TOKEN"),
        ({**GOOD, "SLACK_API_URL": "ftp://slack.example/api"}, "SLACK_API_URL"),
        ({**GOOD, "SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL"),
        ({**GOOD, "SLACK_API_URL": "http://"}, "SLACK_API_URL"),
        ({**GOOD, "PORT": "abc"}, "PORT"),
        ({**GOOD, "PORT": "0"}, "PORT"),
        ({**GOOD, "PORT": "70000"}, "PORT"),
        ({**GOOD, "PORT": "80.5"}, "PORT"),
        ({**GOOD, "SECUREBASE_ANONYMITY_MIN": "2"}, "SECUREBASE_ANONYMITY_MIN"),
        ({**GOOD, "SECUREBASE_ANONYMITY_MIN": "five"}, "SECUREBASE_ANONYMITY_MIN"),
        ({**GOOD, "SECUREBASE_RETENTION_WEEKS": "1"}, "SECUREBASE_RETENTION_WEEKS"),
        ({**GOOD, "SECUREBASE_TIMEZONE": "Mars/Olympus"}, "SECUREBASE_TIMEZONE"),
        # A zone *directory* ("Europe") once escaped as IsADirectoryError, with a traceback.
        ({**GOOD, "SECUREBASE_TIMEZONE": "Europe"}, "SECUREBASE_TIMEZONE"),
        ({**GOOD, "SECUREBASE_TIMEZONE": "../../etc/passwd"}, "SECUREBASE_TIMEZONE"),
        ({**GOOD, "DATABASE_URL": "postgres://sb@db/sb"}, "DATABASE_URL"),
        ({**GOOD, "DATABASE_URL": "mysql+pymysql://sb@db/sb"}, "DATABASE_URL"),
        ({**GOOD, "DATABASE_URL": "postgresql+asyncpg://sb@db/sb"}, "DATABASE_URL"),
        ({**GOOD, "DATABASE_URL": "securebase.db"}, "DATABASE_URL"),
        ({**GOOD, "METRICS_ENABLED": "maybe"}, "METRICS_ENABLED"),
        ({**GOOD, "METRICS_PORT": "0"}, "METRICS_PORT"),
        ({**GOOD, "METRICS_ENABLED": "1", "METRICS_PORT": "3000"}, "METRICS_PORT"),
    ],
)
def test_malformed_values_are_refused_in_one_line(env: dict[str, str], variable: str) -> None:
    refused(env, variable)


def test_missing_token_says_where_to_get_it() -> None:
    message = refused({"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN")
    assert "OAuth & Permissions" in message


def test_anonymity_minimum_below_three_is_refused_with_the_reason() -> None:
    message = refused({**GOOD, "SECUREBASE_ANONYMITY_MIN": "2"}, "SECUREBASE_ANONYMITY_MIN")
    assert "3" in message
    assert settings(SECUREBASE_ANONYMITY_MIN="3").anonymity_min == 3


def test_port_range_edges() -> None:
    assert settings(PORT="1").port == 1
    assert settings(PORT="65535").port == 65535
    refused({**GOOD, "PORT": "65536"}, "PORT")


def test_database_only_commands_need_no_slack_values() -> None:
    loaded = load_settings({"DATABASE_URL": "sqlite:///x.db"}, need_slack=False)
    assert (loaded.bot_token, loaded.signing_secret) == ("", "")
    assert loaded.database_url == "sqlite:///x.db"
    # Other values are still checked.
    refused({"PORT": "abc"}, "PORT", need_slack=False)


def test_reads_os_environ_when_no_env_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-environ")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    monkeypatch.setenv("PORT", "4321")
    for name in (
        "SLACK_APP_TOKEN",
        "SLACK_API_URL",
        "SECUREBASE_ANONYMITY_MIN",
        "SECUREBASE_TIMEZONE",
        "SECUREBASE_RETENTION_WEEKS",
    ):
        monkeypatch.delenv(name, raising=False)
    loaded = load_settings()
    assert (loaded.bot_token, loaded.port) == ("xoxb-from-environ", 4321)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("europe/london", "Europe/London"),
        ("AMERICA/NEW_YORK", "America/New_York"),
        ("america/new york", "America/New_York"),  # a space for the underscore
        ("Europe/Londn", "Europe/London"),  # a slip of the finger
    ],
)
def test_a_zone_in_the_wrong_case_gets_the_right_one_suggested(typed: str, meant: str) -> None:
    message = refused({**GOOD, "SECUREBASE_TIMEZONE": typed}, "SECUREBASE_TIMEZONE")
    assert message.endswith(f"is not an IANA time zone (did you mean {meant}?)")


def test_a_zone_with_no_near_name_gets_an_example() -> None:
    message = refused({**GOOD, "SECUREBASE_TIMEZONE": "Mars/Olympus"}, "SECUREBASE_TIMEZONE")
    assert message.endswith("is not an IANA time zone (e.g. Europe/London)")


def test_the_env_example_left_unedited_is_refused() -> None:
    """The placeholders in .env.example, as a person who copied it to .env would have them."""
    example = {k: v or "" for k, v in dotenv_values(REPO / ".env.example").items()}
    message = refused(example, "SLACK_BOT_TOKEN")
    assert "still the example from .env.example" in message
    message = refused({**example, "SLACK_BOT_TOKEN": "xoxb-1-2-abc"}, "SLACK_SIGNING_SECRET")
    assert "still the example from .env.example" in message
    # Everything else in it is a working value.
    loaded = load_settings({**example, **GOOD})
    assert (loaded.database_url, loaded.metrics_enabled) == ("sqlite:///securebase.db", False)


def test_database_url_never_repeats_a_password() -> None:
    message = refused({**GOOD, "DATABASE_URL": "postgres://sb:hunter2@db/sb"}, "DATABASE_URL")
    assert "hunter2" not in message


def test_metrics_are_off_unless_switched_on() -> None:
    assert (settings().metrics_enabled, settings().metrics_host) == (False, "127.0.0.1")
    assert settings().metrics_port == METRICS_PORT_DEFAULT
    on = settings(METRICS_ENABLED="1", METRICS_PORT="9100", METRICS_HOST="0.0.0.0")
    assert (on.metrics_enabled, on.metrics_host, on.metrics_port) == (True, "0.0.0.0", 9100)
    assert settings(METRICS_ENABLED="0").metrics_enabled is False
    # Off, the port may be anything (it is not opened).
    assert settings(METRICS_PORT="3000").metrics_enabled is False


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, LogOptions(None, "text")),
        ({"LOG_LEVEL": "debug", "LOG_FORMAT": "JSON"}, LogOptions("DEBUG", "json")),
        ({"LOG_LEVEL": " warn ", "LOG_FORMAT": ""}, LogOptions("WARNING", "text")),
    ],
)
def test_log_options(env: dict[str, str], expected: LogOptions) -> None:
    assert log_options(env) == expected


@pytest.mark.parametrize(
    ("env", "variable"),
    [({"LOG_LEVEL": "loud"}, "LOG_LEVEL"), ({"LOG_FORMAT": "xml"}, "LOG_FORMAT")],
)
def test_bad_log_options_are_refused_in_one_line(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError) as caught:
        log_options(env)
    assert variable in str(caught.value) and "\n" not in str(caught.value)
