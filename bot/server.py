"""HTTP mode: Slack's requests at POST /slack/events, health at GET /healthz (Starlette, uvicorn),
and in OAuth mode the install flow at GET /slack/install and GET /slack/oauth_redirect.

Bolt's dispatch is synchronous, so it runs in a worker thread and the event loop keeps
accepting requests while a handler works. Before Bolt sees a request: bodies are read with a
cap (413, before an absurd one is held in memory); a body that is not UTF-8 gets a 400; the
signature is checked on the raw bytes (401 for forged, missing or stale ones, whatever the body
holds); and a signed body that is not a Slack payload (broken JSON, an unknown content type)
gets a one-line 4xx, where Bolt would fail inside its parser with a 500 and a traceback.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from slack_bolt import App, BoltContext, BoltRequest
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_bolt.request.internals import build_context
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from storage.db import Database

MAX_BODY = 1_000_000  # Slack's payloads are far smaller; refuse anything absurd early.
SLACK_CONTENT_TYPES = ("application/x-www-form-urlencoded", "application/json")


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


def create_web_app(bolt: App, db: Database, signing_secret: str) -> Starlette:
    verifier = SignatureVerifier(signing_secret)

    async def events(request: Request) -> Response:
        try:
            body = await _capped_body(request)
        except BodyTooLarge:
            return PlainTextResponse("request body too large", status_code=413)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return PlainTextResponse("request body is not UTF-8", status_code=400)
        if not _signed(verifier, body, request):
            return JSONResponse({"error": "invalid request"}, status_code=401)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in SLACK_CONTENT_TYPES:
            return PlainTextResponse(
                f"content type must be one of {', '.join(SLACK_CONTENT_TYPES)}", status_code=415
            )
        try:
            bolt_request = _bolt_request(request, body, content_type)
        except (ValueError, TypeError, AttributeError, KeyError):  # Bolt's parser on bad JSON
            return PlainTextResponse("request body is not a Slack payload", status_code=400)
        response = await run_in_threadpool(bolt.dispatch, bolt_request)
        return to_starlette_response(response)

    async def healthz(_: Request) -> Response:
        try:
            await run_in_threadpool(_ping, db)
        except Exception:
            return JSONResponse({"ok": False, "database": "unreachable"}, status_code=503)
        return JSONResponse({"ok": True})

    routes = [
        Route("/slack/events", events, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    flow = bolt.oauth_flow
    if flow is not None:

        async def install(request: Request) -> Response:
            step = flow.handle_installation
            if request.url.path == flow.redirect_uri_path:
                step = flow.handle_callback
            answer = await run_in_threadpool(step, to_bolt_request(request, b""))
            return to_starlette_response(answer)

        routes += [
            Route(flow.install_path, install, methods=["GET"]),
            Route(flow.redirect_uri_path, install, methods=["GET"]),
        ]
    return Starlette(routes=routes)


def _bolt_request(request: Request, body: bytes, content_type: str) -> BoltRequest:
    """Bolt's request, with one fix: Bolt treats any form body containing the word "payload"
    as an interaction, so `/checkin payload` would reach no listener. A form without a
    `payload` field is a slash command, whatever its text says."""
    bolt_request = to_bolt_request(request, body)
    if content_type == "application/x-www-form-urlencoded":
        fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        if "payload" not in fields and bolt_request.body != fields:
            bolt_request.body = fields
            bolt_request.context = build_context(BoltContext({}), fields)
    return bolt_request


def _signed(verifier: SignatureVerifier, body: bytes, request: Request) -> bool:
    """Slack's signature over the raw body, made within the last five minutes."""
    try:
        return verifier.is_valid_request(body, dict(request.headers))
    except ValueError:  # a timestamp that is not a number
        return False


def _ping(db: Database) -> None:
    with db.engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
