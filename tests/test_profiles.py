from __future__ import annotations

import dataclasses

from bot.profiles import GOALS_MAX, Role, SignupForm, describe_topics, validate_signup


def _form(**overrides) -> SignupForm:
    form = SignupForm(
        user_id="U1",
        role="leader",
        level="5",
        department="  Operations   and  Supply ",
        manager_id="U09MGR",
        topics=("ai", "ai", "hybrid"),
        goals="  Learn how Gen Z uses social media at work. ",
        capacity=None,
    )
    return dataclasses.replace(form, **overrides)


def test_valid_form_is_normalised():
    result = validate_signup(_form())
    assert result.errors == {}
    profile = result.profile
    assert profile is not None
    assert profile.role is Role.LEADER and profile.level == 5
    assert profile.department == "Operations and Supply"
    assert profile.topics == ("ai", "hybrid")
    assert profile.goals == "Learn how Gen Z uses social media at work."
    assert profile.capacity == 1


def test_every_bad_field_is_reported_at_once():
    result = validate_signup(
        _form(
            role="boss",
            level="0",
            department=" ",
            manager_id="U1",
            topics=("astrology",),
            goals="",
            capacity="9",
        )
    )
    assert result.profile is None
    assert set(result.errors) == {
        "role",
        "level",
        "department",
        "manager",
        "topics",
        "goals",
        "capacity",
    }


def test_goals_length_boundary():
    assert validate_signup(_form(goals="g" * GOALS_MAX)).profile is not None
    assert "goals" in validate_signup(_form(goals="g" * (GOALS_MAX + 1))).errors


def test_missing_everything_is_errors_not_exceptions():
    result = validate_signup(
        SignupForm(user_id="U1", role=None, level=None, department=None, manager_id=None)
    )
    assert result.profile is None and {"role", "level", "department", "topics", "goals"} <= set(
        result.errors
    )


def test_describe_topics():
    assert describe_topics(["ai"]) == "Digital trends & AI"
    assert describe_topics(["ai", "genz", "career"]) == (
        "Digital trends & AI, Gen Z expectations and Career growth"
    )
    assert describe_topics([]) == ""
