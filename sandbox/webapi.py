"""``SlackSandbox``: a local stand-in for Slack's Web API, served on 127.0.0.1.

Point slack_sdk at it with ``WebClient(token=..., base_url=sandbox.api_url)`` (or the
``SLACK_API_URL`` environment variable). Routes:

* ``/api/<method>``     Web API methods (GET or POST; form, JSON or query parameters)
* ``/upload/v1/<key>``  upload URLs handed out by files.getUploadURLExternal
* ``/response/<key>``   response_urls handed out by ``new_response_url()``

and Socket Mode links on a port of their own (``sandbox.socket_mode``; see sandbox.socket_mode).
"""

from __future__ import annotations

import base64
import binascii
import copy
import email.parser
import email.policy
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from sandbox import api_oauth
from sandbox.dispatch import Credentials, Dispatcher, Reply
from sandbox.errors import SlackError
from sandbox.faults import FaultInjector
from sandbox.socket_mode import SocketModeServer
from sandbox.state import (
    JSON,
    ApiCall,
    Channel,
    File,
    Message,
    OAuthConfig,
    ResponseUrl,
    SandboxState,
    TokenInfo,
    Trigger,
    User,
    Workspace,
)

T = TypeVar("T")


class SlackSandbox:
    """An in-memory Slack: seed it, point the bot at ``api_url``, then inspect what happened."""

    def __init__(
        self,
        *,
        app_id: str = "A0SANDBOX01",
        time_source: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._lock = threading.Condition(threading.RLock())  # notified on every recorded call
        self._state = SandboxState(app_id=app_id, time_source=time_source, wall_clock=wall_clock)
        self.faults = FaultInjector(time_source)
        self._stopping = threading.Event()
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None
        self.socket_mode = SocketModeServer(app_id, self._lock, time_source)
        self._dispatcher = Dispatcher(
            self._state,
            self.faults,
            self._lock,
            self._stopping,
            lambda: self.base_url,
            self.socket_mode.issue_url,
        )

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> SlackSandbox:
        """Bind (ephemeral port by default) and serve in a daemon thread. Ready on return."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server(self._address, _RequestHandler)
        server.sandbox = self
        self._server = server
        self._base_url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self.socket_mode.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # wakes any request held by a `slow` fault
        self.socket_mode.stop()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> SlackSandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (kept after stop(), so late callers get a clean refusal)."""
        if self._base_url is None:
            raise RuntimeError("the sandbox is not started")
        return self._base_url

    @property
    def api_url(self) -> str:
        """For ``WebClient(base_url=...)`` / ``SLACK_API_URL``: note the trailing slash."""
        return f"{self.base_url}/api/"

    @property
    def app_id(self) -> str:
        return self._state.app_id

    # -- seeding -------------------------------------------------------------------------------

    def add_workspace(
        self,
        team_id: str = "T0001",
        name: str = "Secure Base Sandbox",
        bot_token: str | None = None,
        bot_user_id: str | None = None,
        *,
        domain: str | None = None,
        bot_id: str | None = None,
        bot_name: str = "securebase",
        installed: bool = True,
    ) -> Workspace:
        """A workspace with the app's bot user.

        ``installed=False``: the bot token only works once oauth.v2.access has run for it.
        """
        with self._lock:
            state = self._state
            workspace = Workspace(
                team_id=team_id,
                name=name,
                domain=domain or f"sandbox-{team_id.lower()}",
                bot_token=bot_token or f"xoxb-sandbox-{team_id}",
                bot_user_id=bot_user_id or f"UBOT{team_id[1:]}",
                bot_id=bot_id or f"B{team_id[1:]}BOT",
                installed=installed,
            )
            state.workspaces[team_id] = workspace
            state.users[workspace.bot_user_id] = User(
                workspace.bot_user_id, team_id, bot_name, "Secure Base", tz="UTC", is_bot=True
            )
            if installed:
                state.tokens[workspace.bot_token] = TokenInfo(team_id)
            return copy.deepcopy(workspace)

    def add_user(
        self,
        team_id: str,
        user_id: str,
        name: str,
        real_name: str,
        tz: str = "Europe/London",
        is_admin: bool = False,
        is_bot: bool = False,
        deleted: bool = False,
    ) -> User:
        with self._lock:
            self._need_workspace(team_id)
            user = User(user_id, team_id, name, real_name, tz, is_admin, is_bot, deleted)
            self._state.users[user_id] = user
            return copy.deepcopy(user)

    def add_app_token(self, token: str | None = None) -> str:
        """An app-level token (``xapp-…``) for Socket Mode's apps.connections.open."""
        with self._lock:
            token = token or f"xapp-1-{self._state.app_id}-{secrets.token_hex(12)}"
            self._state.app_tokens.add(token)
            return token

    def update_user(self, user_id: str, **changes: Any) -> User:
        """Change a user's fields (tz, deleted, is_admin, ...), e.g. to deactivate them."""
        with self._lock:
            user = self._state.users[user_id]
            for key, value in changes.items():
                if not hasattr(user, key) or key in ("id", "team_id"):
                    raise AttributeError(f"User has no changeable field {key!r}")
                setattr(user, key, value)
            return copy.deepcopy(user)

    def add_channel(
        self,
        team_id: str,
        channel_id: str,
        name: str,
        members: Iterable[str],
        is_private: bool = False,
    ) -> Channel:
        """A channel; the bot is in it when its user id is among ``members``."""
        with self._lock:
            self._need_workspace(team_id)
            channel = Channel(
                channel_id,
                team_id,
                name,
                list(members),
                is_private=is_private,
                created=int(self._state.wall_clock()),
            )
            self._state.channels[channel_id] = channel
            return copy.deepcopy(channel)

    def add_member(self, channel_id: str, user_id: str) -> None:
        with self._lock:
            members = self._state.channels[channel_id].members
            if user_id not in members:
                members.append(user_id)

    def remove_member(self, channel_id: str, user_id: str) -> None:
        with self._lock:
            members = self._state.channels[channel_id].members
            if user_id in members:
                members.remove(user_id)

    def revoke_token(self, token: str) -> None:
        """Calls with ``token`` now fail with ``token_revoked`` (as after an uninstall)."""
        with self._lock:
            self._state.tokens[token].revoked = True

    def configure_oauth(
        self,
        client_id: str = "sandbox-client-id",
        client_secret: str = "sandbox-client-secret",
        *,
        token_rotation: bool = False,
        expires_in: int = 43200,
        scopes: Iterable[str] = OAuthConfig.scopes,
        user_scopes: Iterable[str] = (),
    ) -> None:
        with self._lock:
            self._state.oauth = OAuthConfig(
                client_id,
                client_secret,
                token_rotation,
                expires_in,
                tuple(scopes),
                tuple(user_scopes),
            )

    def issue_oauth_code(self, team_id: str, user_id: str, redirect_uri: str | None = None) -> str:
        """The ``code`` Slack would append to the redirect URL after ``user_id`` approves."""
        with self._lock:
            return api_oauth.issue_code(self._state, team_id, user_id, redirect_uri)

    # -- interaction plumbing (used by SlackDriver) --------------------------------------------

    def issue_trigger_id(self, user_id: str) -> str:
        """A trigger_id for ``user_id``, valid for 3 s of ``time_source`` and usable once."""
        with self._lock:
            user = self._state.users[user_id]
            trigger_id = (
                f"{self._state.next_id('', 10)}.{user.team_id[1:]}.{self._state.next_id('t', 6)}"
            )
            self._state.triggers[trigger_id] = Trigger(
                user_id, user.team_id, self._state.time_source()
            )
            return trigger_id

    def new_response_url(
        self,
        user_id: str | None = None,
        channel_id: str | None = None,
        message_ts: str | None = None,
        team_id: str | None = None,
    ) -> str:
        """A response_url on the sandbox (5 uses, 30 minutes, like Slack's).

        Posts become messages in ``channel_id`` (the user's DM if None): ephemeral for
        ``user_id`` unless ``response_type`` is ``in_channel``; ``replace_original`` /
        ``delete_original`` act on the message at ``message_ts``.
        """
        with self._lock:
            state = self._state
            if team_id is None:
                if user_id is not None and user_id in state.users:
                    team_id = state.users[user_id].team_id
                elif channel_id is not None and channel_id in state.channels:
                    team_id = state.channels[channel_id].team_id
                else:
                    team_id = next(iter(state.workspaces), "")
            if team_id not in state.workspaces:
                raise KeyError("new_response_url needs a workspace: call add_workspace() first")
            key = state.next_id("r", 9) + secrets.token_urlsafe(9)
            state.response_urls[key] = ResponseUrl(
                user_id, channel_id, team_id, message_ts, state.time_source()
            )
            return f"{self.base_url}/response/{key}"

    def dm_channel_id(self, user_id: str) -> str:
        """The bot's DM channel id with ``user_id`` (stable; created on first use)."""
        with self._lock:
            return self._state.dm_channel(self._state.users[user_id]).id

    def close_view(self, view_id: str) -> None:
        """The user closed (or submitted) ``view_id``: it and views pushed above it go away."""
        with self._lock:
            self._state.close_view(view_id)

    def clear_views(self, user_id: str) -> None:
        with self._lock:
            self._state.clear_views(user_id)

    def apply_view_submission_reply(
        self, user_id: str, view_id: str, reply: JSON | None
    ) -> ApiCall:
        """What Slack does with the app's answer to a view_submission; recorded as a call."""
        return self._dispatcher.view_submission_reply(user_id, view_id, reply)

    # -- inspection ----------------------------------------------------------------------------

    def wait_until(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Wait until ``predicate()`` is truthy and return it; re-checked after every call.

        For bots that act after acking (Bolt runs listeners in the background)::

            view = sandbox.wait_until(lambda: sandbox.open_views("U1"))
            sandbox.wait_until(lambda: len(sandbox.dms("U1")) == 2)

        Raises TimeoutError after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                result = predicate()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"condition not met within {timeout} s")
                self._lock.wait(remaining)

    def calls(self, method: str | None = None) -> list[ApiCall]:
        with self._lock:
            return copy.deepcopy(self._state.calls(method))

    def rejected_calls(self) -> list[ApiCall]:
        """Calls that failed validation (malformed request): should be empty after a suite."""
        with self._lock:
            return copy.deepcopy([c for c in self._state.call_log if c.rejected])

    def warned_calls(self, warning: str | None = None) -> list[ApiCall]:
        """Calls accepted with a warning, e.g. ``missing_fallback_text``."""
        with self._lock:
            return copy.deepcopy(
                [
                    c
                    for c in self._state.call_log
                    if c.warnings and (warning is None or warning in c.warnings)
                ]
            )

    def timeline(self, channel_id: str, include_ephemeral: bool = False) -> list[Message]:
        with self._lock:
            return copy.deepcopy(self._state.timeline(channel_id, include_ephemeral))

    def dms(self, user_id: str) -> list[Message]:
        """Messages the bot sent to ``user_id``'s DM (ephemerals excluded)."""
        with self._lock:
            return copy.deepcopy(self._state.dms(user_id))

    def ephemerals(self, user_id: str) -> list[Message]:
        with self._lock:
            return copy.deepcopy(self._state.ephemerals(user_id))

    def message(self, channel_id: str, ts: str) -> Message | None:
        with self._lock:
            return copy.deepcopy(self._state.find_message(channel_id, ts))

    def open_views(self, user_id: str) -> list[JSON]:
        """The user's modal stack, root first (empty when no modal is open)."""
        with self._lock:
            return copy.deepcopy(self._state.open_views(user_id))

    def answers_to(self, trigger_id: str, response_url: str) -> tuple[bool, list[str]]:
        """Whether ``trigger_id`` has been exchanged (a view opened with it), and the text of
        each message posted to ``response_url`` so far."""
        with self._lock:
            trigger = self._state.triggers.get(trigger_id)
            target = self._state.response_urls.get(response_url.rpartition("/response/")[2])
            return (
                trigger is not None and trigger.used,
                [] if target is None else list(target.texts),
            )

    def home_view(self, user_id: str) -> JSON | None:
        with self._lock:
            return copy.deepcopy(self._state.home_view(user_id))

    def view(self, view_id: str) -> JSON | None:
        """Any view ever opened or published, by id (also closed ones)."""
        with self._lock:
            record = self._state.views.get(view_id)
            return None if record is None else copy.deepcopy(record.view)

    def view_is_open(self, view_id: str) -> bool:
        with self._lock:
            record = self._state.views.get(view_id)
            return record is not None and not record.closed

    def uploaded_files(self) -> list[File]:
        with self._lock:
            return copy.deepcopy([f for f in self._state.files.values() if f.uploaded])

    def workspace(self, team_id: str = "T0001") -> Workspace:
        with self._lock:
            return copy.deepcopy(self._need_workspace(team_id))

    def user(self, user_id: str) -> User:
        with self._lock:
            return copy.deepcopy(self._state.users[user_id])

    def channel(self, channel_id: str) -> Channel:
        with self._lock:
            return copy.deepcopy(self._state.channels[channel_id])

    def _need_workspace(self, team_id: str) -> Workspace:
        workspace = self._state.workspaces.get(team_id)
        if workspace is None:
            raise KeyError(f"unknown workspace {team_id}: call add_workspace() first")
        return workspace

    # -- HTTP ----------------------------------------------------------------------------------

    def _route(self, verb: str, target: str, headers: Any, body: bytes) -> Reply:
        url = urlsplit(target)
        path = url.path
        content_type = (headers.get("Content-Type") or "").lower()
        if path.startswith("/api/") and verb in ("GET", "POST"):
            method = path[len("/api/") :]
            params: JSON = dict(parse_qsl(url.query, keep_blank_values=True))
            parse_error: SlackError | None = None
            is_json = content_type.startswith("application/json")
            try:
                params.update(_body_params(body, content_type))
            except SlackError as err:
                parse_error = err
            creds = _credentials(headers.get("Authorization"), is_json)
            return self._dispatcher.call_api(method, params, creds, parse_error)
        if path.startswith("/upload/v1/") and verb == "POST":
            return self._dispatcher.call_upload(path[len("/upload/v1/") :], body, content_type)
        if path.startswith("/response/") and verb == "POST":
            return self._dispatcher.call_response_url(path[len("/response/") :], body)
        return Reply(404, {"ok": False, "error": "not_found"})


def _body_params(body: bytes, content_type: str) -> JSON:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        try:
            parsed = json.loads(body)
        except ValueError:
            raise SlackError("invalid_json", rejected=True) from None
        if not isinstance(parsed, dict):
            raise SlackError("json_not_object", rejected=True)
        return parsed
    if content_type.startswith("multipart/form-data"):
        header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
        fields: JSON = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                fields[name] = payload if part.get_filename() else payload.decode("utf-8")
        return fields
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError:
        raise SlackError("invalid_charset", rejected=True) from None


def _credentials(authorization: str | None, is_json: bool) -> Credentials:
    creds = Credentials(json_body=is_json)
    if not authorization:
        return creds
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        creds.bearer = value.strip()
    elif scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return creds
        creds.basic = (user, password)
    return creds


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    sandbox: SlackSandbox


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SlackSandbox/1.0"
    timeout = 30  # drop idle keep-alive connections
    server: _Server

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        try:
            reply = self.server.sandbox._route(self.command, self.path, self.headers, body)
        except Exception as exc:  # a sandbox bug must not look like a hung Slack
            reply = Reply(500, {"ok": False, "error": "sandbox_bug", "detail": repr(exc)})
        if reply.raw is not None:
            payload, content_type = reply.raw, "text/plain; charset=utf-8"
        else:
            payload = json.dumps(reply.body or {}).encode()
            content_type = "application/json; charset=utf-8"
        self.send_response(reply.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass
