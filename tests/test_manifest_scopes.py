"""manifest.yml and manifest.oauth.yml ask for exactly the scopes and events the code uses:
no more, no fewer; and an OAuth install asks for the same scopes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from handlers.core.installations import bot_scopes
from handlers.core.slack import METHOD_SCOPES, OAUTH_SUBSCRIPTIONS, SUBSCRIPTIONS
from tests.test_manifest import MANIFEST_PATH, OAUTH_MANIFEST_PATH, load_manifest

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


def _used_scopes() -> set[str]:
    used = {"commands"} | {s for m in _methods_called() for s in METHOD_SCOPES[m]}
    used |= {s for scopes in SUBSCRIPTIONS.values() for s in scopes}
    return used | {s for scopes in OAUTH_SUBSCRIPTIONS.values() for s in scopes}


MANIFESTS = pytest.mark.parametrize(
    "path", [MANIFEST_PATH, OAUTH_MANIFEST_PATH], ids=lambda p: p.name
)


@MANIFESTS
def test_bot_scopes_are_exactly_those_used(path):
    declared = load_manifest(path)["oauth_config"]["scopes"]["bot"]
    assert sorted(declared) == sorted(_used_scopes())


def test_an_oauth_install_asks_for_the_manifests_scopes():
    assert bot_scopes() == sorted(
        load_manifest(OAUTH_MANIFEST_PATH)["oauth_config"]["scopes"]["bot"]
    )


def test_bot_events_are_exactly_those_handled():
    handled = set(re.findall(r"""@app\.event\(\s*["']([a-z_]+)["']""", _code()))
    declared = load_manifest()["settings"]["event_subscriptions"]["bot_events"]
    assert sorted(declared) == sorted(SUBSCRIPTIONS)
    oauth = load_manifest(OAUTH_MANIFEST_PATH)["settings"]["event_subscriptions"]["bot_events"]
    assert sorted(oauth) == sorted(SUBSCRIPTIONS | OAUTH_SUBSCRIPTIONS)
    # Every subscription has a listener (message.mpim arrives as a "message" event); the
    # OAuth-only ones are registered in OAuth mode only.
    assert {name.split(".")[0] for name in SUBSCRIPTIONS | OAUTH_SUBSCRIPTIONS} == handled


@MANIFESTS
def test_slash_command_is_the_one_handled(path):
    handled = set(re.findall(r"""@app\.command\(\s*["'](/[a-z-]+)["']""", _code()))
    declared = {c["command"] for c in load_manifest(path)["features"]["slash_commands"]}
    assert declared == handled
