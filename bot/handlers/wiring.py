"""How a listener reaches the bot's services: a middleware puts them in Bolt's context for
every request, so a listener is a plain module-level function of what Bolt passes it (ack,
body, respond, client, context) and can be called in a test with a context made by hand."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.channels import SlackChannels
from bot.services import Services
from practice.context import Practice

SERVICES = "securebase_services"

Middleware = Callable[[BoltContext, Callable[[], None]], None]


def provide(services: Services) -> Middleware:
    """The middleware that hands `services` to every listener."""

    def services_middleware(context: BoltContext, next_: Callable[[], None]) -> None:
        context[SERVICES] = services
        next_()

    return services_middleware


def services_of(context: BoltContext) -> Services:
    found = context.get(SERVICES)
    if not isinstance(found, Services):
        raise LookupError("no services in this context: register listeners with register_all")
    return found


def practice_of(context: BoltContext) -> Practice:
    return services_of(context).practice


def channels_of(context: BoltContext, client: WebClient, workspace: str) -> SlackChannels:
    """Who is in the channels of `workspace`, asked with this request's `client`."""
    return SlackChannels(services_of(context).members, client, workspace)


def workspace_of(body: Mapping[str, Any], context: BoltContext) -> str:
    """The Slack workspace a request came from (Bolt's context, else the payload)."""
    user = body.get("user")
    from_body = user.get("team_id") if isinstance(user, dict) else body.get("team_id")
    return context.team_id or str(from_body or "")
