"""Builds the Bolt app: one WebClient pointed at SLACK_API_URL, retry handlers, every listener."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.handlers import register_all
from bot.services import Services

log = logging.getLogger(__name__)


def web_client(services: Services, token: str | None = None) -> WebClient:
    """A client with slack_sdk's own retry handlers: 429 honours Retry-After, 5xx backs off."""
    return WebClient(
        token=token or services.settings.bot_token,
        base_url=services.settings.api_url,
        timeout=10,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def build_app(services: Services) -> App:
    app = App(
        client=web_client(services),
        signing_secret=services.settings.signing_secret,
        logger=logging.getLogger("securebase.bolt"),
        # Listeners run after the ack in Bolt's worker threads, so Slack gets its answer fast.
        process_before_response=False,
    )
    register_all(app, services)
    return app
