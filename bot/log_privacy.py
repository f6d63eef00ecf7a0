"""Keeps check-in data out of the logs, whatever level an operator turns logging up to.

Libraries the bot runs on log what passes through them when asked for detail: slack_sdk logs
every request and response body at DEBUG (a check-in's confirmation DM names the member),
Bolt logs a whole request body at INFO when its signature check fails (a late view_submission
carries the member's id beside their answers), and SQLAlchemy logs bound parameters and result
rows (a week's secret, respondent keys, comments). None of that may reach a log file: a log
kept after a week closes would undo what closing the week destroys.

So the bot wraps the process's log-record factory: records below WARNING from those libraries
keep their wording but lose their data. Arguments are replaced by a placeholder, and a message
that already has a body or payload written into it is cut where the data begins. A record
factory, unlike a filter on a logger, also reaches every child logger (`slack_sdk.web…`,
`slack_bolt.…`) and every handler, including ones added later.
"""

from __future__ import annotations

import logging
import re
from typing import Any

WITHHELD = "<withheld>"
SLACK_LOGGERS = ("slack_bolt", "slack_sdk", "securebase.bolt", "securebase.socket")
SQL_LOGGERS = ("sqlalchemy.engine",)
# printf-style directives, including "%(name)s"; "%%" is a literal percent sign.
_DIRECTIVE = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[a-zA-Z]")
# Where a Slack library's message starts carrying data: a dict, list or JSON, a body, a form.
_PAYLOAD = re.compile(r"[{\[]|\bbody\b|payload=|\b\w+=[^\s,)]*&")


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def withhold(record: logging.LogRecord) -> None:
    """Strip data from a library's record below WARNING, in place."""
    if record.levelno >= logging.WARNING:
        return
    slack = _within(record.name, SLACK_LOGGERS)
    if not slack and not _within(record.name, SQL_LOGGERS):
        return
    message = record.msg if isinstance(record.msg, str) else WITHHELD
    if record.args:
        message = _DIRECTIVE.sub(WITHHELD, message).replace("%%", "%")
        record.args = None
    if slack:
        found = _PAYLOAD.search(message)
        if found:
            message = f"{message[: found.start()].rstrip()} {WITHHELD}"
    record.msg = message


class _WithholdingFactory:
    """Wraps whatever record factory was in place (it may itself be someone else's)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.inner(*args, **kwargs)
        withhold(record)
        return record


def install() -> None:
    """Make every log record from now on go through `withhold` (idempotent)."""
    current = logging.getLogRecordFactory()
    if not isinstance(current, _WithholdingFactory):
        logging.setLogRecordFactory(_WithholdingFactory(current))
