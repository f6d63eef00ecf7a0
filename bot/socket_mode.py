"""Socket Mode: Bolt's own handler on slack_sdk's built-in client, with what a service needs.

Why the built-in client (`slack_bolt.adapter.socket_mode`) and not the websocket-client one:
it is the one Bolt recommends, it needs no further dependency, and it pings the link and
drops it when pongs stop coming, so a link that died silently (a NAT or proxy forgetting it)
is noticed within four pings; the websocket-client adapter sends pings but never checks for
pongs, and after a `disconnect` message it opened several links in a row in our tests.

On top of Bolt's handler:
- every envelope is acknowledged, also when no listener matched or a listener failed (Bolt's
  handler then sends nothing, and Slack would deliver it three more times to the same end);
- a redelivery (`retry_attempt` > 0) of something already handled gets the first answer
  again and runs nothing (bot.redelivery);
- a keeper thread notices a link that is gone and opens a new one at once, then with backoff,
  saying so once a minute; the client's own monitor only looks every few seconds and does not
  reconnect after Slack closes a link cleanly;
- `close()` lets every envelope already received be handled and acknowledged, then closes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Sequence

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackClientNotConnectedError
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.redelivery import Redeliveries

log = logging.getLogger("securebase.socket")
# The client's own lines (every reconnect attempt, at INFO and ERROR) go here, at most one a
# minute: this module says what matters once, in plain words.
client_log = logging.getLogger("securebase.socket.client")

PING_SECONDS = 5.0  # a silent link is dropped after 4 pings without a pong
LOOK_SECONDS = 0.5  # how often the keeper looks at the link
LONGEST_WAIT = 30.0  # between reconnection attempts, once backed off
SAY_EVERY = 60.0


def bolt_request(request: SocketModeRequest) -> BoltRequest:
    """The envelope as Bolt's request, with HTTP's retry headers so a redelivery reads alike."""
    headers: dict[str, str | Sequence[str]] = {}
    if request.retry_attempt is not None:
        headers["x-slack-retry-num"] = str(request.retry_attempt)
    if request.retry_reason is not None:
        headers["x-slack-retry-reason"] = request.retry_reason
    return BoltRequest(mode="socket_mode", body=request.payload, headers=headers or None)


def acknowledgement(
    request: SocketModeRequest, response: BoltResponse | None
) -> SocketModeResponse:
    """The envelope's acknowledgement, carrying what the listener acked with (a modal's errors
    or update, a command's reply); a bare one when nothing answered or a listener failed."""
    if response is None or response.status != 200 or not response.body:
        return SocketModeResponse(envelope_id=request.envelope_id)
    content_type = (response.headers.get("content-type") or [""])[0]
    if content_type.startswith("application/json"):
        return SocketModeResponse(
            envelope_id=request.envelope_id, payload=json.loads(response.body)
        )
    return SocketModeResponse(envelope_id=request.envelope_id, payload={"text": response.body})


class OncePerMinute(logging.Filter):
    """Lets one record through per minute."""

    def __init__(self, every: float = SAY_EVERY) -> None:
        super().__init__()
        self.every = every
        self._last: float | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        if self._last is not None and now - self._last < self.every:
            return False
        self._last = now
        return True


client_log.setLevel(logging.WARNING)
client_log.addFilter(OncePerMinute())


QUIET_SECONDS = 0.3  # on close: no envelope for this long means none is still on its way


class SocketModeLink:
    def __init__(self, app: App, app_token: str, *, ping_interval: float = PING_SECONDS) -> None:
        self.app = app
        self.redeliveries = Redeliveries()
        self.handler = SocketModeHandler(
            app, app_token, logger=client_log, ping_interval=ping_interval
        )
        client = self.handler.client
        client.socket_mode_request_listeners[:] = [self._handle]
        client.on_message_listeners.append(self._received)
        self._open: Counter[str] = Counter()  # envelope id -> received minus finished
        self._last_received = time.monotonic()
        self._idle = threading.Condition()
        self._closing = threading.Event()
        self._keeper = threading.Thread(target=self._keep, name="socket-keeper", daemon=True)

    def is_connected(self) -> bool:
        return bool(self.handler.client.is_connected())

    def connect(self) -> None:
        """Open the first link, then keep one open until `close()`. Raises slack_sdk's
        SlackApiError when Slack refuses the app token, and ConnectionError (or what urllib
        raises) when Slack cannot be reached."""
        self.handler.client.connect_to_new_endpoint()
        if not self.is_connected():
            raise ConnectionError("the Socket Mode link did not open")
        if not self._keeper.is_alive():
            self._keeper.start()

    def close(self, timeout: float = 5.0) -> None:
        """Acknowledge every envelope already received (waiting up to `timeout`), then close
        the link and the client's threads."""
        self._closing.set()
        deadline = time.monotonic() + timeout
        with self._idle:
            # Envelopes Slack sent just before the signal may still be on their way in: wait
            # for a short quiet spell first, so they are received and acknowledged too.
            settle_by = time.monotonic() + min(QUIET_SECONDS * 5, timeout)
            while (
                time.monotonic() - self._last_received < QUIET_SECONDS
                and time.monotonic() < settle_by
            ):
                self._idle.wait(QUIET_SECONDS / 3)
            if not self._idle.wait_for(lambda: not self._open, deadline - time.monotonic()):
                log.warning("closing with %d envelopes not yet acknowledged", len(self._open))
        self._wake_threads()
        self.handler.close()  # type: ignore[no-untyped-call]
        if self._keeper.is_alive():
            self._keeper.join(timeout=LOOK_SECONDS * 4)

    def _wake_threads(self) -> None:
        """Closing the client waits for two of its threads: the receiver, in a socket read
        with a 3 s timeout, and the message processor, in a queue read with a 1 s timeout.
        Shutting the socket down and queueing an empty message (which the processor skips)
        once it is marked closed ends both reads at once."""
        client = self.handler.client
        session = client.current_session
        sock = None if session is None else session.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        client.closed = True
        client.message_queue.put(None)

    # -- envelopes -----------------------------------------------------------------------------

    def _received(self, raw: str) -> None:
        envelope_id = _envelope_id(raw)
        if envelope_id is not None:
            with self._idle:
                self._last_received = time.monotonic()
                self._count(envelope_id, +1)

    def _finished(self, envelope_id: str) -> None:
        with self._idle:
            self._count(envelope_id, -1)
            self._idle.notify_all()

    def _count(self, envelope_id: str, change: int) -> None:
        # The client may hand an envelope to _handle before telling _received about it.
        self._open[envelope_id] += change
        if self._open[envelope_id] == 0:
            del self._open[envelope_id]

    def _handle(self, client: BaseSocketModeClient, request: SocketModeRequest) -> None:
        try:
            response = self._answer(request)
            client.send_socket_mode_response(acknowledgement(request, response))
        except SlackClientNotConnectedError:
            log.warning("a %s envelope could not be acknowledged: the link closed", request.type)
        finally:
            self._finished(request.envelope_id)

    def _answer(self, request: SocketModeRequest) -> BoltResponse | None:
        try:
            return self.redeliveries.answer(
                request.payload,
                request.retry_attempt,
                lambda: self.app.dispatch(bolt_request(request)),
            )
        except Exception:
            log.exception("a %s envelope could not be handled", request.type)
            return None

    # -- the link ------------------------------------------------------------------------------

    def _keep(self) -> None:
        client = self.handler.client
        wait = LOOK_SECONDS
        down_since: float | None = None
        said_at = 0.0
        while not self._closing.wait(wait):
            if client.is_connected():
                if down_since is not None:
                    log.info("Socket Mode link open again (%.0f s without)", _since(down_since))
                down_since, wait = None, LOOK_SECONDS
                continue
            if down_since is None:
                down_since = time.monotonic()
                log.info("Socket Mode link closed; opening a new one")
            reason = "the link did not open"
            try:
                client.connect_to_new_endpoint()
            except Exception as error:  # reported once a minute below; tried again regardless
                reason = _reason(error)
            if client.is_connected() or self._closing.is_set():
                continue
            if time.monotonic() - said_at >= SAY_EVERY:
                said_at = time.monotonic()
                log.warning(
                    "Socket Mode link down for %.0f s (%s); still trying",
                    _since(down_since),
                    reason,
                )
            wait = min(max(wait * 2, 1.0), LONGEST_WAIT)


def _envelope_id(raw: str) -> str | None:
    try:
        message = json.loads(raw)
    except ValueError:
        return None
    envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
    return envelope_id if isinstance(envelope_id, str) else None


def _since(moment: float) -> float:
    return time.monotonic() - moment


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
