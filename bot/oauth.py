"""Installing in many workspaces: Bolt's OAuth flow on slack_sdk's SQLAlchemy stores.

The installation and state stores live in the bot's own database (tables from migration 0003),
so every replica sees every install. Requests are authorised by Bolt per workspace; scheduled
posts, which run outside any request, get their workspace's token from `Installations`, which
also refreshes rotating tokens (slack_sdk's TokenRotator) before they run out.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import urljoin

from slack_bolt.oauth import OAuthFlow
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError, SlackTokenRotationError
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation import TokenRotator

from bot.settings import Settings
from storage.db import Database

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600  # how long an install link stays good
REFRESH_MINUTES = 120  # refresh a rotating token this long before it expires


class NotInstalled(SlackClientError):
    """The app has no (working) installation in this workspace: someone has to install it."""


def authorize_url(api_url: str) -> str:
    """Slack's install page beside its Web API: https://slack.com/oauth/v2/authorize for the
    real one, the same path on the sandbox."""
    return urljoin(api_url, "../oauth/v2/authorize")


def installation_store(settings: Settings, db: Database) -> SQLAlchemyInstallationStore:
    return SQLAlchemyInstallationStore(
        client_id=settings.client_id or "",
        engine=db.engine,
        logger=logging.getLogger("securebase.oauth"),
    )


def oauth_flow(
    settings: Settings, db: Database, store: SQLAlchemyInstallationStore, client: WebClient
) -> OAuthFlow:
    """`/slack/install` redirects to Slack's consent page; `/slack/oauth_redirect` exchanges the
    code (oauth.v2.access through `client`, so SLACK_API_URL applies) and saves the install."""
    oauth_settings = OAuthSettings(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        scopes=list(settings.scopes),
        user_scopes=[],
        redirect_uri=settings.redirect_uri,
        install_path=INSTALL_PATH,
        install_page_rendering_enabled=False,
        redirect_uri_path=REDIRECT_PATH,
        authorization_url=authorize_url(settings.api_url),
        installation_store=store,
        state_store=SQLAlchemyOAuthStateStore(
            expiration_seconds=STATE_SECONDS,
            engine=db.engine,
            logger=logging.getLogger("securebase.oauth"),
        ),
        state_expiration_seconds=STATE_SECONDS,
        token_rotation_expiration_minutes=REFRESH_MINUTES,
        logger=logging.getLogger("securebase.oauth"),
    )
    return OAuthFlow(client=client, settings=oauth_settings)


class Installations:
    """Each workspace's bot token and bot user, for work done outside a Slack request."""

    def __init__(
        self, settings: Settings, store: SQLAlchemyInstallationStore, client: WebClient
    ) -> None:
        self.store = store
        self.rotator = TokenRotator(
            client_id=settings.client_id or "",
            client_secret=settings.client_secret or "",
            client=client,
        )
        self._lock = threading.Lock()  # one refresh at a time in this process

    def find(self, workspace: str) -> Installation:
        installation = self.store.find_installation(enterprise_id=None, team_id=workspace)
        if installation is None or not installation.bot_token:
            raise NotInstalled(f"Secure Base is not installed in workspace {workspace}")
        return installation

    def bot_token(self, workspace: str) -> str:
        with self._lock:
            installation = self.find(workspace)
            if installation.bot_refresh_token is None:
                return str(installation.bot_token)
            try:
                refreshed = self.rotator.perform_token_rotation(
                    installation=installation, minutes_before_expiration=REFRESH_MINUTES
                )
            except SlackTokenRotationError:
                # Another replica may have spent the refresh token first and saved a new one.
                latest = self.find(workspace)
                if latest.bot_token == installation.bot_token:
                    raise NotInstalled(
                        f"the token for workspace {workspace} could not be refreshed"
                    ) from None
                return str(latest.bot_token)
            if refreshed is None:
                return str(installation.bot_token)
            self.store.save(refreshed)
            log.info("workspace %s: bot token refreshed", workspace)
            return str(refreshed.bot_token)

    def bot_user(self, workspace: str) -> str | None:
        try:
            return self.find(workspace).bot_user_id
        except NotInstalled:
            return None
