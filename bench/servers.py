"""The servers under test, each in a subprocess of its own: the real bot (`securebase run`,
HTTP mode) and the bare-ack baseline (`python -m bench.bare_app`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.seed import KEY
from bench.slack_host import BOT_TOKEN, SIGNING_SECRET
from bot.app import LISTENER_THREADS

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak) of a process, from /proc (Linux)."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """A server subprocess; `events_url` is where Slack's requests go."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        api_url: str,
        database_url: str,
        workdir: Path,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.events_url = f"{self.base_url}/slack/events"
        self.log_path = workdir / f"{name}.log"
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("SLACK_", "SECUREBASE_", "DATABASE_URL"))
        }
        env.update(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=api_url,
            DATABASE_URL=database_url,
            SECUREBASE_SECRET_KEY=KEY,
            PORT=str(self.port),
            PYTHONPATH=str(REPO),
            **(extra_env or {}),
        )
        self._argv, self._env, self._workdir = argv, env, workdir
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def process(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._process

    def start(self) -> None:
        log = self.log_path.open("wb")
        # The work directory as cwd: `securebase` reads `.env` from there, so a developer's own
        # .env (with a Socket Mode token, say) cannot change what is measured.
        with log:
            self._process = subprocess.Popen(
                self._argv, cwd=self._workdir, env=self._env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.log_path.read_text(errors="replace").strip().splitlines()[-1:]
                raise RuntimeError(f"{self.name} exited early: {' '.join(tail)}")
            try:
                # /readyz: /healthz answers as soon as the process runs, before it can serve.
                if httpx.get(f"{self.base_url}/readyz", timeout=5.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} was not ready (/readyz) within {timeout:.0f}s")

    def memory_kib(self) -> dict[str, int]:
        return memory_kib(self.process.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)

    def log_problems(self) -> list[str]:
        """Lines of the server's log at ERROR level or that start a traceback."""
        return [
            line
            for line in self.log_path.read_text(errors="replace").splitlines()
            if " ERROR " in line or line.startswith("Traceback")
        ]

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


@contextmanager
def running(*started: Server) -> Iterator[None]:
    """Start the servers side by side, wait until each answers, stop them all afterwards."""
    try:
        for server in started:
            server.start()
        for server in started:
            server.wait_ready()
        yield
    finally:
        for server in started:
            server.stop()


def securebase_run(
    api_url: str, database_url: str, workdir: Path, name: str = "securebase-run"
) -> Server:
    """The real bot, started exactly as an installer starts it."""
    command = Path(sys.executable).with_name("securebase")
    return Server(name, [str(command), "run"], api_url, database_url, workdir)


def bare_ack(api_url: str, database_url: str, workdir: Path) -> Server:
    argv = [sys.executable, "-m", "bench.bare_app"]
    threads = {"LISTENER_THREADS": str(LISTENER_THREADS)}
    return Server("bare-ack", argv, api_url, database_url, workdir, threads)
