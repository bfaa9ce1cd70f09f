"""The README's two set-up commands are the ones CI runs and the ones that work."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)\n```", (ROOT / "README.md").read_text(), re.S)


def test_readme_has_exactly_two_setup_commands():
    blocks = _shell_blocks()
    assert len(blocks) == 2
    run, test = blocks
    assert run.endswith("python app.py")
    assert test.endswith("python -m pytest")


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = _shell_blocks()[1]
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()


def test_env_example_documents_every_setting():
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    read = set(re.findall(r'get\("([A-Z_]+)"\)', (ROOT / "bot" / "settings.py").read_text()))
    assert read and documented == read
