"""The App Home tab: a card for each team a person supervises and each team they belong to.

Figures read without colour or emoji, numbers first: a text bar only ever follows its number
("3.4 ███░░"), so a screen reader meets the figure before the bar; a period below the
anonymity minimum says so in words, never with a number. An item whose answers all fell in one
band shows that band ("all High (4–5)") instead of a bar and an average.

The profile sets each domain beside its own earlier rotations, never against the other
domains (practice.profile says why).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.content import Domain, Library, TeamPrompt
from bot.render.bands import TOO_FEW, item_reading, reworded, scale_ends, whole_band
from bot.render.common import citation_line, escape
from bot.render.prompt import OPEN_CHECKIN
from bot.render.pulse import PARTICIPATION_NOTE, participation_text, short_figure
from bot.render.reminder import REMINDERS_OFF, REMINDERS_ON
from bot.render.signpost import home_support
from bot.render.talking import talking_button
from practice.figures import Bands, BlockFigures, Reading
from practice.profile import DomainHistory, Profile
from practice.weeks import Week

HOME_CHECKIN, SHARE_PERIOD, SEND_CHART = "home_checkin", "share_period", "send_chart"
NOT_ENOUGH = "not enough answers"
REFLECTIONS_OFFERED = 3


def text_bar(mean: float, cells: int = 5) -> str:
    """The mean, then a bar of `cells` blocks, as many filled as the mean rounds to."""
    filled = max(0, min(cells, int(mean + 0.5)))
    return f"{mean:.1f} {'█' * filled}{'░' * (cells - filled)}"


def bar_or_band(bands: Bands | None) -> str:
    """The text bar and mean, or for a one-band item (no mean) that band."""
    if bands is None:
        return TOO_FEW
    return whole_band(bands) if bands.mean is None else text_bar(bands.mean)


def share_value(channel_id: str, first_week: int) -> str:
    return json.dumps({"channel": channel_id, "week": first_week}, separators=(",", ":"))


def domain_titles(library: Library, keys: Sequence[str]) -> str:
    return " + ".join(library.domain(key).title for key in keys)


@dataclass(frozen=True)
class MemberCard:
    team_name: str
    channel_id: str
    domain: Domain
    prompt: TeamPrompt
    checked_in: bool
    note: str | None = None  # e.g. the team is taking a week off
    support: str | None = None  # the team's own support line, if it has one


@dataclass(frozen=True)
class SupervisorCard:
    team_name: str
    channel_id: str
    domain: Domain
    readings: list[Reading]  # newest first
    profile: Profile
    weeks_off: frozenset[int]  # the team's weeks off, so a period off is called that
    note: str | None = None


def _trend(library: Library, card: SupervisorCard) -> str:
    if not card.readings:
        return "No finished weeks yet: the first figures appear once the first week has closed."
    labels = [r.block.label() for r in card.readings]
    titles = [domain_titles(library, r.block.domains) for r in card.readings]
    label_width, title_width = max(map(len, labels)), max(map(len, titles))
    lines = []
    older = [*card.readings[1:], None]
    for reading, label, title, before in zip(card.readings, labels, titles, older, strict=True):
        head = f"{label.ljust(label_width)}  {title.ljust(title_width)}  "
        weeks = range(reading.block.first_week, reading.block.last_week + 1)
        if isinstance(reading, BlockFigures):
            lines.append(
                f"{head}support {bar_or_band(reading.availability)}  "
                f"stress {bar_or_band(reading.stress)}  {participation_text(reading)}"
            )
        elif all(week in card.weeks_off for week in weeks):
            lines.append(f"{head}week off")
        else:
            lines.append(f"{head}{NOT_ENOUGH}")
        change = None if before is None else reworded(reading, before)
        if change:
            lines.append(change)
    return "```" + escape("\n".join(lines)) + "```"


def _earlier(history: DomainHistory) -> str:
    parts = []
    for showing in history.showings[1:]:
        figure = NOT_ENOUGH if showing.item is None else _short(showing.item)
        parts.append(f"{showing.block.label()} {figure}")
    return f" Earlier: {'; '.join(parts)}." if parts else ""


def _short(item: Bands) -> str:
    return short_figure(item, " of 5")


def _domain_line(library: Library, history: DomainHistory) -> str:
    domain = library.domain(history.domain)
    latest = history.latest
    if latest is None:
        return f"• *{domain.title}*, “{domain.belief}”: not come round yet."
    # The statement people agreed with (every showing has the same version of it).
    statement = library.item_title(history.domain, latest.block.items_version)
    figure = NOT_ENOUGH if latest.item is None else item_reading(library.agreement, latest.item)
    return f"• *{domain.title}*, “{statement}”: {latest.block.label()}: {figure}." + _earlier(
        history
    )


def _change(library: Library, profile: Profile) -> list[Block]:
    """Any domain whose figure clearly fell since its last rotation; else that nothing has
    clearly changed. Never which domain is lowest: the statements are not one scale."""
    fallen = profile.fallen
    if not fallen:
        text = (
            "Nothing has clearly changed since each domain's last rotation."
            if profile.comparable
            else "Once a domain has come round twice, it is set beside its last rotation here."
        )
        return [SectionBlock(text=MarkdownTextObject(text=text))]
    blocks: list[Block] = []
    for fall in fallen:
        domain = library.domain(fall.domain)
        questions = "\n".join(f"• {escape(q)}" for q in domain.reflections[:REFLECTIONS_OFFERED])
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f"*{domain.title}* is lower than in its last rotation: "
                        f"{_short(fall.now_item)} ({fall.now.block.label()}), "
                        f"{_short(fall.before_item)} before ({fall.before.block.label()}). "
                        "That may be chance: a few "
                        "people's weeks can move a figure. If it helps, some questions to sit "
                        f"with:\n{questions}"
                    )[:3000]
                )
            )
        )
    return blocks


def _profile(library: Library, card: SupervisorCard) -> list[Block]:
    profile = card.profile
    if not profile.window:
        return []
    span = (
        f"{Week(profile.window[-1].first_week).label()} to "
        f"{Week(profile.window[0].last_week).label()}"
    )
    lines = [_domain_line(library, history) for history in profile.domains]
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    f"*Your team's secure base profile* ({span})\n"
                    f"How far people agreed with each domain's statement "
                    f"({scale_ends(library.agreement)}), newest first, beside its own earlier "
                    "rotations. The statements differ, so one domain's figure is never "
                    "compared with another's.\n" + "\n".join(lines)
                )[:3000]
            )
        ),
        *_change(library, profile),
    ]


def supervisor_blocks(library: Library, card: SupervisorCard, index: int) -> list[Block]:
    reflections = "\n".join(f"• {escape(q)}" for q in card.domain.reflections)
    this_week = f"*This week: {card.domain.title}*, “{card.domain.belief}”"
    if card.note:
        this_week += f"\n_{escape(card.note)}_"
    blocks: list[Block] = [
        HeaderBlock(text=f"{card.team_name}: for you as supervisor"[:150]),
        SectionBlock(
            text=MarkdownTextObject(
                text=f"{this_week}\nQuestions to ask yourself this week:\n{reflections}"[:3000]
            )
        ),
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*Last {len(card.readings) or 8} periods, newest first*\n"
                + _trend(library, card)
            )
        ),
        *_profile(library, card),
    ]
    latest = next((r for r in card.readings if isinstance(r, BlockFigures)), None)
    buttons = [
        ButtonElement(
            text="Send me the chart", action_id=f"{SEND_CHART}_{index}", value=card.channel_id
        ),
        talking_button(f"_{index}"),
    ]
    if latest is not None:
        buttons.insert(
            0,
            ButtonElement(
                text=f"Share {latest.block.label()} with the team"[:75],
                action_id=f"{SHARE_PERIOD}_{index}",
                value=share_value(card.channel_id, latest.block.first_week),
            ),
        )
    blocks.append(ActionsBlock(block_id=f"supervise_{index}", elements=buttons))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=(
                        "Anonymous totals from finished periods only; support and stress are "
                        "averages out of 5 (higher support is better, lower stress is better), "
                        "or the one band (low 1–2, middle 3, high 4–5) that everyone's answers "
                        f"fell in. {PARTICIPATION_NOTE} Your team can see each time you look "
                        "(`/teampulse log`)."
                    )
                )
            ]
        )
    )
    blocks.append(DividerBlock())
    return blocks


def member_blocks(card: MemberCard, index: int) -> list[Block]:
    status = (
        "*You've checked in this week.* Only you can see this. Checking in again replaces it."
        if card.checked_in
        else "*Not checked in this week yet.* Whenever suits you: it takes about a minute."
    )
    this_week = (
        f"In <#{card.channel_id}>, this week is *{card.domain.title}*, “{card.domain.belief}”.\n"
        f"{escape(card.prompt.question)}\n_Try this week:_ {escape(card.prompt.try_this)}"
    )
    if card.note:
        this_week = f"_{escape(card.note)}_\n{this_week}"
    return [
        HeaderBlock(text=card.team_name[:150]),
        SectionBlock(text=MarkdownTextObject(text=this_week)),
        SectionBlock(text=MarkdownTextObject(text=status)),
        ActionsBlock(
            block_id=f"member_{index}",
            elements=[
                ButtonElement(
                    text="Check in privately" if not card.checked_in else "Check in again",
                    # The first team's button is the weekly prompt's own; action ids must
                    # differ within a view, so further teams' buttons are numbered.
                    action_id=OPEN_CHECKIN if index == 0 else f"{HOME_CHECKIN}_{index}",
                    value=card.channel_id,
                    style="primary" if not card.checked_in else None,
                )
            ],
        ),
    ]


def privacy_lines(anonymity_min: int) -> ContextBlock:
    return ContextBlock(
        elements=[
            MarkdownTextObject(
                text=(
                    "Your check-ins are stored without your name, and your supervisor never "
                    "sees your answers.\nThe team's anonymous totals appear once a week has "
                    f"ended, and only for weeks where at least {anonymity_min} people answered."
                )
            )
        ]
    )


def reminder_setting(on: bool) -> list[Block]:
    if on:
        text = "*Reminders are on.* Everyone in the team gets one midweek note a week."
        button = ButtonElement(text="Stop reminders", action_id=REMINDERS_OFF, value="off")
    else:
        text = "*Reminders are off.* You can still check in any time with `/checkin`."
        button = ButtonElement(text="Turn reminders on", action_id=REMINDERS_ON, value="on")
    return [
        SectionBlock(block_id="reminders", text=MarkdownTextObject(text=text), accessory=button)
    ]


NOT_IN_A_TEAM = (
    "Secure Base helps a social work team be a secure base for each other: a short prompt in "
    "the team channel each week, and a private check-in that only ever counts towards "
    "anonymous team totals.\n\nYou're not in a team channel that uses it yet, so there's "
    "nothing to show you here. If you think you should be, ask your practice supervisor. A "
    "workspace admin can set a team up by typing `/securebase` in the team's channel."
)


def home_view(
    library: Library,
    supervising: Sequence[SupervisorCard],
    belonging: Sequence[MemberCard],
    reminders_on: bool,
    anonymity_min: int,
    more_teams: int = 0,
) -> dict[str, Any]:
    blocks: list[Block] = [HeaderBlock(text="Secure Base")]
    for index, card in enumerate(supervising):
        blocks.extend(supervisor_blocks(library, card, index))
    for index, member_card in enumerate(belonging):
        blocks.extend(member_blocks(member_card, index))
    if belonging:
        blocks.append(privacy_lines(anonymity_min))
        blocks.append(home_support(card.support for card in belonging))
        blocks.extend(reminder_setting(reminders_on))
    if not supervising and not belonging:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=NOT_IN_A_TEAM)))
    if more_teams:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=(
                            f"…and {more_teams} more teams. Use `/teampulse` or `/checkin` in "
                            "their channels."
                        )
                    )
                ]
            )
        )
    blocks.append(citation_line(library.citation))
    return View(type="home", blocks=blocks).to_dict()
