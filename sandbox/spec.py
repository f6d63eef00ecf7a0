"""Required parameters per Web API method, taken from Slack's published OpenAPI (v2) spec.

``slack_web_required_params.json`` (next to this file) is extracted once from
``slack_web_openapi_v2.json`` (github.com/slackapi/slack-api-specs) for just the methods the
sandbox implements, minus ``token``; methods newer than that spec are added by hand
(``MANUAL_REQUIRED``). Regenerate with::

    python -m sandbox.spec ../shared/reference/slack_web_openapi_v2.json
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

DATA_FILE = "slack_web_required_params.json"

#: Methods the sandbox implements (the Web API ones; response_url and uploads are not methods).
IMPLEMENTED_METHODS: tuple[str, ...] = (
    "api.test",
    "apps.connections.open",
    "auth.test",
    "chat.postEphemeral",
    "chat.postMessage",
    "chat.update",
    "conversations.info",
    "conversations.members",
    "conversations.open",
    "files.completeUploadExternal",
    "files.getUploadURLExternal",
    "oauth.v2.access",
    "users.info",
    "users.list",
    "views.open",
    "views.publish",
    "views.push",
    "views.update",
)

#: Methods missing from the published spec (it predates them), from Slack's method docs.
MANUAL_REQUIRED: dict[str, list[str]] = {
    "apps.connections.open": [],
    "files.getUploadURLExternal": ["filename", "length"],
    "files.completeUploadExternal": ["files"],
}


def derive_required_params(
    openapi: Mapping[str, Any], methods: Iterable[str] = IMPLEMENTED_METHODS
) -> dict[str, list[str]]:
    """Method -> required parameter names (``token`` excluded) for methods present in the spec."""
    paths: Mapping[str, Any] = openapi.get("paths", {})
    out: dict[str, list[str]] = {}
    for method in methods:
        operations = paths.get("/" + method)
        if not isinstance(operations, Mapping):
            continue
        names: list[str] = []
        for operation in operations.values():
            for param in operation.get("parameters", []):
                name = param.get("name")
                if param.get("required") is True and name != "token" and name not in names:
                    names.append(name)
        out[method] = names
    return out


def build_table(openapi: Mapping[str, Any]) -> dict[str, list[str]]:
    """The full table as stored in the data file: spec-derived plus the manual additions."""
    table = derive_required_params(openapi)
    for method, names in MANUAL_REQUIRED.items():
        table.setdefault(method, list(names))
    return dict(sorted(table.items()))


@cache
def _load() -> dict[str, tuple[str, ...]]:
    text = resources.files(__package__).joinpath(DATA_FILE).read_text(encoding="utf-8")
    raw: dict[str, list[str]] = json.loads(text)
    return {method: tuple(names) for method, names in raw.items()}


def required_params() -> dict[str, tuple[str, ...]]:
    """Method -> required parameter names, from the packaged data file."""
    return dict(_load())


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m sandbox.spec PATH/TO/slack_web_openapi_v2.json", file=sys.stderr)
        return 2
    openapi = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    target = Path(__file__).with_name(DATA_FILE)
    target.write_text(json.dumps(build_table(openapi), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
