from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.commands import ADMIN_COMMANDS, PARTICIPANT_COMMANDS, parse_command


@pytest.mark.parametrize(
    ("text", "name", "admin", "unknown"),
    [
        (None, "help", False, None),
        ("", "help", False, None),
        ("   ", "help", False, None),
        ("Signup", "signup", False, None),
        ("status now", "status", False, None),
        ("dance", "help", False, "dance"),
        ("admin", "help", True, None),
        ("ADMIN participants", "participants", True, None),
        ("admin rm -rf", "help", True, "rm -rf"),
    ],
)
def test_parse(text, name, admin, unknown):
    parsed = parse_command(text)
    assert (parsed.name, parsed.admin, parsed.unknown) == (name, admin, unknown)


@given(st.text())
def test_any_text_parses_to_a_known_command(text):
    parsed = parse_command(text)
    known = ADMIN_COMMANDS if parsed.admin else PARTICIPANT_COMMANDS
    assert parsed.name in {spec.name for spec in known}
