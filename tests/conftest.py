"""Shared fixtures: a real, migrated database (SQLite by default; PostgreSQL when
SECUREBASE_TEST_DATABASE_URL is set, as `make test` does when one is reachable) and a clock
that tests move by hand.

Markers (registered in pyproject.toml; `make test-fast` leaves both out): `slow` for a test
that takes seconds of its own, `subprocess` for one that starts a process. A test that starts
one without the marker fails, so `make test-fast` stays free of them."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.logs import ConfiguredHandler
from practice.clock import ManualClock
from practice.keys import Keyring
from storage.db import Database
from storage.migrate import upgrade
from storage.scratch import scratch_schema

PG_ENV = "SECUREBASE_TEST_DATABASE_URL"


def on_postgres() -> bool:
    return bool(os.environ.get(PG_ENV))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL run (`make test-postgres`, after the SQLite run) is there for the
    database: it keeps the tests that use one (the `database_url` fixture, directly or through
    another fixture, or the `postgres` mark) and leaves out the rest, which the SQLite run has
    just run exactly as they would run again."""
    if not on_postgres():
        return
    kept, left = [], []
    for item in items:
        uses = "database_url" in getattr(item, "fixturenames", ()) or item.get_closest_marker(
            "postgres"
        )
        (kept if uses else left).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


@pytest.fixture(autouse=True)
def operator_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test's environment holds an operator key of its own, as `securebase run` needs
    (bots a test starts as subprocesses inherit it, so they share it). Tests about a missing or
    wrong key build their environment without it."""
    key = os.urandom(32).hex()
    monkeypatch.setenv("SECUREBASE_SECRET_KEY", key)
    return key


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database for one test: a SQLite file, or a PostgreSQL schema of its own."""
    base = os.environ.get(PG_ENV)
    if not base:
        yield f"sqlite:///{tmp_path / 'securebase.db'}"
        return
    with scratch_schema(base, "t") as url:
        yield url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url, Keyring.generate())
    upgrade(database)
    yield database
    database.dispose()


# Tuesday 24 November 2026, 10:00 in London (UTC+0 in winter).
START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


REPO = Path(__file__).resolve().parents[1]


def _started_by_us() -> bool:
    """Whether the code asking for a process is this project's (tests, bench, the bot), not a
    library's (matplotlib asks fontconfig for fonts once, whichever test draws first)."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename == subprocess.__file__:
        frame = frame.f_back
    if frame is None:
        return False
    path = Path(frame.f_code.co_filename).resolve()
    return path.is_relative_to(REPO) and not path.is_relative_to(REPO / ".venv")


@pytest.fixture(autouse=True)
def subprocess_marked(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test that starts a process must say so with `@pytest.mark.subprocess`."""
    if request.node.get_closest_marker("subprocess") is not None:
        return
    start = subprocess.Popen.__init__

    def checked(self: subprocess.Popen[bytes], *args: Any, **kwargs: Any) -> None:
        if _started_by_us():
            pytest.fail(
                f"{request.node.nodeid} starts a process: mark it @pytest.mark.subprocess",
                pytrace=False,
            )
        start(self, *args, **kwargs)

    monkeypatch.setattr(subprocess.Popen, "__init__", checked)


@pytest.fixture(autouse=True)
def logging_restored() -> Iterator[None]:
    """`securebase` (bot.cli.main) sets up the process's logging, as an entry point should;
    tests that call it in-process get the root logger's level back, and lose its handler."""
    root = logging.getLogger()
    level = root.level
    yield
    root.setLevel(level)
    for handler in [h for h in root.handlers if isinstance(h, ConfiguredHandler)]:
        root.removeHandler(handler)
