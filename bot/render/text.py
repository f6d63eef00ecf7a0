"""Block Kit messages and views as readable plain text, for a terminal (the demo, the sandbox).

Slack's mrkdwn becomes plain words: mentions become names, links show their label and
address, emphasis markers go. Input blocks list their options, so a modal can be read and
answered at a prompt (`questions`).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

JSON = Mapping[str, Any]
Names = Callable[[str], str | None]
"""Looks up a Slack id (user or channel) and gives the name to show, or None if unknown."""

WIDTH = 80
_SPECIAL = re.compile(r"<([^<>\n]+)>")
_FENCE = re.compile(r"```\n?(.*?)\n?```", re.DOTALL)
_RULE = re.compile(r"([─═])\1*")
_EMPHASIS = tuple(
    re.compile(rf"(?<![\w{m}]){re.escape(m)}(?=\S)([^{m}\n]+?)(?<=\S){re.escape(m)}(?![\w{m}])")
    for m in "*_~"
)
_CHOICE_ELEMENTS = frozenset(
    {"radio_buttons", "static_select", "checkboxes", "multi_static_select"}
)


def _no_names(_: str) -> str | None:
    return None


def mrkdwn_to_text(text: str, names: Names | None = None) -> str:
    """Slack mrkdwn as plain text: `<@U1>` → @Name, `<#C1>` → #name, `<url|label>` → label (url)."""
    lookup = names or _no_names

    def special(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith("@"):
            return "@" + (lookup(target[1:]) or label or target[1:])
        if target.startswith("#"):
            return "#" + (lookup(target[1:]) or label or target[1:])
        if target.startswith("!subteam^"):
            return label or "@group"
        if target.startswith("!date^"):
            return label
        if target.startswith("!"):
            return "@" + target[1:]
        address = target.removeprefix("mailto:")
        return f"{label} ({address})" if label and label != address else address

    plain = _SPECIAL.sub(special, _FENCE.sub(r"\1", text))
    for pattern in _EMPHASIS:
        plain = pattern.sub(r"\1", plain)
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: Any, names: Names | None) -> str:
    """A composition text object (plain_text or mrkdwn), or a bare string, as plain text."""
    if isinstance(obj, str):
        return obj
    if not isinstance(obj, Mapping):
        return ""
    raw = str(obj.get("text") or "")
    return mrkdwn_to_text(raw, names) if obj.get("type") == "mrkdwn" else raw


def _option_label(option: JSON, names: Names | None) -> str:
    return _text(option.get("text"), names)


def _options(element: JSON) -> list[JSON]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def _element(element: JSON, names: Names | None) -> str:
    """An interactive element as it looks at rest: a button, a menu, a picker."""
    kind = str(element.get("type"))
    if kind == "button":
        return f"[ {_text(element.get('text'), names)} ]"
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind == "overflow":
        return "[ ⋯ ]"
    placeholder = _text(element.get("placeholder"), names)
    if kind in ("datepicker", "timepicker", "datetimepicker"):
        return f"[ {placeholder or kind.removesuffix('picker')} ]"
    return f"[ {placeholder or 'choose'} ▾ ]"


def _rich_text(elements: Iterable[Any], names: Names | None) -> str:
    out: list[str] = []
    for item in elements:
        if not isinstance(item, Mapping):
            continue
        kind = item.get("type")
        if kind == "text":
            out.append(str(item.get("text", "")))
        elif kind == "link":
            url = str(item.get("url", ""))
            label = str(item.get("text") or "")
            out.append(f"{label} ({url})" if label else url)
        elif kind == "user":
            user = str(item.get("user_id", ""))
            out.append("@" + ((names or _no_names)(user) or user))
        elif kind == "channel":
            channel = str(item.get("channel_id", ""))
            out.append("#" + ((names or _no_names)(channel) or channel))
        elif kind == "emoji":
            out.append(f":{item.get('name', '')}:")
        elif kind in ("rich_text_section", "rich_text_preformatted", "rich_text_quote"):
            out.append(_rich_text(item.get("elements") or [], names))
        elif kind == "rich_text_list":
            out.extend(
                "\n• " + _rich_text(section.get("elements") or [], names)
                for section in item.get("elements") or []
                if isinstance(section, Mapping)
            )
    return "".join(out).strip("\n")


def _input_lines(block: JSON, names: Names | None, answer: str | list[str] | None) -> list[str]:
    element: JSON = block.get("element") or {}
    label = _text(block.get("label"), names)
    says_so = "optional" in label.lower()
    lines = [label + (" (optional)" if block.get("optional") and not says_so else "")]
    hint = _text(block.get("hint"), names)
    if hint:
        lines.append(f"  ({hint})")
    kind = element.get("type")
    chosen = {answer} if isinstance(answer, str) else set(answer or [])
    if kind in _CHOICE_ELEMENTS:
        multi = kind in ("checkboxes", "multi_static_select")
        marks = ("[x]", "[ ]") if multi else ("(•)", "( )")
        for option in _options(element):
            mark = marks[0] if option.get("value") in chosen else marks[1]
            lines.append(f"  {mark} {_option_label(option, names)}")
    elif isinstance(answer, str) and answer:
        lines.append(f"  “{answer}”")
    else:
        lines.append("  [ " + (_text(element.get("placeholder"), names) or "…") + " ]")
    return lines


def block_lines(
    block: JSON,
    names: Names | None = None,
    answers: Mapping[str, str | list[str] | None] | None = None,
) -> list[str]:
    """One block as lines of text (`answers` marks the chosen options of input blocks)."""
    kind = block.get("type")
    if kind == "header":
        title = _text(block.get("text"), names)
        return [title, "─" * min(len(title), WIDTH)]
    if kind == "section":
        lines = [_text(block.get("text"), names)] if block.get("text") else []
        lines.extend(_text(field, names) for field in block.get("fields") or [])
        accessory = block.get("accessory")
        if isinstance(accessory, Mapping):
            lines.append(_element(accessory, names))
        return lines
    if kind == "context":
        parts = [
            f"[image: {e.get('alt_text', '')}]" if e.get("type") == "image" else _text(e, names)
            for e in block.get("elements") or []
        ]
        return [" · ".join(parts)]
    if kind == "actions":
        return ["  ".join(_element(e, names) for e in block.get("elements") or [])]
    if kind == "divider":
        return ["─" * 24]
    if kind == "image":
        return [f"[image: {block.get('alt_text', '')}]"]
    if kind == "input":
        answer = (answers or {}).get(str(block.get("block_id")))
        return _input_lines(block, names, answer)
    if kind == "rich_text":
        return [_rich_text(block.get("elements") or [], names)]
    return [f"[{kind} block]"]


def blocks_to_lines(
    blocks: Sequence[JSON],
    names: Names | None = None,
    answers: Mapping[str, str | list[str] | None] | None = None,
) -> list[str]:
    """Blocks as lines, a blank line between blocks as Slack leaves space between them."""
    lines: list[str] = []
    for block in blocks:
        if lines:
            lines.append("")
        for line in block_lines(block, names, answers):
            lines.extend(line.split("\n"))
    return lines


def message_lines(
    text: str, blocks: Sequence[JSON] | None, names: Names | None = None
) -> list[str]:
    """A message as a person sees it: its blocks, or its text when it has none."""
    if blocks:
        return blocks_to_lines(blocks, names)
    return mrkdwn_to_text(text, names).split("\n")


def view_lines(
    view: JSON,
    names: Names | None = None,
    answers: Mapping[str, str | list[str] | None] | None = None,
) -> list[str]:
    """A modal (title, blocks, its Cancel and Submit buttons) or an App Home tab."""
    title = _text(view.get("title"), names) or ("App Home" if view.get("type") == "home" else "")
    lines = [
        title,
        "═" * min(max(len(title), 1), WIDTH),
        *blocks_to_lines(view["blocks"], names, answers),
    ]
    buttons = [_text(view.get(key), names) for key in ("close", "submit") if view.get(key)]
    if buttons:
        lines += ["", "  ".join(f"[ {b} ]" for b in buttons)]
    return lines


def framed(lines: Iterable[str], bar: str = "  │ ", width: int = WIDTH) -> str:
    """Lines wrapped to `width` behind a bar, the way a message sits in a Slack client.

    Bullets and quotes keep their marker's indent on wrapped lines.
    """
    out: list[str] = []
    room = max(20, width - len(bar))
    for line in lines:
        if not line.strip():
            out.append(bar.rstrip())
            continue
        if _RULE.fullmatch(line):  # an underline: as long as fits, never wrapped
            out.append(bar + line[:room])
            continue
        lead = re.match(r"\s*(?:[•>]\s+|\(.\)\s+|\[.\]\s+)?", line)
        indent = " " * len(lead.group(0)) if lead else ""
        if line.lstrip().startswith(">"):
            indent = line[: len(line) - len(line.lstrip())] + "> "
        wrapped = textwrap.wrap(line, room, subsequent_indent=indent, break_on_hyphens=False) or [
            line
        ]
        out.extend(bar + part for part in wrapped)
    return "\n".join(out)


@dataclass(frozen=True)
class Question:
    """One input of a modal, as asked at a terminal prompt."""

    block_id: str
    label: str
    optional: bool
    hint: str
    options: tuple[tuple[str, str], ...]  # (value, label); empty for free text
    multiline: bool = False
    max_length: int | None = None


def questions(view: JSON, names: Names | None = None) -> list[Question]:
    """The input blocks of a modal, in order, with their options."""
    found: list[Question] = []
    for block in view.get("blocks") or []:
        if block.get("type") != "input":
            continue
        element: JSON = block.get("element") or {}
        options = tuple(
            (str(option.get("value")), _option_label(option, names)) for option in _options(element)
        )
        max_length = element.get("max_length")
        found.append(
            Question(
                block_id=str(block.get("block_id")),
                label=_text(block.get("label"), names),
                optional=bool(block.get("optional")),
                hint=_text(block.get("hint"), names),
                options=options,
                multiline=bool(element.get("multiline")),
                max_length=max_length if isinstance(max_length, int) else None,
            )
        )
    return found
