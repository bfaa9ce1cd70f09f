from __future__ import annotations

import json
import tomllib
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.profiles import TOPICS
from bot.prompts import (
    TEXT_MAX,
    Prompt,
    PromptLibraryError,
    choose_prompt,
    load_library,
    parse_library,
)

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = load_library()
TOPIC_KEYS = list(TOPICS)


# --- the shipped library -------------------------------------------------------------------


def test_shipped_library_is_big_enough_and_covers_every_topic():
    assert len(LIBRARY) >= 40
    per_topic = Counter(p.topic for p in LIBRARY)
    assert set(per_topic) == set(TOPICS)
    assert min(per_topic.values()) >= 6, per_topic
    ids = [p.id for p in LIBRARY]
    assert len(ids) == len(set(ids))


def test_shipped_prompts_are_short_plain_questions():
    for p in LIBRARY:
        for text in (p.question, p.reverse):
            assert len(text) < 280, p.id
            assert text.isascii(), p.id  # no emoji or stray typography
            assert "?" in text, p.id
            assert not any(c in text for c in "{}<>[]"), p.id  # no placeholders
            assert "TODO" not in text and "XXX" not in text, p.id
        assert p.question != p.reverse


def test_explicit_path_loads_the_same_library_as_the_default():
    assert load_library(ROOT / "bot" / "prompts.toml") == LIBRARY
    assert load_library(str(ROOT / "bot" / "prompts.toml")) == LIBRARY


def test_library_is_declared_as_package_data():
    # Without it a non-editable install would ship the code but not the prompts.
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "*.toml" in config["tool"]["setuptools"]["package-data"]["bot"]


# --- validation ----------------------------------------------------------------------------


def _entry(**fields: object) -> str:
    # JSON string and integer literals are valid TOML literals.
    lines = ["[[prompt]]", *(f"{k} = {json.dumps(v)}" for k, v in fields.items())]
    return "\n".join(lines) + "\n"


def _valid(topic: str, n: int = 1) -> dict[str, object]:
    return {
        "id": f"{topic}-{n:02d}",
        "topic": topic,
        "question": f"What would you ask about {topic}?",
        "reverse": f"What did {topic} teach you?",
    }


def _library(*overrides: dict[str, object] | None, extra: str = "") -> str:
    """One valid prompt per topic; overrides[i] replaces fields of entry i (None drops them)."""
    entries = []
    for i, topic in enumerate(TOPIC_KEYS):
        fields = _valid(topic)
        override = overrides[i] if i < len(overrides) else None
        if override:
            fields.update(override)
        entries.append({k: v for k, v in fields.items() if v is not None})
    return extra + "\n".join(_entry(**f) for f in entries)


def test_minimal_library_parses_and_strips_whitespace():
    text = _library({"question": "  Padded?  \n"})
    prompts = parse_library(text)
    assert len(prompts) == len(TOPICS)
    assert prompts[0] == Prompt("ai-01", "ai", "Padded?", "What did ai teach you?")


def test_text_at_the_limit_is_accepted():
    prompts = parse_library(_library({"question": "x" * TEXT_MAX}))
    assert len(prompts[0].question) == TEXT_MAX


_DUPLICATE = _library() + _entry(**_valid("ai", 1))
_WITHOUT_CAREER = "\n".join(_entry(**_valid(t)) for t in TOPIC_KEYS if t != "career")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param(
            _library(None, {"reverse": None}),
            "prompt #2 (id 'social-01'): missing field 'reverse'",
            id="missing-field",
        ),
        pytest.param(_library({"id": None}), "prompt #1: missing field 'id'", id="missing-id"),
        pytest.param(
            _library({"answer": "Yes."}),
            "prompt #1 (id 'ai-01'): unknown field 'answer'",
            id="unknown-field",
        ),
        pytest.param(
            _library(None, None, {"topic": "robots"}),
            "prompt #3 (id 'inclusion-01'): topic 'robots' is not one of ai, social, inclusion",
            id="bad-topic",
        ),
        pytest.param(
            _DUPLICATE,
            "prompt #8 (id 'ai-01'): id 'ai-01' is already used by prompt #1",
            id="duplicate-id",
        ),
        pytest.param(
            _library({"id": "AI_01"}), "prompt #1 (id 'AI_01'): id 'AI_01' must be", id="bad-id"
        ),
        pytest.param(
            _library({"topic": ["ai"]}),
            "prompt #1 (id 'ai-01'): field 'topic' must be a string, not an array",
            id="topic-array",
        ),
        pytest.param(_library({"id": "ai--01"}), "id 'ai--01' must be", id="double-dash-id"),
        pytest.param(_library({"id": "ai-01-"}), "id 'ai-01-' must be", id="trailing-dash-id"),
        pytest.param(
            _library({"question": "   "}),
            "prompt #1 (id 'ai-01'): field 'question' is empty",
            id="empty-question",
        ),
        pytest.param(
            _library({"question": 7}),
            "prompt #1 (id 'ai-01'): field 'question' must be a string, not int",
            id="wrong-type",
        ),
        pytest.param(
            _library(None, {"reverse": "y" * (TEXT_MAX + 1)}),
            f"prompt #2 (id 'social-01'): field 'reverse' is {TEXT_MAX + 1} characters",
            id="too-long",
        ),
        pytest.param(
            _WITHOUT_CAREER, "topic 'career' (Career growth) has no prompts", id="no-career"
        ),
        pytest.param('[[prompt]\nid = "ai-01"\n', "not valid TOML: ", id="not-toml"),
        pytest.param("id = ", "not valid TOML: ", id="toml-missing-value"),
        pytest.param(
            _library(extra='title = "Prompts"\n'), "unknown top-level key 'title'", id="top-level"
        ),
        pytest.param('prompt = "ai"\n', "must be written as [[prompt]] tables", id="not-tables"),
        pytest.param("prompt = [1]\n", "prompt #1: must be a [[prompt]] table", id="not-a-table"),
        pytest.param("# nothing yet\n", "no [[prompt]] entries", id="empty"),
    ],
)
def test_broken_library_names_the_problem(text, fragment):
    with pytest.raises(PromptLibraryError) as caught:
        parse_library(text, source="bot/prompts.toml")
    message = str(caught.value)
    assert fragment in message
    assert all(line.startswith("bot/prompts.toml: ") for line in message.splitlines())
    assert isinstance(caught.value, ValueError)


def test_every_problem_is_reported_at_once():
    text = _library({"topic": "robots"}, {"question": ""})
    with pytest.raises(PromptLibraryError) as caught:
        parse_library(text)
    problems = caught.value.problems
    assert any("topic 'robots'" in p for p in problems)
    assert any("field 'question' is empty" in p for p in problems)
    assert any("topic 'ai' (Digital trends & AI) has no prompts" in p for p in problems)


def test_load_library_names_the_file(tmp_path):
    broken = tmp_path / "custom.toml"
    broken.write_text(_library({"topic": "robots"}), encoding="utf-8")
    with pytest.raises(PromptLibraryError, match=r"custom\.toml: prompt #1 \(id 'ai-01'\)"):
        load_library(broken)
    broken.write_bytes(b'\xff\xfe[[prompt]]\nid = "x"\n')
    with pytest.raises(PromptLibraryError, match=r"custom\.toml: not UTF-8"):
        load_library(broken)


# --- choosing ------------------------------------------------------------------------------


def _run(library, topics, steps, salt=0, history=()):
    history = list(history)
    chosen = []
    for _ in range(steps):
        prompt = choose_prompt(library, topics=topics, history=history, salt=salt)
        assert prompt is not None
        chosen.append(prompt)
        history.append(prompt.id)
    return chosen


def _candidates(library, topics):
    return [p for p in library if not topics or p.topic in topics]


topic_sets = st.lists(st.sampled_from(TOPIC_KEYS), unique=True, max_size=len(TOPIC_KEYS))
sub_libraries = st.lists(st.sampled_from(LIBRARY), unique=True, min_size=1).map(
    lambda picked: tuple(p for p in LIBRARY if p in picked)  # keep library order
)


@settings(max_examples=150, deadline=None)
@given(library=sub_libraries, topics=topic_sets, salt=st.integers(-1000, 10**6))
def test_no_repeats_until_the_shared_topics_are_exhausted(library, topics, salt):
    candidates = _candidates(library, topics)
    if not candidates:
        assert choose_prompt(library, topics=topics, history=[], salt=salt) is None
        return
    n = len(candidates)
    chosen = _run(library, topics, 3 * n, salt=salt)
    assert {p.topic for p in chosen} <= set(topics or TOPICS)
    for start in range(0, 3 * n, n):
        block = chosen[start : start + n]
        assert sorted(p.id for p in block) == sorted(p.id for p in candidates)


@settings(max_examples=100, deadline=None)
@given(library=sub_libraries, topics=topic_sets, salt=st.integers(0, 500))
def test_least_used_topic_goes_next(library, topics, salt):
    candidates = _candidates(library, topics)
    if not candidates:
        return
    sizes = Counter(p.topic for p in candidates)
    counts: Counter[str] = Counter()
    for prompt in _run(library, topics, len(candidates), salt=salt):
        open_topics = [t for t in sizes if counts[t] < sizes[t]]
        assert counts[prompt.topic] == min(counts[t] for t in open_topics)
        counts[prompt.topic] += 1


@settings(max_examples=50, deadline=None)
@given(
    topics=st.lists(st.sampled_from(TOPIC_KEYS), unique=True, min_size=2),
    salt=st.integers(0, 500),
)
def test_topics_take_turns_even_across_rounds(topics, salt):
    # The shipped library has the same number of prompts per topic, so turns are exact.
    chosen = _run(LIBRARY, topics, 2 * len(_candidates(LIBRARY, topics)) + 3, salt=salt)
    for before, after in pairwise(chosen):
        assert before.topic != after.topic
    first_turn = [p.topic for p in chosen[: len(topics)]]
    assert sorted(first_turn) == sorted(topics)


def test_pair_sharing_ai_and_social_alternates():
    chosen = _run(LIBRARY, ["social", "ai"], 10)
    topics = [p.topic for p in chosen]
    assert topics[0::2] == [topics[0]] * 5
    assert topics[1::2] == [topics[1]] * 5
    assert {topics[0], topics[1]} == {"ai", "social"}


def test_empty_topics_means_the_whole_library():
    chosen = _run(LIBRARY, [], len(LIBRARY))
    assert sorted(p.id for p in chosen) == sorted(p.id for p in LIBRARY)
    assert {p.topic for p in chosen[: len(TOPICS)]} == set(TOPICS)


def test_no_candidates_gives_none():
    assert choose_prompt(LIBRARY, topics=["underwater-basket-weaving"], history=[]) is None
    assert choose_prompt((), topics=[], history=[]) is None


def test_choice_is_deterministic_and_pure():
    history = ["ai-03", "social-01"]
    topics = ["ai", "social", "career"]
    first = choose_prompt(LIBRARY, topics=topics, history=history, salt=42)
    for _ in range(5):
        assert choose_prompt(LIBRARY, topics=topics, history=history, salt=42) == first
    assert history == ["ai-03", "social-01"]
    assert topics == ["ai", "social", "career"]


@pytest.mark.parametrize("topics", [[], ["ai"], ["genz", "hybrid"]])
def test_different_salts_start_pairs_in_different_places(topics):
    chosen = [choose_prompt(LIBRARY, topics=topics, history=[], salt=s) for s in range(20)]
    assert None not in chosen
    firsts = {prompt.id for prompt in chosen if prompt is not None}
    assert len(firsts) > 1


def test_unknown_ids_in_history_are_ignored():
    clean = ["ai-01", "social-02", "ai-02"]
    noisy = ["retired-09", "ai-01", "zzz", "social-02", "ai-02", "", "career-99"]
    for salt in range(5):
        expected = choose_prompt(LIBRARY, topics=["ai", "social"], history=clean, salt=salt)
        got = choose_prompt(LIBRARY, topics=["ai", "social"], history=noisy, salt=salt)
        assert got == expected
    assert choose_prompt(LIBRARY, topics=["ai"], history=["gone"], salt=3) == choose_prompt(
        LIBRARY, topics=["ai"], history=[], salt=3
    )


def test_history_from_topics_no_longer_shared_does_not_block():
    ai_ids = [p.id for p in LIBRARY if p.topic == "ai"]
    social = _run(LIBRARY, ["social"], 6, history=ai_ids)
    assert [p.topic for p in social] == ["social"] * 6
    assert len({p.id for p in social}) == 6


def test_round_restarts_after_every_candidate_was_used():
    ai = [p for p in LIBRARY if p.topic == "ai"]
    history = [p.id for p in ai]
    nxt = choose_prompt(LIBRARY, topics=["ai"], history=history)
    assert nxt is not None and nxt.topic == "ai"
    # One into the new round: that prompt is not offered again until the round completes.
    after = _run(LIBRARY, ["ai"], len(ai) - 1, history=[*history, nxt.id])
    assert nxt.id not in {p.id for p in after}
