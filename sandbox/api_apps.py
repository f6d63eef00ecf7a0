"""api.test and apps.connections.open (Socket Mode's way in)."""

from __future__ import annotations

from sandbox.context import CallContext, Handler
from sandbox.errors import SlackError
from sandbox.state import JSON


def api_test(ctx: CallContext) -> JSON:
    """Slack's "is the Web API there?" method: needs no token and echoes its arguments; an
    `error` argument comes back as that error."""
    error = ctx.str_param("error")
    if error is not None:
        raise SlackError(error)
    return {"ok": True, "args": dict(ctx.params)}


def apps_connections_open(ctx: CallContext) -> JSON:
    """A WebSocket URL for one new Socket Mode link (its ticket works once, for 30 s)."""
    assert ctx.socket_url is not None, "the sandbox passes its Socket Mode server"
    return {"ok": True, "url": ctx.socket_url()}


HANDLERS: dict[str, Handler] = {
    "api.test": api_test,
    "apps.connections.open": apps_connections_open,
}
