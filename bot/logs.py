"""Where log lines go and how they look: LOG_LEVEL, and LOG_FORMAT=text or json (one JSON
object per line, for a log collector).

Every format goes through the same record factory (bot.log_privacy), so a JSON line carries no
more than a text line. The JSON formatter writes a fixed set of fields and never a record's
"extra" attributes: those are outside what the privacy filter strips.

The scheduler and the migration tool report every routine step at INFO (APScheduler: each job
run, every minute; Alembic: its set-up on every start). Here those lines count as DEBUG: shown,
and labelled so, only when LOG_LEVEL=DEBUG.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

from pythonjsonlogger.json import JsonFormatter

from bot import log_privacy
from bot.settings import LogOptions

TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = ("timestamp", "level", "logger", "message", "exc_info", "stack_info")
CHATTY = ("apscheduler", "alembic")


class JsonLines(JsonFormatter):
    """python-json-logger, limited to JSON_FIELDS."""

    def __init__(self) -> None:
        super().__init__(
            ["levelname", "name", "message"],
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,
        )

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: log_data[key] for key in JSON_FIELDS if key in log_data}


class RoutineAsDebug(logging.Filter):
    """Turns the CHATTY libraries' INFO records into DEBUG ones, dropped unless DEBUG is on."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or record.name.split(".")[0] not in CHATTY:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)


class ConfiguredHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The one handler `configure` owns, so that configuring again replaces it."""


def configure(
    options: LogOptions, default: str | None = "INFO", stream: TextIO | None = None
) -> None:
    """Send log records at LOG_LEVEL, else at `default` (None: none at all), to `stream`
    (standard error)."""
    log_privacy.install()
    handler = ConfiguredHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonLines() if options.format == "json" else logging.Formatter(TEXT))
    handler.addFilter(RoutineAsDebug())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, ConfiguredHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    level = options.level or default
    root.setLevel(getattr(logging, level) if level else logging.CRITICAL + 1)
