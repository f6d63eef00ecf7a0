"""A button click the bot never offered, as Slack would deliver it (signed): for tests that a
handler checks again who is clicking and what for, whatever the button's value says."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx

from sandbox.driver import sign_request


def click(
    events_url: str,
    signing_secret: str,
    *,
    app_id: str,
    workspace: str,
    user: str,
    action_id: str,
    value: str,
    view: dict[str, Any] | None = None,
    response_url: str | None = None,
) -> httpx.Response:
    """`user` in `workspace` clicks `action_id` carrying `value`: on their App Home (`view`),
    or in a message answered through `response_url`."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "team_id": workspace},
        "team": {"id": workspace},
        "api_app_id": app_id,
        "trigger_id": f"{time.time():.6f}.crafted",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "crafted",
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view["id"]}
        payload["view"] = view
    if response_url is not None:
        payload["response_url"] = response_url
    body = urlencode({"payload": json.dumps(payload)}).encode()
    stamp = str(int(time.time()))
    return httpx.post(
        events_url,
        content=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": sign_request(signing_secret, stamp, body),
        },
    )
