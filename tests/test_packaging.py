"""What gets installed, and under which licence: pyproject.toml, LICENSE and the Makefile."""

from __future__ import annotations

import re
import subprocess
import tomllib
from importlib.metadata import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
# PyYAML is not among them: the bot itself reads bot/manifest.yml with it.
DEV_TOOLS = {"pytest", "hypothesis", "ruff", "mypy", "types-pyyaml", "setuptools"}


def names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_the_licence_is_mit_in_the_file_and_the_metadata() -> None:
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License\n\nCopyright (c) 2026 Secure Base contributors\n")
    assert PROJECT["license"] == "MIT" and PROJECT["license-files"] == ["LICENSE"]
    assert not any(c.startswith("License ::") for c in PROJECT["classifiers"])  # SPDX says it
    assert metadata("securebase")["License-Expression"] == "MIT"


def test_dev_tools_and_the_postgres_driver_are_extras_only() -> None:
    runtime = names(PROJECT["dependencies"])
    extras = PROJECT["optional-dependencies"]
    assert names(extras["dev"]) >= DEV_TOOLS
    assert names(extras["postgres"]) == {"psycopg"}
    assert not runtime & (DEV_TOOLS | {"psycopg"})


def make(*args: str) -> list[str]:
    """The commands `make` would run in a fresh checkout (no venv yet), without running them."""
    done = subprocess.run(
        ["make", "-n", "--always-make", "VENV=/nonexistent/venv", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()


@pytest.mark.subprocess
def test_make_demo_installs_only_the_bot_and_make_test_the_extras_it_needs() -> None:
    demo = [line for line in make("demo") if "pip install" in line]
    assert len(demo) == 2  # pip itself, then the bot
    assert demo[-1].endswith(" -e .")
    test = [line for line in make("test") if "pip install" in line]
    assert test[-1].endswith(" -e '.[dev,postgres]'")
    assert any(line.endswith("securebase demo") for line in make("demo"))
