"""The learning agreement's rules (bot/agreement.py): each side one to three trimmed,
non-empty lines of at most 150 characters, with a sentence per field; and the leader's
pre-fill from their goal and the topics the pair shares."""

from __future__ import annotations

from bot.agreement import AgreementForm, as_text, leader_prefill, validate_agreement


def test_good_answers_are_trimmed_and_blank_lines_dropped():
    result = validate_agreement(
        AgreementForm(
            leader_items="  Use AI tools well \n\n TikTok basics", junior_items="Strategy"
        )
    )
    assert result.errors == {}
    assert result.agreement is not None
    assert result.agreement.leader_items == ("Use AI tools well", "TikTok basics")
    assert result.agreement.junior_items == ("Strategy",)


def test_three_items_and_exactly_150_characters_are_fine():
    line = "x" * 150
    result = validate_agreement(
        AgreementForm(leader_items=f"{line}\nb\nc", junior_items=f"a\n{line}\n c ")
    )
    assert result.errors == {}


def test_an_empty_side_is_refused_with_its_own_sentence():
    for empty in (None, "", "  \n \n"):
        result = validate_agreement(AgreementForm(leader_items=empty, junior_items="Strategy"))
        assert result.agreement is None
        assert set(result.errors) == {"leader_items"}
        assert "at least one" in result.errors["leader_items"]


def test_four_items_are_refused_saying_how_many():
    result = validate_agreement(AgreementForm(leader_items="a", junior_items="a\nb\nc\nd"))
    assert result.agreement is None
    assert set(result.errors) == {"junior_items"}
    assert "at most 3" in result.errors["junior_items"]
    assert "4" in result.errors["junior_items"]


def test_a_line_over_150_characters_is_refused_naming_the_line():
    result = validate_agreement(
        AgreementForm(leader_items="fine\n" + "y" * 151, junior_items="z" * 151)
    )
    assert result.agreement is None
    assert set(result.errors) == {"leader_items", "junior_items"}
    assert "line 2 has 151" in result.errors["leader_items"]
    assert "line 1 has 151" in result.errors["junior_items"]


def test_the_leader_prefill_is_the_goal_then_the_shared_topic_labels():
    assert leader_prefill(["ai", "social"], "Understand how\nGen Z works") == [
        "Understand how Gen Z works",
        "Digital trends & AI",
        "Social media",
    ]
    assert leader_prefill(["ai", "social", "hybrid", "career"], None) == [
        "Digital trends & AI",
        "Social media",
        "Hybrid & flexible work",
    ]
    assert leader_prefill([], "   ") == []
    assert leader_prefill(["nonsense"], None) == []


def test_a_long_goal_is_cut_so_the_prefill_is_itself_valid():
    items = leader_prefill(["ai"], "g" * 400)
    assert len(items[0]) == 150 and items[0].endswith("…")
    result = validate_agreement(AgreementForm(leader_items=as_text(items), junior_items="x"))
    assert result.errors == {}
