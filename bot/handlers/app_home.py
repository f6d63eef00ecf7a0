"""The App Home tab: this week's domain, a check-in button and how privacy works."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.render.common import citation_line, escape
from bot.render.prompt import OPEN_CHECKIN
from bot.services import Services
from storage.periods import current_week, ensure_period
from storage.teams import list_teams

PRIVACY = (
    "Your check-ins are stored without your name. Your team sees only anonymous totals, "
    "and only for weeks where enough people answered."
)


def home_view(services: Services, workspace: str, user: str) -> dict[str, Any]:
    blocks: list[Block] = [HeaderBlock(text="Secure Base")]
    with services.db.session() as session:
        for team in list_teams(session, workspace):
            period = ensure_period(
                session, team, current_week(team, services.clock.now()), services.rotation
            )
            domain = services.library.domain(period.domain)
            prompt = domain.prompts[period.prompt_index]
            blocks.append(
                SectionBlock(
                    text=MarkdownTextObject(
                        text=(
                            f"*{escape(team.name)}* (<#{team.channel_id}>): this week is "
                            f"*{domain.title}*, “{domain.belief}”.\n{escape(prompt.question)}"
                        )
                    )
                )
            )
            blocks.append(
                ActionsBlock(
                    block_id=f"home_{team.id}",
                    elements=[
                        ButtonElement(
                            text="Check in privately",
                            action_id=OPEN_CHECKIN,
                            value=team.channel_id,
                        )
                    ],
                )
            )
            if len(blocks) > 90:
                break
    blocks.append(SectionBlock(text=MarkdownTextObject(text=PRIVACY)))
    blocks.append(citation_line(services.library.citation))
    return View(type="home", blocks=blocks).to_dict()


def register(app: App, services: Services) -> None:
    @app.event("app_home_opened")
    def opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        if event.get("tab") not in (None, "home"):
            return
        user = event["user"]
        client.views_publish(user_id=user, view=home_view(services, context.team_id or "", user))
