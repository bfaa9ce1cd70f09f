"""The learning agreement end to end, through signed requests: the button in the pair's
introduction opens a form pre-filled from the leader's goal and the topics the two share;
saving stores it and confirms it once in the pair's group DM; reopening shows what was saved;
nobody else can open or save it; bad answers get field errors and change nothing; and a pair
with no agreement at its second session is reminded once, in working hours, unless they
agree before it goes out.

The oracles are written out here (the topic labels as the signup form shows them, the rows
read with plain selects), not taken from bot/agreement.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from handlers.core.scheduler import tick
from handlers.devkit.forms import SignupAnswers, filled, signup_state
from storage.models import LearningAgreement, OutboxMessage, Pair
from tests.kit.guides import outbox_key

LONDON = "Europe/London"
PEOPLE = {
    "UJ1": SignupAnswers(
        role="junior", level="1", department="Finance", topics=("ai", "hybrid"), goals="Teach AI"
    ),
    "UL1": SignupAnswers(
        role="leader",
        level="6",
        department="Operations",
        topics=("ai", "hybrid"),
        goals="Learn practical AI for my team",
    ),
    "UJ2": SignupAnswers(
        role="junior", level="2", department="Sales", topics=("social",), goals="Teach social"
    ),
    "UL2": SignupAnswers(
        role="leader", level="5", department="Legal", topics=("social",), goals="Gen Z habits"
    ),
}
# The leader's form as pre-filled for UL1: their goal, then the shared topics' labels.
UL1_PREFILL = "Learn practical AI for my team\nDigital trends & AI\nHybrid & flexible work"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def run_tick(bot) -> None:
    await tick(bot.runtime.deps)
    await bot.settle()


def pair_of(bot, mentor: str) -> Pair:
    return bot.runtime.deps.db.run_sync(
        lambda s: s.exec(select(Pair).where(Pair.mentor_id == mentor)).one()
    )


def stored(bot) -> list[tuple[int, list[str], list[str], str]]:
    return bot.runtime.deps.db.run_sync(
        lambda s: [
            (a.pair_id, a.leader_items, a.junior_items, a.updated_by)
            for a in s.exec(select(LearningAgreement).order_by(col(LearningAgreement.id))).all()
        ]
    )


def posts_keyed(bot, prefix: str):
    return [c for c in bot.slack.calls_to("chat.postMessage") if outbox_key(c).startswith(prefix)]


def reminder_rows(bot) -> list[tuple[str, str]]:
    return bot.runtime.deps.db.run_sync(
        lambda s: [
            (m.key, m.status)
            for m in s.exec(
                select(OutboxMessage).where(col(OutboxMessage.key).startswith("agreement_rem"))
            ).all()
        ]
    )


def state(leader: str | None, junior: str | None) -> dict:
    return {
        "leader_items": {"value": {"type": "plain_text_input", "value": leader}},
        "junior_items": {"value": {"type": "plain_text_input", "value": junior}},
    }


def field_values(view: dict) -> dict[str, str | None]:
    return {
        b["block_id"]: b["element"].get("initial_value")
        for b in view["blocks"]
        if b["type"] == "input"
    }


def button_in(call, action_id: str = "open_agreement") -> dict:
    [button] = [
        e
        for b in call.params["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("action_id") == action_id
    ]
    return button


@pytest.fixture
async def paired(bot, clock):
    for user, answers in PEOPLE.items():
        bot.slack.add_user(user, tz=LONDON, title=f"Title of {user}")
        await bot.command("signup", user=user)
        view = bot.slack.calls_to("views.open")[-1].params["view"]
        status, body = await bot.submit_view(filled(view, signup_state(**answers)), user=user)
        assert body["response_action"] == "update", body
    await bot.command("admin match", user="UADMIN")
    assert [p.mentee_id for p in (pair_of(bot, "UJ1"), pair_of(bot, "UJ2"))] == ["UL1", "UL2"]
    return bot


def intro_of(bot, pair: Pair):
    return next(
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if outbox_key(c).startswith("intro") and c.params["channel"] == pair.dm_channel_id
    )


async def open_form(bot, pair: Pair, user: str) -> dict | None:
    """Press the introduction's button as `user`: the view opened, or None."""
    before = len(bot.slack.calls_to("views.open"))
    intro = intro_of(bot, pair)
    await bot.click_in_message(intro, "open_agreement", user=user, value=button_in(intro)["value"])
    opened = bot.slack.calls_to("views.open")[before:]
    return opened[-1].params["view"] if opened else None


async def form(bot, pair: Pair, user: str) -> dict:
    view = await open_form(bot, pair, user)
    assert view is not None, f"no form opened for {user}"
    return view


async def test_the_form_round_trips_and_is_confirmed_once_in_the_pair_dm(paired):
    bot = paired
    pair = pair_of(bot, "UJ1")
    intro = intro_of(bot, pair)
    assert button_in(intro)["text"]["text"] == "Agree what you each want"

    view = await form(bot, pair, "UL1")
    assert view is not None and view["callback_id"] == "learning_agreement"
    assert field_values(view) == {"leader_items": UL1_PREFILL, "junior_items": None}

    status, body = await bot.submit_view(
        filled(view, state(" Use AI day to day \n\nTikTok", "How boards decide\nPresenting")),
        user="UJ1",  # either of the two may save it
    )
    assert status == 200 and not body  # the modal closes
    assert stored(bot) == [
        (pair.id, ["Use AI day to day", "TikTok"], ["How boards decide", "Presenting"], "UJ1")
    ]
    await run_tick(bot)
    await run_tick(bot)
    [confirmation] = posts_keyed(bot, "agreement_saved:")
    assert confirmation.params["channel"] == pair.dm_channel_id  # only the two are in it
    shown = str(confirmation.params["blocks"])
    for item in ("Use AI day to day", "TikTok", "How boards decide", "Presenting"):
        assert item in shown
    assert "<@UL1> wants to learn" in shown and "<@UJ1> wants to gain" in shown

    # Reopened by the other one: the saved agreement, not the pre-fill.
    again = await form(bot, pair, "UL1")
    assert again is not None
    assert field_values(again) == {
        "leader_items": "Use AI day to day\nTikTok",
        "junior_items": "How boards decide\nPresenting",
    }
    status, body = await bot.submit_view(filled(again, state("Only this", "And this")), user="UL1")
    assert not body
    assert stored(bot) == [(pair.id, ["Only this"], ["And this"], "UL1")]
    await run_tick(bot)
    assert len(posts_keyed(bot, "agreement_saved:")) == 2  # one per save
    assert "Only this" in str(posts_keyed(bot, "agreement_saved:")[-1].params["blocks"])


async def test_typed_text_is_escaped_where_it_is_shown(paired):
    bot = paired
    pair = pair_of(bot, "UJ1")
    view = await form(bot, pair, "UJ1")
    await bot.submit_view(filled(view, state("<!channel> & <http://x|y>", "ok")), user="UJ1")
    await run_tick(bot)
    [confirmation] = posts_keyed(bot, "agreement_saved:")
    shown = str(confirmation.params["blocks"])
    assert "<!channel>" not in shown and "&lt;!channel&gt; &amp; &lt;http://x|y&gt;" in shown


async def test_someone_outside_the_pair_can_neither_open_nor_save_it(paired):
    bot = paired
    pair = pair_of(bot, "UJ1")
    view = await open_form(bot, pair, "UJ2")  # in another pair
    assert view is None
    assert "Only the two people" in bot.slack.calls_to("response_url")[-1].params["text"]
    assert await open_form(bot, pair, "UADMIN") is None  # an admin neither

    # A form for this pair (opened by a member) submitted by someone else: refused.
    member_view = await form(bot, pair, "UL1")
    status, body = await bot.submit_view(filled(member_view, state("Mine", "Yours")), user="UJ2")
    assert body["response_action"] == "errors"
    assert "Only the two people" in body["errors"]["leader_items"]
    assert stored(bot) == []
    await run_tick(bot)
    assert posts_keyed(bot, "agreement_saved:") == []

    # Once the pair has ended, not even its two people.
    await bot.command("admin unpair <@UJ1> <@UL1>", user="UADMIN")
    assert await open_form(bot, pair, "UL1") is None
    status, body = await bot.submit_view(filled(member_view, state("Late", "Late")), user="UL1")
    assert body["response_action"] == "errors" and stored(bot) == []


@pytest.mark.parametrize(
    ("leader", "junior", "fields", "said"),
    [
        ("", "Fine", {"leader_items"}, "at least one"),
        ("Fine", " \n  \n", {"junior_items"}, "at least one"),
        (None, None, {"leader_items", "junior_items"}, "at least one"),
        ("a\nb\nc\nd", "Fine", {"leader_items"}, "at most 3"),
        ("Fine", "x" * 151, {"junior_items"}, "under 150 characters"),
    ],
)
async def test_bad_answers_get_field_errors_and_change_nothing(
    paired, leader, junior, fields, said
):
    bot = paired
    pair = pair_of(bot, "UJ1")
    view = await form(bot, pair, "UL1")
    await bot.submit_view(filled(view, state("Kept", "Kept too")), user="UL1")
    await run_tick(bot)
    before = stored(bot)

    status, body = await bot.submit_view(filled(view, state(leader, junior)), user="UL1")
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == fields
    assert all(said in sentence for sentence in body["errors"].values())
    assert stored(bot) == before == [(pair.id, ["Kept"], ["Kept too"], "UL1")]
    await run_tick(bot)
    assert len(posts_keyed(bot, "agreement_saved:")) == 1  # only the good save's


async def log_session(bot, clock, user: str, when: str) -> None:
    clock.now = at(when)
    status, body = await bot.command("met", user=user)
    assert status == 200, body
    await bot.settle()


async def test_a_pair_without_an_agreement_is_reminded_once_after_its_second_session(paired, clock):
    bot = paired
    pair = pair_of(bot, "UJ1")
    await log_session(bot, clock, "UL1", "2026-03-04 10:00")
    await run_tick(bot)
    assert reminder_rows(bot) == []  # one session is not yet two

    await log_session(bot, clock, "UJ1", "2026-03-18 10:00")
    await run_tick(bot)
    [reminder] = posts_keyed(bot, "agreement_reminder:")
    assert reminder.params["channel"] == pair.dm_channel_id
    assert button_in(reminder)["value"] == str(pair.id)
    assert reminder_rows(bot) == [(f"agreement_reminder:{pair.id}", "sent")]

    # A third session, and more ticks: still one.
    await log_session(bot, clock, "UL1", "2026-04-01 10:00")
    await run_tick(bot)
    await run_tick(bot)
    assert len(posts_keyed(bot, "agreement_reminder:")) == 1
    # The other pair, which logged nothing, was not reminded.
    assert reminder_rows(bot) == [(f"agreement_reminder:{pair.id}", "sent")]


async def test_a_pair_that_agreed_is_not_reminded(paired, clock):
    bot = paired
    pair = pair_of(bot, "UJ2")
    view = await form(bot, pair, "UJ2")
    await bot.submit_view(filled(view, state("Gen Z", "Sales")), user="UJ2")
    await log_session(bot, clock, "UL2", "2026-03-04 10:00")
    await log_session(bot, clock, "UL2", "2026-03-18 10:00")
    await run_tick(bot)
    assert reminder_rows(bot) == [] and posts_keyed(bot, "agreement_reminder:") == []


async def test_the_reminder_waits_for_working_hours_and_is_dropped_if_they_agree_meanwhile(
    paired, clock
):
    bot = paired
    pair = pair_of(bot, "UJ1")
    await log_session(bot, clock, "UL1", "2026-03-04 10:00")
    await log_session(bot, clock, "UL1", "2026-03-18 20:00")  # 20:00 in London: after work
    await run_tick(bot)
    assert reminder_rows(bot) == [(f"agreement_reminder:{pair.id}", "pending")]
    assert posts_keyed(bot, "agreement_reminder:") == []

    view = await form(bot, pair, "UJ1")  # they agree that evening
    await bot.submit_view(filled(view, state("AI", "Strategy")), user="UJ1")
    clock.now = at("2026-03-19 09:30")
    await run_tick(bot)
    assert posts_keyed(bot, "agreement_reminder:") == []
    assert reminder_rows(bot) == [(f"agreement_reminder:{pair.id}", "expired")]


async def test_the_reminder_goes_in_the_morning_when_they_have_not_agreed(paired, clock):
    bot = paired
    pair = pair_of(bot, "UJ1")
    await log_session(bot, clock, "UL1", "2026-03-04 10:00")
    await log_session(bot, clock, "UL1", "2026-03-18 20:00")
    await run_tick(bot)
    assert posts_keyed(bot, "agreement_reminder:") == []
    clock.now = at("2026-03-19 09:30")
    await run_tick(bot)
    [reminder] = posts_keyed(bot, "agreement_reminder:")
    assert reminder.params["channel"] == pair.dm_channel_id


async def test_leaving_deletes_the_agreements_of_the_leavers_pairs(paired):
    bot = paired
    first, second = pair_of(bot, "UJ1"), pair_of(bot, "UJ2")
    for pair, user in ((first, "UL1"), (second, "UJ2")):
        view = await form(bot, pair, user)
        await bot.submit_view(filled(view, state("Learn", "Gain")), user=user)
    assert [row[0] for row in stored(bot)] == [first.id, second.id]

    await bot.command("leave", user="UL1")
    await bot.click("leave_confirm", user="UL1", container={"type": "message", "message_ts": "1"})
    assert [row[0] for row in stored(bot)] == [second.id]  # only the leaver's pair's
    said = bot.slack.calls_to("response_url")[-1].params["text"]
    assert "learning agreements" in said.split("Kept:")[0]
