"""`/securebase`: the channel's settings at a glance, the settings and weeks-off modals, and the
preview of the next prompt."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    TimePickerElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.render.common import as_dicts, escape
from bot.render.prompt import Message
from storage.teams import DAY_NAMES

SETTINGS_CALLBACK, WEEKS_OFF_CALLBACK = "securebase_settings", "securebase_weeks_off"
OPEN_SETTINGS, PAUSE, RESUME = "securebase_open_settings", "securebase_pause", "securebase_resume"
OPEN_WEEKS_OFF, PREVIEW = "securebase_open_weeks_off", "securebase_preview"
PREVIEW_INTRO = "securebase_preview_intro"
NAME, DAY, TIME, ZONE, SUPERVISORS, POOL, SUPPORT = (
    "name",
    "day",
    "time",
    "zone",
    "supervisors",
    "pool",
    "support",
)
WEEKS = "weeks"
POOL_LABELS = {
    1: "Every week",
    2: "In blocks of 2 weeks (small teams)",
    4: "In blocks of 4 weeks (very small teams)",
}
ZONES = (
    "Europe/London",
    "Europe/Dublin",
    "Europe/Guernsey",
    "Europe/Jersey",
    "Europe/Isle_of_Man",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Brussels",
    "Europe/Amsterdam",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Copenhagen",
    "Europe/Oslo",
    "Europe/Stockholm",
    "Europe/Helsinki",
    "Europe/Warsaw",
    "Europe/Athens",
    "Atlantic/Reykjavik",
    "America/St_Johns",
    "America/Halifax",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Hong_Kong",
    "Asia/Tokyo",
    "Australia/Perth",
    "Australia/Adelaide",
    "Australia/Brisbane",
    "Australia/Sydney",
    "Australia/Melbourne",
    "Pacific/Auckland",
    "UTC",
)
MAX_OPTIONS = 100


@dataclass(frozen=True)
class TeamSettings:
    """What the settings modal shows (and, for a new team, suggests)."""

    channel_id: str
    name: str
    post_day: int
    post_minute: int
    timezone: str
    supervisors: tuple[str, ...]
    support_text: str | None
    pool_weeks: int
    new: bool


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _option(value: str, label: str) -> Option:
    return Option(value=value, label=label[:75])


def _zone_options(zones: Sequence[str]) -> list[Option]:
    chosen = list(dict.fromkeys(zones))[:MAX_OPTIONS]
    return [_option(zone, zone.replace("_", " ")) for zone in chosen]


def settings_modal(settings: TeamSettings, suggested_zones: Sequence[str]) -> dict[str, Any]:
    days = [_option(str(i), name) for i, name in enumerate(DAY_NAMES)]
    zones = _zone_options([settings.timezone, *suggested_zones, *ZONES])
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    f"Weekly prompts for <#{settings.channel_id}>. The prompt goes to the channel "
                    "and each supervisor gets their reflective questions at the same time."
                )
            )
        ),
        InputBlock(
            block_id=NAME,
            label="Team name",
            element=PlainTextInputElement(
                action_id=NAME, initial_value=settings.name[:100], max_length=100
            ),
        ),
        InputBlock(
            block_id=DAY,
            label="Day of the weekly prompt",
            element=StaticSelectElement(
                action_id=DAY, options=days, initial_option=days[settings.post_day]
            ),
        ),
        InputBlock(
            block_id=TIME,
            label="Time",
            element=TimePickerElement(action_id=TIME, initial_time=hhmm(settings.post_minute)),
        ),
        InputBlock(
            block_id=ZONE,
            label="Time zone",
            element=StaticSelectElement(action_id=ZONE, options=zones, initial_option=zones[0]),
        ),
        InputBlock(
            block_id=SUPERVISORS,
            label="Practice supervisors",
            hint=PlainTextObject(
                text="They see the anonymous team picture and get the reflective questions."
            ),
            element=UserMultiSelectElement(
                action_id=SUPERVISORS,
                initial_users=list(settings.supervisors) or None,
                max_selected_items=10,
            ),
        ),
    ]
    if settings.new:
        pools = [_option(str(weeks), label) for weeks, label in POOL_LABELS.items()]
        blocks.append(
            InputBlock(
                block_id=POOL,
                label="Report the team's answers",
                hint=PlainTextObject(
                    text=(
                        "Small teams: pooling weeks helps each period reach the anonymity "
                        "minimum. This is fixed once the team is set up."
                    )
                ),
                element=StaticSelectElement(
                    action_id=POOL,
                    options=pools,
                    initial_option=pools[list(POOL_LABELS).index(settings.pool_weeks)],
                ),
            )
        )
    blocks.append(
        InputBlock(
            block_id=SUPPORT,
            label="Where to get support",  # Slack adds "(optional)" itself
            optional=True,
            hint=PlainTextObject(
                text=(
                    "Shown on every member's Home tab and privately to anyone who reports high "
                    "stress, e.g. your employee assistance programme's number. Left empty, a "
                    "general line is shown."
                )
            ),
            element=PlainTextInputElement(
                action_id=SUPPORT,
                multiline=True,
                max_length=1000,
                initial_value=settings.support_text or None,
            ),
        )
    )
    view = View(
        type="modal",
        callback_id=SETTINGS_CALLBACK,
        title="Set up Secure Base" if settings.new else "Team settings",
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps({"channel": settings.channel_id}),
        blocks=blocks,
    )
    return view.to_dict()


def weeks_off_modal(
    channel_id: str, team_name: str, weeks: Sequence[tuple[int, str]], chosen: set[int]
) -> dict[str, Any]:
    options = [_option(str(index), label) for index, label in weeks]
    initial = [o for o, (index, _) in zip(options, weeks, strict=True) if index in chosen]
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    f"Weeks off for *{escape(team_name)}*, e.g. over the holidays: no prompt, "
                    "no reflective questions and no reminders in those weeks. People can still "
                    "check in if they want to."
                )
            )
        ),
        InputBlock(
            block_id=WEEKS,
            label="Weeks off",
            optional=True,
            element=StaticMultiSelectElement(
                action_id=WEEKS,
                placeholder="Choose weeks",
                options=options,
                initial_options=initial or None,
            ),
        ),
    ]
    view = View(
        type="modal",
        callback_id=WEEKS_OFF_CALLBACK,
        title="Weeks off",
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps({"channel": channel_id, "weeks": [i for i, _ in weeks]}),
        blocks=blocks,
    )
    return view.to_dict()


def when(team_day: int, minute: int, zone: str) -> str:
    return f"{DAY_NAMES[team_day]}s at {hhmm(minute)} ({zone.replace('_', ' ')})"


def status_message(settings: TeamSettings, paused: bool, weeks_off: Sequence[str]) -> Message:
    supervisors = ", ".join(f"<@{u}>" for u in settings.supervisors) or "none"
    off = ", ".join(weeks_off) if weeks_off else "none planned"
    lines = [
        f"*Secure Base in <#{settings.channel_id}>: {escape(settings.name)}*",
        f"Prompts: {when(settings.post_day, settings.post_minute, settings.timezone)}"
        + (" · *paused*" if paused else ""),
        f"Supervisors: {supervisors}",
        f"Answers reported: {POOL_LABELS[settings.pool_weeks].lower()}",
        f"Weeks off: {off}",
    ]
    value = settings.channel_id
    buttons = [
        ButtonElement(text="Change settings", action_id=OPEN_SETTINGS, value=value),
        ButtonElement(text="Resume prompts", action_id=RESUME, value=value, style="primary")
        if paused
        else ButtonElement(text="Pause prompts", action_id=PAUSE, value=value),
        ButtonElement(text="Plan weeks off", action_id=OPEN_WEEKS_OFF, value=value),
        ButtonElement(text="Preview next prompt", action_id=PREVIEW, value=value),
        ButtonElement(text="The team's introduction", action_id=PREVIEW_INTRO, value=value),
    ]
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text="\n".join(lines))),
        ActionsBlock(block_id="securebase_menu", elements=buttons),
    ]
    text = f"Secure Base in this channel: {settings.name}" + (" (paused)" if paused else "")
    return Message(text, as_dicts(blocks))


def not_set_up(channel_id: str) -> Message:
    text = "Secure Base isn't set up in this channel yet."
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    f"Secure Base isn't set up in <#{channel_id}> yet. Setting it up takes a "
                    "minute: choose when the weekly prompt goes out and who the practice "
                    "supervisors are."
                )
            )
        ),
        ActionsBlock(
            block_id="securebase_setup",
            elements=[
                ButtonElement(
                    text="Set up here", action_id=OPEN_SETTINGS, value=channel_id, style="primary"
                )
            ],
        ),
    ]
    return Message(text, as_dicts(blocks))


def preview_message(
    channel_id: str,
    fire: datetime | None,
    prompt_blocks: list[dict[str, Any]],
    prompt_text: str,
    paused: bool,
) -> Message:
    if fire is None:
        heading = "*Preview, only you can see this.* No prompt is due in the next three months."
        return Message(
            "No prompt is due in the next three months.",
            as_dicts([SectionBlock(text=MarkdownTextObject(text=heading))]),
        )
    moment = f"{fire:%A} {fire.day} {fire:%B %Y at %H:%M} ({fire.tzname()})"
    heading = (
        f"*Preview, only you can see this.* The next prompt goes to <#{channel_id}> on {moment}."
    )
    if paused:
        heading += " Prompts are paused at the moment: it goes out only once you resume."
    blocks: list[dict[str, Any]] = [
        *as_dicts([SectionBlock(text=MarkdownTextObject(text=heading))]),
        *(b for b in prompt_blocks if b.get("type") != "actions"),
        *as_dicts(
            [
                ContextBlock(
                    elements=[
                        MarkdownTextObject(
                            text="In the channel, the prompt has a “Check in privately” button."
                        )
                    ]
                )
            ]
        ),
    ]
    return Message(f"Preview of the next prompt: {prompt_text}", blocks)
