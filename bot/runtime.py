"""Everything `securebase run` starts, assembled in one place so tests and the demo can start
the very same bot in-process (with their own clock and the sandbox's URL)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

import uvicorn
from slack_bolt import App
from starlette.applications import Starlette

from bot import log_privacy, oauth
from bot.app import LISTENER_THREADS, build_app, web_client
from bot.handlers.reminders import SlackReminderMessenger
from bot.listener_pool import ListenerPool
from bot.messenger import SlackMessenger
from bot.oauth import Installations
from bot.server import create_web_app
from bot.services import Services
from bot.settings import Settings
from scheduler.reminders import REMINDER_SWEEP, ReminderDelivery
from scheduler.service import PromptScheduler
from scheduler.weekly import WeeklyDelivery
from storage.clock import Clock
from storage.db import Database
from storage.migrate import upgrade
from storage.retention import housekeeping as keep_house

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    services: Services
    app: App
    delivery: WeeklyDelivery
    scheduler: PromptScheduler
    bot_user_id: str | None  # one-workspace mode; per workspace from `installations` in OAuth
    listeners: ListenerPool
    reminders: ReminderDelivery
    installations: Installations | None = None
    _servers: list[uvicorn.Server] = field(default_factory=list)

    @classmethod
    def create(cls, settings: Settings, clock: Clock | None = None) -> Runtime:
        log_privacy.install()  # before anything can log a request, a row or a parameter
        db = Database(settings.database_url)
        upgrade(db)
        services = Services.create(settings, db, clock)
        listeners = ListenerPool(LISTENER_THREADS)
        installations: Installations | None = None
        if settings.oauth:
            # Many workspaces: each one's token comes from the installation store.
            store = oauth.installation_store(settings, db)
            app = build_app(services, listeners, store)
            found = installations = Installations(settings, store, web_client(services))
            bot_user_id = None
            messenger = SlackMessenger(
                services, lambda ws: web_client(services, found.bot_token(ws)), found.bot_user
            )
        else:
            app = build_app(services, listeners)
            bot_user_id = app.client.auth_test().get("user_id")
            messenger = SlackMessenger(services, lambda _ws: app.client, lambda _ws: bot_user_id)
        worker = f"{socket.gethostname()}:{os.getpid()}"
        delivery = WeeklyDelivery(
            db,
            services.clock,
            messenger,
            services.rotation,
            worker,
            lease=timedelta(seconds=settings.claim_lease_seconds),
        )

        def housekeeping() -> None:
            keep_house(db, settings.retention_weeks, services.clock.now())

        scheduler = PromptScheduler(delivery, housekeeping=housekeeping)
        reminders = ReminderDelivery(
            db,
            services.clock,
            SlackReminderMessenger(services, messenger.client_for, messenger.bot_user_for),
            services.rotation,
            worker,
            lease=timedelta(seconds=settings.claim_lease_seconds),
        )
        scheduler.scheduler.add_job(reminders.run_due, "interval", id="reminders", **REMINDER_SWEEP)
        return cls(
            services, app, delivery, scheduler, bot_user_id, listeners, reminders, installations
        )

    def _web_app(self) -> Starlette:
        return create_web_app(self.app, self.services.db, self.services.settings.signing_secret)

    def serve_http(self, host: str, port: int) -> None:
        """Serve until SIGINT/SIGTERM; uvicorn lets in-flight requests finish first.

        uvicorn raises the SIGTERM it caught again once it has shut down, which would kill the
        process before `stop()` drains the listeners and the scheduler; a no-op handler
        swallows that second delivery, so SIGTERM ends in a clean exit 0.
        """
        config = uvicorn.Config(
            self._web_app(),
            host=host,
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=10,
        )
        previous = signal.signal(signal.SIGTERM, lambda *_: None)
        try:
            uvicorn.Server(config).run()
        finally:
            signal.signal(signal.SIGTERM, previous)

    def serve_http_in_thread(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving in a background thread; returns the base URL (for tests and the demo)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        config = uvicorn.Config(
            self._web_app(),
            log_level="warning",
            timeout_graceful_shutdown=5,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the bot's HTTP server did not start")
            time.sleep(0.01)
        self._servers.append(server)
        bound_port = sock.getsockname()[1]
        return f"http://{host}:{bound_port}"

    def stop(self) -> None:
        """Stop taking requests, let running jobs and listeners finish, then close the pool."""
        for server in self._servers:
            server.should_exit = True
        self.scheduler.shutdown()
        self.listeners.shutdown(wait=True)
        self.services.db.dispose()
