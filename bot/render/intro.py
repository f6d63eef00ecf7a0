"""The introduction a team's channel gets when Secure Base is set up there, and its preview.

It says what the weekly prompt is, that checking in is voluntary and private, who sees what
(one line each, in PRIVACY.md's words: bot.render.common), that it is not monitoring and how to
stop reminders. The supervisor can preview it and post it again (`/securebase intro`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.render.admin import when
from bot.render.common import as_dicts, citation_line, escape, promise
from bot.render.prompt import Message

POST_INTRO = "securebase_post_intro"


@dataclass(frozen=True)
class IntroTeam:
    """What the introduction says about the team."""

    name: str
    channel_id: str
    supervisors: Sequence[str]
    post_day: int
    post_minute: int
    timezone: str


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def intro_blocks(
    team: IntroTeam, anonymity_min: int, privacy_url: str | None, citation: str
) -> list[Block]:
    moment = when(team.post_day, team.post_minute, team.timezone)
    supervisors = ", ".join(f"<@{u}>" for u in team.supervisors)
    plural = "s" if len(team.supervisors) > 1 else ""
    seen = "\n".join(f"• {line}" for line in promise(anonymity_min))
    privacy = (
        f"<{privacy_url}|How your privacy is protected>"
        if privacy_url
        else "How your privacy is protected: PRIVACY.md, shipped with Secure Base."
    )
    return [
        HeaderBlock(text="Hello from Secure Base"),
        _section(
            f"*{escape(team.name)}* is trying Secure Base: a small weekly habit to help us be a "
            "secure base for each other, the kind of team you can come back to after a hard day."
        ),
        _section(
            f"*Each week*, on {moment}, a short prompt appears here: one idea from the Team as a "
            "Secure Base model, a question for us and one small thing to try. Reply in the "
            "prompt's thread, or bring it to the team meeting."
        ),
        _section(
            "*Checking in is voluntary and private.* Under each prompt there's a “Check in "
            "privately” button: three quick questions and a comment if you want, about a "
            "minute. Whether you check in is up to you, every week."
        ),
        _section(
            f"*Who sees what*\n{seen}\nPractice supervisor{plural} for this team: {supervisors}."
        ),
        _section(
            "*This isn't monitoring.* It isn't a way of checking up on anyone: the figures "
            "are the team's, to help us notice how we're doing and talk about it, not for "
            "appraisal or for comparing teams."
        ),
        _section(
            "*Reminders.* Midweek everyone gets one short reminder, whether they've checked in "
            "or not. To stop them, press “Stop these reminders” on the reminder, or use the "
            "Secure Base app's Home tab."
        ),
        ContextBlock(elements=[MarkdownTextObject(text=privacy)]),
        citation_line(citation),
    ]


def introduction(
    team: IntroTeam, anonymity_min: int, privacy_url: str | None, citation: str
) -> Message:
    text = (
        f"Hello from Secure Base: {team.name} has a short weekly prompt here from now on, and a "
        "private check-in that is up to you."
    )
    return Message(text, as_dicts(intro_blocks(team, anonymity_min, privacy_url, citation)))


def intro_preview(
    team: IntroTeam, anonymity_min: int, privacy_url: str | None, citation: str
) -> Message:
    """The introduction as only the supervisor sees it, with a button to post it again."""
    heading = _section(
        f"*Preview, only you can see this.* <#{team.channel_id}> gets this introduction when "
        "the team is set up. You can post it again whenever it helps, for example when new "
        "people join."
    )
    post = ActionsBlock(
        block_id="securebase_intro",
        elements=[
            ButtonElement(
                text="Post it in the channel",
                action_id=POST_INTRO,
                value=team.channel_id,
                style="primary",
            )
        ],
    )
    blocks = [heading, *intro_blocks(team, anonymity_min, privacy_url, citation), post]
    return Message(f"Preview of the introduction for {team.name}", as_dicts(blocks))
