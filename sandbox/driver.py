"""``SlackDriver``: plays Slack towards the bot, over HTTP or over Socket Mode.

It builds the payloads Slack's servers send (slash commands, block_actions, view_submission,
view_closed, event_callback, url_verification), with trigger_ids and response_urls from the
sandbox, so the bot's replies land back in the sandbox. Over HTTP each one is a signed request
to the bot's endpoint; over Socket Mode (``SlackDriver.over_socket_mode``) it is an envelope on
the bot's link, and the ack stands in for the HTTP response. Every method returns an
``httpx.Response`` either way (over Socket Mode: status 200, the ack's payload as JSON) and
takes ``retry_num=`` / ``retry_reason=`` (Slack's retry headers, or the envelope's
``retry_attempt`` / ``retry_reason``); over HTTP also ``timestamp=`` (override the signed
timestamp) and ``signature=`` (forge one). ``redeliver()`` sends the last request again, as
Slack does when it thinks the first one went unanswered.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx

from sandbox.modal_answers import Answer, ModalAnswerError, build_state_values
from sandbox.socket_mode import EnvelopeType, SocketModeServer
from sandbox.webapi import SlackSandbox

__all__ = ["ModalAnswerError", "SlackDriver", "sign_request"]

JSON = dict[str, Any]


@dataclass(frozen=True)
class Delivery:
    """One thing Slack sends the app: its kind (named as Socket Mode names it) and payload."""

    type: EnvelopeType
    payload: JSON


class Transport(Protocol):
    def deliver(self, delivery: Delivery, **options: Any) -> httpx.Response: ...

    def close(self) -> None: ...


def sign_request(signing_secret: str, timestamp: int | str, body: bytes | str) -> str:
    """Slack's request signature: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    raw = body.encode() if isinstance(body, str) else body
    base = b"v0:" + str(timestamp).encode() + b":" + raw
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


class SlackDriver:
    """Sends what Slack would send to the bot: signed requests to ``bot_events_url``, or
    envelopes on its Socket Mode link (``over_socket_mode``)."""

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
        transport: Transport | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.team_id = team_id
        self.verification_token = verification_token
        self._transport = transport or _Http(bot_events_url, signing_secret, client, timeout)
        self._ids: Iterator[int] = itertools.count(1)
        self.last_response_url: str | None = None
        self.last_trigger_id: str | None = None
        self.last_delivery: Delivery | None = None

    @classmethod
    def over_socket_mode(
        cls,
        sandbox: SlackSandbox,
        team_id: str = "T0001",
        *,
        verification_token: str = "sandbox-verification-token",
    ) -> SlackDriver:
        """A driver that sends envelopes on the bot's Socket Mode link to the sandbox."""
        return cls(
            "",
            "",
            sandbox,
            team_id,
            verification_token=verification_token,
            transport=_SocketMode(sandbox.socket_mode),
        )

    def close(self) -> None:
        self._transport.close()

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
        return self._deliver(Delivery("slash_commands", form), signing)

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
        return self._deliver(Delivery("interactive", payload), signing)

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
        response = self._deliver(Delivery("interactive", payload), signing)
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
        return self._deliver(Delivery("interactive", payload), signing)

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
        return self._deliver(Delivery("events_api", body), signing)

    def url_verification(
        self, challenge: str = "sandbox-challenge", **signing: Any
    ) -> httpx.Response:
        """HTTP only: Slack checks a new Request URL this way (Socket Mode has no URL)."""
        if not isinstance(self._transport, _Http):
            raise TypeError("url_verification is for HTTP mode: Socket Mode has no Request URL")
        body = {
            "token": self.verification_token,
            "challenge": challenge,
            "type": "url_verification",
        }
        return self._transport.post_json(body, **signing)

    def redeliver(
        self, retry_num: int = 1, retry_reason: str = "timeout", **signing: Any
    ) -> httpx.Response:
        """Send the last request again, unchanged (same trigger_id, same event_id), marked as
        Slack's retry number `retry_num`."""
        if self.last_delivery is None:
            raise LookupError("nothing has been sent yet")
        options = {**signing, "retry_num": retry_num, "retry_reason": retry_reason}
        return self._transport.deliver(self.last_delivery, **options)

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

    def _deliver(self, delivery: Delivery, options: Mapping[str, Any]) -> httpx.Response:
        self.last_delivery = delivery
        return self._transport.deliver(delivery, **options)


class _Http:
    """Each delivery as Slack's signed HTTP request: slash commands as a form, interactions as
    a form with one `payload` field of JSON, events as JSON."""

    def __init__(
        self, url: str, signing_secret: str, client: httpx.Client | None, timeout: float
    ) -> None:
        self.url = url
        self.signing_secret = signing_secret
        self._client = client or httpx.Client(timeout=timeout)
        self._owns_client = client is None

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def deliver(self, delivery: Delivery, **options: Any) -> httpx.Response:
        if delivery.type == "events_api":
            return self.post_json(delivery.payload, **options)
        if delivery.type == "interactive":
            form = {"payload": json.dumps(delivery.payload)}
        else:
            form = delivery.payload
        body = urlencode(form).encode()
        return self._post(body, "application/x-www-form-urlencoded", **options)

    def post_json(self, body: JSON, **options: Any) -> httpx.Response:
        return self._post(json.dumps(body).encode(), "application/json", **options)

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


class _SocketMode:
    """Each delivery as an envelope on the bot's link; the ack becomes a 200 response whose
    JSON body is the ack's payload (empty when it had none). No ack within 3 s raises
    sandbox.socket_mode.NotAcknowledged; no link raises NoLink."""

    def __init__(self, server: SocketModeServer) -> None:
        self.server = server

    def close(self) -> None:
        pass

    def deliver(
        self,
        delivery: Delivery,
        *,
        retry_num: int | None = None,
        retry_reason: str = "timeout",
        **signing: Any,
    ) -> httpx.Response:
        if signing:
            raise TypeError(f"Socket Mode envelopes are not signed: {', '.join(signing)}")
        envelope = self.server.send(
            delivery.type,
            delivery.payload,
            retry_attempt=retry_num or 0,
            retry_reason=retry_reason if retry_num else "",
        )
        if envelope.ack_payload is None:
            return httpx.Response(200)
        return httpx.Response(200, json=envelope.ack_payload)


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
