"""The checkpoints ask about each person's own learning-agreement items, end to end through
signed requests: a leader about the things to learn, the junior mentor about the things to
gain, each item with its own buttons; answers round-trip and a later press replaces them;
nobody can answer an item they were not asked about; leaving takes a person's item answers
with them; and the admin summary shows the items by answer, leaders' and juniors' apart, only
from enough different people. Plus the pure functions in bot/outcomes.py and bot/summary.py.

The oracles are written out here: the items as typed, the rows read with plain selects, the
counts and shares computed from the presses this test made."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlmodel import col, select

from bot.cadence import ProgramSettings
from bot.outcomes import NOT_ENOUGH, AgreedPair, ItemQuestion, item_figures, item_questions
from bot.summary import ItemFact
from bot.summary import item_figures as summary_item_figures
from handlers.core.scheduler import tick
from handlers.devkit.driver import TEAM_ID
from handlers.devkit.forms import SignupAnswers, filled, signup_state
from storage import program
from storage.models import AgreementItemAnswer, OutcomeAnswer, Pair
from tests.kit.guides import outbox_key, without_guides

LONDON = "Europe/London"
TOPICS = {1: ("ai", "hybrid"), 2: ("social",), 3: ("sustainability", "genz")}
GOAL_BUTTONS = ["outcome_not_yet", "outcome_some", "outcome_achieved"]
ITEM_BUTTONS = ["outcome_item_not_yet", "outcome_item_some", "outcome_item_achieved"]
LABELS = {"not_yet": "Not yet", "some": "Some progress", "achieved": "Achieved"}
# What each pair agrees (pair number -> (leader's things to learn, junior's things to gain)).
AGREED = {
    1: (
        ["Use AI day to day", "TikTok <!channel> & *trends*"],
        ["How boards decide", "Pitch", "P&L"],
    ),
    2: (["Hybrid rituals"], ["Negotiation", "Strategy"]),
    3: (["Prompting", "Gen Z hiring", "Podcasts"], ["Budgets"]),
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


async def run_tick(bot) -> None:
    await tick(bot.runtime.deps)
    await bot.settle()


def set_cohort(bot, *, start: date, end: date, min_responses: int = 3) -> None:
    settings = replace(
        ProgramSettings(), program_start=start, program_end=end, min_responses=min_responses
    )
    bot.runtime.deps.db.run_sync(
        lambda s: program.save_program_settings(
            session=s, team_id=TEAM_ID, settings=settings, now=at("2026-03-02 09:00")
        )
    )


def pair_of(bot, mentor: str) -> Pair:
    return bot.runtime.deps.db.run_sync(
        lambda s: s.exec(select(Pair).where(Pair.mentor_id == mentor)).one()
    )


def dm(bot, user: str) -> str:
    return bot.slack.conversation_id(user)


def posts(bot) -> list:
    return without_guides(bot.slack.calls_to("chat.postMessage"))


def buttons(blocks: list[dict]) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def question_for(bot, user: str):
    [question] = [
        c
        for c in posts(bot)
        if c.params["channel"] == dm(bot, user)
        and "outcome_not_yet" in [e["action_id"] for e in buttons(c.params["blocks"])]
    ]
    return question


def item_buttons(blocks: list[dict]) -> list[tuple[str, str]]:
    """(action_id, value) of every item button, in order."""
    return [
        (e["action_id"], e["value"])
        for e in buttons(blocks)
        if e["action_id"].startswith("outcome_item_")
    ]


def shown_items(blocks: list[dict]) -> list[str]:
    """The item lines of the question: the section right before each item's buttons."""
    found = []
    for before, block in itertools.pairwise(blocks):
        if block["type"] == "actions" and block["block_id"].startswith("outcome_item:"):
            found.append(before["text"]["text"])
    return found


def item_rows(bot) -> list[tuple[int, str, str, int, str, datetime]]:
    return bot.runtime.deps.db.run_sync(
        lambda s: [
            (r.pair_id, r.user_id, r.checkpoint, r.item_index, r.progress, r.answered_at)
            for r in s.exec(select(AgreementItemAnswer).order_by(col(AgreementItemAnswer.id))).all()
        ]
    )


def last_reply(bot) -> dict:
    return bot.slack.calls_to("response_url")[-1].params


async def sign_up(bot, user: str, answers: SignupAnswers) -> None:
    bot.slack.add_user(user, tz=LONDON, title=f"Title of {user}")
    await bot.command("signup", user=user)
    view = bot.slack.calls_to("views.open")[-1].params["view"]
    status, body = await bot.submit_view(filled(view, signup_state(**answers)), user=user)
    assert body["response_action"] == "update", body


async def agree(bot, pair: Pair, leader: list[str], junior: list[str], *, user: str) -> None:
    """What the pair does: press the introduction's button and save the form."""
    [intro] = [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if outbox_key(c).startswith("intro") and c.params["channel"] == pair.dm_channel_id
    ]
    [button] = [e for e in buttons(intro.params["blocks"]) if e["action_id"] == "open_agreement"]
    before = len(bot.slack.calls_to("views.open"))
    await bot.click_in_message(intro, "open_agreement", user=user, value=button["value"])
    [opened] = bot.slack.calls_to("views.open")[before:]
    state = {
        "leader_items": {"value": {"type": "plain_text_input", "value": "\n".join(leader)}},
        "junior_items": {"value": {"type": "plain_text_input", "value": "\n".join(junior)}},
    }
    status, body = await bot.submit_view(filled(opened.params["view"], state), user=user)
    assert status == 200 and not body, body


async def cohort(bot, pairs: int) -> dict[int, Pair]:
    for n in range(1, pairs + 1):
        await sign_up(bot, f"UJ{n}", SignupAnswers(role="junior", level="1", topics=TOPICS[n]))
        await sign_up(bot, f"UL{n}", SignupAnswers(role="leader", level="6", topics=TOPICS[n]))
    await bot.command("admin match", user="UADMIN")
    found = {n: pair_of(bot, f"UJ{n}") for n in range(1, pairs + 1)}
    assert [p.mentee_id for p in found.values()] == [f"UL{n}" for n in found]
    return found


async def press(bot, user: str, action: str, value: str):
    return await bot.click_in_message(question_for(bot, user), action, user=user, value=value)


# --- end to end -------------------------------------------------------------------------------
# The questions' buttons carry "{cohort}:{checkpoint}:{pair}:{item}"; presses below mostly
# send "{checkpoint}:{pair}:{item}", as a question sent before there were cohorts did: it
# answers for the person's own cohort.


async def test_each_person_is_asked_about_their_own_items_and_answers_round_trip(bot, clock):
    pairs = await cohort(bot, 2)
    leader_items, junior_items = AGREED[1]
    await agree(bot, pairs[1], leader_items, junior_items, user="UL1")  # pair 2 agrees nothing
    set_cohort(bot, start=date(2026, 3, 2), end=date(2026, 4, 1))  # midpoint 17 March, 09:00
    p1 = pairs[1].id

    # Before the midpoint, a forged press stores nothing.
    await bot.click("outcome_item_some", user="UL1", value=f"midpoint:{p1}:0")
    assert item_rows(bot) == []

    clock.now = at("2026-03-17 09:00")
    await run_tick(bot)
    own = {"UL1": leader_items, "UJ1": junior_items}
    for user, items in own.items():
        blocks = question_for(bot, user).params["blocks"]
        assert item_buttons(blocks) == [
            (action, f"{pairs[1].cohort_id}:midpoint:{p1}:{index}")
            for index in range(len(items))
            for action in ITEM_BUTTONS
        ]
        assert shown_items(blocks) == [f"• {escaped(item)}" for item in items]
        # Nothing of the other side's items reaches them.
        other = junior_items if user == "UL1" else leader_items
        assert not any(escaped(item) in str(blocks) for item in other), user
        assert "<@UJ1>" in str(blocks) if user == "UL1" else "<@UL1>" in str(blocks)
    assert "<!channel>" not in str(question_for(bot, "UL1").params)
    # No agreement: the question is as it was, the goal's buttons only (and a leader's change).
    assert [e["action_id"] for e in buttons(question_for(bot, "UJ2").params["blocks"])] == (
        GOAL_BUTTONS
    )
    assert [e["action_id"] for e in buttons(question_for(bot, "UL2").params["blocks"])] == [
        *GOAL_BUTTONS,
        "outcome_change_open",
    ]

    await press(bot, "UL1", "outcome_item_some", f"midpoint:{p1}:1")
    assert item_rows(bot) == [(p1, "UL1", "midpoint", 1, "some", at("2026-03-17 09:00"))]
    reply = last_reply(bot)
    assert reply["replace_original"] is True
    assert shown_items(reply["blocks"]) == [
        f"• {escaped(leader_items[0])}",
        f"• {escaped(leader_items[1])}\n_You answered Some progress._",
    ]
    [pressed] = [
        e for e in buttons(reply["blocks"]) if e.get("style") == "primary"
    ]  # the answer given is the one highlighted
    assert (pressed["action_id"], pressed["value"]) == (
        "outcome_item_some",
        f"{pairs[1].cohort_id}:midpoint:{p1}:1",
    )

    clock.advance(minutes=5)
    await press(bot, "UL1", "outcome_item_achieved", f"midpoint:{p1}:1")  # replaces
    await press(bot, "UJ1", "outcome_item_not_yet", f"midpoint:{p1}:2")
    assert item_rows(bot) == [
        (p1, "UL1", "midpoint", 1, "achieved", at("2026-03-17 09:05")),
        (p1, "UJ1", "midpoint", 2, "not_yet", at("2026-03-17 09:05")),
    ]
    assert shown_items(last_reply(bot)["blocks"])[2] == (
        f"• {escaped(junior_items[2])}\n_You answered Not yet._"
    )

    # Answering the goal keeps the items and their answers in the message.
    await press(bot, "UL1", "outcome_some", "midpoint")
    reply = last_reply(bot)
    assert "You answered *Some progress*" in str(reply["blocks"])
    assert shown_items(reply["blocks"])[1].endswith("_You answered Achieved._")
    assert len(item_buttons(reply["blocks"])) == 3 * len(leader_items)


async def test_nobody_answers_an_item_they_were_not_asked_about(bot, clock):
    pairs = await cohort(bot, 2)
    await agree(bot, pairs[1], *AGREED[1], user="UJ1")
    await agree(bot, pairs[2], *AGREED[2], user="UL2")
    set_cohort(bot, start=date(2026, 3, 2), end=date(2026, 4, 1))
    clock.now = at("2026-03-17 09:00")
    await run_tick(bot)
    p1, p2 = pairs[1].id, pairs[2].id
    await press(bot, "UL1", "outcome_item_some", f"midpoint:{p1}:0")
    kept = item_rows(bot)
    replies = len(bot.slack.calls_to("response_url"))

    forged = [
        ("UL2", f"midpoint:{p1}:0"),  # another pair's item
        ("UJ2", f"midpoint:{p1}:0"),
        ("UADMIN", f"midpoint:{p1}:0"),  # an admin, not in the program
        ("UL1", f"midpoint:{p2}:0"),  # an item of a pair they are not in
        ("UL1", f"midpoint:{p1}:2"),  # the leader has two items: no third
        ("UL2", f"midpoint:{p2}:1"),  # one item on UL2's side (the junior has two)
        ("UL1", f"end:{p1}:0"),  # the end has not been asked
        ("UL1", f"final:{p1}:0"),  # no such checkpoint
        ("UL1", "midpoint:x:0"),  # malformed
        ("UL1", f"midpoint:{p1}"),
    ]
    for user, value in forged:
        await bot.click_in_message(
            question_for(bot, "UL1"), "outcome_item_achieved", user=user, value=value
        )
    assert item_rows(bot) == kept
    assert len(bot.slack.calls_to("response_url")) == replies  # no message was changed

    # The agreement as it is when they press: saved again with one thing to learn, the
    # second is no longer asked about, and the first still is.
    await agree(bot, pairs[1], ["Only this now"], AGREED[1][1], user="UJ1")
    await press(bot, "UL1", "outcome_item_achieved", f"midpoint:{p1}:1")
    assert item_rows(bot) == kept
    await press(bot, "UL1", "outcome_item_achieved", f"midpoint:{p1}:0")
    assert [r[4] for r in item_rows(bot)] == ["achieved"]
    assert shown_items(last_reply(bot)["blocks"]) == ["• Only this now\n_You answered Achieved._"]

    # Once someone has left, they answer nothing more.
    await bot.command("leave", user="UL2")
    await bot.click("leave_confirm", user="UL2")
    await press(bot, "UL2", "outcome_item_some", f"midpoint:{p2}:0")
    assert [r[1] for r in item_rows(bot)] == ["UL1"]


async def test_the_end_asks_about_the_pairs_it_closed(bot, clock):
    pairs = await cohort(bot, 1)
    await agree(bot, pairs[1], *AGREED[1], user="UL1")
    set_cohort(bot, start=date(2026, 3, 2), end=date(2026, 4, 1))
    clock.now = at("2026-04-01 09:00")
    await run_tick(bot)
    await run_tick(bot)
    assert pair_of(bot, "UJ1").status == "ended"
    p1 = pairs[1].id
    values = [v for _, v in item_buttons(question_for(bot, "UJ1").params["blocks"])]
    assert values == [f"{pairs[1].cohort_id}:end:{p1}:{i}" for i in range(3) for _ in ITEM_BUTTONS]
    await press(bot, "UJ1", "outcome_item_some", f"end:{p1}:0")
    assert [(r[1], r[2], r[3], r[4]) for r in item_rows(bot)] == [("UJ1", "end", 0, "some")]


async def test_leaving_deletes_ones_own_item_answers_and_keeps_the_partners(bot, clock):
    pairs = await cohort(bot, 1)
    await agree(bot, pairs[1], *AGREED[1], user="UL1")
    set_cohort(bot, start=date(2026, 3, 2), end=date(2026, 4, 1))
    clock.now = at("2026-03-17 09:00")
    await run_tick(bot)
    p1 = pairs[1].id
    await press(bot, "UL1", "outcome_item_some", f"midpoint:{p1}:0")
    await press(bot, "UL1", "outcome_some", "midpoint")
    await press(bot, "UJ1", "outcome_item_achieved", f"midpoint:{p1}:1")

    await bot.command("leave", user="UL1")
    await bot.click("leave_confirm", user="UL1")
    assert [(r[1], r[3], r[4]) for r in item_rows(bot)] == [("UJ1", 1, "achieved")]
    # Their goal answer is still counted, under a token, as before.
    outcome = bot.runtime.deps.db.run_sync(lambda s: list(s.exec(select(OutcomeAnswer)).all()))
    assert [(a.user_id.startswith("left:"), a.progress) for a in outcome] == [(True, "some")]


def item_section(body: dict) -> str:
    [text] = [
        b["text"]["text"]
        for b in body["blocks"]
        if b["type"] == "section"
        and "text" in b
        and b["text"]["text"].startswith("*Learning agreement items*")
    ]
    return text


def expected_line(name: str, presses: list[tuple[str, str]]) -> str:
    """The oracle: the line the summary should show for these (person, progress) presses."""
    counts = Counter(progress for _, progress in presses)
    total = len(presses)
    people = len({person for person, _ in presses})
    parts = [
        f"{counts[key]} {label} ({round(100 * counts[key] / total)}%)"
        for key, label in (
            ("achieved", "achieved"),
            ("some", "some progress"),
            ("not_yet", "not yet"),
        )
    ]
    answers = f"{total} item answer{'s' if total != 1 else ''}"
    by = f"{people} {'person' if people == 1 else 'people'}"
    return f"{name} ({answers} by {by}): " + " · ".join(parts)


async def test_admin_figures_show_items_by_answer_only_from_enough_people(bot, clock):
    pairs = await cohort(bot, 3)
    for n, pair in pairs.items():
        await agree(bot, pair, *AGREED[n], user=f"UJ{n}")
    set_cohort(bot, start=date(2026, 3, 2), end=date(2026, 4, 1), min_responses=3)
    clock.now = at("2026-03-17 09:00")
    await run_tick(bot)

    leaders = [
        ("UL1", 0, "achieved"),
        ("UL1", 1, "some"),
        ("UL2", 0, "not_yet"),
        ("UL3", 0, "achieved"),
        ("UL3", 1, "achieved"),
        ("UL3", 2, "some"),
    ]
    # Two juniors, four item answers: enough answers, not enough people.
    juniors = [
        ("UJ1", 0, "achieved"),
        ("UJ1", 1, "some"),
        ("UJ1", 2, "not_yet"),
        ("UJ2", 0, "some"),
    ]
    for user, index, progress in leaders + juniors:
        n = int(user[-1])
        await press(bot, user, f"outcome_item_{progress}", f"midpoint:{pairs[n].id}:{index}")
    # A later press replaces: the oracle counts the last answer only.
    await press(bot, "UL2", "outcome_item_achieved", f"midpoint:{pairs[2].id}:0")
    leaders[2] = ("UL2", 0, "achieved")

    status, body = await bot.command("admin summary", user="UADMIN")
    assert status == 200, body
    lines = item_section(body).split("\n")[1:]
    assert lines == [
        expected_line("Leaders' things to learn, midpoint", [(u, p) for u, _, p in leaders]),
        "Junior mentors' things to gain, midpoint: not enough responses (4 item answers by 2 "
        "people; at least 3 different people needed)",
    ]
    assert lines[0] == (  # the oracle spelled out once, for the reader
        "Leaders' things to learn, midpoint (6 item answers by 3 people): 4 achieved (67%) · "
        "2 some progress (33%) · 0 not yet (0%)"
    )

    # A third junior answers: now juniors' items are shown too.
    await press(bot, "UJ3", "outcome_item_not_yet", f"midpoint:{pairs[3].id}:0")
    juniors.append(("UJ3", 0, "not_yet"))
    status, body = await bot.command("admin summary", user="UADMIN")
    assert item_section(body).split("\n")[2] == expected_line(
        "Junior mentors' things to gain, midpoint", [(u, p) for u, _, p in juniors]
    )
    # No item figure names anyone.
    assert not any(f"<@{u}>" in item_section(body) for u, _, _ in leaders + juniors)


# --- the pure functions ---------------------------------------------------------------------


def agreed(pair_id: int, mentor: str, mentee: str, **overrides: Any) -> AgreedPair:
    base = AgreedPair(
        pair_id=pair_id,
        mentor_id=mentor,
        mentee_id=mentee,
        live=True,
        end_reason=None,
        introduced=True,
        leader_items=("L1", "L2"),
        junior_items=("J1", "J2", "J3"),
    )
    return replace(base, **overrides)


def test_item_questions_are_ones_own_side_of_the_pairs_asked_about():
    pairs = [
        agreed(1, "UJ", "UL"),
        agreed(2, "UJ", "UL2", junior_items=("K1",)),
        agreed(3, "UJ", "UL3", live=False, end_reason="program_ended"),
        agreed(4, "UJ", "UL4", live=False, end_reason="admin_unpaired"),
        agreed(5, "UJ", "UL5", introduced=False),
        agreed(6, "UX", "UY"),
    ]
    answers = {(1, 2): "some", (2, 0): "achieved", (6, 0): "not_yet", (1, 5): "some"}
    assert item_questions("UJ", pairs, answers) == [
        ItemQuestion(1, "UL", 0, "J1"),
        ItemQuestion(1, "UL", 1, "J2"),
        ItemQuestion(1, "UL", 2, "J3", "some"),
        ItemQuestion(2, "UL2", 0, "K1", "achieved"),
        ItemQuestion(3, "UL3", 0, "J1"),
        ItemQuestion(3, "UL3", 1, "J2"),
        ItemQuestion(3, "UL3", 2, "J3"),
    ]
    assert item_questions("UL", pairs, {}) == [
        ItemQuestion(1, "UJ", 0, "L1"),
        ItemQuestion(1, "UJ", 1, "L2"),
    ]
    assert item_questions("UZ", pairs, {}) == []
    # Never more than three pairs of three items, whatever is stored.
    many = [agreed(n, "UJ", f"UL{n}", junior_items=("a", "b", "c", "d")) for n in range(5)]
    assert len(item_questions("UJ", many, {})) == 9


def oracle(answers, side, checkpoint, min_responses):
    """Counts and shares written out for one side and checkpoint."""
    keys = ("not_yet", "some", "achieved")
    mine = [(p, g) for p, s, c, g in answers if (s, c) == (side, checkpoint) and g in keys]
    if len({p for p, _ in mine}) < max(1, min_responses):
        return NOT_ENOUGH
    counts = {key: sum(1 for _, g in mine if g == key) for key in keys}
    return {
        "responses": len(mine),
        "counts": counts,
        "shares": {key: n / len(mine) for key, n in counts.items()},
    }


@pytest.mark.parametrize("min_responses", [0, 1, 2, 3, 4])
def test_item_figures_count_items_and_need_enough_people_per_side_and_checkpoint(min_responses):
    answers = [
        ("A", "leader", "midpoint", "achieved"),
        ("A", "leader", "midpoint", "achieved"),
        ("A", "leader", "midpoint", "some"),
        ("B", "leader", "midpoint", "not_yet"),
        ("C", "leader", "midpoint", "achieved"),
        ("D", "junior", "midpoint", "some"),
        ("D", "junior", "midpoint", "some"),
        ("D", "junior", "midpoint", "some"),
        ("E", "junior", "midpoint", "achieved"),
        ("A", "leader", "end", "achieved"),
        ("F", "junior", "end", None),  # no answer: not counted
    ]
    figures = item_figures(answers, min_responses=min_responses)
    for side in ("leader", "junior"):
        for checkpoint in ("midpoint", "end"):
            assert figures[side][checkpoint] == oracle(answers, side, checkpoint, min_responses)
    # Three answers from one person are one person: with 3 needed, D and E are not enough.
    assert item_figures(answers, min_responses=3)["junior"]["midpoint"] == NOT_ENOUGH
    leaders = item_figures(answers, min_responses=3)["leader"]["midpoint"]
    assert not isinstance(leaders, str)
    assert leaders["counts"] == {"not_yet": 1, "some": 1, "achieved": 3}


def test_the_summarys_item_figures_keep_sides_apart_and_hide_under_the_minimum():
    facts = [
        ItemFact("leader", "midpoint", "achieved", person="A"),
        ItemFact("leader", "midpoint", "some", person="B"),
        ItemFact("junior", "midpoint", "not_yet", person="C"),
        ItemFact("junior", "end", "achieved", person="C"),
    ]
    shown = summary_item_figures(facts, min_responses=2)
    assert [(i.side, i.checkpoint, i.answers, i.people) for i in shown] == [
        ("leader", "midpoint", 2, 2),
        ("junior", "midpoint", 1, 1),
        ("junior", "end", 1, 1),
    ]
    assert shown[0].counts == {"achieved": 1, "some": 1, "not_yet": 0}
    assert shown[0].shares == {"achieved": 0.5, "some": 0.5, "not_yet": 0.0}
    # Three people in all answered at the midpoint, but only one on the juniors' side.
    assert (shown[1].counts, shown[1].shares) == (None, None)
    assert (shown[2].counts, shown[2].shares) == (None, None)
