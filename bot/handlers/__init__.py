"""One module per Slack surface; each registers its own listeners with `register(app, ...)`."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from bot.handlers import (
    admin,
    app_home,
    chart,
    checkin,
    reminders,
    share,
    teampulse,
    uninstall,
)
from bot.membership import ChannelMembers
from bot.services import Services


def register_all(app: App, services: Services) -> None:
    members = ChannelMembers()

    def refresh_home(client: WebClient, workspace: str, user: str) -> None:
        app_home.refresh_home(services, members, client, workspace, user)

    checkin.register(app, services, members, after_checkin=refresh_home)
    teampulse.register(app, services, members)
    app_home.register(app, services, members)
    chart.register(app, services)
    share.register(app, services)
    reminders.register(app, services, members)
    admin.register(app, services)
    uninstall.register(app, services)
