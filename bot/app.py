"""Builds the Bolt app: WebClients pointed at SLACK_API_URL with retry handlers, every listener,
and — when SLACK_CLIENT_ID is set — the OAuth install flow for many workspaces."""

from __future__ import annotations

import logging
import time
from http.client import RemoteDisconnected
from typing import Any, TypeVar
from urllib.error import URLError

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

from bot import metrics, oauth
from bot.after_ack import POOL, RECEIVED
from bot.handlers import register_all
from bot.listener_errors import listener_error_handler
from bot.listener_pool import ListenerPool
from bot.services import Services

log = logging.getLogger(__name__)

T = TypeVar("T")
LISTENER_THREADS = 8
# Work that may wait for a listener thread before "busy, try again" (bot.after_ack): at a few
# milliseconds each, well inside Slack's 3 s trigger window.
LISTENER_QUEUE = 64
SLACK_TIMEOUT_SECONDS = 10
# slack_sdk's defaults plus read timeouts, which urllib raises bare (not as URLError).
RETRIED_CONNECTION_ERRORS: list[type[Exception]] = [
    URLError,
    ConnectionResetError,
    RemoteDisconnected,
    TimeoutError,
]


class SameTokenTwice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment by itself and, finding it beside the
    client we give it, warns on every start that the client's token wins. Both are the same
    token (Settings read it once), so the warning says nothing; this drops just that one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


BOLT_LOG = logging.getLogger("securebase.bolt")
BOLT_LOG.addFilter(SameTokenTwice())


class MeasuredApp(App):
    """Bolt's App, counting and timing every request it answers (bot.metrics), in HTTP and in
    Socket Mode alike, except the check-in's, which runs unmeasured. Each request's context
    carries the listener pool and when the request arrived, for bot.after_ack."""

    def __init__(self, *, pool: ListenerPool, **kwargs: Any) -> None:
        super().__init__(listener_executor=pool, **kwargs)
        self.pool = pool

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        req.context[RECEIVED] = time.monotonic()
        req.context[POOL] = self.pool
        kind = metrics.surface(req.body)
        if kind is None:
            with metrics.unmeasured():
                return super().dispatch(req)
        started = time.perf_counter()
        response = super().dispatch(req)
        metrics.answered(kind, response.status, time.perf_counter() - started)
        return response


def web_client(services: Services, token: str | None = None) -> WebClient:
    """A client with slack_sdk's own retry handlers: a 429 waits as long as its Retry-After
    says, 5xx answers, dropped connections and timeouts are tried again with backoff. Bolt
    copies these handlers into the per-request clients it makes, so every call has them."""
    return WebClient(
        token=token,
        base_url=services.settings.api_url,
        timeout=SLACK_TIMEOUT_SECONDS,
        retry_handlers=[
            metrics.SlackErrorCounter(),  # first: it must see every answer
            ConnectionErrorRetryHandler(max_retry_count=2, error_types=RETRIED_CONNECTION_ERRORS),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def build_app(
    services: Services,
    listeners: ListenerPool | None = None,
    store: SQLAlchemyInstallationStore | None = None,
) -> App:
    """One workspace (SLACK_BOT_TOKEN) or many (`store` given: OAuth install, per-workspace
    tokens from the installation store). `listeners` runs the work done after each ack; the
    runtime drains it on shutdown so nothing a person started is cut off."""
    settings = services.settings
    client = web_client(services, None if store else settings.bot_token)
    app = MeasuredApp(
        pool=listeners or ListenerPool(LISTENER_THREADS, LISTENER_QUEUE),
        client=client,
        signing_secret=settings.signing_secret,
        logger=BOLT_LOG,
        # Acks are sent from the request thread, never waiting for a worker: listeners
        # registered through bot.after_ack hand their work to the pool after acking; the rest
        # (whose ack carries an answer) run whole before it.
        process_before_response=True,
        # With a store and no `authorize`, Bolt authorises each request from the store with
        # this client, so refreshing a rotating token also goes to SLACK_API_URL.
        installation_store=store,
        oauth_flow=oauth.oauth_flow(settings, services.db, store, client) if store else None,
    )
    register_all(app, services)
    app.error(listener_error_handler(services.db))
    return app
