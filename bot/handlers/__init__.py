"""One module per Slack surface; each registers its own listeners with `register(app, ...)`."""

from __future__ import annotations

from slack_bolt import App

from bot.handlers import app_home, checkin, teampulse
from bot.membership import ChannelMembers
from bot.services import Services


def register_all(app: App, services: Services) -> None:
    members = ChannelMembers()
    checkin.register(app, services, members)
    teampulse.register(app, services, members)
    app_home.register(app, services)
