"""1. Ack latency under load (and 5. memory): signed /checkin and /teampulse from closed-loop
clients to `securebase run`, against a bare Bolt app that only acks on the same adapter.

The bot has `teams` teams scheduled (none due while measured) in one workspace; the load
comes from the members and supervisors of the first `load_teams`, which have weeks of
history so that /teampulse has figures to show. Both servers run as subprocesses, the
sandbox in a third process, the load generator in this one.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from bench import seed, servers
from bench.load import Ask, LoadResult, PeopleResult, closed_loop, people_loop
from bench.report import Figure, Section, growth, ratio_at_least, ratio_at_most, value_below
from bench.slack_host import SIGNING_SECRET, WORKSPACE, HostProcess, SlackHost
from bench.slack_requests import slash_command
from bench.stats import percentile
from bot.after_ack import BUSY
from storage.db import Database
from storage.migrate import upgrade

DEADLINE_MS = 3000.0

# What profiling found (py-spy --gil on the running `securebase run` under a people loop,
# 2026-12-06); added to the results when a goal is missed. Re-profile before trusting it after
# handler changes.
WHY_SLOW = (
    "Why the goals are missed (py-spy --gil on the running bot, sampling only the thread "
    "holding the interpreter lock, 2026-12-06). Where a request's server CPU goes: /checkin: "
    "the database 47% (the team, then the week with its seal, roster entry and whether this "
    "person has checked in: five statements in two sessions), the views.open call 24% "
    "(slack_sdk's WebClient opens a new connection through urllib for every call), the HTTP "
    "server and Bolt 19% (what a bare ack costs too), rendering 3% (the form is built once "
    "per team-week). /teampulse: the database 49% (the supervisor's teams with their "
    "supervisors, one aggregate for the figures, the latest block's comments, the view log's "
    "row), the HTTP server and Bolt 21%, rendering 10%, the reply through the response URL "
    "10%. Each ORM round trip is 0.2–0.3 ms of Python in SQLAlchemy, whatever the database "
    "does, so what stands between these and 3 × a bare ack is the number of statements (a "
    "request would need about two) and a pooled HTTP connection to Slack. Acks: the ack is "
    "answered in the request thread (bot.after_ack) and no longer queues behind other "
    "requests' work, but under a closed loop the pool's eight threads keep the interpreter "
    "lock busy, and an ack waits its turn for it: at 50 clients p99 is about twice a bare "
    "app's, at 5 clients (where a bare app's p99 is lowest) more. Tried: a 1 ms switch "
    "interval (worse: more switching, more CPU per request) and three pool threads (no clear "
    "change). Before this round (2026-11-25) /checkin and /teampulse cost 10–15 ms: the "
    "form was rendered on every call, the figures took four ORM statements rebuilt each time, "
    "the team was read twice with a second statement for its supervisors, and acks waited "
    "for a free listener thread."
)
PLANNED_RATE = 1500  # requests/s a run is given trigger ids for (more than either server does)


@dataclass(frozen=True)
class AckSizes:
    teams: int
    load_teams: int
    members: int
    history_weeks: int
    clients: tuple[int, ...]  # the last is the headline size
    duration: float
    warmup: float
    settle: float  # seconds the bot is left idle after start-up before idle memory is read
    people: tuple[int, ...]  # people-loop sizes (see bench.load); the first is the headline


def _plan(load: list[seed.Roster], count: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """(user, channel, command): members' /checkin and supervisors' /teampulse, alternating."""
    plan = []
    for i in range(count):
        roster = rng.choice(load)
        if i % 2 == 0:
            plan.append((rng.choice(roster.members), roster.channel, "/checkin"))
        else:
            plan.append((roster.supervisor, roster.channel, "/teampulse"))
    return plan


def _bodies(host: SlackHost, plan: list[tuple[str, str, str]]) -> Iterator[bytes]:
    """Issues every trigger id and response URL now; builds each body when it is asked for."""
    issued: list[tuple[str, str]] = []
    for start in range(0, len(plan), 5000):
        issued += host.issue([(user, channel) for user, channel, _ in plan[start : start + 5000]])
    return (
        slash_command(WORKSPACE, user, channel, command, trigger, response_url)
        for (user, channel, command), (trigger, response_url) in zip(plan, issued, strict=True)
    )


@dataclass(frozen=True)
class Run:
    load: LoadResult
    cpu_ms_per_request: float  # the server's CPU time (all threads) per request sent


def _load(
    host: SlackHost, server: servers.Server, load: list[seed.Roster], sizes: AckSizes, clients: int
) -> Run:
    planned = int(PLANNED_RATE * (sizes.duration + sizes.warmup)) + 10 * clients
    plan = _plan(load, planned, random.Random(clients))
    bodies = _bodies(host, plan)
    cpu = server.cpu_seconds()
    result = closed_loop(
        server.events_url,
        SIGNING_SECRET,
        bodies,
        clients=clients,
        duration=sizes.duration,
        warmup=sizes.warmup,
    )
    used = server.cpu_seconds() - cpu
    return Run(result, 1000 * used / max(1, result.sent))


def _asks(host: SlackHost, plan: list[tuple[str, str, str]]) -> Iterator[Ask]:
    issued = host.issue([(user, channel) for user, channel, _ in plan])
    return (
        Ask(slash_command(WORKSPACE, user, channel, command, trigger, url), trigger, url)
        for (user, channel, command), (trigger, url) in zip(plan, issued, strict=True)
    )


@dataclass(frozen=True)
class PeopleRun:
    result: PeopleResult
    cpu_ms_per_request: float


ANSWER_WAIT = 10.0  # seconds a person waits for an answer before it counts as unanswered


def _people(
    host: SlackHost,
    server: servers.Server,
    load: list[seed.Roster],
    sizes: AckSizes,
    people: int,
    command: str,
) -> PeopleRun:
    """`people` people each sending `command` and waiting for its answer, again and again."""
    rng = random.Random(people)
    planned = int(PLANNED_RATE * (sizes.duration + sizes.warmup) / 5) + 2 * people
    plan = []
    for _ in range(planned):
        roster = rng.choice(load)
        user = rng.choice(roster.members) if command == "/checkin" else roster.supervisor
        plan.append((user, roster.channel, command))

    def answered(ask: Ask, ack: bytes) -> str:
        if BUSY.encode() in ack:
            return "busy"
        return host.wait_answered(ask.trigger_id, ask.response_url, ANSWER_WAIT)

    cpu = server.cpu_seconds()
    result = people_loop(
        server.events_url,
        SIGNING_SECRET,
        _asks(host, plan),
        answered,
        clients=people,
        duration=sizes.duration / 2,
        warmup=sizes.warmup,
    )
    used = server.cpu_seconds() - cpu
    return PeopleRun(result, 1000 * used / max(1, result.total))


def _database(
    path: Path, teams: list[seed.Roster], load: list[seed.Roster], sizes: AckSizes, now: datetime
) -> str:
    url = f"sqlite:///{path}"
    db = Database(url, seed.KEYRING)
    try:
        upgrade(db)
        seed.add_teams(db, teams, now, *seed.not_yet_due(now))
        seed.add_history(db, load, sizes.history_weeks, now)
        seed.open_weeks(db, load, now)  # this week's prompt is out: /checkin opens the form
    finally:
        db.dispose()
    return url


def _ms(result: LoadResult, p: float) -> float:
    return percentile(result.latencies, p) * 1000


def _people_figures(
    people: dict[tuple[int, str], PeopleRun], runs: dict[tuple[str, int], Run], sizes: AckSizes
) -> list[Figure]:
    """Server CPU per request of each kind (every request answered in full), against a bare
    ack's; the share of /checkin requests that opened a modal, and how many went unanswered."""
    first = sizes.people[0]
    bare = runs["bare", max(sizes.clients)].cpu_ms_per_request
    figures = [
        Figure(
            f"people.cpu.{command.strip('/')}",
            f"server CPU per {command}, {first} people",
            people[first, command].cpu_ms_per_request,
            bare,
            "ms",
            f"bare Bolt ack, {max(sizes.clients)} clients",
            "ratio ≤ 3",
            ratio_at_most(3.0),
        )
        for command in ("/checkin", "/teampulse")
    ]
    for n in sizes.people:
        result = people[n, "/checkin"].result
        figures += [
            Figure(
                f"people.modal.{n}",
                f"/checkin that opened the form, {n} people",
                100 * result.share("modal"),
                100.0,
                "%",
                f"all {result.sent:,} sent",
                *(("ratio ≥ 0.99", ratio_at_least(0.99)) if n == first else ()),
            ),
            Figure(
                f"people.unanswered.{n}",
                f"/checkin left unanswered, {n} people",
                result.outcomes["unanswered"],
                max(1, result.sent),
                "count",
                "sent",
                "none",
                ratio_at_most(0.0),
            ),
        ]
    return figures


def run(sizes: AckSizes, workdir: Path) -> tuple[Section, Section]:
    ack = Section(
        1,
        "Ack latency under load",
        "p99 ratio (bot / bare Bolt app) ≤ 2, and the bot's p99 far below Slack's 3 s "
        f"(taken here as ≤ {DEADLINE_MS / 10:.0f} ms, a tenth of it); server CPU per /checkin "
        "and /teampulse ≤ 3 × a bare ack's; with people waiting for their answers, ≥ 99% of "
        "/checkin open the form at the first size and none is left unanswered at any.",
    )
    memory = Section(
        5,
        "Memory",
        f"peak RSS of `securebase run` with {sizes.teams:,} teams scheduled < 200 MB, idle and "
        "under load 1.",
    )
    now = datetime.now(UTC)
    teams = seed.rosters(sizes.teams, sizes.members)
    # Only the load teams need full channels; the others have a supervisor and two members.
    teams = [replace(r, members=r.members[:2]) if r.index >= sizes.load_teams else r for r in teams]
    load = teams[: sizes.load_teams]
    database_url = _database(workdir / "ack.db", teams, load, sizes, now)
    # The same bot and load with only the load teams in the workspace: what the other teams
    # cost each request.
    few_url = _database(workdir / "ack_few.db", load, load, sizes, now)
    answers = sizes.history_weeks * sum(len(r.members) for r in load)

    runs: dict[tuple[str, int], Run] = {}
    with HostProcess() as host:
        host.add_users(sorted({p for r in teams for p in r.people}))
        host.add_channels(seed.channel_members(teams))
        api_url = host.api_url()
        bot = servers.securebase_run(api_url, database_url, workdir)
        bare = servers.bare_ack(api_url, database_url, workdir)
        few = servers.securebase_run(api_url, few_url, workdir, name="securebase-run-few")
        with servers.running(bot, bare, few):
            time.sleep(sizes.settle)
            idle_bot, idle_bare = bot.memory_kib(), bare.memory_kib()
            for clients in sizes.clients:
                runs["bare", clients] = _load(host, bare, load, sizes, clients)
                runs["bot", clients] = _load(host, bot, load, sizes, clients)
            peak_bot, peak_bare = bot.memory_kib(), bare.memory_kib()
            people = {
                (n, command): _people(host, bot, load, sizes, n, command)
                for n, command in [(n, "/checkin") for n in sizes.people]
                + [(sizes.people[0], "/teampulse")]
            }
            runs["few", sizes.clients[0]] = _load(host, few, load, sizes, sizes.clients[0])
            problems = bot.log_problems()
            calls = host.call_counts()

    for clients in sizes.clients:
        bot_run, bare_run = runs["bot", clients].load, runs["bare", clients].load
        ack.figures += [
            Figure(
                f"ack.p99.{clients}",
                f"p99 ack, {clients} clients",
                _ms(bot_run, 99),
                _ms(bare_run, 99),
                "ms",
                "bare Bolt",
                "ratio ≤ 2",
                ratio_at_most(2.0),
            ),
            Figure(
                f"ack.p99_deadline.{clients}",
                f"p99 ack vs Slack's deadline, {clients} clients",
                _ms(bot_run, 99),
                DEADLINE_MS,
                "ms",
                "3 s",
                "ratio ≤ 0.1",
                ratio_at_most(0.1),
            ),
            Figure(
                f"ack.p50.{clients}",
                f"p50 ack, {clients} clients",
                _ms(bot_run, 50),
                _ms(bare_run, 50),
                "ms",
                "bare Bolt",
            ),
            Figure(
                f"ack.max.{clients}",
                f"max ack, {clients} clients",
                _ms(bot_run, 100),
                _ms(bare_run, 100),
                "ms",
                "bare Bolt",
            ),
            Figure(
                f"ack.cpu.{clients}",
                f"server CPU per request, {clients} clients",
                runs["bot", clients].cpu_ms_per_request,
                runs["bare", clients].cpu_ms_per_request,
                "ms",
                "bare Bolt",
            ),
            Figure(
                f"ack.rps.{clients}",
                f"acks per second, {clients} clients",
                bot_run.throughput,
                bare_run.throughput,
                "/s",
                "bare Bolt",
            ),
        ]
        for name, result in (("bot", bot_run), ("bare", bare_run)):
            if result.failed or result.ran_dry:
                ack.notes.append(
                    f"{name}, {clients} clients: {result.failed} requests not answered 200 "
                    f"({dict(result.statuses)})"
                    + (
                        " — a 404 is Bolt giving up on an ack it waited 3 s for: Slack would "
                        "show the person an error"
                        if result.statuses.get("404")
                        else ""
                    )
                    + ("; ran out of requests" if result.ran_dry else "")
                )
    ack.figures += _people_figures(people, runs, sizes)
    small, big = min(sizes.clients), max(sizes.clients)
    first = sizes.clients[0]
    ack.figures += [
        growth(
            "ack.teams.p99",
            f"growth: p99 ack, {first} clients, {sizes.load_teams} → {sizes.teams:,} teams",
            _ms(runs["bot", first].load, 99),
            _ms(runs["few", first].load, 99),
            "ms",
            f"{sizes.load_teams} teams",
        ),
        growth(
            "ack.teams.cpu",
            f"growth: CPU per request, {first} clients, {sizes.load_teams} → {sizes.teams:,} teams",
            runs["bot", first].cpu_ms_per_request,
            runs["few", first].cpu_ms_per_request,
            "ms",
            f"{sizes.load_teams} teams",
        ),
    ]
    if big != small:
        ack.figures.append(
            growth(
                "ack.growth",
                f"growth: p99 ack, {small} → {big} clients",
                _ms(runs["bot", big].load, 99),
                _ms(runs["bot", small].load, 99),
                "ms",
                f"{small} clients",
            )
        )
    ack.notes.append(
        f"Setup: {sizes.teams:,} teams scheduled in one workspace (SQLite); load from "
        f"{sizes.load_teams} teams of {sizes.members} members with {sizes.history_weeks} closed "
        f"weeks ({answers:,} answers). Requests alternate members' `/checkin` and supervisors' "
        f"`/teampulse`; each client sends its next as soon as the last is acked, for "
        f"{sizes.duration:.0f} s after {sizes.warmup:.0f} s of warm-up, bare app first."
    )
    for (n, command), person in sorted(people.items()):
        outcomes = ", ".join(f"{k} {v:,}" for k, v in sorted(person.result.outcomes.items()))
        ack.notes.append(f"People loop, {n} people sending {command}: {outcomes}.")
    ack.notes.append(
        "People loop (`bench.load.people_loop`): each person sends the command and waits until "
        "it is answered as Slack would show it (the sandbox saw the form opened with the "
        "request's trigger id, or a reply at its response URL, or the ack itself said busy) "
        f"before sending the next; {ANSWER_WAIT:.0f} s without an answer counts as unanswered. "
        f"{sizes.duration / 2:.0f} s after {sizes.warmup:.0f} s of warm-up, against the bot "
        "with all its teams. CPU per request is the server's CPU over the run ÷ every request "
        "sent, warm-up included."
    )
    if any(f.met is False for f in ack.figures):
        ack.notes.append(WHY_SLOW)
    ack.notes.append(
        "Web API calls the bots made meanwhile (sandbox): "
        + ", ".join(f"{method} {count:,}" for method, count in sorted(calls.items()))
    )
    if problems:
        ack.notes.append(f"The bot logged {len(problems)} error lines, e.g. `{problems[0][:160]}`")

    mib = 1024.0
    memory.figures += [
        Figure(
            "mem.idle",
            f"RSS idle, {sizes.teams:,} teams scheduled",
            idle_bot["VmHWM"] / mib,
            idle_bare["VmHWM"] / mib,
            "MB",
            "bare Bolt",
            "< 200 MB",
            value_below(200),
        ),
        Figure(
            "mem.load",
            f"peak RSS after load 1 ({max(sizes.clients)} clients)",
            peak_bot["VmHWM"] / mib,
            peak_bare["VmHWM"] / mib,
            "MB",
            "bare Bolt",
            "< 200 MB",
            value_below(200),
        ),
    ]
    memory.notes.append(
        "About 45 MB of the bot's idle figure is matplotlib: `bot.render.chart` imports its Agg "
        "backend when the handlers load (`import bot.app` alone: 100 MB; without matplotlib: "
        "55 MB), so importing it where a chart is drawn would take that off every replica."
    )
    memory.notes.append(
        "Peak resident set (VmHWM from /proc) of the `securebase run` process, read after "
        f"{sizes.settle:.0f} s idle with its scheduler started, then after all of benchmark 1's "
        "load; baseline: the bare-ack server under the same load."
    )
    return ack, memory
