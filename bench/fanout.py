"""4. Weekly fan-out: `teams` teams due at the same minute, delivered by the weekly sweep
(`WeeklyDelivery.run_due`, what the scheduler runs) against the sandbox enforcing Slack-like
limits; makespan against the least time those limits allow, and posts lost or duplicated,
counted on the sandbox's timelines.

Limits: 1 message per second per channel, and a workspace-wide token bucket per method that
starts full with `per_minute` calls and refills at `per_minute / 60` per second (429 with
Retry-After when empty). Every team posts its prompt to its channel and DMs its supervisor,
so 2 × teams chat.postMessage calls must pass the workspace bucket: the floor is
(2·teams − per_minute) ÷ (per_minute / 60) seconds. `per_minute` is chosen per size so that
the floor is the same at every size, which makes the ratio comparable across sizes; a run of
each size without limits shows the bot's own cost growing.

The bot runs in this process (bot.sandboxed.SandboxedBot): here the limits, not the interpreter
lock, decide the makespan.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.report import Figure, Section, growth, ratio_at_most
from bot.sandboxed import Person, SandboxedBot
from practice.clock import ManualClock

DUE = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # Monday 09:30 in London (UTC in November)
POSTS_PER_TEAM = 2  # the channel prompt and one supervisor's reflections


@dataclass(frozen=True)
class FanoutSizes:
    teams: tuple[int, ...]  # the last is the headline size
    floor_seconds: float  # the least makespan the limits allow, the same at every size
    latency: float  # seconds added to every Web API call in one more run, of the first size


@dataclass(frozen=True)
class FanoutRun:
    teams: int
    per_minute: int | None
    makespan: float
    delivered: int
    lost: int
    duplicated: int
    rate_limited: int  # 429s the bot was answered

    @property
    def floor(self) -> float:
        return floor_seconds(self.teams, self.per_minute)


def per_minute_for(teams: int, floor: float) -> int:
    """The workspace allowance that makes `floor` the least makespan for `teams`."""
    return math.ceil(POSTS_PER_TEAM * teams / (1 + floor / 60))


def floor_seconds(teams: int, per_minute: int | None) -> float:
    if per_minute is None:
        return 0.0
    posts = POSTS_PER_TEAM * teams
    return max(0.0, (posts - per_minute) / (per_minute / 60))


def fan_out(teams: int, per_minute: int | None, workdir: Path, latency: float = 0.0) -> FanoutRun:
    clock = ManualClock(DUE.replace(minute=0))
    url = f"sqlite:///{workdir / f'fanout_{teams}_{per_minute}_{latency}.db'}"
    with SandboxedBot(url, clock) as bot:
        bot.add_people(
            [
                Person(f"U{i:06d}{role}", f"{role.title()} {i}")
                for i in range(teams)
                for role in ("SUP", "MAA", "MBB")
            ]
        )
        for i in range(teams):
            bot.add_team(
                f"C{i:07d}X",
                f"Team {i}",
                [f"U{i:06d}SUP"],
                [f"U{i:06d}MAA", f"U{i:06d}MBB"],
                post_day=0,
                post_minute=9 * 60 + 30,
            )
        clock.set(DUE)
        if per_minute is not None:
            bot.sandbox.faults.enforce_limits(
                per_channel_per_second=1.0, burst=1, workspace_per_minute=per_minute
            )
        if latency:
            bot.sandbox.faults.slow(None, seconds=latency)
        started = time.perf_counter()
        delivered = bot.runtime.delivery.run_due()
        makespan = time.perf_counter() - started
        bot.sandbox.faults.clear()
        lost = duplicated = 0
        for i in range(teams):
            for posts in (
                len(bot.sandbox.timeline(f"C{i:07d}X")),
                len(bot.sandbox.dms(f"U{i:06d}SUP")),
            ):
                lost += posts == 0
                duplicated += max(0, posts - 1)
        limited = sum(1 for call in bot.sandbox.calls() if call.error == "ratelimited")
    return FanoutRun(teams, per_minute, makespan, delivered, lost, duplicated, limited)


def run(sizes: FanoutSizes, workdir: Path) -> Section:
    section = Section(
        4,
        "Weekly fan-out",
        "makespan ≤ 1.2 × the least the limits allow; zero posts lost, zero duplicated.",
    )
    limited: dict[int, FanoutRun] = {}
    free: dict[int, FanoutRun] = {}
    for teams in sizes.teams:
        limited[teams] = fan_out(teams, per_minute_for(teams, sizes.floor_seconds), workdir)
        free[teams] = fan_out(teams, None, workdir)
    for teams in sizes.teams:
        run_ = limited[teams]
        section.figures += [
            Figure(
                f"fanout.makespan.{teams}",
                f"fan-out makespan, {teams:,} teams, limits on",
                run_.makespan,
                run_.floor,
                "s",
                "floor the limits allow",
                "ratio ≤ 1.2",
                ratio_at_most(1.2),
            ),
            Figure(
                f"fanout.lost.{teams}",
                f"posts lost + duplicated, {teams:,} teams",
                float(run_.lost + run_.duplicated),
                float(POSTS_PER_TEAM * teams),
                "count",
                "posts due",
                "0",
                lambda figure: figure.value == 0,
            ),
        ]
        section.notes.append(
            f"{teams:,} teams with limits (workspace {run_.per_minute}/min, 1/s per channel): "
            f"{run_.delivered:,} posts made, {run_.lost} lost, {run_.duplicated} duplicated, "
            f"{run_.rate_limited:,} answers of 429 honoured; without limits: "
            f"{free[teams].makespan:.1f} s, {free[teams].lost} lost, "
            f"{free[teams].duplicated} duplicated."
        )
    small, big = sizes.teams[0], sizes.teams[-1]
    if big != small:
        section.figures.append(
            growth(
                "fanout.growth",
                f"growth: fan-out without limits, {small:,} → {big:,} teams",
                free[big].makespan,
                free[small].makespan,
                "s",
                f"{small:,} teams",
            )
        )
    slow = fan_out(small, None, workdir, sizes.latency)
    section.figures.append(
        Figure(
            "fanout.latency",
            f"fan-out without limits, {small:,} teams, {sizes.latency * 1000:.0f} ms per call",
            slow.makespan,
            free[small].makespan,
            "s",
            "no added latency",
        )
    )
    section.notes.append(
        f"With {sizes.latency * 1000:.0f} ms added to every Web API call (a near Slack; "
        f"`sandbox.faults.slow`), {small:,} teams took {slow.makespan:.1f} s "
        f"({slow.lost} lost, {slow.duplicated} duplicated): the sweep makes each team's four "
        "calls (conversations.members, chat.postMessage, conversations.open, chat.postMessage) "
        "one after another and the teams one after another, so its makespan is about "
        "teams × 4 × the round trip. In production the per-team cron jobs (APScheduler, 4 "
        "threads) post at the minute, four teams at a time; this sweep is the catch-up after "
        "downtime, and at Slack's real round trip it would take minutes for 1,000 teams."
    )
    section.notes.append(
        "Each team: a channel of a supervisor and two members, prompt due Monday 09:30 London; "
        "one sweep (`run_due`) delivers them all, its makespan timed from call to return."
    )
    return section
