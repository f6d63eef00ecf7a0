"""Parameter and Block Kit checks, as strict as Slack's own.

Every message ``blocks`` array and every ``view`` goes through two passes: a structural pass
here (types, text objects, Slack's documented limits, unique ids) and then slack_sdk's models
(``Block.parse`` / ``View(**view)`` and their recursive ``validate_json`` via ``to_dict``) as a
second opinion. Errors read like Slack's: ``"<problem> [json-pointer:/blocks/3/text]"``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block, BlockElement
from slack_sdk.models.views import View

from sandbox.errors import SlackError, missing_field

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_MODAL_TITLE = 24
MAX_MODAL_BUTTON = 24
MAX_PRIVATE_METADATA = 3000
MAX_CALLBACK_ID = 255
MAX_EXTERNAL_ID = 255
MAX_BLOCK_ID = 255
MAX_ACTION_ID = 255
MAX_LABEL = 2000
MAX_PLACEHOLDER = 150
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_MESSAGE_TEXT = 40000

TEXT_TYPES = ("plain_text", "mrkdwn")
INPUT_ELEMENTS = frozenset(
    {
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "email_text_input",
        "file_input",
        "multi_channels_select",
        "multi_conversations_select",
        "multi_external_select",
        "multi_static_select",
        "multi_users_select",
        "number_input",
        "plain_text_input",
        "radio_buttons",
        "rich_text_input",
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "timepicker",
        "url_text_input",
    }
)

# slack_sdk logs a warning for every unknown block; we report those as errors instead.
logging.getLogger("slack_sdk.models").setLevel(logging.ERROR)


class _Checker:
    """Collects errors for one message or view; remembers ids that must be unique."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.action_ids: set[str] = set()
        self.block_ids: set[str] = set()

    def fail(self, problem: str, pointer: str) -> None:
        self.errors.append(f"{problem} [json-pointer:{pointer}]")

    # -- text objects --------------------------------------------------------------------------

    def text(
        self,
        value: Any,
        pointer: str,
        *,
        max_length: int,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        if value is None:
            if required:
                self.fail("missing required field: text object", pointer)
            return
        if not isinstance(value, dict):
            self.fail("must be a text object, not a string", pointer)
            return
        allowed = ("plain_text",) if plain_only else TEXT_TYPES
        if value.get("type") not in allowed:
            self.fail(f"text object type must be one of {list(allowed)}", pointer + "/type")
        text = value.get("text")
        if not isinstance(text, str) or not text:
            self.fail("must be a non-empty string", pointer + "/text")
        elif len(text) > max_length:
            self.fail(f"must be less than {max_length + 1} characters", pointer + "/text")

    # -- ids -----------------------------------------------------------------------------------

    def block_id(self, block: Mapping[str, Any], pointer: str) -> None:
        block_id = block.get("block_id")
        if block_id is None:
            return
        if not isinstance(block_id, str) or not block_id:
            self.fail("must be a non-empty string", pointer + "/block_id")
        elif len(block_id) > MAX_BLOCK_ID:
            self.fail(f"must be less than {MAX_BLOCK_ID + 1} characters", pointer + "/block_id")
        elif block_id in self.block_ids:
            self.fail(f"duplicate block_id: {block_id}", pointer + "/block_id")
        else:
            self.block_ids.add(block_id)

    def action_id(self, element: Mapping[str, Any], pointer: str) -> None:
        action_id = element.get("action_id")
        if action_id is None:
            return
        if not isinstance(action_id, str) or not action_id:
            self.fail("must be a non-empty string", pointer + "/action_id")
        elif len(action_id) > MAX_ACTION_ID:
            self.fail(f"must be less than {MAX_ACTION_ID + 1} characters", pointer + "/action_id")
        elif action_id in self.action_ids:
            self.fail(f"duplicate action_id: {action_id}", pointer + "/action_id")
        else:
            self.action_ids.add(action_id)

    # -- elements ------------------------------------------------------------------------------

    def element(self, element: Any, pointer: str, *, in_input: bool = False) -> None:
        if not isinstance(element, dict):
            self.fail("must be an object", pointer)
            return
        etype = element.get("type")
        try:
            parsed = BlockElement.parse(element)
        except Exception as exc:  # malformed arguments make the model constructors raise
            self.fail(f"invalid element: {exc}", pointer)
            return
        if parsed is None or etype in TEXT_TYPES:
            self.fail(f"unsupported element type: {etype!r}", pointer + "/type")
            return
        if in_input and etype not in INPUT_ELEMENTS:
            self.fail(f"element type {etype!r} cannot be used in an input block", pointer)
        self.action_id(element, pointer)
        if etype == "button":
            self.text(element.get("text"), pointer + "/text", max_length=MAX_BUTTON_TEXT)
            if element.get("style") not in (None, "primary", "danger"):
                self.fail("style must be 'primary' or 'danger'", pointer + "/style")
            value = element.get("value")
            if value is not None and (not isinstance(value, str) or len(value) > MAX_BUTTON_VALUE):
                self.fail(
                    f"must be a string of at most {MAX_BUTTON_VALUE} chars", pointer + "/value"
                )
        if "placeholder" in element:
            self.text(
                element["placeholder"],
                pointer + "/placeholder",
                max_length=MAX_PLACEHOLDER,
                plain_only=True,
            )
        plain_options = etype not in ("radio_buttons", "checkboxes")
        options = element.get("options")
        if options is not None:
            self.options(options, pointer + "/options", plain_only=plain_options)
        for g, group in enumerate(element.get("option_groups") or []):
            gp = f"{pointer}/option_groups/{g}"
            if not isinstance(group, dict):
                self.fail("must be an object", gp)
                continue
            self.text(
                group.get("label"), gp + "/label", max_length=MAX_OPTION_TEXT, plain_only=True
            )
            self.options(group.get("options"), gp + "/options", plain_only=True)
        self.initial_options(element, pointer)

    def options(self, options: Any, pointer: str, *, plain_only: bool) -> None:
        if not isinstance(options, list) or not options:
            self.fail("must be a non-empty array", pointer)
            return
        for i, option in enumerate(options):
            op = f"{pointer}/{i}"
            if not isinstance(option, dict):
                self.fail("must be an object", op)
                continue
            self.text(
                option.get("text"), op + "/text", max_length=MAX_OPTION_TEXT, plain_only=plain_only
            )
            value = option.get("value")
            if not isinstance(value, str) or not value:
                self.fail("must be a non-empty string", op + "/value")
            elif len(value) > MAX_OPTION_VALUE:
                self.fail(f"must be less than {MAX_OPTION_VALUE + 1} characters", op + "/value")

    def initial_options(self, element: Mapping[str, Any], pointer: str) -> None:
        """``initial_option(s)`` must be exactly among the element's options."""
        all_options: list[Any] = list(element.get("options") or [])
        for group in element.get("option_groups") or []:
            if isinstance(group, dict):
                all_options.extend(group.get("options") or [])
        known = {_option_key(o) for o in all_options if isinstance(o, dict)}
        if not known:
            return
        initial = element.get("initial_option")
        if isinstance(initial, dict) and _option_key(initial) not in known:
            self.fail("initial_option must match one of the options", pointer + "/initial_option")
        for i, option in enumerate(element.get("initial_options") or []):
            if isinstance(option, dict) and _option_key(option) not in known:
                self.fail(
                    "initial_options must match the options", f"{pointer}/initial_options/{i}"
                )

    # -- blocks --------------------------------------------------------------------------------

    def blocks(self, blocks: Any, pointer: str, *, max_blocks: int) -> None:
        if not isinstance(blocks, list):
            self.fail("must be an array", pointer)
            return
        if len(blocks) > max_blocks:
            self.fail(f"must be less than {max_blocks + 1} items", pointer)
        for i, block in enumerate(blocks):
            self.block(block, f"{pointer}/{i}")

    def block(self, block: Any, pointer: str) -> None:
        if not isinstance(block, dict):
            self.fail("must be an object", pointer)
            return
        btype = block.get("type")
        try:
            parsed = Block.parse(block)
        except Exception as exc:  # e.g. TypeError for a missing required argument
            self.fail(f"invalid block: {exc}", pointer)
            return
        if parsed is None:
            self.fail(f"unsupported block type: {btype!r}", pointer + "/type")
            return
        before = len(self.errors)
        self.block_id(block, pointer)
        self.block_body(block, btype, pointer)
        if len(self.errors) == before:  # second opinion from slack_sdk's models
            try:
                parsed.to_dict()
            except SlackObjectFormationError as exc:
                self.fail(str(exc), pointer)
            except Exception as exc:
                self.fail(f"invalid block: {exc}", pointer)

    def block_body(self, block: Mapping[str, Any], btype: Any, pointer: str) -> None:
        if btype == "section":
            if block.get("text") is None and block.get("fields") is None:
                self.fail("must provide text or fields", pointer)
            if block.get("text") is not None:
                self.text(block["text"], pointer + "/text", max_length=MAX_SECTION_TEXT)
            fields = block.get("fields")
            if fields is not None:
                if not isinstance(fields, list) or len(fields) > MAX_SECTION_FIELDS:
                    self.fail(
                        f"must be an array of at most {MAX_SECTION_FIELDS} items",
                        pointer + "/fields",
                    )
                else:
                    for f, text in enumerate(fields):
                        self.text(text, f"{pointer}/fields/{f}", max_length=MAX_FIELD_TEXT)
            if block.get("accessory") is not None:
                self.element(block["accessory"], pointer + "/accessory")
        elif btype == "header":
            self.text(
                block.get("text"), pointer + "/text", max_length=MAX_HEADER_TEXT, plain_only=True
            )
        elif btype == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                self.fail("must be a non-empty array", pointer + "/elements")
                return
            if len(elements) > MAX_ACTIONS_ELEMENTS:
                self.fail(
                    f"must be less than {MAX_ACTIONS_ELEMENTS + 1} items", pointer + "/elements"
                )
            for e, element in enumerate(elements):
                self.element(element, f"{pointer}/elements/{e}")
        elif btype == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                self.fail("must be a non-empty array", pointer + "/elements")
                return
            if len(elements) > MAX_CONTEXT_ELEMENTS:
                self.fail(
                    f"must be less than {MAX_CONTEXT_ELEMENTS + 1} items", pointer + "/elements"
                )
            for e, element in enumerate(elements):
                ep = f"{pointer}/elements/{e}"
                if isinstance(element, dict) and element.get("type") in TEXT_TYPES:
                    self.text(element, ep, max_length=MAX_SECTION_TEXT)
                elif not (isinstance(element, dict) and element.get("type") == "image"):
                    self.fail("context elements must be text objects or images", ep)
        elif btype == "input":
            self.text(block.get("label"), pointer + "/label", max_length=MAX_LABEL, plain_only=True)
            if block.get("hint") is not None:
                self.text(block["hint"], pointer + "/hint", max_length=MAX_LABEL, plain_only=True)
            self.element(block.get("element"), pointer + "/element", in_input=True)


def _option_key(option: Mapping[str, Any]) -> tuple[Any, Any]:
    text = option.get("text")
    return (option.get("value"), text.get("text") if isinstance(text, dict) else text)


def validate_message_blocks(blocks: Any) -> list[str]:
    """Errors for a message's ``blocks`` (chat.postMessage / postEphemeral / update, responses)."""
    checker = _Checker()
    checker.blocks(blocks, "/blocks", max_blocks=MAX_MESSAGE_BLOCKS)
    return checker.errors


def validate_view(view: Any, *, expected_type: str | None = None) -> list[str]:
    """Errors for a ``view`` (views.open / push / update / publish, response_action views)."""
    checker = _Checker()
    if not isinstance(view, dict):
        checker.fail("must be an object", "/view")
        return checker.errors
    vtype = view.get("type")
    if vtype not in ("modal", "home"):
        checker.fail("type must be 'modal' or 'home'", "/view/type")
        return checker.errors
    if expected_type is not None and vtype != expected_type:
        checker.fail(f"this method needs a view of type {expected_type!r}", "/view/type")
    if vtype == "modal":
        checker.text(view.get("title"), "/view/title", max_length=MAX_MODAL_TITLE, plain_only=True)
        for key in ("submit", "close"):
            if view.get(key) is not None:
                checker.text(
                    view[key], f"/view/{key}", max_length=MAX_MODAL_BUTTON, plain_only=True
                )
        blocks = view.get("blocks")
        has_inputs = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if has_inputs and view.get("submit") is None:
            checker.fail("a modal with input blocks needs a submit button", "/view/submit")
    for key, limit in (
        ("private_metadata", MAX_PRIVATE_METADATA),
        ("callback_id", MAX_CALLBACK_ID),
        ("external_id", MAX_EXTERNAL_ID),
    ):
        value = view.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            checker.fail(f"must be a string of at most {limit} characters", f"/view/{key}")
    checker.blocks(view.get("blocks"), "/view/blocks", max_blocks=MAX_VIEW_BLOCKS)
    if not checker.errors:  # second opinion from slack_sdk's View model
        known = {k: v for k, v in view.items() if k in _VIEW_ARGUMENTS}
        try:
            View(**known).to_dict()
        except SlackObjectFormationError as exc:
            checker.fail(str(exc), "/view")
        except Exception as exc:
            checker.fail(f"invalid view: {exc}", "/view")
    return checker.errors


_VIEW_ARGUMENTS = frozenset(
    {
        "type",
        "id",
        "callback_id",
        "external_id",
        "team_id",
        "bot_id",
        "app_id",
        "root_view_id",
        "previous_view_id",
        "title",
        "submit",
        "close",
        "blocks",
        "private_metadata",
        "state",
        "hash",
        "clear_on_close",
        "notify_on_close",
    }
)


# -- parameters --------------------------------------------------------------------------------


def check_required(method: str, params: Mapping[str, Any], required: Sequence[str]) -> None:
    """Raise Slack's ``invalid_arguments`` for the first required parameter that is missing."""
    for name in required:
        if method == "oauth.v2.access" and name == "code" and params.get("grant_type"):
            continue  # token rotation: grant_type=refresh_token replaces the code
        value = params.get(name)
        if value is None or value == "":
            raise missing_field(name)


def decode_json_param(params: dict[str, Any], name: str, *, error: str) -> None:
    """Form-encoded calls carry ``blocks``/``view``/``files`` as JSON strings: decode in place."""
    value = params.get(name)
    if not isinstance(value, str):
        return
    try:
        params[name] = json.loads(value)
    except ValueError:
        raise SlackError(error, rejected=True, messages=[f"{name} is not valid JSON"]) from None


def invalid_blocks(errors: Sequence[str]) -> SlackError:
    return SlackError(
        "invalid_blocks", rejected=True, messages=errors, extra={"errors": list(errors)}
    )


def as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)
