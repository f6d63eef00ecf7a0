"""Turn a person's answers to a modal into ``view.state.values``, as Slack's client would.

Slack's client enforces some rules before anything reaches the app (required inputs, text
length, picking only offered options); so does ``build_state_values``, raising
``ModalAnswerError`` where a person could not have submitted the modal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

Answer = str | list[str] | None

_SINGLE_OPTION = {"radio_buttons", "static_select"}
_MULTI_OPTION = {"checkboxes", "multi_static_select"}
_TEXT_VALUE = {"plain_text_input", "email_text_input", "url_text_input", "number_input"}
_SINGLE_PICK = {
    "users_select": "selected_user",
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
}
_MULTI_PICK = {
    "multi_users_select": "selected_users",
    "multi_conversations_select": "selected_conversations",
    "multi_channels_select": "selected_channels",
}


class ModalAnswerError(ValueError):
    """The answers could not have been given in Slack's client."""


def input_blocks(view: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        b["block_id"]: b
        for b in view.get("blocks", [])
        if isinstance(b, dict) and b.get("type") == "input" and "block_id" in b
    }


def build_state_values(
    view: Mapping[str, Any], answers: Mapping[str, Answer]
) -> dict[str, dict[str, dict[str, Any]]]:
    """``{block_id: {action_id: state}}`` for every input block of ``view``."""
    blocks = input_blocks(view)
    unknown = sorted(set(answers) - set(blocks))
    if unknown:
        raise ModalAnswerError(f"no input blocks {unknown} in the view; it has {sorted(blocks)}")
    values: dict[str, dict[str, dict[str, Any]]] = {}
    for block_id, block in blocks.items():
        element = block.get("element") or {}
        answer = answers.get(block_id)
        empty = answer is None or answer == "" or answer == []
        if empty and not block.get("optional", False):
            raise ModalAnswerError(f"{block_id!r} is required: Slack would not let the user submit")
        state = element_state(block_id, element, None if empty else answer)
        values[block_id] = {str(element.get("action_id")): state}
    return values


def element_state(block_id: str, element: Mapping[str, Any], answer: Answer) -> dict[str, Any]:
    etype = str(element.get("type"))
    state: dict[str, Any] = {"type": etype}
    if etype in _TEXT_VALUE:
        text = _one(block_id, answer)
        if text is not None:
            _check_text(block_id, element, etype, text)
        state["value"] = text
    elif etype in _SINGLE_OPTION:
        value = _one(block_id, answer)
        state["selected_option"] = None if value is None else _option(block_id, element, value)
    elif etype in _MULTI_OPTION:
        picked = _many(answer)
        state["selected_options"] = [_option(block_id, element, v) for v in picked]
    elif etype in _SINGLE_PICK:
        state[_SINGLE_PICK[etype]] = _one(block_id, answer)
    elif etype in _MULTI_PICK:
        state[_MULTI_PICK[etype]] = _many(answer)
    elif etype == "datepicker":
        date = _one(block_id, answer)
        if date is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
            raise ModalAnswerError(f"{block_id!r}: a date is YYYY-MM-DD, not {date!r}")
        state["selected_date"] = date
    elif etype == "timepicker":
        hhmm = _one(block_id, answer)
        if hhmm is not None and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", hhmm):
            raise ModalAnswerError(f"{block_id!r}: a time is HH:MM (24h), not {hhmm!r}")
        state["selected_time"] = hhmm
        if element.get("timezone"):
            state["timezone"] = element["timezone"]
    else:
        raise ModalAnswerError(f"{block_id!r}: answering a {etype} element is not supported")
    return state


def _one(block_id: str, answer: Answer) -> str | None:
    if isinstance(answer, list):
        raise ModalAnswerError(f"{block_id!r} takes one answer, not a list")
    return answer


def _many(answer: Answer) -> list[str]:
    if answer is None:
        return []
    return [answer] if isinstance(answer, str) else list(answer)


def _options(element: Mapping[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def _option(block_id: str, element: Mapping[str, Any], value: str) -> dict[str, Any]:
    options = _options(element)
    for option in options:
        if option.get("value") == value:
            return dict(option)
    offered = [o.get("value") for o in options]
    raise ModalAnswerError(f"{block_id!r} has no option with value {value!r}; offered: {offered}")


def _check_text(block_id: str, element: Mapping[str, Any], etype: str, text: str) -> None:
    min_length = element.get("min_length")
    max_length = element.get("max_length", 3000)
    if isinstance(min_length, int) and len(text) < min_length:
        raise ModalAnswerError(f"{block_id!r} needs at least {min_length} characters")
    if isinstance(max_length, int) and len(text) > max_length:
        raise ModalAnswerError(f"{block_id!r} allows at most {max_length} characters")
    if etype == "number_input":
        pattern = r"-?\d+(\.\d+)?" if element.get("is_decimal_allowed") else r"-?\d+"
        if not re.fullmatch(pattern, text):
            raise ModalAnswerError(f"{block_id!r} needs a number, not {text!r}")
    if etype == "email_text_input" and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text):
        raise ModalAnswerError(f"{block_id!r} needs an email address, not {text!r}")
