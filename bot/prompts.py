"""Conversation prompts: the admin-editable library in prompts.toml, and which prompt a pair
gets next (topics they share, rotating, no repeats until every candidate has been used)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.data_files import DataFileError, parse_toml, read_data_file
from bot.profiles import TOPICS

FIELDS = ("id", "topic", "question", "reverse")
TEXT_MAX = 500
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Prompt:
    id: str
    topic: str
    question: str  # the junior mentor asks the leader
    reverse: str  # the leader shares their own experience


class PromptLibraryError(DataFileError):
    """The prompt library can't be used; the message names the file, the entry and the field."""


def load_library(path: str | Path | None = None) -> tuple[Prompt, ...]:
    """Read and validate a library; by default the prompts.toml shipped beside this module."""
    source, text = read_data_file("prompts.toml", path, PromptLibraryError)
    return parse_library(text, source=source)


def parse_library(text: str, *, source: str = "prompts.toml") -> tuple[Prompt, ...]:
    """Parse and validate library text, reporting every problem at once so admins fix in one go."""
    data = parse_toml(text, source, PromptLibraryError)

    problems = [
        f"unknown top-level key {key!r}: the file holds only [[prompt]] tables"
        for key in data
        if key != "prompt"
    ]
    entries = data.get("prompt", [])
    if not isinstance(entries, list):
        problems.append("'prompt' must be written as [[prompt]] tables")
        entries = []

    prompts: list[Prompt] = []
    first_seen: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        prompt, entry_problems = _check_entry(number, entry, first_seen)
        problems.extend(entry_problems)
        if prompt is not None:
            prompts.append(prompt)

    if not entries:
        problems.append("no [[prompt]] entries")
    else:
        # Count entries broken elsewhere too, so one typo doesn't also report a topic as empty.
        covered: set[str] = {
            e["topic"].strip()
            for e in entries
            if isinstance(e, dict) and isinstance(e.get("topic"), str)
        }
        problems.extend(
            f"topic {key!r} ({label}) has no prompts; add at least one"
            for key, label in TOPICS.items()
            if key not in covered
        )

    if problems:
        raise PromptLibraryError(source, problems)
    return tuple(prompts)


def _check_entry(
    number: int, entry: object, first_seen: dict[str, int]
) -> tuple[Prompt | None, list[str]]:
    if not isinstance(entry, dict):
        return None, [f"prompt #{number}: must be a [[prompt]] table, not {_kind(entry)}"]

    raw_id = entry.get("id")
    where = f"prompt #{number}" + (f" (id {raw_id!r})" if isinstance(raw_id, str) else "")
    problems: list[str] = []
    values: dict[str, str] = {}

    for key in entry:
        if key not in FIELDS:
            problems.append(f"{where}: unknown field {key!r}; the fields are {', '.join(FIELDS)}")
    for name in FIELDS:
        if name not in entry:
            problems.append(f"{where}: missing field {name!r}")
            continue
        value = entry[name]
        if not isinstance(value, str):
            problems.append(f"{where}: field {name!r} must be a string, not {_kind(value)}")
            continue
        value = value.strip()
        if not value:
            problems.append(f"{where}: field {name!r} is empty")
            continue
        values[name] = value

    if "id" in values:
        prompt_id = values["id"]
        if not _ID.match(prompt_id):
            problems.append(
                f"{where}: id {prompt_id!r} must be lowercase letters and digits, "
                "joined by single dashes (e.g. 'ai-08')"
            )
        elif prompt_id in first_seen:
            problems.append(
                f"{where}: id {prompt_id!r} is already used by prompt #{first_seen[prompt_id]}; "
                "ids must be unique"
            )
        else:
            first_seen[prompt_id] = number
    if "topic" in values and values["topic"] not in TOPICS:
        problems.append(f"{where}: topic {values['topic']!r} is not one of {', '.join(TOPICS)}")
    for name in ("question", "reverse"):
        if name in values and len(values[name]) > TEXT_MAX:
            problems.append(
                f"{where}: field {name!r} is {len(values[name])} characters; keep it to {TEXT_MAX}"
            )

    if problems:
        return None, problems
    return Prompt(**values), []


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def choose_prompt(
    library: Sequence[Prompt],
    *,
    topics: Sequence[str],
    history: Sequence[str],
    salt: int = 0,
) -> Prompt | None:
    """The next prompt for a pair, or None if the library has nothing for their topics.

    `topics` are the topics the pair shares (empty: any topic); `history` holds the ids already
    sent to the pair, oldest first. No prompt repeats until every candidate has been used (a
    "round"); within a round the least-used topic goes next, taking turns in library order
    after the previous prompt's topic. `salt` (e.g. the pair id) shifts where a pair starts,
    so pairs don't all get the same first prompt.
    """
    wanted = set(topics)
    candidates: dict[str, Prompt] = {}
    for prompt in library:
        if (not wanted or prompt.topic in wanted) and prompt.id not in candidates:
            candidates[prompt.id] = prompt
    if not candidates:
        return None

    by_topic: dict[str, list[Prompt]] = {}
    for prompt in candidates.values():
        by_topic.setdefault(prompt.topic, []).append(prompt)
    topic_order = list(by_topic)

    # Unknown ids (retired prompts, topics the pair no longer shares) don't count.
    seen = [candidates[i] for i in history if i in candidates]
    used: set[str] = set()
    for prompt in seen:
        used.add(prompt.id)
        if len(used) == len(candidates):
            used = set()  # a round is complete: everything is available again

    open_topics = [t for t in topic_order if any(p.id not in used for p in by_topic[t])]
    counts = {t: sum(p.id in used for p in by_topic[t]) for t in open_topics}
    fewest = min(counts.values())
    tied = [t for t in open_topics if counts[t] == fewest]

    # Take turns: the next tied topic after the last one sent; a fresh pair starts at `salt`.
    start = topic_order.index(seen[-1].topic) + 1 if seen else salt
    rank = {t: (topic_order.index(t) - start) % len(topic_order) for t in tied}
    topic = min(tied, key=rank.__getitem__)

    # Within the topic, library order from a pair-specific offset. Dividing by the number of
    # topics keeps the offset independent of the topic choice above, so nearby salts differ.
    pool = by_topic[topic]
    offset = (salt // len(topic_order)) % len(pool)
    return next(p for p in pool[offset:] + pool[:offset] if p.id not in used)
