"""Preparation guides: what a junior mentor and a leader read before their first session,
kept as admin-editable text in guides.toml beside this module."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.data_files import DataFileError, parse_toml, read_data_file

AUDIENCES = ("junior", "leader")
FIELDS = ("title", "sections")
TITLE_MAX = 150  # a header block's plain text
SECTION_MAX = 2000  # Slack's section text allows 3000; a guide is read on a phone
SECTIONS_MAX = 10


@dataclass(frozen=True)
class Guide:
    audience: str  # "junior" (the mentor of a pair) or "leader" (the one mentored)
    title: str
    sections: tuple[str, ...]  # mrkdwn, in order


class GuideError(DataFileError):
    """The guides can't be used; the message names the file, the guide and the field."""


def load_guides(path: str | Path | None = None) -> dict[str, Guide]:
    """Read and validate the guides, by audience; by default guides.toml beside this module."""
    source, text = read_data_file("guides.toml", path, GuideError)
    return parse_guides(text, source=source)


def parse_guides(text: str, *, source: str = "guides.toml") -> dict[str, Guide]:
    """Parse and validate guide text, reporting every problem at once."""
    data = parse_toml(text, source, GuideError)

    problems = [
        f"unknown top-level key {key!r}: the file holds only [{'] and ['.join(AUDIENCES)}]"
        for key in data
        if key not in AUDIENCES
    ]
    guides: dict[str, Guide] = {}
    for audience in AUDIENCES:
        if audience not in data:
            problems.append(f"missing the [{audience}] guide")
            continue
        guide, found = _check_guide(audience, data[audience])
        problems.extend(found)
        if guide is not None:
            guides[audience] = guide
    if problems:
        raise GuideError(source, problems)
    return guides


def _check_guide(audience: str, entry: object) -> tuple[Guide | None, list[str]]:
    where = f"[{audience}]"
    if not isinstance(entry, dict):
        return None, [f"{where}: must be a table with a title and sections"]
    problems = [
        f"{where}: unknown field {key!r}; the fields are {', '.join(FIELDS)}"
        for key in entry
        if key not in FIELDS
    ]

    title = entry.get("title")
    clean_title = title.strip() if isinstance(title, str) else ""
    if title is None:
        problems.append(f"{where}: missing field 'title'")
    elif not isinstance(title, str):
        problems.append(f"{where}: field 'title' must be a string, not {_kind(title)}")
    elif not clean_title:
        problems.append(f"{where}: field 'title' is empty")
    elif "\n" in clean_title:
        problems.append(f"{where}: field 'title' must be one line")
    elif len(clean_title) > TITLE_MAX:
        problems.append(
            f"{where}: field 'title' is {len(clean_title)} characters; keep it to {TITLE_MAX}"
        )

    raw_sections = entry.get("sections")
    sections: list[str] = []
    if raw_sections is None:
        problems.append(f"{where}: missing field 'sections'")
    elif not isinstance(raw_sections, list):
        problems.append(f"{where}: field 'sections' must be a list of texts")
    elif not raw_sections:
        problems.append(f"{where}: field 'sections' is empty; add at least one section")
    elif len(raw_sections) > SECTIONS_MAX:
        problems.append(
            f"{where}: {len(raw_sections)} sections; keep it to {SECTIONS_MAX} (shorter is better)"
        )
    else:
        for number, section in enumerate(raw_sections, start=1):
            at = f"{where}: section {number}"
            if not isinstance(section, str):
                problems.append(f"{at} must be a string, not {_kind(section)}")
            elif not section.strip():
                problems.append(f"{at} is empty")
            elif len(section.strip()) > SECTION_MAX:
                problems.append(
                    f"{at} is {len(section.strip())} characters; keep it to {SECTION_MAX}"
                )
            else:
                sections.append(section.strip())

    if problems:
        return None, problems
    return Guide(audience=audience, title=clean_title, sections=tuple(sections)), []


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__
