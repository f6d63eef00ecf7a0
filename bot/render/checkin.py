"""The private check-in modal and what it says back."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any, ParamSpec, cast

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.content import Domain, Library, Scale
from bot.render.common import STORED_WITHOUT_NAME, citation_line, escape, supervisor_sees
from bot.render.signpost import comment_hint
from practice.checkin import Refusal

P = ParamSpec("P")

CALLBACK_ID = "checkin"
AVAILABILITY, STRESS, DOMAIN_ITEM, COMMENT = "availability", "stress", "domain_item", "comment"
COMMENT_MAX = 1000
NOT_NEEDED = "not_needed"  # the value of a scale's extra "I didn't need any this week" choice


def _radio(block_id: str, label: str, scale: Scale, optional: bool) -> InputBlock:
    options = [
        Option(value=str(value), label=label_text)
        for value, label_text in enumerate(scale.labels, start=1)
    ]
    if scale.not_needed is not None:
        options.append(Option(value=NOT_NEEDED, label=scale.not_needed))
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=optional,
        hint=None if scale.note is None else PlainTextObject(text=scale.note),
        element=RadioButtonsElement(action_id=block_id, options=options),
    )


def domain_item_label(library: Library, domain: Domain) -> str:
    """The belief statement in quotes, then the agreement question."""
    return f"“{domain.checkin_statement}” {library.agreement.question}"


def _fresh_copies(build: Callable[P, str]) -> Callable[P, dict[str, Any]]:
    """`build` (returning a view as JSON) run once per set of arguments; each caller gets a
    fresh dict of its own to change as it likes."""
    cached = cast(Callable[P, str], lru_cache(maxsize=1024)(build))  # arguments are hashable

    def fresh(*args: P.args, **kwargs: P.kwargs) -> dict[str, Any]:
        view: dict[str, Any] = json.loads(cached(*args, **kwargs))
        return view

    return fresh


@_fresh_copies
def checkin_modal(
    library: Library,
    domain: Domain,
    channel_id: str,
    week_index: int,
    team_name: str,
    anonymity_min: int,
    privacy_url: str | None,
    from_home: bool = False,
) -> str:
    """The check-in form for a team-week. Everyone in the team gets the same form that week, so
    it is built once (Block Kit models are slow to serialise; see `_fresh_copies`).
    `from_home`: opened from the App Home tab, which is refreshed once the form is sent."""
    privacy = (
        f"<{privacy_url}|How your privacy is protected>"
        if privacy_url
        else "How your privacy is protected: PRIVACY.md, shipped with Secure Base."
    )
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    f"*Private check-in for {escape(team_name)}.* {STORED_WITHOUT_NAME} "
                    f"{supervisor_sees(anonymity_min)}"
                )
            )
        ),
        ContextBlock(elements=[MarkdownTextObject(text=privacy)]),
        _radio(AVAILABILITY, library.availability.question, library.availability, False),
        _radio(STRESS, library.stress.question, library.stress, False),
        _radio(DOMAIN_ITEM, domain_item_label(library, domain), library.agreement, True),
        InputBlock(
            block_id=COMMENT,
            # Slack adds "(optional)" itself to an optional input's label.
            label="Anything you'd like your supervisor to know?",
            optional=True,
            hint=PlainTextObject(text=comment_hint(anonymity_min)),
            element=PlainTextInputElement(
                action_id=COMMENT, multiline=True, max_length=COMMENT_MAX
            ),
        ),
        citation_line(library.citation),
    ]
    view = View(
        type="modal",
        callback_id=CALLBACK_ID,
        title="Weekly check-in",
        submit="Send privately",
        close="Cancel",
        # The form belongs to its team-week: an answer sent after that week has closed is
        # refused, never filed under the next week's domain.
        private_metadata=json.dumps(
            {"channel": channel_id, "week": week_index} | ({"home": True} if from_home else {})
        ),
        blocks=blocks,
    )
    return json.dumps(view.to_dict())


def saved_view(
    team_name: str, replaced: bool, support: str | None, citation: str
) -> dict[str, Any]:
    """What the modal turns into once the check-in is stored: the confirmation is the ack itself,
    so no message anywhere in Slack records that this person checked in. `support` is shown
    after a heavy week (see bot.render.signpost)."""
    again = " It replaces the one you sent earlier this week." if replaced else ""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    f"*Thank you.* Your check-in for {escape(team_name)} is saved.{again} It is "
                    "stored without your name and only ever counted with your colleagues' answers."
                )
            )
        )
    ]
    if support is not None:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=support)))
    blocks += [
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Only you see this. No message is sent about your check-in."
                )
            ]
        ),
        citation_line(citation),
    ]
    return View(type="modal", title="Thank you", close="Close", blocks=blocks).to_dict()


def notice_view(text: str) -> dict[str, Any]:
    """A small modal carrying one message (a reason the check-in can't happen)."""
    return View(
        type="modal",
        title="Weekly check-in",
        close="Close",
        blocks=[SectionBlock(text=MarkdownTextObject(text=text))],
    ).to_dict()


def refusal_text(refusal: Refusal, team_name: str) -> str:
    team = escape(team_name)
    return {
        Refusal.NOT_ON_ROSTER: (
            f"You joined {team} after this week's prompt went out, so this week's check-in is "
            "for the people who were there then. You're very welcome to check in from next week."
        ),
        Refusal.SUPERVISOR: (
            f"As a practice supervisor for {team}, you don't check in to your own team: the "
            "team's figures are theirs alone. Your reflective questions for this week are in "
            "your messages from Secure Base."
        ),
        Refusal.NOT_OPEN: (
            f"This week's check-in for {team} opens when the weekly prompt goes out in the "
            "channel. If there's no prompt this week, the team may be having a week off."
        ),
        Refusal.WEEK_CLOSED: (
            "That week has closed, so your answer wasn't stored. You can check in for this "
            "week with `/checkin`."
        ),
    }[refusal]


NOT_SAVED = (
    "Sorry, this may not have been saved: Secure Base couldn't reach its database in time. "
    "Please press send again. Sending again replaces your answers, never doubles them."
)
