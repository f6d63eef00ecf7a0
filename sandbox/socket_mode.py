"""Socket Mode as Slack plays it, on ``ws://127.0.0.1`` (``wss://`` on Slack).

``apps.connections.open`` (with an app-level ``xapp-`` token) hands out a URL with a one-use
ticket; the server answers the WebSocket handshake only for a fresh ticket, says ``hello``, then
sends envelopes (``slash_commands``, ``interactive``, ``events_api``) and waits up to 3 s for
each ``envelope_id`` to come back as an acknowledgement, which may carry a ``payload`` (a view
submission's ``response_action``, a slash command's reply). It can ask the app to reconnect
(``disconnect`` with reason ``refresh_requested`` or ``link_disabled``) and drop links.

Used as ``sandbox.socket_mode``::

    ack = sandbox.socket_mode.send("slash_commands", payload)   # waits for the ack
    sandbox.socket_mode.disconnect("refresh_requested")
    sandbox.socket_mode.drop()
    sandbox.socket_mode.wait_for_links(1)

The WebSocket side is the ``websockets`` library's threaded server: one thread per link.
Anything the app does that Slack would not accept (an ack for an unknown envelope, a late
ack, a payload on an envelope that takes none, a frame that is not JSON) is kept in
``problems()``, the Socket Mode counterpart of the Web API's rejected calls.
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

JSON = dict[str, Any]
EnvelopeType = Literal["slash_commands", "interactive", "events_api"]
DisconnectReason = Literal["refresh_requested", "link_disabled", "warning"]

ACK_SECONDS = 3.0  # Slack's deadline for acknowledging an envelope
TICKET_SECONDS = 30.0  # how long a URL from apps.connections.open can be used
REFRESH_GRACE_SECONDS = 10.0  # after a `disconnect`, the old link stays open this long
HOST = "applink-sandbox-1"
# Interactions whose ack Slack reads (`response_action`, options); other ones take no payload.
ANSWERED_INTERACTIONS = frozenset({"view_submission", "block_suggestion"})


class NoLink(ConnectionError):
    """No Socket Mode link is open: the app is not connected, so Slack cannot reach it."""


class NotAcknowledged(TimeoutError):
    """The app did not acknowledge an envelope within 3 s (Slack gives up on it)."""

    def __init__(self, envelope: Envelope) -> None:
        super().__init__(
            f"{envelope.type} envelope {envelope.envelope_id} was not acknowledged "
            f"within {ACK_SECONDS:.0f} s"
        )
        self.envelope = envelope


@dataclass
class Envelope:
    """One envelope sent to the app, and what came back for it."""

    envelope_id: str
    type: EnvelopeType
    payload: JSON
    accepts_response_payload: bool
    retry_attempt: int
    retry_reason: str
    link: int
    sent_at: float
    acked_at: float | None = None
    ack_payload: JSON | None = None

    def message(self) -> JSON:
        """The frame as Slack sends it. Events carry their retry fields always; the other
        kinds only when they are a redelivery."""
        out: JSON = {
            "envelope_id": self.envelope_id,
            "payload": self.payload,
            "type": self.type,
            "accepts_response_payload": self.accepts_response_payload,
        }
        if self.type == "events_api" or self.retry_attempt:
            out["retry_attempt"] = self.retry_attempt
            out["retry_reason"] = self.retry_reason
        return out

    @property
    def acked(self) -> bool:
        return self.acked_at is not None

    @property
    def ack_seconds(self) -> float | None:
        return None if self.acked_at is None else self.acked_at - self.sent_at


@dataclass
class _Link:
    number: int
    connection: ServerConnection
    opened_at: float
    retiring: bool = False  # told to reconnect: no new envelopes go here
    closed: bool = False
    timers: list[threading.Timer] = field(default_factory=list)


class SocketModeServer:
    """The app's Socket Mode links. Started and stopped with the sandbox."""

    def __init__(
        self,
        app_id: str,
        lock: threading.Condition,
        time_source: Callable[[], float],
    ) -> None:
        self.app_id = app_id
        self._lock = lock  # the sandbox's own: tickets and envelopes change under it
        self._time = time_source
        self._tickets: dict[str, float] = {}  # ticket -> issued at
        self._links: list[_Link] = []
        self._numbers = itertools.count(1)
        self._envelopes: dict[str, Envelope] = {}
        self._problems: list[str] = []
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1") -> None:
        server = serve(
            self._serve_link,
            host,
            0,
            process_request=self._check_ticket,
            compression=None,  # Slack's links are not compressed
            close_timeout=1,
            logger=logging.getLogger(__name__),
        )
        self._server = server
        self._url = f"ws://{host}:{server.socket.getsockname()[1]}"
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        with self._lock:
            for link in self._links:
                for timer in link.timers:
                    timer.cancel()
        server.shutdown()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the Socket Mode server is not started")
        return int(self._server.socket.getsockname()[1])

    # -- apps.connections.open -----------------------------------------------------------------

    def issue_url(self) -> str:
        """A URL for one new link (call with the sandbox's lock held)."""
        if self._url is None:
            raise RuntimeError("the Socket Mode server is not started")
        ticket = str(uuid.uuid4())
        self._tickets[ticket] = self._time()
        return f"{self._url}/link/?ticket={ticket}&app_id={self.app_id}"

    def _check_ticket(self, connection: ServerConnection, request: Request) -> Response | None:
        url = urlsplit(request.path)
        ticket = parse_qs(url.query).get("ticket", [""])[0]
        with self._lock:
            issued = self._tickets.pop(ticket, None)
            fresh = issued is not None and self._time() - issued <= TICKET_SECONDS
        if url.path != "/link/" or not fresh:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid or used ticket\n")
        return None

    # -- links ---------------------------------------------------------------------------------

    def _serve_link(self, connection: ServerConnection) -> None:
        with self._lock:
            link = _Link(next(self._numbers), connection, self._time())
            self._links.append(link)
            live = sum(1 for other in self._links if not other.closed)
            self._lock.notify_all()
        try:
            connection.send(json.dumps(self._hello(live)))
            for frame in connection:
                self._received(link, frame)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                link.closed = True
                for timer in link.timers:
                    timer.cancel()
                self._lock.notify_all()

    def _hello(self, live: int) -> JSON:
        return {
            "type": "hello",
            "num_connections": live,
            "debug_info": {
                "host": HOST,
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }

    def _received(self, link: _Link, frame: str | bytes) -> None:
        try:
            message = json.loads(frame)
        except ValueError:
            message = None
        with self._lock:
            if not isinstance(message, dict) or not isinstance(message.get("envelope_id"), str):
                self._problems.append(f"link {link.number}: a frame that is not an ack: {frame!r}")
                return
            envelope = self._envelopes.get(message["envelope_id"])
            if envelope is None:
                self._problems.append(f"ack for an unknown envelope {message['envelope_id']}")
                return
            if envelope.acked:
                self._problems.append(f"second ack for envelope {envelope.envelope_id}")
                return
            envelope.acked_at = self._time()
            payload = message.get("payload")
            if payload is not None and not envelope.accepts_response_payload:
                self._problems.append(
                    f"ack for {envelope.type} envelope {envelope.envelope_id} carries a payload, "
                    "which this kind of envelope does not take"
                )
            envelope.ack_payload = payload if isinstance(payload, dict) else None
            late = envelope.ack_seconds
            if late is not None and late > ACK_SECONDS:
                self._problems.append(
                    f"{envelope.type} envelope {envelope.envelope_id} acknowledged after "
                    f"{late:.1f} s (Slack waits {ACK_SECONDS:.0f} s)"
                )
            self._lock.notify_all()

    def links(self) -> int:
        """How many links are open now."""
        with self._lock:
            return sum(1 for link in self._links if not link.closed)

    def links_opened(self) -> int:
        """How many links were ever opened (reconnections included)."""
        with self._lock:
            return len(self._links)

    def wait_for_links(self, count: int = 1, *, opened: int = 0, timeout: float = 10.0) -> None:
        """Wait until `count` links are open and, with `opened`, that many were ever opened
        (so `opened=links_opened() + 1` waits for a reconnection)."""

        def ready() -> bool:
            fresh = sum(1 for link in self._links if not link.closed and not link.retiring)
            return fresh >= count and len(self._links) >= opened

        with self._lock:
            if not self._lock.wait_for(ready, timeout):
                raise TimeoutError(
                    f"the app did not connect within {timeout:.0f} s ({self._status()})"
                )

    def _status(self) -> str:
        open_links = [link.number for link in self._links if not link.closed]
        return f"open links {open_links}, {len(self._links)} ever opened"

    # -- envelopes -----------------------------------------------------------------------------

    def send(
        self,
        type: EnvelopeType,
        payload: JSON,
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = ACK_SECONDS,
    ) -> Envelope:
        """Send one envelope on the newest link and wait for its ack; returns the envelope
        with the ack's payload. Raises NoLink when the app is not connected and
        NotAcknowledged when no ack comes within `timeout` (Slack's 3 s)."""
        envelope_id = self.post(
            type, payload, retry_attempt=retry_attempt, retry_reason=retry_reason
        )
        return self.acknowledged(envelope_id, timeout)

    def post(
        self, type: EnvelopeType, payload: JSON, *, retry_attempt: int = 0, retry_reason: str = ""
    ) -> str:
        """Send one envelope without waiting for its ack; returns its envelope_id."""
        accepts = type == "slash_commands" or (
            type == "interactive" and payload.get("type") in ANSWERED_INTERACTIONS
        )
        with self._lock:
            link = self._current_link()
            envelope = Envelope(
                envelope_id=str(uuid.uuid4()),
                type=type,
                payload=copy.deepcopy(payload),
                accepts_response_payload=accepts,
                retry_attempt=retry_attempt,
                retry_reason=retry_reason,
                link=link.number,
                sent_at=self._time(),
            )
            self._envelopes[envelope.envelope_id] = envelope
            frame = json.dumps(envelope.message())
        try:
            link.connection.send(frame)
        except ConnectionClosed:
            raise NoLink(f"link {link.number} closed while sending") from None
        return envelope.envelope_id

    def acknowledged(self, envelope_id: str, timeout: float = ACK_SECONDS) -> Envelope:
        """The envelope once acknowledged; NotAcknowledged if that takes over `timeout`."""
        with self._lock:
            envelope = self._envelopes[envelope_id]
            if not self._lock.wait_for(lambda: envelope.acked, timeout):
                raise NotAcknowledged(copy.deepcopy(envelope))
            return copy.deepcopy(envelope)

    def _current_link(self) -> _Link:
        for link in reversed(self._links):
            if not link.closed and not link.retiring:
                return link
        raise NoLink(f"the app has no open Socket Mode link ({self._status()})")

    def envelopes(self) -> list[Envelope]:
        with self._lock:
            return copy.deepcopy(list(self._envelopes.values()))

    def problems(self) -> list[str]:
        """What the app sent that Slack would not accept: should be empty after a test."""
        with self._lock:
            return list(self._problems)

    # -- Slack's side of the link --------------------------------------------------------------

    def disconnect(
        self, reason: DisconnectReason = "refresh_requested", grace: float = REFRESH_GRACE_SECONDS
    ) -> None:
        """Tell every open link to reconnect; each is closed `grace` seconds later. No new
        envelopes go to a link once it has been told."""
        message = json.dumps({"type": "disconnect", "reason": reason, "debug_info": {"host": HOST}})
        with self._lock:
            told = [link for link in self._links if not link.closed and not link.retiring]
            for link in told:
                link.retiring = True
        for link in told:
            try:
                link.connection.send(message)
            except ConnectionClosed:
                continue
            timer = threading.Timer(grace, self._close, args=(link,))
            timer.daemon = True
            link.timers.append(timer)
            timer.start()

    def drop(self) -> None:
        """Close every open link from Slack's side (as when a Slack server goes away)."""
        with self._lock:
            dropped = [link for link in self._links if not link.closed]
        for link in dropped:
            self._close(link)

    def _close(self, link: _Link) -> None:
        link.connection.close(CloseCode.GOING_AWAY, "link closed by Slack")
