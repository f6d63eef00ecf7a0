"""`securebase run`: the HTTP listener first, then the database and Slack (waiting for them as
long as it takes), then the bot in HTTP or Socket Mode until SIGTERM or Ctrl-C.

Stopping goes in the order that loses nothing: /readyz turns 503; in Socket Mode every
envelope already received is acknowledged and the link closed, over HTTP requests in flight
are answered; then the scheduler finishes its running jobs, the listeners' work after each ack
finishes, and the process exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from bot import startup
from bot.health import Readiness
from bot.runtime import Runtime
from bot.server import Listener, create_web_app
from bot.settings import Settings, SettingsError
from storage.db import Database

log = logging.getLogger("securebase")


def serve(settings: Settings) -> int:
    stop = threading.Event()

    def ask_to_stop(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, ask_to_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return _serve(settings, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _serve(settings: Settings, stop: threading.Event) -> int:
    settings.require_keyring()  # a missing key is a setting to fix, not an outage to wait out
    socket_mode = settings.app_token is not None
    readiness = Readiness()
    running: list[Runtime] = []
    web = create_web_app(
        readiness,
        settings.signing_secret,
        None if socket_mode else (lambda: running[0].app if running else None),
        oauth=settings.oauth,
    )
    listener = Listener(web, "0.0.0.0", settings.port)
    try:
        listener.start()
    except OSError as error:
        raise SettingsError(
            f"PORT={settings.port}: cannot listen there ({error.strerror}): choose a free port"
        ) from None
    db: Database | None = None
    runtime: Runtime | None = None
    try:
        startup.keep_trying(lambda: startup.slack(settings), stop)
        db = startup.keep_trying(lambda: startup.database(settings), stop)
        readiness.database = ready_db = db
        runtime = startup.keep_trying(
            lambda: startup.runtime(
                settings, lambda: Runtime.assemble(settings, ready_db, readiness=readiness)
            ),
            stop,
        )
        runtime.adopt(listener)
        running.append(runtime)
        if settings.metrics_enabled:
            runtime.serve_metrics(settings.metrics_host, settings.metrics_port)
        runtime.scheduler.start()
        if settings.app_token is not None:
            link = runtime.open_socket_mode(settings.app_token)
            startup.keep_trying(lambda: startup.socket_link(settings, link), stop)
            log.info("Secure Base is running in Socket Mode (health on port %s)", settings.port)
        else:
            log.info("Secure Base is listening on port %s (POST /slack/events)", settings.port)
        while not stop.wait(1.0):
            pass
        log.info("Secure Base is stopping")
        return 0
    except startup.Stopped:
        return 0
    finally:
        readiness.stopping = True
        if runtime is not None:
            runtime.stop()
        else:
            listener.stop()
            if db is not None:
                db.dispose()
