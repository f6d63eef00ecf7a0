"""One module per Slack surface; each exposes `register(app)`, and `register_all` is the one
place they are registered. Listeners reach the bot's services through Bolt's context
(`bot.handlers.wiring`)."""

from __future__ import annotations

from slack_bolt import App

from bot.handlers import (
    admin,
    app_home,
    chart,
    checkin,
    reminders,
    share,
    talking,
    teampulse,
    uninstall,
)
from bot.handlers.wiring import provide
from bot.services import Services


def register_all(app: App, services: Services) -> None:
    app.use(provide(services, app.installation_store))
    checkin.register(app)
    teampulse.register(app)
    app_home.register(app)
    chart.register(app)
    share.register(app)
    talking.register(app)
    reminders.register(app)
    admin.register(app)
    uninstall.register(app)
