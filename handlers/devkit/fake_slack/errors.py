"""The bodies of Slack's error answers: `{"ok": false, "error": ...}` and its two detailed forms."""

from __future__ import annotations


def _invalid_blocks(errors: list[str]) -> dict:
    return {
        "ok": False,
        "error": "invalid_blocks",
        "errors": errors,
        "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]},
    }


def _invalid_arguments(*errors: str) -> dict:
    return {
        "ok": False,
        "error": "invalid_arguments",
        "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]},
    }


def _error(code: str) -> dict:
    return {"ok": False, "error": code}
