"""`/teampulse log`: one page of who has looked at a team's results, newest first, with buttons
to page back through every look still kept."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.render.common import as_dicts, escape
from practice.figures import Surface
from storage.models import PulseView
from storage.pulse import LogSlice

OLDER, NEWER = "view_log_older", "view_log_newer"
NOBODY = "• Nobody has looked at the results yet."
SLACK_ID = re.compile(r"[UW][A-Z0-9]+")


@dataclass(frozen=True)
class LogPage:
    team_name: str
    channel_id: str
    log: LogSlice
    retention_weeks: int


def _when(view: PulseView) -> str:
    """When, in the reader's own time zone (Slack's date token), with a UTC fallback."""
    fallback = f"{view.viewed_at:%a %d %b %Y at %H:%M} UTC"
    return f"<!date^{int(view.viewed_at.timestamp())}^{{date_long_pretty}} at {{time}}|{fallback}>"


def look_line(view: PulseView) -> str:
    """One look, as the team reads it: who, when, where and which weeks (and for an export, who
    it was for and why)."""
    when, what = _when(view), escape(view.what)
    if view.surface == Surface.EXPORT:
        reason = escape(view.reason or "")
        return f"• Exported for <@{view.viewer_id}> by the CLI {when} ({what}), reason: “{reason}”"
    if not SLACK_ID.fullmatch(view.viewer_id):  # an export from before `--by` was required
        return f"• Exported by the CLI for nobody named, {when} ({what})"
    return f"• <@{view.viewer_id}> looked {when} ({what})"


def _button(text: str, action_id: str, channel_id: str, page: int) -> ButtonElement:
    value = json.dumps({"channel": channel_id, "page": page})
    return ButtonElement(text=text, action_id=action_id, value=value)


def log_page(page: LogPage) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks for one page of a team's view log."""
    title = f"*Who has looked at {escape(page.team_name)}'s results*"
    log = page.log
    if log.pages > 1:
        title += f" (page {log.page} of {log.pages})"
    lines = [look_line(view) for view in log.looks] or [NOBODY]
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=title))]
    blocks += [SectionBlock(text=MarkdownTextObject(text=line)) for line in lines]
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Every look is kept here for {page.retention_weeks} weeks, "
                    "like the answers themselves."
                )
            ]
        )
    )
    buttons = []
    if log.page > 1:
        buttons.append(_button("Newer looks", NEWER, page.channel_id, log.page - 1))
    if log.page < log.pages:
        buttons.append(_button("Older looks", OLDER, page.channel_id, log.page + 1))
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    return ("\n".join([title, *lines]))[:3900], as_dicts(blocks)
