"""The one exception the sandbox's method handlers raise: a Slack-level error response."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class SlackError(Exception):
    """A Slack error reply: ``{"ok": false, "error": ...}`` (HTTP 200 unless told otherwise).

    ``rejected`` marks errors caused by the shape of the request itself (missing or malformed
    parameters, invalid Block Kit, unknown method, missing token): the bot sent something Slack
    would never accept, whatever the state of the workspace. Those calls are what
    ``SlackSandbox.rejected_calls()`` returns.
    """

    def __init__(
        self,
        error: str,
        *,
        rejected: bool = False,
        messages: Sequence[str] = (),
        extra: Mapping[str, Any] | None = None,
        http_status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.rejected = rejected
        self.messages = list(messages)
        self.extra = dict(extra or {})
        self.http_status = http_status
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.error, **self.extra}
        if self.messages:
            body["response_metadata"] = {"messages": [f"[ERROR] {m}" for m in self.messages]}
        return body


def invalid_arguments(*messages: str) -> SlackError:
    """Slack's reply to a missing or malformed argument."""
    return SlackError("invalid_arguments", rejected=True, messages=messages)


def missing_field(name: str) -> SlackError:
    return invalid_arguments(f"missing required field: {name}")
