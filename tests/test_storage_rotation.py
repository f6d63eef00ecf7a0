"""Rotation: which domain and prompt a team gets each week."""

from __future__ import annotations

from collections import Counter

import pytest

from practice.rotation import Pick, Rotation, legacy_start, pick

ORDER = ("availability", "sensitivity", "acceptance", "co-operation", "team-belonging")
ROTATION = Rotation(order=ORDER, prompts_per_domain={k: 5 for k in ORDER}, items_version=2)
UNEVEN = Rotation(
    order=ORDER,
    prompts_per_domain=dict(zip(ORDER, (3, 4, 5, 6, 7), strict=True)),
    items_version=2,
)
NOW_WEEK = 151  # w/c 23 Nov 2026
TEAMS = [("T0001", f"C{n:04d}") for n in range(40)] + [("T0002", "C0000")]


def history(rotation: Rotation, team: tuple[str, str], start: int, weeks: int) -> list[Pick]:
    """The team's picks from its first week, `start`, on."""
    return [rotation.for_team(*team, week, start) for week in range(start, start + weeks)]


def by_domain(picks: list[Pick]) -> dict[str, list[int]]:
    seen: dict[str, list[int]] = {}
    for chosen in picks:
        seen.setdefault(chosen.domain, []).append(chosen.prompt_index)
    return seen


def no_repeat_before_all_used(shown: list[int], count: int) -> bool:
    """Read as the team lives it: a prompt may come back only once every prompt was used."""
    used: set[int] = set()
    for prompt in shown:
        if prompt in used:
            if len(used) < count:
                return False
            used = set()
        used.add(prompt)
    return True


def test_deterministic_across_instances_and_calls() -> None:
    again = Rotation(order=ORDER, prompts_per_domain={k: 5 for k in ORDER}, items_version=2)
    for team in TEAMS[:5]:
        first = history(ROTATION, team, NOW_WEEK, 30)
        assert first == history(ROTATION, team, NOW_WEEK, 30)
        assert first == history(again, team, NOW_WEEK, 30)
        key = f"{team[0]}/{team[1]}"
        assert first[0] == pick(key, NOW_WEEK, NOW_WEEK, ORDER, {k: 5 for k in ORDER})


@pytest.mark.parametrize("start", [0, 1, 2, 3, 4, NOW_WEEK, 1000])
def test_every_new_team_starts_at_availability(start: int) -> None:
    for team in TEAMS:
        assert [p.domain for p in history(ROTATION, team, start, 5)] == list(ORDER)


# Picks the hash-offset rotation gave these teams before rotation counted from a start week
# (worked out with that code): teams already running must keep exactly their place.
BEFORE = {
    ("T0001", "C0001"): [
        ("availability", 3),
        ("sensitivity", 2),
        ("acceptance", 4),
        ("co-operation", 3),
        ("team-belonging", 4),
        ("availability", 2),
    ],
    ("T0001", "C0002"): [
        ("team-belonging", 1),
        ("availability", 3),
        ("sensitivity", 1),
        ("acceptance", 2),
        ("co-operation", 4),
        ("team-belonging", 0),
    ],
    ("T0009", "C0042"): [
        ("availability", 2),
        ("sensitivity", 4),
        ("acceptance", 4),
        ("co-operation", 0),
        ("team-belonging", 4),
        ("availability", 4),
    ],
}


@pytest.mark.parametrize("team", list(BEFORE))
def test_a_running_team_keeps_its_place(team: tuple[str, str]) -> None:
    start = legacy_start(*team, len(ORDER))
    picks = [ROTATION.for_team(*team, week, start) for week in range(150, 156)]
    assert [(p.domain, p.prompt_index) for p in picks] == BEFORE[team]


@pytest.mark.parametrize("start", [0, 1, 2, 3, 4, NOW_WEEK, 1000])
def test_five_consecutive_weeks_cover_every_domain(start: int) -> None:
    for team in TEAMS:
        assert {p.domain for p in history(ROTATION, team, start, 5)} == set(ORDER)


def test_prompt_indices_in_range() -> None:
    for team in TEAMS[:10]:
        for chosen in history(UNEVEN, team, NOW_WEEK, 100):
            assert 0 <= chosen.prompt_index < UNEVEN.prompts_per_domain[chosen.domain]


@pytest.mark.slow
@pytest.mark.parametrize("rotation", [ROTATION, UNEVEN], ids=["five-each", "uneven"])
@pytest.mark.parametrize("start", [0, 3, NOW_WEEK, NOW_WEEK + 2])
def test_prompts_never_repeat_until_all_used(rotation: Rotation, start: int) -> None:
    # A team may start in any week; from its first week on, every domain's prompts must all
    # have been shown before one comes back.
    for team in TEAMS:
        shown = by_domain(history(rotation, team, start, 60 if rotation is ROTATION else 140))
        assert set(shown) == set(ORDER)
        for domain, prompts in shown.items():
            count = rotation.prompts_per_domain[domain]
            assert no_repeat_before_all_used(prompts, count), (team, domain, prompts)
            # ...and over a long enough stretch every prompt is used equally often.
            full = len(prompts) // count * count
            assert set(Counter(prompts[:full]).values()) == {full // count}


def test_each_domain_comes_round_every_five_weeks() -> None:
    for team in TEAMS[:10]:
        picks = history(ROTATION, team, NOW_WEEK, 60)
        for i in range(len(picks) - 5):
            assert picks[i].domain == picks[i + 5].domain


def test_different_teams_get_different_orders_of_prompts() -> None:
    orders = {tuple(by_domain(history(ROTATION, team, 0, 25))["availability"]) for team in TEAMS}
    assert len(orders) > 1  # not every team walks the prompts in the same order
    # The workspace is part of the team key too.
    a = history(ROTATION, ("T0001", "C0000"), 0, 25)
    b = history(ROTATION, ("T0002", "C0000"), 0, 25)
    assert a != b
