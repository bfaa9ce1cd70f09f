"""manifest.yml (one workspace) and manifest.oauth.yml (many, by OAuth) follow the rules of
Slack's app manifest schema (v1) that apply to our app.

The rules come from slackapi/manifest-schema (schemas/manifest.schema.1.0.0.json). Each rule is a
function returning a list of problems, so every rule is checked twice: it finds nothing in our
manifests, and it does find the breakage we inject into a copy of one.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

MANIFEST_PATH = Path(__file__).resolve().parents[1] / "manifest.yml"
OAUTH_MANIFEST_PATH = MANIFEST_PATH.with_name("manifest.oauth.yml")

MISSING = object()
URL = re.compile(r"^https?://")

# Keys the schema allows in each object (it sets additionalProperties false everywhere).
ALLOWED_KEYS: dict[str, set[str]] = {
    "": {
        "$schema",
        "_metadata",
        "app_directory",
        "display_information",
        "features",
        "oauth_config",
        "settings",
        "functions",
        "workflows",
        "datastores",
        "outgoing_domains",
        "types",
        "external_auth_providers",
    },
    "_metadata": {"schema_version", "min_version", "major_version", "minor_version"},
    "display_information": {"name", "description", "background_color", "long_description"},
    "features": {
        "app_home",
        "bot_user",
        "functions",
        "shortcuts",
        "slash_commands",
        "workflow_steps",
        "unfurl_domains",
        "assistant_view",
    },
    "features.app_home": {
        "home_tab_enabled",
        "messages_tab_enabled",
        "messages_tab_read_only_enabled",
    },
    "features.bot_user": {"display_name", "always_online"},
    "oauth_config": {"redirect_urls", "scopes", "token_management_enabled", "pkce_enabled"},
    "oauth_config.scopes": {"user", "bot", "user_optional", "bot_optional"},
    "settings": {
        "allowed_ip_address_ranges",
        "event_subscriptions",
        "incoming_webhooks",
        "interactivity",
        "org_deploy_enabled",
        "socket_mode_enabled",
        "is_hosted",
        "token_rotation_enabled",
        "siws_links",
        "hermes_app_type",
        "function_runtime",
        "is_mcp_enabled",
    },
    "settings.event_subscriptions": {
        "request_url",
        "user_events",
        "bot_events",
        "metadata_subscriptions",
    },
    "settings.interactivity": {"is_enabled", "request_url", "message_menu_options_url"},
}
SLASH_COMMAND_KEYS = {"command", "url", "description", "usage_hint", "should_escape"}

# Keys the schema requires once their parent object is present.
REQUIRED_KEYS: dict[str, set[str]] = {
    "": {"display_information"},
    "display_information": {"name"},
    "features.bot_user": {"display_name"},
    "settings.interactivity": {"is_enabled"},
}

# (path, min length, max length). The schema makes most of these optional; we set them all.
STRING_LENGTHS: list[tuple[str, int, int]] = [
    ("display_information.name", 1, 35),
    ("display_information.description", 1, 140),
    ("display_information.long_description", 175, 4000),
    ("display_information.background_color", 4, 7),
    ("features.bot_user.display_name", 1, 80),
]

PATTERNS: list[tuple[str, str]] = [
    # The schema states this under a non-standard "regex" keyword, so generic JSON Schema
    # validators skip it; Slack still rejects anything but #rgb / #rrggbb.
    ("display_information.background_color", r"^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$"),
    # Not in the JSON schema: Slack's manifest reference allows only a-z, 0-9, '-', '_', '.'.
    ("features.bot_user.display_name", r"^[a-z0-9._-]+$"),
]

BOOLEANS = [
    "features.app_home.home_tab_enabled",
    "features.app_home.messages_tab_enabled",
    "features.app_home.messages_tab_read_only_enabled",
    "features.bot_user.always_online",
    "oauth_config.token_management_enabled",
    "settings.interactivity.is_enabled",
    "settings.org_deploy_enabled",
    "settings.socket_mode_enabled",
    "settings.token_rotation_enabled",
]

# (path, max items, max length of each string). The schema bounds these lists; it makes events,
# not scopes, unique, but a repeated scope is always a mistake so we demand it for both.
STRING_LISTS: list[tuple[str, int, int]] = [
    ("oauth_config.scopes.bot", 255, 50),
    ("oauth_config.scopes.user", 255, 50),
    ("settings.event_subscriptions.bot_events", 100, 50),
    ("settings.event_subscriptions.user_events", 100, 50),
]

# What this app depends on: Socket Mode by default, buttons and modals, the App Home and DMs.
APP_SETTINGS: dict[str, Any] = {
    "settings.socket_mode_enabled": True,
    "settings.interactivity.is_enabled": True,
    "features.app_home.home_tab_enabled": True,
    "features.app_home.messages_tab_enabled": True,
    "features.app_home.messages_tab_read_only_enabled": False,
}


# What the OAuth variant depends on instead: HTTP mode, rotating tokens, org-wide installs.
OAUTH_APP_SETTINGS: dict[str, Any] = APP_SETTINGS | {
    "settings.socket_mode_enabled": False,
    "settings.token_rotation_enabled": True,
    "settings.org_deploy_enabled": True,
}
REDIRECT_PATH = "/slack/oauth_redirect"


def load_manifest(path: Path = MANIFEST_PATH) -> dict:
    """The parsed manifest.yml (or another manifest), for any test that needs it."""
    with path.open(encoding="utf-8") as fh:
        manifest = yaml.safe_load(fh)
    assert isinstance(manifest, dict), f"{path.name} must be a mapping"
    return manifest


def _get(manifest: dict, path: str) -> Any:
    node: Any = manifest
    for key in filter(None, path.split(".")):
        if not isinstance(node, dict) or key not in node:
            return MISSING
        node = node[key]
    return node


def _set(manifest: dict, path: str, value: Any) -> dict:
    *parents, last = path.split(".")
    node = manifest
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return manifest


def _delete(manifest: dict, path: str) -> dict:
    *parents, last = path.split(".")
    node = manifest
    for key in parents:
        node = node[key]
    del node[last]
    return manifest


def _string_problems(where: str, value: Any, low: int, high: int) -> list[str]:
    if not isinstance(value, str):
        return [f"{where}: expected a string, got {value!r}"]
    if not low <= len(value) <= high:
        return [f"{where}: length {len(value)} not in {low}..{high}"]
    return []


def check_required_keys(m: dict) -> list[str]:
    problems = []
    for path, keys in REQUIRED_KEYS.items():
        node = _get(m, path)
        if isinstance(node, dict):
            problems += [f"{path or '<top>'}: missing {k}" for k in sorted(keys - node.keys())]
    return problems


def check_known_keys(m: dict) -> list[str]:
    problems = []
    for path, allowed in ALLOWED_KEYS.items():
        node = _get(m, path)
        if node is MISSING:
            continue
        if not isinstance(node, dict):
            problems.append(f"{path}: expected a mapping")
            continue
        problems += [f"{path or '<top>'}: unknown key {k!r}" for k in node.keys() - allowed]
    return problems


def check_metadata(m: dict) -> list[str]:
    # These rules are the v1 schema's; a manifest marked as v2 would be judged by other rules.
    metadata = m.get("_metadata", {})
    if not isinstance(metadata, dict):
        return ["_metadata: expected a mapping"]
    problems = [f"_metadata.{k}: not an integer" for k, v in metadata.items() if type(v) is not int]
    if metadata.get("major_version", 1) != 1:
        problems.append("_metadata.major_version: must be 1")
    return problems


def check_string_lengths(m: dict) -> list[str]:
    return [
        p for path, lo, hi in STRING_LENGTHS for p in _string_problems(path, _get(m, path), lo, hi)
    ]


def check_patterns(m: dict) -> list[str]:
    return [
        f"{path}: {_get(m, path)!r} does not match {pattern}"
        for path, pattern in PATTERNS
        if not re.fullmatch(pattern, str(_get(m, path)))
    ]


def check_booleans(m: dict) -> list[str]:
    # A quoted "true" is a string in YAML, and the schema wants a real boolean.
    return [
        f"{path}: expected a boolean, got {value!r}"
        for path in BOOLEANS
        if (value := _get(m, path)) is not MISSING and not isinstance(value, bool)
    ]


def check_slash_commands(m: dict) -> list[str]:
    commands = _get(m, "features.slash_commands")
    if not isinstance(commands, list) or not 1 <= len(commands) <= 50:
        return ["features.slash_commands: expected a list of 1..50 commands"]
    problems = []
    for i, cmd in enumerate(commands):
        where = f"features.slash_commands[{i}]"
        if not isinstance(cmd, dict):
            problems.append(f"{where}: expected a mapping")
            continue
        problems += [f"{where}: unknown key {k!r}" for k in cmd.keys() - SLASH_COMMAND_KEYS]
        problems += [f"{where}: missing {k}" for k in ("command", "description") if k not in cmd]
        problems += _string_problems(f"{where}.command", cmd.get("command"), 2, 32)
        if not str(cmd.get("command")).startswith("/"):
            problems.append(f"{where}.command: must start with '/'")
        problems += _string_problems(f"{where}.description", cmd.get("description"), 1, 2000)
        if "usage_hint" in cmd:
            problems += _string_problems(f"{where}.usage_hint", cmd["usage_hint"], 1, 1000)
        if "should_escape" in cmd and not isinstance(cmd["should_escape"], bool):
            problems.append(f"{where}.should_escape: expected a boolean")
        if "url" in cmd and not (
            isinstance(cmd["url"], str) and URL.match(cmd["url"]) and len(cmd["url"]) <= 3000
        ):
            problems.append(f"{where}.url: expected an http(s) URL of at most 3000 chars")
    names = [repr(c.get("command")) for c in commands if isinstance(c, dict)]
    if len(names) != len(set(names)):
        problems.append("features.slash_commands: duplicate command")
    return problems


def check_string_lists(m: dict) -> list[str]:
    problems = []
    for path, max_items, max_len in STRING_LISTS:
        items = _get(m, path)
        if items is MISSING:
            continue
        if not isinstance(items, list) or len(items) > max_items:
            problems.append(f"{path}: expected a list of at most {max_items} items")
            continue
        for item in items:
            problems += _string_problems(path, item, 1, max_len)
            if isinstance(item, str) and re.search(r"\s", item):
                problems.append(f"{path}: {item!r} contains whitespace")
        if len(items) != len({repr(i) for i in items}):
            problems.append(f"{path}: items must be unique")
    return problems


def check_app_settings(m: dict) -> list[str]:
    return [
        f"{path}: expected {want!r}, got {got!r}"
        for path, want in APP_SETTINGS.items()
        if (got := _get(m, path)) is not want
    ]


def check_oauth_app_settings(m: dict) -> list[str]:
    return [
        f"{path}: expected {want!r}, got {got!r}"
        for path, want in OAUTH_APP_SETTINGS.items()
        if (got := _get(m, path)) is not want
    ]


def check_redirect_urls(m: dict) -> list[str]:
    # The schema: a list of at most 1000 URLs. Ours: https, ending at the bot's redirect path.
    urls = _get(m, "oauth_config.redirect_urls")
    if urls is MISSING:
        return []
    if not isinstance(urls, list) or not 1 <= len(urls) <= 1000:
        return ["oauth_config.redirect_urls: expected a list of 1..1000 URLs"]
    return [
        f"oauth_config.redirect_urls: {url!r} is not an https URL ending in {REDIRECT_PATH}"
        for url in urls
        if not (isinstance(url, str) and url.startswith("https://") and url.endswith(REDIRECT_PATH))
    ]


def check_oauth_redirect(m: dict) -> list[str]:
    # Installing by OAuth needs somewhere for Slack to send the installer back.
    if _get(m, "oauth_config.redirect_urls") in (MISSING, None, []):
        return ["oauth_config.redirect_urls: OAuth installs need the bot's redirect URL"]
    return []


def check_http_mode_urls(m: dict) -> list[str]:
    # Without Socket Mode, Slack must know where to POST commands, events and interactions.
    if _get(m, "settings.socket_mode_enabled") is not False:
        return []
    commands = _get(m, "features.slash_commands")
    needed = {
        f"features.slash_commands[{i}].url": cmd.get("url")
        for i, cmd in enumerate(commands if isinstance(commands, list) else [])
        if isinstance(cmd, dict)
    }
    if _get(m, "settings.event_subscriptions.bot_events") not in (MISSING, None, []):
        needed["settings.event_subscriptions.request_url"] = _get(
            m, "settings.event_subscriptions.request_url"
        )
    if _get(m, "settings.interactivity.is_enabled") is True:
        needed["settings.interactivity.request_url"] = _get(m, "settings.interactivity.request_url")
    return [
        f"{path}: needs an http(s) request URL when socket_mode_enabled is false"
        for path, url in needed.items()
        if not (isinstance(url, str) and URL.match(url))
    ]


RULES: list[Callable[[dict], list[str]]] = [
    check_required_keys,
    check_known_keys,
    check_metadata,
    check_string_lengths,
    check_patterns,
    check_booleans,
    check_slash_commands,
    check_string_lists,
    check_app_settings,
    check_http_mode_urls,
]
# manifest.oauth.yml: the same rules, with its own app settings and a redirect URL.
OAUTH_RULES: list[Callable[[dict], list[str]]] = [
    *(rule for rule in RULES if rule is not check_app_settings),
    check_oauth_app_settings,
    check_redirect_urls,
    check_oauth_redirect,
]


def _http_mode(m: dict, with_urls: bool) -> dict:
    _set(m, "settings.socket_mode_enabled", False)
    if with_urls:
        url = "https://example.com/slack/events"
        _set(m, "settings.event_subscriptions.request_url", url)
        _set(m, "settings.interactivity.request_url", url)
        for cmd in m["features"]["slash_commands"]:
            cmd["url"] = url
    return m


# (rule, what we break, how). Each rule must catch each of its breakages.
BREAKAGES: list[tuple[Callable[[dict], list[str]], str, Callable[[dict], Any]]] = [
    (check_required_keys, "no display_information", lambda m: _delete(m, "display_information")),
    (check_required_keys, "no app name", lambda m: _delete(m, "display_information.name")),
    (check_required_keys, "no bot name", lambda m: _delete(m, "features.bot_user.display_name")),
    (check_known_keys, "unknown top-level key", lambda m: _set(m, "app_home", {})),
    (check_known_keys, "unknown settings key", lambda m: _set(m, "settings.socket_mode", True)),
    (check_known_keys, "unknown scopes key", lambda m: _set(m, "oauth_config.scopes.bots", [])),
    (check_metadata, "v2 manifest", lambda m: _set(m, "_metadata.major_version", 2)),
    (
        check_string_lengths,
        "name too long",
        lambda m: _set(m, "display_information.name", "x" * 36),
    ),
    (check_string_lengths, "empty name", lambda m: _set(m, "display_information.name", "")),
    (
        check_string_lengths,
        "description too long",
        lambda m: _set(m, "display_information.description", "x" * 141),
    ),
    (
        check_string_lengths,
        "long_description too short",
        lambda m: _set(m, "display_information.long_description", "x" * 174),
    ),
    (
        check_string_lengths,
        "long_description too long",
        lambda m: _set(m, "display_information.long_description", "x" * 4001),
    ),
    (
        check_string_lengths,
        "bot name too long",
        lambda m: _set(m, "features.bot_user.display_name", "x" * 81),
    ),
    (
        check_patterns,
        "colour without #",
        lambda m: _set(m, "display_information.background_color", "3b2e5a"),
    ),
    (
        check_patterns,
        "colour not hex",
        lambda m: _set(m, "display_information.background_color", "#3b2e5g"),
    ),
    (
        check_patterns,
        "bot name with space",
        lambda m: _set(m, "features.bot_user.display_name", "Reverse Mentor"),
    ),
    (check_booleans, "quoted boolean", lambda m: _set(m, "settings.org_deploy_enabled", "false")),
    (check_slash_commands, "no commands", lambda m: _set(m, "features.slash_commands", [])),
    (
        check_slash_commands,
        "command without /",
        lambda m: m["features"]["slash_commands"][0].update(command="mentor"),
    ),
    (
        check_slash_commands,
        "command too long",
        lambda m: m["features"]["slash_commands"][0].update(command="/" + "x" * 32),
    ),
    (
        check_slash_commands,
        "command too short",
        lambda m: m["features"]["slash_commands"][0].update(command="/"),
    ),
    (
        check_slash_commands,
        "no description",
        lambda m: m["features"]["slash_commands"][0].pop("description"),
    ),
    (
        check_slash_commands,
        "description too long",
        lambda m: m["features"]["slash_commands"][0].update(description="x" * 2001),
    ),
    (
        check_slash_commands,
        "usage hint too long",
        lambda m: m["features"]["slash_commands"][0].update(usage_hint="x" * 1001),
    ),
    (
        check_slash_commands,
        "should_escape not boolean",
        lambda m: m["features"]["slash_commands"][0].update(should_escape="yes"),
    ),
    (
        check_slash_commands,
        "unknown command key",
        lambda m: m["features"]["slash_commands"][0].update(hint="x"),
    ),
    (
        check_slash_commands,
        "duplicate command",
        lambda m: m["features"]["slash_commands"].append(m["features"]["slash_commands"][0]),
    ),
    (
        check_string_lists,
        "duplicate scope",
        lambda m: m["oauth_config"]["scopes"]["bot"].append("commands"),
    ),
    (
        check_string_lists,
        "scope not a string",
        lambda m: m["oauth_config"]["scopes"]["bot"].append(["users:read"]),
    ),
    (
        check_string_lists,
        "scope with space",
        lambda m: m["oauth_config"]["scopes"]["bot"].append("users: read"),
    ),
    (
        check_string_lists,
        "scope too long",
        lambda m: m["oauth_config"]["scopes"]["bot"].append("x" * 51),
    ),
    (
        check_string_lists,
        "scopes not a list",
        lambda m: _set(m, "oauth_config.scopes.bot", "commands"),
    ),
    (
        check_string_lists,
        "duplicate event",
        lambda m: m["settings"]["event_subscriptions"]["bot_events"].append("app_home_opened"),
    ),
    (
        check_app_settings,
        "socket mode off",
        lambda m: _set(m, "settings.socket_mode_enabled", False),
    ),
    (
        check_app_settings,
        "interactivity off",
        lambda m: _set(m, "settings.interactivity.is_enabled", False),
    ),
    (
        check_app_settings,
        "home tab off",
        lambda m: _set(m, "features.app_home.home_tab_enabled", False),
    ),
    (
        check_app_settings,
        "messages tab read-only",
        lambda m: _set(m, "features.app_home.messages_tab_read_only_enabled", True),
    ),
    (check_http_mode_urls, "HTTP mode without URLs", lambda m: _http_mode(m, with_urls=False)),
    (
        check_http_mode_urls,
        "HTTP mode without interactivity URL",
        lambda m: _delete(_http_mode(m, with_urls=True), "settings.interactivity.request_url"),
    ),
]


# Breakages of manifest.oauth.yml that only its own rules are about.
OAUTH_BREAKAGES: list[tuple[Callable[[dict], list[str]], str, Callable[[dict], Any]]] = [
    (
        check_oauth_app_settings,
        "socket mode on",
        lambda m: _set(m, "settings.socket_mode_enabled", True),
    ),
    (
        check_oauth_app_settings,
        "token rotation off",
        lambda m: _set(m, "settings.token_rotation_enabled", False),
    ),
    (
        check_oauth_app_settings,
        "no org-wide installs",
        lambda m: _set(m, "settings.org_deploy_enabled", False),
    ),
    (check_oauth_redirect, "no redirect URL", lambda m: _delete(m, "oauth_config.redirect_urls")),
    (
        check_redirect_urls,
        "plain http redirect",
        lambda m: _set(m, "oauth_config.redirect_urls", ["http://x.example/slack/oauth_redirect"]),
    ),
    (
        check_redirect_urls,
        "redirect to the wrong path",
        lambda m: _set(m, "oauth_config.redirect_urls", ["https://x.example/slack/events"]),
    ),
    (
        check_redirect_urls,
        "redirect URLs not a list",
        lambda m: _set(m, "oauth_config.redirect_urls", "x"),
    ),
    (
        check_http_mode_urls,
        "HTTP mode without the events URL",
        lambda m: _delete(m, "settings.event_subscriptions.request_url"),
    ),
]


@pytest.fixture(scope="module")
def manifest() -> dict:
    return load_manifest()


@pytest.fixture(scope="module")
def oauth_manifest() -> dict:
    return load_manifest(OAUTH_MANIFEST_PATH)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_manifest_follows_rule(manifest: dict, rule: Callable[[dict], list[str]]) -> None:
    assert rule(manifest) == []


@pytest.mark.parametrize(
    ("rule", "breakage"),
    [(rule, breakage) for rule, _, breakage in BREAKAGES],
    ids=[f"{rule.__name__}-{name}" for rule, name, _ in BREAKAGES],
)
def test_rule_catches_breakage(manifest: dict, rule: Callable[[dict], list[str]], breakage) -> None:
    broken = copy.deepcopy(manifest)
    breakage(broken)
    assert rule(broken), "the rule did not notice the breakage"


def test_http_mode_with_urls_is_accepted(manifest: dict) -> None:
    # The switch documented in manifest.yml's header must give a manifest our rules accept.
    http = _http_mode(copy.deepcopy(manifest), with_urls=True)
    assert check_http_mode_urls(http) == []
    assert [p for rule in RULES if rule is not check_app_settings for p in rule(http)] == []


def test_every_rule_is_shown_to_catch_something() -> None:
    assert {rule for rule, _, _ in BREAKAGES} == set(RULES)


@pytest.mark.parametrize("rule", OAUTH_RULES, ids=lambda r: r.__name__)
def test_oauth_manifest_follows_rule(
    oauth_manifest: dict, rule: Callable[[dict], list[str]]
) -> None:
    assert rule(oauth_manifest) == []


# The breakages of manifest.yml that apply to both (the switch to HTTP mode is manifest.yml's
# own: the OAuth variant is in HTTP mode already).
SHARED_BREAKAGES = [
    (rule, name, breakage)
    for rule, name, breakage in BREAKAGES
    if rule in OAUTH_RULES and not name.startswith("HTTP mode")
]


@pytest.mark.parametrize(
    ("rule", "breakage"),
    [(rule, breakage) for rule, _, breakage in SHARED_BREAKAGES + OAUTH_BREAKAGES],
    ids=[f"{rule.__name__}-{name}" for rule, name, _ in SHARED_BREAKAGES + OAUTH_BREAKAGES],
)
def test_oauth_rule_catches_breakage(
    oauth_manifest: dict, rule: Callable[[dict], list[str]], breakage
) -> None:
    broken = copy.deepcopy(oauth_manifest)
    breakage(broken)
    assert rule(broken), "the rule did not notice the breakage"


def test_every_oauth_rule_is_shown_to_catch_something() -> None:
    assert {rule for rule, _, _ in SHARED_BREAKAGES + OAUTH_BREAKAGES} == set(OAUTH_RULES)


def test_the_two_manifests_differ_only_where_oauth_needs() -> None:
    # Everything else (name, texts, command, scopes, App Home) is kept the same in both.
    single, oauth = load_manifest(), load_manifest(OAUTH_MANIFEST_PATH)
    for manifest in (single, oauth):
        for path in (
            "oauth_config.redirect_urls",
            "settings.event_subscriptions",
            "settings.interactivity.request_url",
            "settings.org_deploy_enabled",
            "settings.socket_mode_enabled",
            "settings.token_rotation_enabled",
        ):
            if _get(manifest, path) is not MISSING:
                _delete(manifest, path)
        for command in manifest["features"]["slash_commands"]:
            command.pop("url", None)
    assert single == oauth
