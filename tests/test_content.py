"""The content library: the shipped words, their voice, and the strict loader."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.content import (
    DOMAIN_ORDER,
    ContentError,
    Domain,
    Library,
    default_library,
    load_library,
)

CONTENT_DIR = Path(__file__).resolve().parents[1] / "bot" / "content"
# The practice tool the model comes from (its source: tests/data/README.md).
SEED_FILE = Path(__file__).resolve().parent / "data" / "team-as-secure-base-practice-tool.txt"

PROMPT_WORD_BUDGET = 90
NGRAM = 8

BELIEFS = {
    "availability": "People are there for me",
    "sensitivity": "My feelings are manageable",
    "acceptance": "I don't always have to be strong",
    "co-operation": "I can work with others to find a solution",
    "team-belonging": "I am valued and I belong",
}
TITLES = {
    "availability": "Availability",
    "sensitivity": "Sensitivity",
    "acceptance": "Acceptance",
    "co-operation": "Co-operation",
    "team-belonging": "Team belonging (team membership)",
}

# A few common US spellings (matched at the start of a word, so "organized" is caught too).
US_SPELLINGS = (
    "organiz",
    "recogniz",
    "realiz",
    "apologiz",
    "prioritiz",
    "emphasiz",
    "analyz",
    "color",
    "behavior",
    "center",
    "favor",
    "honor",
    "labor",
    "neighbor",
    "judgment",
    "toward ",
    "mom ",
)


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


def all_texts(lib: Library) -> Iterator[tuple[str, str]]:
    """Every user-facing string in the library, with a name for assertion messages."""
    yield "citation", lib.citation
    for domain in lib.domains:
        yield f"{domain.key}.title", domain.title
        yield f"{domain.key}.belief", domain.belief
        yield f"{domain.key}.summary", domain.summary
        yield f"{domain.key}.checkin", domain.checkin_statement
        for i, prompt in enumerate(domain.prompts):
            yield f"{domain.key}.prompts[{i}].question", prompt.question
            yield f"{domain.key}.prompts[{i}].try_this", prompt.try_this
        for i, reflection in enumerate(domain.reflections):
            yield f"{domain.key}.reflections[{i}]", reflection
    for name in ("availability", "stress", "agreement"):
        scale = getattr(lib, name)
        yield f"{name}.question", scale.question
        for i, label in enumerate(scale.labels):
            yield f"{name}.labels[{i}]", label


def words(text: str) -> list[str]:
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return re.findall(r"[a-z0-9']+", text)


def ngrams(text: str, n: int = NGRAM) -> set[tuple[str, ...]]:
    ws = words(text)
    return {tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)}


# --- the shipped library -------------------------------------------------------------------


def test_shipped_library_loads_five_domains_in_order(library: Library) -> None:
    assert tuple(d.key for d in library.domains) == DOMAIN_ORDER
    assert DOMAIN_ORDER == (
        "availability",
        "sensitivity",
        "acceptance",
        "co-operation",
        "team-belonging",
    )


def test_default_library_is_cached_and_equal_to_a_fresh_load(library: Library) -> None:
    assert default_library() is default_library()
    assert default_library() == library


@pytest.mark.parametrize("key", DOMAIN_ORDER)
def test_domain_titles_beliefs_and_counts(library: Library, key: str) -> None:
    domain = library.domain(key)
    assert isinstance(domain, Domain)
    assert domain.title == TITLES[key]
    assert domain.belief == BELIEFS[key]
    assert len(domain.prompts) >= 5
    assert len(domain.reflections) >= 5
    assert domain.checkin_statement.startswith("This week, ")


def test_unknown_domain_raises_content_error_not_key_error(library: Library) -> None:
    with pytest.raises(ContentError, match="unknown domain 'resilience'"):
        library.domain("resilience")


@pytest.mark.parametrize("key", DOMAIN_ORDER)
def test_each_channel_prompt_fits_the_word_budget(library: Library, key: str) -> None:
    domain = library.domain(key)
    for i, prompt in enumerate(domain.prompts):
        count = len(f"{domain.summary} {prompt.question} {prompt.try_this}".split())
        assert count <= PROMPT_WORD_BUDGET, f"{key}.prompts[{i}] is {count} words"


def test_questions_and_reflections_are_questions(library: Library) -> None:
    for domain in library.domains:
        for prompt in domain.prompts:
            assert prompt.question.endswith("?"), prompt.question
        for reflection in domain.reflections:
            assert reflection.endswith("?"), reflection


def test_try_this_stays_within_fifteen_minutes(library: Library) -> None:
    for domain in library.domains:
        for prompt in domain.prompts:
            for minutes in re.findall(r"(\d+)[- ]minute", prompt.try_this):
                assert int(minutes) <= 15, prompt.try_this


def test_scale_labels_fit_on_a_phone(library: Library) -> None:
    for scale in (library.availability, library.stress, library.agreement):
        assert len(scale.labels) == 5
        assert len(set(scale.labels)) == 5
        assert all(len(label) <= 30 for label in scale.labels), scale.labels
        assert scale.question


def test_scales_have_the_agreed_labels(library: Library) -> None:
    assert library.availability.question == (
        "This week, how often was support there when you needed it?"
    )
    assert library.availability.labels == (
        "Never",
        "Rarely",
        "Sometimes",
        "Most of the time",
        "Always",
    )
    assert library.availability.not_needed == "I didn't need any this week"
    assert library.stress.labels == (
        "Not at all",
        "A little",
        "Somewhat",
        "Quite a lot",
        "Very much",
    )
    assert library.stress.source == "Elo, Leppänen & Jahkola (2003)"
    assert library.stress.note is not None and "Adapted from" in library.stress.note
    assert library.version == 2
    assert library.stress.label_for(5) == "Very much"
    assert library.agreement.labels == (
        "Strongly disagree",
        "Disagree",
        "Neither agree nor disagree",
        "Agree",
        "Strongly agree",
    )
    with pytest.raises(ValueError):
        library.agreement.label_for(0)


def test_citation_names_the_model(library: Library) -> None:
    assert "Biggart" in library.citation
    assert "2017" in library.citation


def test_uk_spelling(library: Library) -> None:
    for name, text in all_texts(library):
        lowered = f" {text.lower()} "
        for us in US_SPELLINGS:
            assert not re.search(rf"\b{re.escape(us)}", lowered), f"{name}: US spelling {us!r}"


def test_no_text_is_repeated(library: Library) -> None:
    seen: dict[str, str] = {}
    for name, text in all_texts(library):
        if ".labels[" in name:
            continue  # "Not at all" is rightly shared by two scales
        assert text not in seen, f"{name} repeats {seen[text]}"
        seen[text] = name


def test_written_in_our_own_words(library: Library) -> None:
    seed = ngrams(SEED_FILE.read_text(encoding="utf-8"))
    assert seed, "seed file produced no 8-grams"
    for name, text in all_texts(library):
        copied = ngrams(text) & seed
        assert not copied, f"{name} copies the seed: {' '.join(sorted(copied)[0])!r}"


# --- the loader on broken content ----------------------------------------------------------


@pytest.fixture()
def content_copy(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR / "domains", root / "domains")
    shutil.copy2(CONTENT_DIR / "scales.toml", root / "scales.toml")
    return root


def test_a_faithful_copy_loads_the_same(content_copy: Path, library: Library) -> None:
    assert load_library(content_copy) == library


def edit(relative: str, old: str, new: str, count: int = 1) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"test set-up: {old!r} not in {relative}"
        path.write_text(text.replace(old, new, count), encoding="utf-8")

    return apply


def drop_line(relative: str, startswith: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / relative
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if not line.startswith(startswith)]
        assert len(kept) == len(lines) - 1, f"test set-up: {startswith!r} in {relative}"
        path.write_text("".join(kept), encoding="utf-8")

    return apply


def keep_prompts(relative: str, how_many: int) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / relative
        head, *prompts = path.read_text(encoding="utf-8").split("[[prompts]]")
        path.write_text("[[prompts]]".join([head, *prompts[:how_many]]), encoding="utf-8")

    return apply


def keep_reflections(relative: str, how_many: int) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / relative
        text = path.read_text(encoding="utf-8")
        start = text.index("reflections = [")
        end = text.index("]\n", start) + 2
        kept = ", ".join(f'"r{i}?"' for i in range(how_many))
        path.write_text(f"{text[:start]}reflections = [{kept}]\n{text[end:]}", encoding="utf-8")

    return apply


def remove(relative: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        (root / relative).unlink()

    return apply


def add_file(relative: str, text: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        (root / relative).write_text(text, encoding="utf-8")

    return apply


D = "domains/"
BREAKAGES: list[tuple[str, Callable[[Path], None], str, str]] = [
    # (id, breakage, file named in the message, key named in the message)
    ("missing key", drop_line(D + "acceptance.toml", "summary ="), "acceptance.toml", "summary"),
    (
        "wrong type",
        edit(D + "sensitivity.toml", 'title = "Sensitivity"', "title = 42"),
        "sensitivity.toml",
        "title",
    ),
    (
        "empty string",
        edit(
            D + "acceptance.toml",
            "try_this = \"Jot down one 'I must always' rule",
            'try_this = ""#',
        ),
        "acceptance.toml",
        "prompts[2].try_this",
    ),
    (
        "padded string",
        edit(D + "availability.toml", 'belief = "People', 'belief = " People'),
        "availability.toml",
        "belief",
    ),
    (
        "too few prompts",
        keep_prompts(D + "availability.toml", 3),
        "availability.toml",
        "prompts",
    ),
    (
        "too few reflections",
        keep_reflections(D + "team-belonging.toml", 3),
        "team-belonging.toml",
        "reflections",
    ),
    (
        "reflections wrong type",
        edit(D + "sensitivity.toml", "reflections = [", "reflections = [ 7,"),
        "sensitivity.toml",
        "reflections[0]",
    ),
    (
        "unknown key in a prompt",
        edit(D + "co-operation.toml", "try_this =", "try_ths ="),
        "co-operation.toml",
        "prompts[0].try_ths",
    ),
    (
        "unknown top-level key",
        edit(D + "acceptance.toml", "summary =", 'sumary = "typo"\nsummary ='),
        "acceptance.toml",
        "sumary",
    ),
    (
        "missing check-in table",
        edit(D + "team-belonging.toml", "[checkin]\nstatement =", "# statement ="),
        "team-belonging.toml",
        "checkin: required key is missing",
    ),
    (
        "key does not match file name",
        edit(D + "availability.toml", 'key = "availability"', 'key = "availabilty"'),
        "availability.toml",
        "key",
    ),
    (
        "bad TOML syntax",
        edit(D + "team-belonging.toml", '(team membership)"', "(team membership)"),
        "team-belonging.toml",
        "invalid TOML",
    ),
    ("missing domain file", remove(D + "sensitivity.toml"), "sensitivity.toml", "missing"),
    (
        "extra domain file",
        add_file(D + "resilience.toml", 'key = "resilience"\n'),
        "resilience.toml",
        "unexpected file",
    ),
    (
        "label too long",
        edit("scales.toml", '"Quite a lot"', '"Quite a lot more than I would like"'),
        "scales.toml",
        "stress.labels[3]",
    ),
    (
        "too few labels",
        edit("scales.toml", '"Neither agree nor disagree", ', ""),
        "scales.toml",
        "agreement.labels",
    ),
    (
        "stress without its source",
        drop_line("scales.toml", "source ="),
        "scales.toml",
        "stress.source",
    ),
    (
        "unknown scale key",
        edit("scales.toml", "[availability]\n", '[availability]\nlabel = "x"\n'),
        "scales.toml",
        "availability.label: unknown key",
    ),
    ("missing citation", drop_line("scales.toml", "citation ="), "scales.toml", "citation"),
    ("missing items version", drop_line("scales.toml", "version ="), "scales.toml", "version"),
    (
        "items version not a whole number",
        edit("scales.toml", "version = 2", 'version = "2"'),
        "scales.toml",
        "version: must be a whole number",
    ),
    (
        "extra choice too long for a radio button",
        edit(
            "scales.toml",
            "I didn't need any this week",
            "I didn't need any support at all this week",
        ),
        "scales.toml",
        "availability.not_needed: must be at most 30",
    ),
    (
        "extra choice the same as a label",
        edit("scales.toml", '"I didn\'t need any this week"', '"never"'),
        "scales.toml",
        "availability.not_needed: must differ",
    ),
    ("missing scales file", remove("scales.toml"), "scales.toml", "missing"),
]


@pytest.mark.parametrize(
    ("breakage", "file_name", "key"),
    [pytest.param(b, f, k, id=name) for name, b, f, k in BREAKAGES],
)
def test_broken_content_is_reported_with_file_and_key(
    content_copy: Path,
    breakage: Callable[[Path], None],
    file_name: str,
    key: str,
) -> None:
    breakage(content_copy)
    with pytest.raises(ContentError) as caught:
        load_library(content_copy)
    message = str(caught.value)
    assert file_name in message
    assert key in message
    assert message.startswith(str(content_copy)), message


def test_error_message_format(content_copy: Path) -> None:
    edit(D + "acceptance.toml", "try_this = \"Jot down one 'I must always' rule", 'try_this = ""#')(
        content_copy
    )
    with pytest.raises(ContentError) as caught:
        load_library(content_copy)
    expected = f"{content_copy / 'domains' / 'acceptance.toml'}: prompts[2].try_this: "
    assert str(caught.value).startswith(expected + "must be a non-empty string")


def test_shipped_files_are_named_relative_to_the_repository() -> None:
    from bot.content.library import _display

    shown = _display(CONTENT_DIR / "domains" / "acceptance.toml")
    assert shown == "bot/content/domains/acceptance.toml"
