"""manifest.yml asks for exactly the scopes and events the code uses: no more, no fewer."""

from __future__ import annotations

import re
from pathlib import Path

from handlers.core.slack import METHOD_SCOPES, SUBSCRIPTIONS
from tests.test_manifest import load_manifest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [p for d in ("handlers", "bot", "storage") for p in (ROOT / d).rglob("*.py")] + [
    ROOT / "app.py"
]


def _code() -> str:
    return "\n".join(p.read_text() for p in SOURCES)


def _methods_called() -> set[str]:
    return set(re.findall(r"""\.call\(\s*["']([a-z]+\.[A-Za-z.]+)["']""", _code()))


def test_every_called_method_is_declared():
    assert _methods_called() <= set(METHOD_SCOPES)


def test_bot_scopes_are_exactly_those_used():
    used = {"commands"} | {s for m in _methods_called() for s in METHOD_SCOPES[m]}
    used |= {s for scopes in SUBSCRIPTIONS.values() for s in scopes}
    declared = load_manifest()["oauth_config"]["scopes"]["bot"]
    assert sorted(declared) == sorted(used)


def test_bot_events_are_exactly_those_handled():
    handled = set(re.findall(r"""@app\.event\(\s*["']([a-z_]+)["']""", _code()))
    declared = load_manifest()["settings"]["event_subscriptions"]["bot_events"]
    assert sorted(declared) == sorted(SUBSCRIPTIONS)
    # Every subscription has a listener (message.mpim arrives as a "message" event).
    assert {name.split(".")[0] for name in SUBSCRIPTIONS} == handled


def test_slash_command_is_the_one_handled():
    handled = set(re.findall(r"""@app\.command\(\s*["'](/[a-z-]+)["']""", _code()))
    declared = {c["command"] for c in load_manifest()["features"]["slash_commands"]}
    assert declared == handled
