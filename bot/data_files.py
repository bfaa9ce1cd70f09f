"""The admin-editable TOML files shipped beside this package (prompts.toml, guides.toml):
reading and parsing one, and the error that names every problem in it at once."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any


class DataFileError(ValueError):
    """The file can't be used; the message names the file, the entry and the field.

    Every problem found is in `problems`; the message lists them one per line, so an admin
    fixes them in one go.
    """

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__("\n".join(f"{source}: {p}" for p in self.problems))


def read_data_file(
    name: str, path: str | Path | None, error: type[DataFileError]
) -> tuple[str, str]:
    """(where it came from, its text): `path`, or by default the file `name` shipped in bot/
    (importlib.resources also works when the package is installed as a zip)."""
    source = f"bot/{name}" if path is None else str(path)
    try:
        if path is None:
            return source, resources.files("bot").joinpath(name).read_text(encoding="utf-8")
        return source, Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error(source, [f"not UTF-8 text ({exc.reason})"]) from exc


def parse_toml(text: str, source: str, error: type[DataFileError]) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(source, [f"not valid TOML: {exc}"]) from exc
