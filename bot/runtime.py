"""Everything `securebase run` starts, assembled in one place so tests and the demo can start
the very same bot in-process (with their own clock and the sandbox's URL)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn
from slack_bolt import App
from slack_sdk import WebClient

from bot.app import build_app
from bot.messenger import SlackMessenger
from bot.server import create_web_app
from bot.services import Services
from bot.settings import Settings
from scheduler.service import PromptScheduler
from scheduler.weekly import WeeklyDelivery
from storage.clock import Clock
from storage.db import Database
from storage.migrate import upgrade
from storage.retention import purge_older_than

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    services: Services
    app: App
    delivery: WeeklyDelivery
    scheduler: PromptScheduler
    bot_user_id: str | None
    _servers: list[uvicorn.Server] = field(default_factory=list)

    @classmethod
    def create(cls, settings: Settings, clock: Clock | None = None) -> Runtime:
        db = Database(settings.database_url)
        upgrade(db)
        services = Services.create(settings, db, clock)
        app = build_app(services)
        identity = app.client.auth_test()
        bot_user_id = identity.get("user_id")

        def client_for(_workspace: str) -> WebClient:
            return app.client

        messenger = SlackMessenger(services, client_for, lambda _workspace: bot_user_id)
        worker = f"{socket.gethostname()}:{os.getpid()}"
        delivery = WeeklyDelivery(db, services.clock, messenger, services.rotation, worker)

        def housekeeping() -> None:
            with db.session() as session:
                purge_older_than(session, settings.retention_weeks, services.clock.now())

        scheduler = PromptScheduler(delivery, housekeeping=housekeeping)
        return cls(services, app, delivery, scheduler, bot_user_id)

    def serve_http(self, host: str, port: int) -> None:
        """Serve until SIGINT/SIGTERM; uvicorn lets in-flight requests finish first."""
        config = uvicorn.Config(
            create_web_app(self.app, self.services.db),
            host=host,
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=10,
        )
        uvicorn.Server(config).run()

    def serve_http_in_thread(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving in a background thread; returns the base URL (for tests and the demo)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        config = uvicorn.Config(
            create_web_app(self.app, self.services.db),
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
        for server in self._servers:
            server.should_exit = True
        self.scheduler.shutdown()
        self.services.db.dispose()
