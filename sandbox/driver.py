"""``SlackDriver``: plays Slack towards the bot's HTTP endpoint, signing every request.

It builds the payloads Slack's servers send (slash commands, block_actions, view_submission,
view_closed, event_callback, url_verification), with trigger_ids and response_urls from the
sandbox, so the bot's replies land back in the sandbox. Every method returns the bot's
``httpx.Response`` and takes ``timestamp=`` (override the signed timestamp), ``signature=``
(forge one) and ``retry_num=`` / ``retry_reason=`` (Slack's retry headers).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import httpx

from sandbox.modal_answers import Answer, ModalAnswerError, build_state_values
from sandbox.webapi import SlackSandbox

__all__ = ["ModalAnswerError", "SlackDriver", "sign_request"]

JSON = dict[str, Any]


def sign_request(signing_secret: str, timestamp: int | str, body: bytes | str) -> str:
    """Slack's request signature: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    raw = body.encode() if isinstance(body, str) else body
    base = b"v0:" + str(timestamp).encode() + b":" + raw
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


class SlackDriver:
    """Sends what Slack would send to the bot at ``bot_events_url``."""

    def __init__(
        self,
        bot_events_url: str,
        signing_secret: str,
        sandbox: SlackSandbox,
        team_id: str = "T0001",
        *,
        verification_token: str = "sandbox-verification-token",
        timeout: float = 10.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.url = bot_events_url
        self.signing_secret = signing_secret
        self.sandbox = sandbox
        self.team_id = team_id
        self.verification_token = verification_token
        self._client = client or httpx.Client(timeout=timeout)
        self._owns_client = client is None
        self._ids: Iterator[int] = itertools.count(1)
        self.last_response_url: str | None = None
        self.last_trigger_id: str | None = None

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> SlackDriver:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- slash commands ------------------------------------------------------------------------

    def slash_command(
        self, user_id: str, channel_id: str, command: str, text: str = "", **signing: Any
    ) -> httpx.Response:
        workspace = self.sandbox.workspace(self.team_id)
        user = self.sandbox.user(user_id)
        channel = self.sandbox.channel(channel_id)
        self.last_response_url = self.sandbox.new_response_url(user_id, channel_id)
        self.last_trigger_id = self.sandbox.issue_trigger_id(user_id)
        form = {
            "token": self.verification_token,
            "team_id": workspace.team_id,
            "team_domain": workspace.domain,
            "channel_id": channel_id,
            "channel_name": "directmessage" if channel.is_im else channel.name,
            "user_id": user_id,
            "user_name": user.name,
            "command": command,
            "text": text,
            "api_app_id": self.sandbox.app_id,
            "is_enterprise_install": "false",
            "response_url": self.last_response_url,
            "trigger_id": self.last_trigger_id,
        }
        return self._send_form(form, **signing)

    # -- interactivity -------------------------------------------------------------------------

    def click_button(
        self,
        user_id: str,
        action_id: str,
        value: str | None,
        *,
        channel_id: str | None = None,
        message_ts: str | None = None,
        view_id: str | None = None,
        block_id: str | None = None,
        **signing: Any,
    ) -> httpx.Response:
        """Click the button ``action_id`` in a message (channel_id + message_ts) or a view.

        The button must exist there (its block_id is found automatically) and carry ``value``.
        """
        payload = self._interaction("block_actions", user_id)
        if view_id is not None:
            view = self._visible_view(user_id, view_id)
            blocks = view.get("blocks", [])
            payload["container"] = {"type": "view", "view_id": view_id}
            payload["view"] = view
        elif channel_id is not None and message_ts is not None:
            message = self.sandbox.message(channel_id, message_ts)
            if message is None:
                raise LookupError(f"no message {message_ts} in {channel_id}")
            if message.ephemeral_for not in (None, user_id):
                raise LookupError(f"message {message_ts} is ephemeral for someone else")
            blocks = message.blocks or []
            ephemeral = message.ephemeral_for is not None
            channel = self.sandbox.channel(channel_id)
            payload["container"] = {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": ephemeral,
            }
            payload["channel"] = {
                "id": channel_id,
                "name": "directmessage" if channel.is_im else channel.name,
            }
            if not ephemeral:  # Slack does not echo ephemeral messages back
                payload["message"] = message.to_slack(self.sandbox.workspace(self.team_id))
            self.last_response_url = self.sandbox.new_response_url(
                user_id, channel_id, message_ts, self.team_id
            )
            payload["response_url"] = self.last_response_url
            payload["state"] = {"values": {}}
        else:
            raise ValueError("click_button needs view_id, or channel_id and message_ts")
        found_block_id, button = _find_button(blocks, action_id)
        if block_id is not None and block_id != found_block_id:
            raise LookupError(
                f"button {action_id!r} is in block {found_block_id!r}, not {block_id!r}"
            )
        if button.get("value") != value:
            raise ValueError(
                f"button {action_id!r} carries value {button.get('value')!r}, not {value!r}"
            )
        action: JSON = {
            "type": "button",
            "action_id": action_id,
            "block_id": found_block_id,
            "text": button.get("text"),
            "action_ts": f"{time.time():.6f}",
        }
        if value is not None:
            action["value"] = value
        if button.get("style"):
            action["style"] = button["style"]
        payload["actions"] = [action]
        return self._send_payload(payload, **signing)

    def submit_view(
        self,
        user_id: str,
        view_id: str,
        values: Mapping[str, Mapping[str, Mapping[str, Any]]],
        **signing: Any,
    ) -> httpx.Response:
        """Submit the open modal ``view_id`` with ``state.values`` given in Slack's shape.

        Then the sandbox does what Slack does with the answer: an empty 200 closes the view,
        ``response_action`` clear / update / push / errors act as documented.
        """
        view = self._visible_view(user_id, view_id)
        if view.get("type") != "modal":
            raise ValueError(f"view {view_id} is a {view.get('type')}, not a modal")
        view["state"] = {"values": json.loads(json.dumps(values))}
        payload = self._interaction("view_submission", user_id)
        payload["view"] = view
        payload["response_urls"] = []
        response = self._send_payload(payload, **signing)
        if response.status_code == 200:
            self.sandbox.apply_view_submission_reply(user_id, view_id, _json_or_none(response))
        return response

    def answer_modal(
        self, user_id: str, view_id: str, answers: Mapping[str, Answer], **signing: Any
    ) -> httpx.Response:
        """Fill in the modal as a person would (``{block_id: answer}``) and submit it.

        Answers are option *values* for radio buttons / selects / checkboxes (a list for the
        multi-choice ones), text for text inputs, user ids for user pickers, "HH:MM" for
        timepickers. Raises ModalAnswerError for a missing required answer or an option the
        element does not offer.
        """
        view = self._visible_view(user_id, view_id)
        return self.submit_view(user_id, view_id, build_state_values(view, answers), **signing)

    def close_modal(self, user_id: str, view_id: str, **signing: Any) -> httpx.Response | None:
        """The user dismisses the modal: ``view_closed`` is sent if the view asked for it."""
        view = self._visible_view(user_id, view_id)
        self.sandbox.close_view(view_id)
        if not view.get("notify_on_close"):
            return None
        payload = self._interaction("view_closed", user_id)
        payload["view"] = view
        payload["is_cleared"] = False
        return self._send_payload(payload, **signing)

    # -- events --------------------------------------------------------------------------------

    def app_home_opened(self, user_id: str, **signing: Any) -> httpx.Response:
        event: JSON = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": self.sandbox.dm_channel_id(user_id),
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        home = self.sandbox.home_view(user_id)
        if home is not None:
            event["view"] = home
        return self.send_event(event, **signing)

    def send_event(self, event: Mapping[str, Any], **signing: Any) -> httpx.Response:
        """Any Events API event, wrapped in an ``event_callback`` envelope."""
        workspace = self.sandbox.workspace(self.team_id)
        body = {
            "token": self.verification_token,
            "team_id": workspace.team_id,
            "api_app_id": self.sandbox.app_id,
            "event": dict(event),
            "type": "event_callback",
            "event_id": f"Ev{next(self._ids):08d}SBX",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": workspace.team_id,
                    "user_id": workspace.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        return self._send_json(body, **signing)

    def url_verification(
        self, challenge: str = "sandbox-challenge", **signing: Any
    ) -> httpx.Response:
        body = {
            "token": self.verification_token,
            "challenge": challenge,
            "type": "url_verification",
        }
        return self._send_json(body, **signing)

    # -- plumbing ------------------------------------------------------------------------------

    def _interaction(self, kind: str, user_id: str) -> JSON:
        workspace = self.sandbox.workspace(self.team_id)
        user = self.sandbox.user(user_id)
        self.last_trigger_id = self.sandbox.issue_trigger_id(user_id)
        return {
            "type": kind,
            "user": {
                "id": user.id,
                "username": user.name,
                "name": user.name,
                "team_id": user.team_id,
            },
            "api_app_id": self.sandbox.app_id,
            "token": self.verification_token,
            "trigger_id": self.last_trigger_id,
            "team": {"id": workspace.team_id, "domain": workspace.domain},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _visible_view(self, user_id: str, view_id: str) -> JSON:
        """The view as the user sees it now: the top modal, or their App Home."""
        home = self.sandbox.home_view(user_id)
        if home is not None and home["id"] == view_id:
            return home
        stack = self.sandbox.open_views(user_id)
        if not stack or stack[-1]["id"] != view_id:
            open_ids = [v["id"] for v in stack]
            raise LookupError(f"view {view_id} is not the top open view of {user_id} ({open_ids})")
        return stack[-1]

    def _send_payload(self, payload: JSON, **signing: Any) -> httpx.Response:
        return self._send_form({"payload": json.dumps(payload)}, **signing)

    def _send_form(self, form: Mapping[str, str], **signing: Any) -> httpx.Response:
        body = urlencode(form).encode()
        return self._post(body, "application/x-www-form-urlencoded", **signing)

    def _send_json(self, body: JSON, **signing: Any) -> httpx.Response:
        return self._post(json.dumps(body).encode(), "application/json", **signing)

    def _post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | str | None = None,
        signature: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> httpx.Response:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature or sign_request(self.signing_secret, ts, body),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason
        return self._client.post(self.url, content=body, headers=headers)


def _find_button(blocks: list[JSON], action_id: str) -> tuple[str, JSON]:
    for block in blocks:
        candidates = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if isinstance(block.get("accessory"), dict):
            candidates.append(block["accessory"])
        for element in candidates:
            if (
                isinstance(element, dict)
                and element.get("type") == "button"
                and element.get("action_id") == action_id
            ):
                return str(block.get("block_id")), element
    raise LookupError(f"no button with action_id {action_id!r} there")


def _json_or_none(response: httpx.Response) -> JSON | None:
    if not response.content.strip():
        return None
    try:
        parsed = response.json()
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None
