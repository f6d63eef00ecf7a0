"""The content library: domains, prompts, reflections and check-in scales.

The words live in TOML files next to this module (``domains/*.toml`` and ``scales.toml``) so
that they can be edited without touching code. :func:`load_library` reads and validates them
strictly: a missing key, a wrong type, an unknown key (usually a typo) or a broken file raises
:class:`ContentError` with a message of the form ``"path: key: problem"``, for example
``"bot/content/domains/acceptance.toml: prompts[2].try_this: must be a non-empty string"``.
List indexes in messages count from 0.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

__all__ = [
    "DOMAIN_ORDER",
    "MIN_PROMPTS",
    "MIN_REFLECTIONS",
    "SCALE_LABEL_MAX_CHARS",
    "SCALE_POINTS",
    "ContentError",
    "Domain",
    "Library",
    "Scale",
    "TeamPrompt",
    "default_library",
    "load_library",
]

DOMAIN_ORDER: tuple[str, ...] = (
    "availability",
    "sensitivity",
    "acceptance",
    "co-operation",
    "team-belonging",
)

MIN_PROMPTS = 4
MIN_REFLECTIONS = 4
SCALE_POINTS = 5
SCALE_LABEL_MAX_CHARS = 30

_CONTENT_DIR = Path(__file__).resolve().parent
_REPO_ROOT = _CONTENT_DIR.parent.parent

_DOMAIN_KEYS = frozenset({"key", "title", "belief", "summary", "prompts", "reflections", "checkin"})
_PROMPT_KEYS = frozenset({"question", "try_this"})
_CHECKIN_KEYS = frozenset({"statement"})
_SCALES_TOP_KEYS = frozenset({"citation", "version", "availability", "stress", "agreement"})
_SCALE_KEYS = frozenset({"question", "labels", "source", "note", "not_needed"})


class ContentError(Exception):
    """The content files are missing, unreadable or invalid.

    The message always starts with the file it is about and, where there is one, the key.
    """


@dataclass(frozen=True)
class TeamPrompt:
    """A question for the team channel with one small thing to try this week."""

    question: str
    try_this: str


@dataclass(frozen=True)
class Domain:
    """One of the five domains of the Team as a Secure Base model."""

    key: str
    title: str
    belief: str
    summary: str
    prompts: tuple[TeamPrompt, ...]
    reflections: tuple[str, ...]
    checkin_statement: str


@dataclass(frozen=True)
class Scale:
    """A 5-point labelled scale: ``labels[i]`` has the value ``i + 1``.

    ``source`` names the published measure the scale follows, where there is one, and ``note``
    says so to the person answering. ``not_needed`` is an extra choice outside the scale ("I
    didn't need any this week"): it counts as checking in but never in the item's figures.
    """

    question: str
    labels: tuple[str, ...]
    source: str | None = None
    note: str | None = None
    not_needed: str | None = None

    def label_for(self, value: int) -> str:
        """The label for ``value`` (1..5); ``ValueError`` if out of range."""
        if not 1 <= value <= len(self.labels):
            raise ValueError(f"scale value {value!r} is out of range 1..{len(self.labels)}")
        return self.labels[value - 1]


@dataclass(frozen=True)
class Library:
    """Everything the bot says about the model, loaded and validated."""

    domains: tuple[Domain, ...]
    availability: Scale
    stress: Scale
    agreement: Scale
    citation: str
    version: int  # of the check-in items; each week records the one it was answered with

    def domain(self, key: str) -> Domain:
        """The domain with this key; :class:`ContentError` (not ``KeyError``) if unknown."""
        for domain in self.domains:
            if domain.key == key:
                return domain
        known = ", ".join(d.key for d in self.domains)
        raise ContentError(f"unknown domain {key!r} (expected one of: {known})")

    def item_title(self, key: str, items_version: int) -> str:
        """What a domain's belief figure is labelled with: the statement people agreed with,
        for weeks answered with these items; for weeks answered with another version, whose
        statement was worded differently, the domain's belief."""
        domain = self.domain(key)
        return domain.checkin_statement if items_version == self.version else domain.belief


def _display(path: Path) -> str:
    """A short, stable name for ``path`` in error messages."""
    try:
        return path.resolve().relative_to(_REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


class _File:
    """Validation helpers bound to one file, so every error names it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = _display(path)

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ContentError(f"{self.name}: {key}: {problem}")

    def load(self) -> dict[str, object]:
        if not self.path.is_file():
            raise ContentError(f"{self.name}: file is missing")
        try:
            with self.path.open("rb") as handle:
                return tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise ContentError(f"{self.name}: invalid TOML: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise ContentError(f"{self.name}: not valid UTF-8: {exc}") from exc
        except OSError as exc:
            raise ContentError(f"{self.name}: cannot be read: {exc}") from exc

    def check_keys(self, table: Mapping[str, object], allowed: frozenset[str], where: str) -> None:
        for key in table:
            if key not in allowed:
                expected = ", ".join(sorted(allowed))
                self.fail(_join(where, key), f"unknown key (expected one of: {expected})")

    def require(self, table: Mapping[str, object], key: str, where: str) -> object:
        if key not in table:
            self.fail(_join(where, key), "required key is missing")
        return table[key]

    def table(self, table: Mapping[str, object], key: str, where: str = "") -> dict[str, object]:
        value = self.require(table, key, where)
        if not isinstance(value, dict):
            self.fail(_join(where, key), f"must be a table (got {_type_name(value)})")
        return value

    def text(self, value: object, name: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(name, f"must be a non-empty string (got {_describe(value)})")
        if value != value.strip():
            self.fail(name, "must not start or end with whitespace")
        return value

    def string(self, table: Mapping[str, object], key: str, where: str = "") -> str:
        return self.text(self.require(table, key, where), _join(where, key))

    def array(self, table: Mapping[str, object], key: str, where: str = "") -> list[object]:
        value = self.require(table, key, where)
        if not isinstance(value, list):
            self.fail(_join(where, key), f"must be an array (got {_type_name(value)})")
        return value

    def strings(self, table: Mapping[str, object], key: str, where: str = "") -> tuple[str, ...]:
        name = _join(where, key)
        items = self.array(table, key, where)
        result = tuple(self.text(item, f"{name}[{i}]") for i, item in enumerate(items))
        self.unique(result, name)
        return result

    def unique(self, items: tuple[str, ...], name: str) -> None:
        seen: set[str] = set()
        for i, item in enumerate(items):
            folded = item.casefold()
            if folded in seen:
                self.fail(f"{name}[{i}]", f"duplicate entry {item!r}")
            seen.add(folded)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _type_name(value: object) -> str:
    return type(value).__name__


def _describe(value: object) -> str:
    if isinstance(value, str):
        return "an empty string" if not value else "only whitespace"
    return _type_name(value)


def _load_domain(path: Path, expected_key: str) -> Domain:
    file = _File(path)
    data = file.load()
    file.check_keys(data, _DOMAIN_KEYS, "")

    key = file.string(data, "key")
    if key != expected_key:
        file.fail("key", f"must match the file name {expected_key!r} (got {key!r})")
    title = file.string(data, "title")
    belief = file.string(data, "belief")
    summary = file.string(data, "summary")

    raw_prompts = file.array(data, "prompts")
    if len(raw_prompts) < MIN_PROMPTS:
        file.fail("prompts", f"needs at least {MIN_PROMPTS} entries (found {len(raw_prompts)})")
    prompts: list[TeamPrompt] = []
    for i, raw in enumerate(raw_prompts):
        where = f"prompts[{i}]"
        if not isinstance(raw, dict):
            file.fail(where, f"must be a table (got {_type_name(raw)})")
        file.check_keys(raw, _PROMPT_KEYS, where)
        prompts.append(
            TeamPrompt(
                question=file.string(raw, "question", where),
                try_this=file.string(raw, "try_this", where),
            )
        )
    file.unique(tuple(p.question for p in prompts), "prompts.question")

    reflections = file.strings(data, "reflections")
    if len(reflections) < MIN_REFLECTIONS:
        file.fail(
            "reflections",
            f"needs at least {MIN_REFLECTIONS} entries (found {len(reflections)})",
        )

    checkin = file.table(data, "checkin")
    file.check_keys(checkin, _CHECKIN_KEYS, "checkin")
    statement = file.string(checkin, "statement", "checkin")

    return Domain(
        key=key,
        title=title,
        belief=belief,
        summary=summary,
        prompts=tuple(prompts),
        reflections=reflections,
        checkin_statement=statement,
    )


def _load_scale(file: _File, data: Mapping[str, object], name: str, *, needs_source: bool) -> Scale:
    table = file.table(data, name)
    file.check_keys(table, _SCALE_KEYS, name)
    question = file.string(table, "question", name)
    labels = file.strings(table, "labels", name)
    if len(labels) != SCALE_POINTS:
        file.fail(
            f"{name}.labels",
            f"must have exactly {SCALE_POINTS} labels (found {len(labels)})",
        )
    for i, label in enumerate(labels):
        _check_label(file, label, f"{name}.labels[{i}]")
    source: str | None = None
    if needs_source or "source" in table:
        source = file.string(table, "source", name)
    note = file.string(table, "note", name) if "note" in table else None
    not_needed = file.string(table, "not_needed", name) if "not_needed" in table else None
    if not_needed is not None:
        _check_label(file, not_needed, f"{name}.not_needed")
        if not_needed.casefold() in {label.casefold() for label in labels}:
            file.fail(f"{name}.not_needed", "must differ from every label")
    return Scale(question, labels, source, note, not_needed)


def _check_label(file: _File, label: str, name: str) -> None:
    if len(label) > SCALE_LABEL_MAX_CHARS:
        file.fail(name, f"must be at most {SCALE_LABEL_MAX_CHARS} characters (found {len(label)})")


def _version(file: _File, data: Mapping[str, object]) -> int:
    value = file.require(data, "version", "")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        file.fail("version", f"must be a whole number from 1 (got {value!r})")
    return value


def _check_domain_dir(domains_dir: Path) -> None:
    name = _display(domains_dir)
    if not domains_dir.is_dir():
        raise ContentError(f"{name}: directory is missing")
    expected = {f"{key}.toml" for key in DOMAIN_ORDER}
    for entry in sorted(domains_dir.iterdir()):
        if entry.name.startswith(".") or entry.name == "__pycache__":
            continue
        if entry.name not in expected:
            known = ", ".join(sorted(expected))
            raise ContentError(
                f"{_display(entry)}: unexpected file in {name} (expected only: {known})"
            )


def load_library(directory: Path | None = None) -> Library:
    """Read and validate the content in ``directory``.

    ``directory`` holds ``scales.toml`` and a ``domains/`` folder with one file per domain;
    by default, the files shipped in this package. Raises :class:`ContentError`.
    """
    root = _CONTENT_DIR if directory is None else Path(directory)
    domains_dir = root / "domains"
    _check_domain_dir(domains_dir)
    domains = tuple(_load_domain(domains_dir / f"{key}.toml", key) for key in DOMAIN_ORDER)

    scales_file = _File(root / "scales.toml")
    scales = scales_file.load()
    scales_file.check_keys(scales, _SCALES_TOP_KEYS, "")
    citation = scales_file.string(scales, "citation")
    return Library(
        domains=domains,
        availability=_load_scale(scales_file, scales, "availability", needs_source=False),
        stress=_load_scale(scales_file, scales, "stress", needs_source=True),
        agreement=_load_scale(scales_file, scales, "agreement", needs_source=False),
        citation=citation,
        version=_version(scales_file, scales),
    )


@functools.cache
def default_library() -> Library:
    """The shipped library, loaded once per process."""
    return load_library()
