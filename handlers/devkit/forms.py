"""Fill in the bot's modals the way Slack reports a person's answers in `view.state.values`."""

from __future__ import annotations

import copy
from typing import TypedDict


def _selected(value: str | None) -> dict:
    return {"type": "static_select", "selected_option": {"value": value} if value else None}


class SignupAnswers(TypedDict, total=False):
    """Some of signup_state's keyword arguments, kept for later: `signup_state(**answers)`."""

    role: str | None
    level: str | None
    department: str | None
    manager: str | None
    topics: tuple[str, ...]
    goals: str | None
    capacity: str | None


def signup_state(
    *,
    role: str | None = "junior",
    level: str | None = "2",
    department: str | None = "Finance",
    manager: str | None = None,
    topics: tuple[str, ...] = ("ai", "hybrid"),
    goals: str | None = "Help a leader get hands-on with AI tools.",
    capacity: str | None = "1",
) -> dict:
    return {
        "role": {
            "value": {
                "type": "radio_buttons",
                "selected_option": {"value": role} if role else None,
            }
        },
        "level": {"value": _selected(level)},
        "department": {"value": {"type": "plain_text_input", "value": department}},
        "manager": {"value": {"type": "users_select", "selected_user": manager}},
        "topics": {
            "value": {
                "type": "multi_static_select",
                "selected_options": [{"value": t} for t in topics],
            }
        },
        "goals": {"value": {"type": "plain_text_input", "value": goals}},
        "capacity": {"value": _selected(capacity)},
    }


def filled(view: dict, state: dict) -> dict:
    """The opened view as Slack sends it back on submission, with the person's answers."""
    submitted = copy.deepcopy(view)
    submitted.setdefault("id", "VSIGNUP")
    submitted["state"] = {"values": state}
    return submitted
