"""Signed requests as Slack sends them (the shapes `sandbox.driver.SlackDriver` sends), built
ahead of a load run from pre-issued trigger ids and response URLs, and signed at send time
with the sandbox's public `sign_request`."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sandbox.driver import sign_request

FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class SignedRequest:
    body: bytes
    headers: dict[str, str]


def sign(secret: str, body: bytes) -> SignedRequest:
    ts = str(int(time.time()))
    return SignedRequest(
        body,
        {
            "Content-Type": FORM,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sign_request(secret, ts, body),
        },
    )


def slash_command(
    workspace: str,
    user_id: str,
    channel_id: str,
    command: str,
    trigger_id: str,
    response_url: str,
    text: str = "",
) -> bytes:
    form = {
        "token": "sandbox-verification-token",
        "team_id": workspace,
        "team_domain": f"sandbox-{workspace.lower()}",
        "channel_id": channel_id,
        "channel_name": channel_id.lower(),
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": "A0SANDBOX01",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    return urlencode(form).encode()


def view_submission(
    workspace: str,
    user_id: str,
    view: dict[str, Any],
    values: dict[str, Any],
    trigger_id: str,
) -> bytes:
    """The modal `view` (as opened) submitted with `values` (`view.state.values`)."""
    payload: dict[str, Any] = {
        "type": "view_submission",
        "user": {
            "id": user_id,
            "username": user_id.lower(),
            "name": user_id.lower(),
            "team_id": workspace,
        },
        "api_app_id": "A0SANDBOX01",
        "token": "sandbox-verification-token",
        "trigger_id": trigger_id,
        "team": {"id": workspace, "domain": f"sandbox-{workspace.lower()}"},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": {**view, "state": {"values": values}},
        "response_urls": [],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()
