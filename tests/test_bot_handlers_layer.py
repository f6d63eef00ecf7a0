"""No listener opens a database session: `bot/handlers/` parses, calls a use case in
`practice/`, renders and responds. Checked on the source, so a new handler that reaches for the
database fails here before review."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HANDLERS = sorted((ROOT / "bot" / "handlers").glob("*.py"))
SESSION_METHODS = {"session", "quick_session", "merge", "begin", "begin_nested", "flush"}


def _imports(tree: ast.AST) -> list[tuple[str, str]]:
    found = [
        (node.module or "", alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    ]
    found += [
        (alias.name, "")
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    return found


def _takes_a_session(module: str, name: str) -> bool:
    """Whether `module.name` is a function with a SQLAlchemy session among its parameters."""
    value = getattr(importlib.import_module(module), name, None)
    if not inspect.isfunction(value):
        return False
    return any("Session" in str(p.annotation) for p in inspect.signature(value).parameters.values())


def offenders(path: Path, label: str) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for module, name in _imports(tree):
        if module.split(".")[0] == "sqlalchemy" or module in ("storage.db", "storage.models"):
            found.append(f"imports {module} {name}".strip())
        elif module.startswith("storage") and name and _takes_a_session(module, name):
            found.append(f"imports {module}.{name}, which needs a session")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SESSION_METHODS
        ):
            found.append(f"line {node.lineno}: calls .{node.func.attr}()")
    return [f"{label}: {what}" for what in found]


def test_every_handler_module_is_checked() -> None:
    names = {path.stem for path in HANDLERS}
    assert {"admin", "app_home", "chart", "checkin", "share", "teampulse"} <= names


def test_no_handler_opens_a_session_or_imports_the_database() -> None:
    found = [line for path in HANDLERS for line in offenders(path, path.name)]
    assert found == []


def test_the_check_catches_a_handler_that_reaches_for_the_database(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text(
        "from sqlalchemy import select\n"
        "from storage.teams import get_team\n"
        "def listener(services):\n"
        "    with services.db.session() as s:\n"
        "        return s.merge(get_team(s, 'T', 'C'))\n",
        encoding="utf-8",
    )
    assert offenders(sneaky, "sneaky") == [
        "sneaky: imports sqlalchemy select",
        "sneaky: imports storage.teams.get_team, which needs a session",
        "sneaky: line 4: calls .session()",
        "sneaky: line 5: calls .merge()",
    ]


@pytest.mark.slow
def test_nothing_uses_bolts_private_modules() -> None:
    """Bolt's `internals` modules may change in any release: we use its public API only."""
    found = [
        f"{path.relative_to(ROOT)}: {module}"
        for folder in ("bot", "practice", "scheduler", "storage", "sandbox", "bench")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for module, _name in _imports(ast.parse(path.read_text(encoding="utf-8")))
        if module.startswith("slack_bolt") and "internals" in module.split(".")
    ]
    assert found == []


def test_storage_is_only_the_database() -> None:
    """Every module under storage/ works with the database (SQLAlchemy or Alembic); rules that
    are not persistence (weeks, rotation, profile, redaction, the clock, figures) live in
    practice/, and storage never reaches up into Slack's side."""
    found = []
    for path in sorted((ROOT / "storage").glob("*.py")):
        if path.name == "__init__.py":
            continue
        modules = {module.split(".")[0] for module, _ in _imports(ast.parse(path.read_text()))}
        if not modules & {"sqlalchemy", "alembic"}:
            found.append(f"{path.name}: no database")
        above = modules & {"bot", "scheduler", "slack_sdk", "slack_bolt"}
        if above:
            found.append(f"{path.name}: imports {sorted(above)}")
    assert found == []
