"""What happens when a listener fails after Slack has had its ack.

A database that has gone away makes every request fail the same way: the person is told,
privately and kindly, that nothing changed and to try again later (where Slack gave a
`response_url` to answer on), and the operator gets the database's one line a minute
(storage.outage) instead of a traceback per request. Anything else is a bug: logged with its
traceback, as Bolt's default handler would.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk.webhook import WebhookClient

from storage.db import Database
from storage.outage import is_unreachable

log = logging.getLogger(__name__)

TRY_AGAIN = (
    "Sorry, Secure Base can't reach its records just now, so nothing was changed. "
    "Please try again in a few minutes."
)


def listener_error_handler(db: Database) -> Callable[..., None]:
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        if not is_unreachable(error):
            log.error("a listener failed: %s", type(error).__name__, exc_info=error)
            return
        db.outage.failed(error, f"answering {_surface(body)}")
        response_url = body.get("response_url")
        if isinstance(response_url, str) and response_url:
            try:
                WebhookClient(response_url, timeout=3).send(
                    text=TRY_AGAIN, response_type="ephemeral", replace_original=False
                )
            except Exception as failed:  # Slack unreachable too: the log line says enough
                log.debug("could not say so: %s", type(failed).__name__)

    return on_error


def _surface(body: dict[str, Any]) -> str:
    """A slash command's name or a payload's type: what the person was doing, never who."""
    command = body.get("command")
    return str(command) if command else str(body.get("type") or "a request")
