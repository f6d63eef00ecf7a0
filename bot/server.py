"""The bot's HTTP listener on PORT (Starlette under uvicorn, in a thread of its own): health at
GET /healthz and GET /readyz in both modes (bot.health); in HTTP mode also Slack's requests at
POST /slack/events, and in OAuth mode the install flow at GET /slack/install and
GET /slack/oauth_redirect. It is up before the bot has reached its database and Slack, so
/readyz can say "not yet"; until then Slack's requests get a 503 (Slack tries again).

Bolt's dispatch is synchronous, so it runs in a worker thread and the event loop keeps
accepting requests while a handler works. Before Bolt sees a request: bodies are read with a
cap (413, before an absurd one is held in memory); a body that is not UTF-8 gets a 400; the
signature is checked on the raw bytes (401 for forged, missing or stale ones, whatever the body
holds); and a signed body that is not a Slack payload (broken JSON, an unknown content type)
gets a one-line 4xx, where Bolt would fail inside its parser with a 500 and a traceback.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from urllib.parse import parse_qsl

import uvicorn
from slack_bolt import App, BoltRequest
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot import metrics
from bot.handlers.checkin import is_checkin
from bot.health import Readiness, health_routes
from bot.oauth import INSTALL_PATH, REDIRECT_PATH
from bot.redelivery import Redeliveries

MAX_BODY = 1_000_000  # Slack's payloads are far smaller; refuse anything absurd early.
SLACK_CONTENT_TYPES = ("application/x-www-form-urlencoded", "application/json")
REFUSED = "refused"  # the metrics surface of requests turned away unread (unsigned, too big, …)


class BodyTooLarge(Exception):
    pass


async def _capped_body(request: Request) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise BodyTooLarge
    return bytes(body)


def _starting() -> Response:
    return PlainTextResponse("starting: try again shortly", status_code=503)


def create_web_app(
    readiness: Readiness,
    signing_secret: str,
    bolt: Callable[[], App | None] | None = None,
    *,
    oauth: bool = False,
) -> Starlette:
    """Health routes; with `bolt` (HTTP mode) Slack's requests too, and with `oauth` the
    install flow. `bolt()` is None until the bot has started."""
    routes = health_routes(readiness)
    if bolt is not None:
        routes += _slack_routes(bolt, signing_secret, oauth)
    return Starlette(routes=routes)


def _slack_routes(bolt: Callable[[], App | None], signing_secret: str, oauth: bool) -> list[Route]:
    verifier = SignatureVerifier(signing_secret)
    redeliveries = Redeliveries()

    def refuse(response: Response, request: Request | None = None, body: bytes = b"") -> Response:
        """A request turned away before Bolt (which counts the ones it answers). Not even a
        refused check-in is counted: with a wrong signing secret every check-in is refused."""
        if request is None or not _checkin(request, body):
            metrics.answered(REFUSED, response.status_code)
        return response

    async def events(request: Request) -> Response:
        app = bolt()
        if app is None:
            return _starting()
        try:
            body = await _capped_body(request)
        except BodyTooLarge:
            return refuse(PlainTextResponse("request body too large", status_code=413))
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return refuse(PlainTextResponse("request body is not UTF-8", status_code=400))
        if not _signed(verifier, body, request):
            return refuse(
                JSONResponse({"error": "invalid request"}, status_code=401), request, body
            )
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in SLACK_CONTENT_TYPES:
            return refuse(
                PlainTextResponse(
                    f"content type must be one of {', '.join(SLACK_CONTENT_TYPES)}",
                    status_code=415,
                ),
                request,
                body,
            )
        try:
            bolt_request = _bolt_request(request, body, content_type)
        except (ValueError, TypeError, AttributeError, KeyError):  # Bolt's parser on bad JSON
            return refuse(PlainTextResponse("request body is not a Slack payload", status_code=400))
        response = await run_in_threadpool(
            redeliveries.answer,
            bolt_request.body,
            _retry_num(request),
            lambda: app.dispatch(bolt_request),
        )
        return to_starlette_response(response)

    routes = [Route("/slack/events", events, methods=["POST"])]
    if oauth:

        async def install(request: Request) -> Response:
            app = bolt()
            flow = None if app is None else app.oauth_flow
            if flow is None:
                return _starting()
            step = flow.handle_installation
            if request.url.path == flow.redirect_uri_path:
                step = flow.handle_callback
            answer = await run_in_threadpool(step, to_bolt_request(request, b""))
            return to_starlette_response(answer)

        routes += [
            Route(INSTALL_PATH, install, methods=["GET"]),
            Route(REDIRECT_PATH, install, methods=["GET"]),
        ]
    return routes


def _retry_num(request: Request) -> int | None:
    value = request.headers.get("x-slack-retry-num", "")
    return int(value) if value.isdigit() else None


def _bolt_request(request: Request, body: bytes, content_type: str) -> BoltRequest:
    """Bolt's request, with one fix: Bolt treats any form body containing the word "payload"
    as an interaction, so `/checkin payload` would reach no listener. A form without a
    `payload` field is a slash command, whatever its text says."""
    bolt_request = to_bolt_request(request, body)
    # Only a form that mentions the word without having the field needs a second parse (a
    # form's own `payload` key is never percent-encoded; the word inside a value's text can be
    # followed by "=" only as "%3D").
    misread = b"payload" in body and not (body.startswith(b"payload=") or b"&payload=" in body)
    if content_type == "application/x-www-form-urlencoded" and misread:
        fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        if "payload" not in fields and bolt_request.body != fields:
            bolt_request.body = fields
            # The context Bolt builds from a parsed body (team, user, channel, response_url),
            # through its public constructor: a dict body is taken as it is.
            bolt_request.context = BoltRequest(body=fields, mode="socket_mode").context
    return bolt_request


def _checkin(request: Request, body: bytes) -> bool:
    """Whether an unverified body reads as part of a check-in (see bot.metrics)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        parsed = _bolt_request(request, body, content_type).body
    except (ValueError, TypeError, AttributeError, KeyError):
        return False
    return isinstance(parsed, dict) and is_checkin(parsed)


def _signed(verifier: SignatureVerifier, body: bytes, request: Request) -> bool:
    """Slack's signature over the raw body, made within the last five minutes."""
    try:
        return verifier.is_valid_request(body, dict(request.headers))
    except ValueError:  # a timestamp that is not a number
        return False


class Listener:
    """uvicorn serving `app` in a background thread, so the main thread stays free to wait
    for SIGTERM and shut the bot down in order. `stop()` lets requests in flight finish."""

    def __init__(self, app: Starlette, host: str, port: int, grace: float = 10.0) -> None:
        self.app, self.host, self.port, self.grace = app, host, port, grace
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Bind and serve; returns the base URL once it answers. Raises OSError when the
        port cannot be had."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        config = uvicorn.Config(
            self.app, log_level="warning", timeout_graceful_shutdown=int(self.grace)
        )
        server = self._server = uvicorn.Server(config)
        thread = self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="http-listener", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the bot's HTTP listener did not start")
            time.sleep(0.01)
        return f"http://{self.host}:{sock.getsockname()[1]}"

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=self.grace + 2)
