"""One list of Slack scopes: the manifest's. The OAuth install asks for exactly those, the README
lists exactly those, every Web API method the bot calls is allowed by one of them, and none is
granted that no call or feature uses.

Which scopes each Web API method accepts comes from Slack's published OpenAPI spec
(github.com/slackapi/slack-api-specs, MIT), copied into `slack_method_scopes.json` beside this
file so the test reads nothing outside the repository. Regenerate it with::

    python tests/test_slack_scopes.py PATH/TO/slack_web_openapi_v2.json
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.manifest import bot_scopes, manifest
from bot.oauth import installation_store, oauth_flow
from bot.settings import MANIFEST_SCOPES, load_settings
from storage.db import Database

REPO = Path(__file__).resolve().parents[1]
TABLE = Path(__file__).with_name("slack_method_scopes.json")
CODE = ("bot", "scheduler")
# Calls the libraries make on the bot's behalf: Bolt checks the token (auth.test) and finishes
# an OAuth install (oauth.v2.access). Neither needs a scope; listed so the table vouches for it.
LIBRARY_CALLS = {"auth.test", "oauth.v2.access"}
# Newer than the published spec; scopes from Slack's documentation of each method.
NEWER_THAN_SPEC = {
    "files.getUploadURLExternal": ["files:write"],
    "files.completeUploadExternal": ["files:write"],
    "apps.connections.open": ["connections:write"],
}
# Called with the app-level token (SLACK_APP_TOKEN, Socket Mode), whose scope is not a bot
# scope and not in the manifest: the app-level token is made by hand with it.
APP_TOKEN_CALLS = {"apps.connections.open": "connections:write"}


@cache
def accepted_scopes() -> dict[str, frozenset[str]]:
    """Web API method → the bot scopes any one of which lets a bot token call it."""
    methods: dict[str, list[str]] = json.loads(TABLE.read_text(encoding="utf-8"))["methods"]
    return {method: frozenset(scopes) for method, scopes in methods.items()}


def api_methods(python_name: str) -> set[str]:
    """The Web API methods a WebClient method calls, read from slack_sdk's own source
    (`files_upload_v2` is three calls, two of them Web API methods)."""
    source = inspect.getsource(getattr(WebClient, python_name))
    found = set(re.findall(r"api_call\(\s*\"([A-Za-z0-9.]+)\"", source))
    for inner in set(re.findall(r"self\.([a-z]+_[A-Za-z0-9_]+)\(", source)) - {python_name}:
        if callable(getattr(WebClient, inner, None)):
            found |= api_methods(inner)
    return found


def called_methods() -> dict[str, set[str]]:
    """Every Web API method called from bot/ and scheduler/ → where (file:line)."""
    calls: dict[str, set[str]] = {}
    for root in CODE:
        for path in sorted((REPO / root).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                name = node.func.attr
                if name.startswith("_") or not callable(getattr(WebClient, name, None)):
                    continue
                for method in api_methods(name):
                    where = f"{path.relative_to(REPO)}:{node.lineno}"
                    calls.setdefault(method, set()).add(where)
    return calls


def readme_scopes() -> list[str]:
    """The scopes in the README's table of scopes (first column of the table after the line
    that introduces it)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    table = text.split("| scope | what it is for |", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^\| `([a-z.:]+)` \|", table, flags=re.MULTILINE)


def test_the_oauth_install_asks_for_exactly_the_manifests_scopes(database_url: str) -> None:
    granted = manifest()["oauth_config"]["scopes"]["bot"]
    assert list(MANIFEST_SCOPES) == list(bot_scopes()) == granted
    assert "files:write" in granted  # /teampulse chart uploads a PNG
    settings = load_settings(
        {
            "SLACK_SIGNING_SECRET": "s",
            "SLACK_CLIENT_ID": "1.2",
            "SLACK_CLIENT_SECRET": "x",
        }
    )
    db = Database(database_url)
    try:
        store = installation_store(settings, db)
        flow = oauth_flow(settings, db, store, WebClient())
        assert list(flow.settings.scopes) == granted
        assert list(flow.settings.user_scopes) == []
    finally:
        db.dispose()


def test_the_readme_lists_exactly_the_manifests_scopes() -> None:
    assert sorted(readme_scopes()) == sorted(bot_scopes())


def test_the_scan_finds_the_calls_it_should() -> None:
    """The checks below are only as good as this scan: it must see calls through any client
    variable, and the methods `files_upload_v2` makes."""
    calls = called_methods()
    for method in ("chat.postMessage", "views.open", "conversations.members", "users.info"):
        assert method in calls
    assert {"files.getUploadURLExternal", "files.completeUploadExternal"} <= set(calls)
    assert any(where.startswith("bot/messenger.py:") for where in calls["chat.postMessage"])


def test_every_method_the_bot_calls_is_allowed_by_a_granted_scope() -> None:
    table = accepted_scopes()
    granted = set(bot_scopes()) | {"none"}
    calls = called_methods()
    unknown = sorted(set(calls) - set(table))
    assert unknown == [], f"not in slack_method_scopes.json: {unknown}"
    for method, scope in APP_TOKEN_CALLS.items():
        assert table[method] == {scope}
    missing = {
        method: sorted(table[method])
        for method in sorted((set(calls) | LIBRARY_CALLS) - set(APP_TOKEN_CALLS))
        if not table[method] & granted
    }
    assert missing == {}, f"called without a scope that allows it: {missing}"


@pytest.mark.slow
def test_every_granted_scope_is_used() -> None:
    """Least privilege: each scope is needed by a call the bot makes, or by the slash commands
    the manifest declares (`commands`)."""
    table = accepted_scopes()
    used = {scope for method in called_methods() for scope in table[method]}
    assert "connections:write" not in bot_scopes()  # an app-level scope (APP_TOKEN_CALLS)
    if manifest()["features"]["slash_commands"]:
        used.add("commands")
    assert sorted(set(bot_scopes()) - used) == []


# --- regenerating the table ----------------------------------------------------------------


def bot_scope(scope: str) -> str:
    """The spec predates granular bot scopes: `chat:write:bot` and `chat:write:user` are now
    both `chat:write`, `files:write:user` is `files:write`."""
    return re.sub(r":(bot|user)$", "", scope) if scope.count(":") == 2 else scope


def table_from_spec(openapi: dict[str, Any]) -> dict[str, Any]:
    methods: dict[str, list[str]] = {}
    for path, operations in openapi["paths"].items():
        scopes = {
            bot_scope(scope)
            for operation in operations.values()
            for requirement in operation.get("security", [])
            for names in requirement.values()
            for scope in names
        }
        methods[path.lstrip("/")] = sorted(scopes)
    methods.update(NEWER_THAN_SPEC)
    return {
        "source": "slack_web_openapi_v2.json (github.com/slackapi/slack-api-specs, MIT), "
        f"version {openapi['info']['version']}; legacy :bot/:user suffixes dropped; "
        f"{', '.join(sorted(NEWER_THAN_SPEC))} from Slack's method documentation",
        "methods": dict(sorted(methods.items())),
    }


if __name__ == "__main__":
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    TABLE.write_text(json.dumps(table_from_spec(spec), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {TABLE}")
