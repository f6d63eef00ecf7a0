"""How a listener reaches the bot's services: a middleware puts them in Bolt's context for
every request, so a listener is a plain module-level function of what Bolt passes it (ack,
body, respond, client, context) and can be called in a test with a context made by hand."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import InstallationStore

from bot.channels import SlackChannels
from bot.services import Services
from practice.context import Practice

log = logging.getLogger(__name__)

WIRING = "securebase"


@dataclass(frozen=True)
class Wiring:
    """What a listener reaches through the context."""

    services: Services
    installations: InstallationStore | None  # OAuth (many workspaces) only

    def __deepcopy__(self, memo: dict[int, Any]) -> Wiring:
        # Shared, never copied: Bolt deep-copies a request's context for lazy listeners, and
        # this holds the database engine, the clock and the caches.
        return self


Middleware = Callable[[BoltContext, Callable[[], None]], None]


def provide(services: Services, installations: InstallationStore | None = None) -> Middleware:
    """The middleware that hands `services` (and, with many workspaces, the installation
    store) to every listener."""

    wiring = Wiring(services, installations)

    def services_middleware(context: BoltContext, next_: Callable[[], None]) -> None:
        context[WIRING] = wiring
        next_()

    return services_middleware


def _wiring(context: BoltContext) -> Wiring:
    found = context.get(WIRING)
    if not isinstance(found, Wiring):
        raise LookupError("no services in this context: register listeners with register_all")
    return found


def services_of(context: BoltContext) -> Services:
    return _wiring(context).services


def installation_store_of(context: BoltContext) -> InstallationStore | None:
    """The installation store (OAuth, many workspaces); None with one workspace's token."""
    return _wiring(context).installations


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


def channel_and_number(body: Mapping[str, Any], key: str) -> tuple[str, int] | None:
    """A button's value as the renderers write it, {"channel": "C…", key: n}; None (logged)
    when it is not one — a forged or mangled payload changes nothing."""
    try:
        value = json.loads(body["actions"][0].get("value") or "{}")
        return str(value["channel"]), int(value[key])
    except (ValueError, KeyError, TypeError, IndexError):
        log.warning("a button without its channel and %s", key)
        return None
