"""The request pipeline: faults, method lookup, auth, limits, required params, handler, record."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from sandbox import api_apps, api_chat, api_conversations, api_files, api_oauth, api_views
from sandbox.context import CallContext, Handler, channel_keys
from sandbox.errors import SlackError
from sandbox.faults import FaultInjector, Injected
from sandbox.spec import required_params
from sandbox.state import JSON, ApiCall, SandboxState, Workspace
from sandbox.validation import check_required

HANDLERS: dict[str, Handler] = {
    **api_apps.HANDLERS,
    **api_chat.HANDLERS,
    **api_conversations.HANDLERS,
    **api_files.HANDLERS,
    **api_oauth.HANDLERS,
    **api_views.HANDLERS,
}
NO_AUTH_METHODS = frozenset({"oauth.v2.access", "api.test"})
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})  # app-level (xapp-) tokens only
RESPONSE_URL = "response_url"  # pseudo method names in the call record and for faults
UPLOAD = "files.upload"
VIEW_SUBMISSION = "view_submission"


@dataclass
class Reply:
    status: int
    body: JSON | None = None
    raw: bytes | None = None  # for non-JSON answers (the upload URL)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Credentials:
    bearer: str | None = None
    basic: tuple[str, str] | None = None
    json_body: bool = False


class FaultError(SlackError):
    """A Slack error that a switched-on fault caused (not the request's fault)."""

    @classmethod
    def from_injected(cls, injected: Injected) -> FaultError:
        headers = {}
        if injected.retry_after is not None:
            headers["Retry-After"] = str(injected.retry_after)
        return cls(injected.error, http_status=injected.http_status, headers=headers)


class Dispatcher:
    def __init__(
        self,
        state: SandboxState,
        faults: FaultInjector,
        lock: threading.Condition,
        stopping: threading.Event,
        base_url: Callable[[], str],
        socket_url: Callable[[], str],
    ) -> None:
        self.state = state
        self.faults = faults
        self.lock = lock  # a Condition: notified whenever a call is recorded
        self.stopping = stopping
        self.base_url = base_url
        self.socket_url = socket_url
        self.required = required_params()

    # -- entry points --------------------------------------------------------------------------

    def call_api(
        self, method: str, params: JSON, creds: Credentials, parse_error: SlackError | None = None
    ) -> Reply:
        """One Web API call; ``parse_error`` is raised once the method is known to exist."""
        token_param = params.pop("token", None)
        token = creds.bearer
        if token is None and not creds.json_body and isinstance(token_param, str):
            token = token_param  # JSON bodies must carry the token in the header
        with self.lock:
            keys = channel_keys(self.state, params)
        self._delay(method, keys)
        with self.lock:
            return self._run(
                method, params, lambda: self._api(method, params, token, creds, keys, parse_error)
            )

    def call_response_url(self, token: str, body: bytes) -> Reply:
        params: JSON = {}
        self._delay(RESPONSE_URL, ())
        with self.lock:

            def run() -> tuple[JSON, str | None]:
                self._inject(RESPONSE_URL, ())
                try:
                    parsed = json.loads(body or b"{}")
                except ValueError:
                    raise SlackError("invalid_payload", http_status=400, rejected=True) from None
                if not isinstance(parsed, dict):
                    raise SlackError("invalid_payload", http_status=400, rejected=True)
                params.update(parsed)
                target = self.state.response_urls.get(token)
                team_id = target.team_id if target is not None else None
                return api_chat.respond(self.state, token, params, self._warnings), team_id

            return self._run(RESPONSE_URL, params, run)

    def call_upload(self, token: str, body: bytes, content_type: str) -> Reply:
        params: JSON = {"length": len(body)}
        self._delay(UPLOAD, ())
        with self.lock:

            def run() -> tuple[JSON, str | None]:
                self._inject(UPLOAD, ())
                file = api_files.receive_upload(self.state, token, body, content_type)
                params["file_id"] = file.id
                return {"ok": True}, file.team_id

            reply = self._run(UPLOAD, params, run)
            if reply.status == 200:
                reply = Reply(200, raw=f"OK - {len(body)}".encode())
            return reply

    def view_submission_reply(self, user_id: str, view_id: str, reply: JSON | None) -> ApiCall:
        """Apply the app's answer to a view_submission (see api_views.after_submission)."""
        params: JSON = {"user_id": user_id, "view_id": view_id, "reply": copy.deepcopy(reply)}
        with self.lock:

            def run() -> tuple[JSON, str | None]:
                record = self.state.views.get(view_id)
                if record is None:
                    raise KeyError(f"unknown view {view_id}")
                ctx = self._context(self.state.workspaces[record.team_id], {})
                api_views.after_submission(ctx, user_id, view_id, reply)
                return {"ok": True}, record.team_id

            self._run(VIEW_SUBMISSION, params, run)
            return self.state.call_log[-1]

    # -- pipeline ------------------------------------------------------------------------------

    _warnings: list[str]

    def _run(self, method: str, params: JSON, fn: Callable[[], tuple[JSON, str | None]]) -> Reply:
        """Run ``fn`` (under the lock) and record the call, whatever happens."""
        self._warnings = []
        self._team_id: str | None = None
        try:
            body, team_id = fn()
            reply = Reply(200, body)
            call = ApiCall(method, params, True, None, 200, team_id, self._warnings, response=body)
        except SlackError as err:
            reply = Reply(err.http_status, err.body(), headers=err.headers)
            call = ApiCall(
                method,
                params,
                False,
                err.error,
                err.http_status,
                self._team_id,
                self._warnings,
                rejected=err.rejected,
                injected=isinstance(err, FaultError),
                messages=err.messages,
                response=reply.body,
            )
        self.state.call_log.append(call)
        self.lock.notify_all()
        return reply

    def _api(
        self,
        method: str,
        params: JSON,
        token: str | None,
        creds: Credentials,
        keys: Collection[str],
        parse_error: SlackError | None,
    ) -> tuple[JSON, str | None]:
        self._inject(method, keys)
        handler = HANDLERS.get(method)
        if handler is None:
            raise SlackError("unknown_method", rejected=True)
        if parse_error is not None:
            raise parse_error
        workspace: Workspace | None = None
        if method in APP_TOKEN_METHODS:
            self._authenticate_app(token)
        elif method not in NO_AUTH_METHODS:
            workspace = self._authenticate(token)
            self._team_id = workspace.team_id
            failure = self.faults.channel_failure(method, keys)
            if failure is not None:
                raise FaultError(failure)
            throttled = self.faults.throttle(workspace.team_id, method, self._channel(params))
            if throttled is not None:
                raise FaultError.from_injected(throttled)
        check_required(method, params, self.required.get(method, ()))
        ctx = self._context(workspace, params, creds.basic)
        return handler(ctx), self._team_id

    def _context(
        self, workspace: Workspace | None, params: JSON, basic: tuple[str, str] | None = None
    ) -> CallContext:
        return CallContext(
            self.state, workspace, params, self.base_url(), self._warnings, basic, self.socket_url
        )

    def _authenticate(self, token: str | None) -> Workspace:
        if not token:
            raise SlackError("not_authed", rejected=True)
        if token in self.state.app_tokens:
            raise SlackError("not_allowed_token_type")
        info = self.state.tokens.get(token)
        if info is None:
            raise SlackError("invalid_auth")
        if info.revoked:
            raise SlackError("token_revoked")
        if info.expires_at is not None and self.state.time_source() >= info.expires_at:
            raise SlackError("token_expired")
        workspace = self.state.workspaces[info.team_id]
        if not workspace.installed:
            raise SlackError("invalid_auth")
        bot = self.state.users.get(workspace.bot_user_id)
        if bot is not None and bot.deleted:
            raise SlackError("account_inactive")  # the bot user was deactivated
        return workspace

    def _authenticate_app(self, token: str | None) -> None:
        """Socket Mode methods take the app-level token; a bot or user token is the wrong kind."""
        if not token:
            raise SlackError("not_authed", rejected=True)
        if token in self.state.tokens:
            raise SlackError("not_allowed_token_type")
        if token not in self.state.app_tokens:
            raise SlackError("invalid_auth")

    def _inject(self, method: str, keys: Collection[str]) -> None:
        injected = self.faults.injected(method, keys)
        if injected is not None:
            raise FaultError.from_injected(injected)

    def _delay(self, method: str, keys: Collection[str]) -> None:
        seconds = self.faults.delay(method, keys)
        if seconds > 0:
            self.stopping.wait(seconds)

    def _channel(self, params: JSON) -> str | None:
        for name in ("channel", "channel_id"):
            value = params.get(name)
            if isinstance(value, str) and value:
                return self.state.dm_by_user.get(value, value)
        return None
