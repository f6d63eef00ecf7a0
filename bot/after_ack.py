"""Ack first, work after: how a listener whose ack says nothing is run.

The app answers Slack in the request thread (`process_before_response=True`), so an ack never
waits for a free worker behind other requests' work. A listener registered through
`after_ack` is acked at once and its work is handed to the listener pool (bot.listener_pool),
whose queue is bounded. Nothing is dropped silently when the bot is overloaded:

- no room in the queue: the ack itself says "busy, try again" (a slash command's ack is an
  ephemeral reply to whoever typed it), or, for a button, the person is told through the
  message's response_url; the work is not queued;
- a listener that opens a modal and whose turn comes too late for Slack's 3 s trigger window
  (`opens_modal=True`) says "busy, try again" through the response_url instead of failing
  to open it.

Never by DM: a reply about a check-in stays ephemeral. A request that has no response_url
(a Home tab button) cannot be answered that way, so it is logged.

Listeners whose ack carries an answer (a modal's errors, a stored check-in's confirmation)
are registered with Bolt directly: they run whole in the request thread.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, BoltRequest
from slack_bolt.kwargs_injection import build_required_kwargs

from bot.listener_pool import ListenerPool

log = logging.getLogger(__name__)

POOL = "securebase_listener_pool"  # context key: the ListenerPool (set by bot.app)
RECEIVED = "securebase_received"  # context key: time.monotonic() when the request arrived
TRIGGER_WINDOW = 2.5  # seconds: Slack's trigger ids last 3 s from when Slack sent the request


BUSY = "Sorry, Secure Base is very busy just now and couldn't get to that in time."


def busy_text(body: dict[str, Any]) -> str:
    """What someone is told when the bot could not get to their request in time."""
    again = f"`{body['command']}`" if body.get("command") else "that"
    return f"{BUSY} Please try {again} again in a moment."


def _tell_busy(body: dict[str, Any], request: BoltRequest, what: str) -> None:
    respond = request.context.respond
    if respond is None or not (body.get("response_url") or body.get("response_urls")):
        log.warning("%s: the bot was too busy and the person could not be told", what)
        return
    try:
        respond(text=busy_text(body), response_type="ephemeral", replace_original=False)
    except Exception as error:
        log.warning("%s: the busy reply could not be sent: %s", what, error)


Listener = Callable[..., None]


def after_ack(
    register: Callable[[Listener], object], *, opens_modal: bool = False
) -> Callable[[Listener], Listener]:
    """Register `listener` (through Bolt's `register`, e.g. `app.command("/checkin")`) so that
    Slack is acked at once and `listener` runs in the listener pool afterwards, with the same
    arguments Bolt would have given it (but an `ack` that is already spent: calling it does
    nothing)."""

    def decorate(listener: Listener) -> Listener:
        names = inspect.getfullargspec(inspect.unwrap(listener)).args
        what = getattr(listener, "__name__", "a listener")

        def run(listener_kwargs: dict[str, Any], request: BoltRequest) -> None:
            received = request.context.get(RECEIVED)
            late = received is not None and time.monotonic() - received > TRIGGER_WINDOW
            if opens_modal and late:
                _tell_busy(request.body, request, what)
                return
            try:
                listener(**listener_kwargs)
            except Exception as error:
                # As Bolt does for a listener that fails after its ack (bot.listener_errors).
                runner = request.context.listener_runner
                runner.listener_error_handler.handle(error=error, request=request, response=None)

        def acked_now(ack: Ack, req: BoltRequest, context: BoltContext) -> None:
            pool: ListenerPool = context[POOL]
            kwargs = build_required_kwargs(
                logger=context.logger,
                required_arg_names=list(names),
                request=req,
                response=None,
                this_func=listener,
                next_keys_required=False,
            )
            if "ack" in kwargs:  # the real one is spent here: the listener's does nothing
                kwargs["ack"] = Ack()  # type: ignore[no-untyped-call]
            if not pool.has_room():
                if req.body.get("command"):
                    ack(text=busy_text(req.body), response_type="ephemeral")
                else:
                    ack()
                    _tell_busy(req.body, req, what)
                return
            ack()
            pool.submit(run, kwargs, req)

        register(acked_now)
        return listener

    return decorate


def later(context: BoltContext, what: str, work: Callable[..., object], *args: Any) -> bool:
    """Best-effort work after a listener that answers in its ack (e.g. refreshing the Home tab
    after a check-in): queued in the listener pool when it has room, else skipped and logged.
    True when queued."""
    pool: ListenerPool = context[POOL]
    if not pool.has_room():
        log.warning("%s skipped: the bot is too busy", what)
        return False

    def best_effort() -> None:
        try:
            work(*args)
        except Exception:
            log.warning("%s failed", what, exc_info=True)

    pool.submit(best_effort)
    return True
