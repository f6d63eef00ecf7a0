"""Everything `securebase run` starts, assembled in one place so tests and the demo can start
the very same bot in-process (with their own clock and the sandbox's URL). The order in which
`securebase run` waits for it and stops it is in bot.service."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from wsgiref.simple_server import WSGIServer

from slack_bolt import App
from starlette.applications import Starlette

from bot import log_privacy, metrics, oauth
from bot.app import LISTENER_QUEUE, LISTENER_THREADS, build_app, web_client
from bot.health import Readiness, SlackWebApi
from bot.listener_pool import ListenerPool
from bot.messenger import SlackMessenger
from bot.oauth import Installations
from bot.server import Listener, create_web_app
from bot.services import Services
from bot.settings import Settings, SettingsError
from bot.socket_mode import SocketModeLink
from practice.clock import Clock
from scheduler.housekeeping import housekeeping as keep_house
from scheduler.reminders import REMINDER_SWEEP, ReminderDelivery
from scheduler.service import PromptScheduler
from scheduler.weekly import WeeklyDelivery
from storage.db import Database
from storage.migrate import upgrade
from storage.sealed_weeks import rewrap_open_weeks

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
    readiness: Readiness = field(default_factory=Readiness)
    socket_link: SocketModeLink | None = None
    _listeners: list[Listener] = field(default_factory=list)
    _exporter: WSGIServer | None = None

    @classmethod
    def create(cls, settings: Settings, clock: Clock | None = None) -> Runtime:
        """The whole bot at once (tests, the demo, one-off commands): fails if the database
        or Slack cannot be reached."""
        return cls.assemble(settings, open_database(settings), clock)

    @classmethod
    def assemble(
        cls,
        settings: Settings,
        db: Database,
        clock: Clock | None = None,
        readiness: Readiness | None = None,
    ) -> Runtime:
        """The bot on a database already migrated. Asks Slack who the bot is (one workspace),
        so it raises what slack_sdk raises when Slack refuses the token or cannot be reached.
        `readiness` (the HTTP listener's, when it was up first) learns of the database and
        Slack here."""
        log_privacy.install()  # before anything can log a request, a row or a parameter
        services = Services.create(settings, db, clock)
        listeners = ListenerPool(LISTENER_THREADS, LISTENER_QUEUE)
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
            messenger,
            services.rotation,
            worker,
            lease=timedelta(seconds=settings.claim_lease_seconds),
        )
        scheduler.add_job(reminders.run_due, "interval", id="reminders", **REMINDER_SWEEP)
        metrics.watch(scheduler.scheduler)
        readiness = readiness or Readiness()
        readiness.database = db
        if settings.app_token is None:  # in Socket Mode, the link says (open_socket_mode)
            readiness.slack = SlackWebApi(settings.api_url)
        return cls(
            services,
            app,
            delivery,
            scheduler,
            bot_user_id,
            listeners,
            reminders,
            installations,
            readiness,
        )

    def web_app(self, *, slack_requests: bool = True) -> Starlette:
        """The HTTP listener's app: health, and Slack's requests unless in Socket Mode."""
        settings = self.services.settings
        return create_web_app(
            self.readiness,
            settings.signing_secret,
            (lambda: self.app) if slack_requests else None,
            oauth=settings.oauth,
        )

    def open_socket_mode(self, app_token: str) -> SocketModeLink:
        """The Socket Mode link (not yet connected: `connect()` it); from now on readiness
        means that the link is open."""
        link = self.socket_link = SocketModeLink(self.app, app_token)
        self.readiness.slack = link.is_connected
        return link

    def adopt(self, listener: Listener) -> None:
        """Stop `listener` (already serving) with the rest of the bot."""
        self._listeners.append(listener)

    def serve_http_in_thread(
        self, host: str = "127.0.0.1", port: int = 0, *, slack_requests: bool = True
    ) -> str:
        """Start the HTTP listener in a background thread; returns its base URL (for tests
        and the demo)."""
        listener = Listener(self.web_app(slack_requests=slack_requests), host, port, grace=5)
        url = listener.start()
        self._listeners.append(listener)
        return url

    def serve_metrics(self, host: str, port: int) -> None:
        """Prometheus metrics on their own port (bot.metrics), until `stop`."""
        try:
            self._exporter = metrics.serve(host, port)
        except OSError as error:
            raise SettingsError(
                f"METRICS_PORT={port} cannot be opened on {host} ({error.strerror}): choose "
                "another METRICS_PORT, or check METRICS_HOST"
            ) from None
        log.info("metrics at http://%s:%s/metrics", host, port)

    def stop(self) -> None:
        """Stop taking requests (Socket Mode: once every envelope received is acknowledged;
        HTTP: once requests in flight are answered), let running jobs and listeners finish,
        then close the pool."""
        self.readiness.stopping = True
        if self._exporter is not None:
            self._exporter.shutdown()
            self._exporter.server_close()
        if self.socket_link is not None:
            self.socket_link.close()
        for listener in self._listeners:
            listener.stop()
        self.scheduler.shutdown()
        self.listeners.shutdown(wait=True)
        self.services.db.dispose()
        log.info("stopped: the scheduler and every listener have finished")


def open_database(settings: Settings) -> Database:
    """The database, migrated to the latest schema, with the operator's key (the engine is
    closed again on failure). Refuses (KeyProblem) when an open week is sealed under a key this
    process does not have; re-wraps weeks sealed under SECUREBASE_SECRET_KEY_PREVIOUS."""
    db = Database(settings.database_url, settings.require_keyring())
    try:
        applied = upgrade(db)
        with db.session() as session:
            moved = rewrap_open_weeks(session)
    except BaseException:
        db.dispose()
        raise
    if applied:
        log.info("database migrated: %s", ", ".join(m.revision for m in applied))
    if moved:
        log.info("%d open week(s) re-wrapped under the new secret key", moved)
    return db
