"""The Dockerfile, compose.yaml and deploy/securebase.service: they parse, say what the README
says, hold no secrets, and every command in them is one this suite runs.

No container engine or systemd runs here, so each file is read by a small parser and checked
instruction by instruction; the commands themselves are run for real: the Dockerfile's build
steps (a virtual environment, then its exact `pip install` line, offline, from exactly the files
it copies), the installed `securebase` it produces, and its HEALTHCHECK against the bot's own
HTTP server. `securebase run`, the command all three start, is what the end-to-end tests run.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import sysconfig
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from bot.sandboxed import SandboxedBot

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
# Anything that looks like a real credential: Slack tokens, a 64-hex-digit key.
SECRET_LOOKING = re.compile(r"xox[abp]-\w|xapp-\w|\b[0-9a-f]{64}\b")
BUILD_TOOLS = re.compile(r"\b(gcc|g\+\+|cc|make|build-essential|apt-get|apk|libpq-dev)\b")


# --- the Dockerfile -------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, …
    args: str
    stage: int  # 0 for the first FROM's stage


def dockerfile() -> list[Instruction]:
    """Instructions in order; comments dropped, `\\` continuations joined."""
    instructions: list[Instruction] = []
    stage = -1
    pending = ""
    for raw in (REPO / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, args = line.partition(" ")
        if keyword.upper() == "FROM":
            stage += 1
        instructions.append(Instruction(keyword.upper(), args.strip(), stage))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def stages() -> list[list[Instruction]]:
    found = dockerfile()
    return [[i for i in found if i.stage == n] for n in range(found[-1].stage + 1)]


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(part, str) for part in value), args
    return value


def test_dockerfile_builds_on_slim_python_311_and_ships_no_build_tools() -> None:
    build, final = stages()
    assert build[0].args == "python:3.11-slim AS build"
    assert final[0].args == "python:3.11-slim"
    # The final image takes the finished virtual environment from the build stage, nothing else.
    copies = [i.args for i in final if i.keyword in ("COPY", "ADD")]
    assert copies == ["--from=build /opt/securebase /opt/securebase"]
    for instruction in final:
        assert not BUILD_TOOLS.search(instruction.args), instruction
    runs = [i.args for i in final if i.keyword == "RUN"]
    assert len(runs) == 1 and runs[0].startswith("useradd --system ")  # the user, below


def test_dockerfile_runs_as_a_dedicated_user_not_root() -> None:
    final = stages()[-1]
    (user,) = [i.args for i in final if i.keyword == "USER"]
    assert user not in ("root", "0") and not user.startswith(("root:", "0:"))
    (useradd,) = [shlex.split(i.args) for i in final if i.keyword == "RUN"]
    assert useradd[-1] == user and "--system" in useradd
    uid = useradd[useradd.index("--uid") + 1]
    assert int(uid) >= 1000
    # Nothing after USER runs as root again.
    after = final[[i.keyword for i in final].index("USER") :]
    assert all(i.keyword != "RUN" for i in after)


def test_dockerfile_starts_securebase_run_and_holds_no_secrets() -> None:
    instructions = dockerfile()
    (cmd,) = [exec_form(i.args) for i in instructions if i.keyword == "CMD"]
    assert cmd == ["securebase", "run"]
    assert PYPROJECT["project"]["scripts"]["securebase"] == "bot.cli:main"
    text = (REPO / "Dockerfile").read_text()
    assert not SECRET_LOOKING.search(text)
    for instruction in instructions:
        if instruction.keyword in ("ENV", "ARG"):
            names = re.findall(r"([A-Z_][A-Z0-9_]*)=", instruction.args) or [instruction.args]
            for name in names:
                assert not re.search(r"SECRET|TOKEN|PASSWORD|KEY", name), instruction
        if instruction.keyword in ("COPY", "ADD"):
            assert ".env" not in instruction.args.split(), instruction
    ignored = (REPO / ".dockerignore").read_text().split()
    for private in (".env", "secrets/", ".venv", "*.db"):
        assert private in ignored


@pytest.mark.slow
@pytest.mark.subprocess
def test_dockerfile_healthcheck_asks_healthz_with_python_alone(database_url: str) -> None:
    """The exact HEALTHCHECK command, run against the bot's HTTP server: exit 0 while it
    answers, non-zero when nothing listens."""
    (check,) = [i.args for i in dockerfile() if i.keyword == "HEALTHCHECK"]
    options, _, command = check.partition("CMD ")
    assert re.findall(r"--(\w[\w-]*)=", options) == [
        "interval",
        "timeout",
        "start-period",
        "retries",
    ]
    argv = exec_form(command)
    assert argv[:2] == ["python", "-c"]
    assert "/healthz" in argv[2] and "curl" not in check and "wget" not in check
    imported = re.findall(r"import ([\w., ]+?);", argv[2])[0].replace(" ", "").split(",")
    assert {module.split(".")[0] for module in imported} <= sys.stdlib_module_names

    def healthcheck(port: int) -> int:
        env = {"PATH": os.environ["PATH"], "PORT": str(port)}
        done = subprocess.run([sys.executable, *argv[1:]], env=env, capture_output=True, timeout=30)
        return done.returncode

    with SandboxedBot(database_url) as bot:
        port = urlsplit(bot.events_url).port
        assert port is not None
        assert healthcheck(port) == 0
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        closed = free.getsockname()[1]
    assert healthcheck(closed) != 0


@pytest.mark.slow
@pytest.mark.subprocess
def test_dockerfile_build_steps_install_a_working_securebase(tmp_path: Path) -> None:
    """The build stage's commands, run as written, on exactly the files it copies: the result
    is an installed `securebase` whose own copy (content, migrations) sets up a database.

    Offline: the new environment sees this suite's installed packages (a .pth file), so pip
    finds every dependency already there and builds without fetching anything."""
    build = stages()[0]
    context = tmp_path / "context"
    context.mkdir()
    workdir = None
    for instruction in build:
        if instruction.keyword == "WORKDIR":
            workdir = instruction.args
        if instruction.keyword == "COPY":
            *sources, target = instruction.args.split()
            for source in sources:
                place = context / target if target != "./" else context / source
                if (REPO / source).is_dir():
                    shutil.copytree(
                        REPO / source, place, ignore=shutil.ignore_patterns("__pycache__")
                    )
                else:
                    shutil.copy(REPO / source, context / source)
    assert workdir == "/src"
    runs = [shlex.split(i.args) for i in build if i.keyword == "RUN"]
    assert runs == [
        ["python", "-m", "venv", "/opt/securebase"],
        ["/opt/securebase/bin/pip", "install", "--no-cache-dir", ".[postgres]"],
    ]
    assert "postgres" in PYPROJECT["project"]["optional-dependencies"]

    venv = tmp_path / "opt-securebase"

    def here(argv: list[str]) -> list[str]:
        swapped = [part.replace("/opt/securebase", str(venv)) for part in argv]
        return [sys.executable, *swapped[1:]] if swapped[0] == "python" else swapped

    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0"}
    subprocess.run(here(runs[0]), cwd=context, env=env, check=True, timeout=300)
    site = subprocess.run(
        [
            venv / "bin" / "python",
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    suite = sysconfig.get_paths()["purelib"]
    (Path(site) / "_suite_packages.pth").write_text(f"import sys; sys.path[0:0] = [{suite!r}]\n")
    installed = subprocess.run(
        here(runs[1]), cwd=context, env=env, capture_output=True, text=True, timeout=600
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr

    database = tmp_path / "image.db"
    plain = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PIP_"))}
    run_env = {**plain, "DATABASE_URL": f"sqlite:///{database}"}
    where = subprocess.run(
        [
            venv / "bin" / "python",
            "-c",
            "import bot, storage; print(bot.__file__, storage.__file__)",
        ],
        cwd=tmp_path,
        env=run_env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(path.startswith(site) for path in where)  # the image's copy, not this checkout's
    upgraded = subprocess.run(
        [venv / "bin" / "securebase", "db", "upgrade"],
        cwd=tmp_path,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgraded.returncode == 0, upgraded.stderr
    engine = create_engine(f"sqlite:///{database}")
    try:
        assert {"alembic_version", "teams"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


# --- compose.yaml ---------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((REPO / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_compose_runs_two_bot_replicas_beside_postgresql() -> None:
    spec = compose()
    services = spec["services"]
    assert isinstance(services, dict) and set(services) == {"bot", "db"}
    bot, db = services["bot"], services["db"]
    assert bot["build"] == "." and bot["deploy"]["replicas"] == 2
    assert "container_name" not in bot and "ports" not in bot  # replicas cannot share either
    (cmd,) = [exec_form(i.args) for i in dockerfile() if i.keyword == "CMD"]
    assert bot["command"] == cmd
    (exposed,) = [i.args for i in dockerfile() if i.keyword == "EXPOSE"]
    assert bot["expose"] == [exposed] and bot["environment"]["PORT"] == exposed
    assert bot["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert db["image"].startswith("postgres:")
    assert db["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]

    url = make_url(bot["environment"]["DATABASE_URL"])
    assert url.drivername == "postgresql+psycopg"
    assert url.password is None  # the password is PGPASSWORD, from .env
    assert (url.host, url.port) == ("db", 5432)
    assert url.username == db["environment"]["POSTGRES_USER"]
    assert url.database == db["environment"]["POSTGRES_DB"]


def test_compose_takes_the_secret_key_from_a_secret_and_holds_no_secrets() -> None:
    spec = compose()
    bot = spec["services"]["bot"]
    environment = bot["environment"]
    assert "SECUREBASE_SECRET_KEY" not in environment
    (name,) = bot["secrets"]
    assert environment["SECUREBASE_SECRET_KEY_FILE"] == f"/run/secrets/{name}"
    assert spec["secrets"] == {name: {"file": f"./secrets/{name}"}}
    ignored = (REPO / ".gitignore").read_text().split()
    assert "secrets/" in ignored and ".env" in ignored
    # Passwords are filled in from .env when compose runs, never written here.
    for service in spec["services"].values():
        for key, value in (service.get("environment") or {}).items():
            if "PASSWORD" in key:
                assert re.fullmatch(r"\$\{POSTGRES_PASSWORD:\?[^}]+\}", value), key
    assert bot["env_file"] == ".env"
    assert not SECRET_LOOKING.search((REPO / "compose.yaml").read_text())


# --- deploy/securebase.service --------------------------------------------------------------


def unit() -> dict[str, list[tuple[str, str]]]:
    """Sections of a systemd unit as (key, value) lists: keys may repeat."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for raw in (REPO / "deploy" / "securebase.service").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        header = re.fullmatch(r"\[(\w+)\]", line)
        if header:
            current = sections.setdefault(header.group(1), [])
            continue
        key, equals, value = line.partition("=")
        assert current is not None and equals and re.fullmatch(r"[A-Za-z]+", key), raw
        current.append((key, value))
    return sections


def values(section: list[tuple[str, str]], key: str) -> list[str]:
    return [value for name, value in section if name == key]


def test_the_systemd_unit_runs_securebase_as_its_own_user_with_the_key_as_a_credential() -> None:
    sections = unit()
    assert set(sections) == {"Unit", "Service", "Install"}
    service = dict(sections["Service"])
    assert service["User"] == "securebase" != "root"
    assert service["ExecStart"] == "/opt/securebase/bin/securebase run"
    assert service["RestartPreventExitStatus"] == "2"  # a setting to fix, not a crash
    (credential,) = values(sections["Service"], "LoadCredential")
    name, _, source = credential.partition(":")
    assert source.startswith("/etc/securebase/")
    assert f"SECUREBASE_SECRET_KEY_FILE=%d/{name}" in values(sections["Service"], "Environment")
    for setting, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "CapabilityBoundingSet": "",
        "UMask": "0077",
    }.items():
        assert service[setting] == value, setting
    assert dict(sections["Install"])["WantedBy"] == "multi-user.target"
    text = (REPO / "deploy" / "securebase.service").read_text()
    assert not SECRET_LOOKING.search(text)
    # The set-up steps in its header make the user, the venv and the files it names.
    steps = [line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#   ")]
    assert any(s.startswith("sudo useradd --system") and s.endswith(" securebase") for s in steps)
    assert "sudo python3.11 -m venv /opt/securebase" in steps
    assert any(source in s and "openssl rand -hex 32" in s for s in steps)
    assert any(service["EnvironmentFile"] in s for s in steps)


def test_env_example_is_a_valid_systemd_environment_file() -> None:
    """The unit's EnvironmentFile is a copy of .env.example: every line must be a comment,
    blank, or NAME=value with nothing systemd would read differently from python-dotenv."""
    for raw in (REPO / ".env.example").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*=[^\"'\\$`]*", line), raw


@pytest.mark.parametrize("path", ["Dockerfile", "compose.yaml", "deploy/securebase.service"])
def test_the_readme_shows_each_deployment_file(path: str) -> None:
    readme = (REPO / "README.md").read_text()
    deploying = readme[readme.index("## Deploying") :]
    deploying = deploying[: deploying.index("\n## ", 1)]
    assert path in deploying
