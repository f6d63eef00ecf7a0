"""HTTP mode: Slack's requests at POST /slack/events, health at GET /healthz (Starlette, uvicorn).

Bolt's dispatch is synchronous, so it runs in a worker thread and the event loop keeps
accepting requests while a handler works.
"""

from __future__ import annotations

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from storage.db import Database

MAX_BODY = 1_000_000  # Slack's payloads are far smaller; refuse anything absurd early.


def create_web_app(bolt: App, db: Database) -> Starlette:
    async def events(request: Request) -> Response:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return PlainTextResponse("request body too large", status_code=413)
        body = await request.body()
        if len(body) > MAX_BODY:
            return PlainTextResponse("request body too large", status_code=413)
        try:
            bolt_request = to_bolt_request(request, body)
        except UnicodeDecodeError:
            return PlainTextResponse("request body is not UTF-8", status_code=400)
        response = await run_in_threadpool(bolt.dispatch, bolt_request)
        return to_starlette_response(response)

    async def healthz(_: Request) -> Response:
        try:
            await run_in_threadpool(_ping, db)
        except Exception:
            return JSONResponse({"ok": False, "database": "unreachable"}, status_code=503)
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/slack/events", events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def _ping(db: Database) -> None:
    with db.engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
