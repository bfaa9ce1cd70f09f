"""Two cohorts in sequence, end to end through signed requests: a pilot, then a second
cohort with a pair that continues and people who are new; both get their midpoint and end
check-ins; a pair that closes goes back to the pool of the next cohort only if its people
wish; nobody is ever paired again with a past partner.

Expected dates are worked out here by hand from the cohorts' dates, not by bot.cohort."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from handlers.core.scheduler import tick
from handlers.devkit.driver import TEAM_ID
from handlers.settings.use_cases import retime_pairs
from storage import program
from storage.models import Cohort, OutboxMessage, OutcomeAnswer, Pair, Participant
from tests.test_guides_flow import junior, leader, sign_up

# Pilot: Monday 2 March to Friday 24 April 2026. Its midpoint, 2 + 26 days = Saturday 28
# March, moves to Monday 30 March; its end is Friday 24 April, 09:00 UTC.
PILOT = "Pilot 2026"
PILOT_MIDPOINT = datetime(2026, 3, 30, 10, tzinfo=UTC)
PILOT_END = datetime(2026, 4, 24, 10, tzinfo=UTC)
# Expansion: Monday 27 April to Friday 19 June. Midpoint Saturday 23 May -> Monday 25 May.
EXPANSION = "Expansion"
EXPANSION_MIDPOINT = datetime(2026, 5, 25, 10, tzinfo=UTC)
EXPANSION_END = datetime(2026, 6, 19, 10, tzinfo=UTC)


async def admin(bot, text: str) -> str:
    status, body = await bot.command(f"admin {text}", user="UADMIN")
    assert status == 200
    return str(body.get("text") or body)


async def run_tick_at(bot, clock, moment: datetime) -> None:
    clock.now = moment
    await tick(bot.runtime.deps)
    await bot.settle()


def rows(bot, model, *where):
    return bot.runtime.deps.db.run_sync(
        lambda s: list(s.exec(select(model).where(*where).order_by(col(model.id))))
    )


def cohort_named(bot, name: str) -> Cohort:
    [row] = rows(bot, Cohort, Cohort.name == name)
    return row


def outcome_keys(bot) -> list[str]:
    return sorted(m.key for m in rows(bot, OutboxMessage, OutboxMessage.kind == "outcome_question"))


def pair_of(bot, mentor: str) -> Pair:
    [pair] = rows(bot, Pair, Pair.mentor_id == mentor, col(Pair.status).in_(("active",)))
    return pair


def message_in(bot, channel: str | None, contains: str):
    found = [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if c.params["channel"] == channel and contains in c.params["text"]
    ]
    assert found, f"no message with {contains!r} in {channel}"
    return found[-1]


def figures_in(call) -> dict[str, tuple[str, str]]:
    """label -> (this cohort's value, the previous cohort's): the report's fields come in
    twos, "*label*\nvalue" and then "_previous cohort_\nvalue"."""
    fields = [f["text"] for b in call.params["blocks"] for f in b.get("fields") or []]
    shown: dict[str, tuple[str, str]] = {}
    for mine, theirs in zip(fields[::2], fields[1::2], strict=True):
        label, value = mine.split("\n", 1)
        shown[label.strip("*")] = (value, theirs.split("\n", 1)[1])
    return shown


def first_value(call) -> str:
    return next(
        e["value"] for b in call.params["blocks"] if b["type"] == "actions" for e in b["elements"]
    )


@pytest.fixture
async def pilot(bot, clock):
    """The pilot with two pairs (UJ1-UL1 and UJ2-UL2), and the expansion cohort created
    during it: signups from then on go to the expansion."""
    answer = await admin(bot, f"cohort new {PILOT} start=2026-03-02 end=2026-04-24")
    assert f"Created *{PILOT}*" in answer
    bot.slack.add_channel("CADMIN")
    await bot.runtime.deps.db.run(
        lambda s: program.save_program_settings(
            session=s,
            team_id=TEAM_ID,
            settings=replace(
                program.get_program_settings(session=s, team_id=TEAM_ID), admin_channel="CADMIN"
            ),
            now=clock.now,
        )
    )
    for user, answers in (
        ("UJ1", junior("1")),
        ("UJ2", junior("2")),
        ("UL1", leader("Operations")),
        ("UL2", leader("Sales")),
    ):
        await sign_up(bot, user, answers)
    await admin(bot, "match")
    await bot.settle()
    assert {(p.mentor_id, p.mentee_id) for p in rows(bot, Pair)} == {
        ("UJ1", "UL1"),
        ("UJ2", "UL2"),
    } or {(p.mentor_id, p.mentee_id) for p in rows(bot, Pair)} == {("UJ1", "UL2"), ("UJ2", "UL1")}
    answer = await admin(bot, f"cohort new {EXPANSION} start=2026-04-27 end=2026-06-19 cadence=21")
    assert f"Created *{EXPANSION}*" in answer
    return bot


async def test_two_cohorts_in_sequence_each_get_their_checkpoints_and_no_pair_repeats(pilot, clock):
    bot = pilot
    pilot_id, expansion_id = cohort_named(bot, PILOT).id, cohort_named(bot, EXPANSION).id
    pilot_pairs = {frozenset((p.mentor_id, p.mentee_id)) for p in rows(bot, Pair)}
    assert {p.cohort_id for p in rows(bot, Pair)} == {pilot_id}

    # Newcomers sign up during the pilot: they join the expansion, not the pilot.
    await sign_up(bot, "UJ3", junior("1"))
    await sign_up(bot, "UL3", leader("People"))
    cohort_of = {p.user_id: p.cohort_id for p in rows(bot, Participant)}
    assert cohort_of == {
        "UJ1": pilot_id,
        "UJ2": pilot_id,
        "UL1": pilot_id,
        "UL2": pilot_id,
        "UJ3": expansion_id,
        "UL3": expansion_id,
    }

    # The pilot's midpoint asks its four people, and nobody in the expansion.
    await run_tick_at(bot, clock, PILOT_MIDPOINT)
    assert outcome_keys(bot) == sorted(
        f"outcome:{pilot_id}:midpoint:{u}" for u in ("UJ1", "UJ2", "UL1", "UL2")
    )

    # The pilot ends: each pair chooses. UJ1's pair continues; UJ2's closes.
    await run_tick_at(bot, clock, PILOT_END)
    assert cohort_named(bot, PILOT).status == "ended"
    continuing, closing = pair_of(bot, "UJ1"), pair_of(bot, "UJ2")
    choice = message_in(bot, continuing.dm_channel_id, "carry on together")
    assert EXPANSION in choice.params["text"]
    # A forged press by someone outside the pair changes nothing.
    await bot.click_in_message(choice, "cohort_close_pair", user="UJ3", value=first_value(choice))
    [untouched] = rows(bot, Pair, Pair.id == continuing.id)
    assert (untouched.status, untouched.cohort_id) == ("active", pilot_id)
    await bot.click_in_message(
        choice, "cohort_continue", user=continuing.mentee_id, value=first_value(choice)
    )
    choice = message_in(bot, closing.dm_channel_id, "carry on together")
    await bot.click_in_message(
        choice, "cohort_close_pair", user=closing.mentor_id, value=first_value(choice)
    )
    await bot.settle()
    [moved] = rows(bot, Pair, Pair.id == continuing.id)
    [closed] = rows(bot, Pair, Pair.id == closing.id)
    assert (moved.status, moved.cohort_id) == ("active", expansion_id)
    assert (closed.status, closed.cohort_id) == ("ended", pilot_id)

    # The closed pair's two people are offered the expansion's pool; both accept.
    for person in (closing.mentor_id, closing.mentee_id):
        offer = message_in(bot, bot.slack.conversation_id(person), EXPANSION)
        assert f"{PILOT}* is over, and so is your pairing in it" in offer.params["text"]
        await bot.click_in_message(
            offer, "cohort_carry_over_join", user=person, value=first_value(offer)
        )
    cohort_of = {p.user_id: p.cohort_id for p in rows(bot, Participant)}
    assert set(cohort_of.values()) == {expansion_id}

    # Matching the expansion: its four waiting people, never with a past partner (the
    # closed pair's two would otherwise fit each other as well as anyone).
    await admin(bot, "match")
    await bot.settle()
    new_pairs = [p for p in rows(bot, Pair) if p.cohort_id == expansion_id and p.id != moved.id]
    assert len(new_pairs) == 2
    assert not {frozenset((p.mentor_id, p.mentee_id)) for p in new_pairs} & pilot_pairs
    expansion_people = {u for p in [*new_pairs, moved] for u in (p.mentor_id, p.mentee_id)}
    assert len(expansion_people) == 6

    # The expansion's midpoint and end ask everyone in its pairs, the continuing pair
    # included, under the expansion's keys; the pilot's are not asked again.
    await run_tick_at(bot, clock, EXPANSION_MIDPOINT)
    await run_tick_at(bot, clock, EXPANSION_END)
    expansion_keys = [k for k in outcome_keys(bot) if k.startswith(f"outcome:{expansion_id}:")]
    assert expansion_keys == sorted(
        f"outcome:{expansion_id}:{checkpoint}:{u}"
        for checkpoint in ("midpoint", "end")
        for u in expansion_people
    )
    pilot_keys = [k for k in outcome_keys(bot) if k.startswith(f"outcome:{pilot_id}:")]
    assert pilot_keys == sorted(
        f"outcome:{pilot_id}:{checkpoint}:{u}"
        for checkpoint in ("midpoint", "end")
        for u in ("UJ1", "UJ2", "UL1", "UL2")
    )

    # UJ1 answers at both cohorts' midpoints: two answers, one per cohort.
    for cohort_id in (pilot_id, expansion_id):
        question = next(
            c
            for c in bot.slack.calls_to("chat.postMessage")
            if c.params["channel"] == bot.slack.conversation_id("UJ1")
            and any(
                e.get("value") == f"{cohort_id}:midpoint"
                for b in c.params.get("blocks") or []
                if b["type"] == "actions"
                for e in b["elements"]
            )
        )
        await bot.click_in_message(
            question, "outcome_some", user="UJ1", value=f"{cohort_id}:midpoint"
        )
    answers = rows(bot, OutcomeAnswer, OutcomeAnswer.user_id == "UJ1")
    assert sorted((a.cohort_id, a.checkpoint, a.progress) for a in answers) == [
        (pilot_id, "midpoint", "some"),
        (expansion_id, "midpoint", "some"),
    ]

    # No cohort follows the expansion: at its end its pairs are thanked and closed.
    assert {p.status for p in rows(bot, Pair) if p.cohort_id == expansion_id} == {"ended"}
    assert cohort_named(bot, EXPANSION).status == "ended"

    # The three junior mentors answer the end question (two achieved, one some progress);
    # no leader does. A week after the end, the impact report compares with the pilot.
    answered = (("UJ1", "outcome_achieved"), ("UJ2", "outcome_achieved"), ("UJ3", "outcome_some"))
    for user, action in answered:
        await bot.click_in_message(
            message_in(bot, bot.slack.conversation_id(user), "come to an end"),
            action,
            user=user,
            value=f"{expansion_id}:end",
        )
    await run_tick_at(bot, clock, EXPANSION_END + timedelta(days=7, hours=1))
    report = message_in(bot, "CADMIN", f"Impact report: {EXPANSION}")
    shown = figures_in(report)
    assert f"compared with {PILOT}" in str(report.params["blocks"])
    # Participation: 6 people (2 new, 2 continuing, 2 carried over), all paired; the pilot
    # had 4, and 1 of its 2 pairs continued.
    assert shown["Signed up"][:2] == ("6", "4")
    assert shown["Pairs continuing into the next cohort"][1] == "1"
    # Juniors' goals: 3 different people answered, so shown (2 of 3 achieved); leaders' are
    # under the minimum of 3 and hidden, never a number.
    assert shown["Junior mentors: goal achieved"][0].startswith("67%")
    assert shown["Leaders: goal achieved"][0] == "not enough responses"
    assert "not enough responses" in shown["Pulse average (1–5)"][0]
    # Each cohort had its own final summary, once.
    finals = [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if c.params["channel"] == "CADMIN" and "Final program summary" in c.params["text"]
    ]
    assert len(finals) == 2
    # Each over its own pairs and with its own rhythm: the pilot's two pairs at the
    # workspace's 14 days, the expansion's three at its own 21.
    pilot_final, expansion_final = (str(c.params["blocks"]) for c in finals)
    assert "*Active pairs*\\n2" in pilot_final and "one every 14 days" in pilot_final
    assert "*Signed up*\\n4" in pilot_final  # not the expansion's newcomers
    assert "*Ended*\\n3" in expansion_final and "one every 21 days" in expansion_final
    # Its chart and the page to forward follow, once each.
    files = [c for c in bot.slack.calls_to("files.getUploadURLExternal")]
    names = sorted(c.params["filename"] for c in files if "expansion" in c.params["filename"])
    assert names == ["impact-expansion.html", "impact-expansion.png"]


async def test_the_expansion_has_its_own_rhythm_and_the_pilot_keeps_the_workspaces(pilot):
    bot = pilot
    status, body = await bot.command("admin cohort list", user="UADMIN")
    listed = "\n".join(b["text"]["text"] for b in body["blocks"] if b["type"] == "section")
    assert f"*{EXPANSION}* (running, open for signups)" in listed
    assert "own rhythm: cadence 21 days" in listed
    assert f"*{PILOT}* (running)" in listed


async def test_a_match_fills_one_cohort_and_never_mixes_two(pilot):
    bot = pilot
    pilot_id = cohort_named(bot, PILOT).id
    # With the expansion closed to signups, UJ4 and UL4 join the pilot; then UL3 the expansion.
    await admin(bot, f"cohort edit {EXPANSION} signups=closed")
    await sign_up(bot, "UJ4", junior("1"))
    await sign_up(bot, "UL4", leader("People"))
    await admin(bot, f"cohort edit {EXPANSION} signups=open")
    await sign_up(bot, "UL3", leader("Legal"))
    cohort_of = {p.user_id: p.cohort_id for p in rows(bot, Participant)}
    assert (cohort_of["UJ4"], cohort_of["UL4"]) == (pilot_id, pilot_id)

    def paired() -> set[str]:
        return {u for p in rows(bot, Pair) for u in (p.mentor_id, p.mentee_id)}

    # A match fills the cohort open for signups: the expansion has no junior for UL3, and
    # the pilot's two are not its to pair.
    await admin(bot, "match")
    await bot.settle()
    assert not paired() & {"UJ4", "UL4", "UL3"}
    # Named, the pilot's match pairs its own two, in the pilot.
    await admin(bot, f"match {PILOT}")
    await bot.settle()
    [pair] = [p for p in rows(bot, Pair) if p.mentor_id == "UJ4"]
    assert (pair.mentee_id, pair.cohort_id) == ("UL4", pilot_id)
    assert "UL3" not in paired()
    assert "There is no running cohort called Nobody" in await admin(bot, "match preview Nobody")


async def test_a_cohorts_own_rhythm_retimes_only_its_pairs(pilot):
    bot = pilot
    # Both pilot pairs wait for a stall nudge 21 days (the workspace's) after their last
    # activity. The pilot sets its own 30; the workspace's settings stay as they were.
    await bot.settle()
    before = {p.id: p.stall_due_at for p in rows(bot, Pair)}
    assert all(before.values())
    assert "Saved" in await admin(bot, f"cohort edit {PILOT} stall=30")
    await bot.settle()
    for pair in rows(bot, Pair):
        assert pair.stall_due_at == pair.last_activity_at + timedelta(days=30)
    # The workspace's settings form saved again (unchanged): the pilot keeps its own 30.
    assert "Saved" in await admin(bot, f"cohort edit {EXPANSION} stall=40")
    await bot.runtime.deps.db.run(
        lambda s: program.save_program_settings(
            session=s,
            team_id=TEAM_ID,
            settings=program.get_program_settings(session=s, team_id=TEAM_ID),
            now=datetime(2026, 3, 3, tzinfo=UTC),
        )
    )
    await retime_pairs(bot.runtime.deps, team_id=TEAM_ID)
    for pair in rows(bot, Pair):
        assert pair.stall_due_at == pair.last_activity_at + timedelta(days=30)


@pytest.mark.parametrize(
    ("command", "refusal"),
    [
        ("cohort new Pilot 2026 start=2026-05-04", "already a cohort called"),
        ("cohort new Later start=2026-05-04 end=2026-05-01", "ends after it starts"),
        ("cohort new Later start=04/05/2026", "takes a date like"),
        ("cohort new Later cadence=3", "takes a number of days from 7 to 60"),
        ("cohort new Later colour=blue", "is not something a cohort has"),
        ("cohort new start=2026-05-04", "Give the cohort a name"),
        ("cohort edit Nobody end=2026-09-30", "There is no cohort called"),
        ("cohort edit Pilot 2026 end=2026-03-01", "ends after it starts"),
        ("cohort close Nobody", "There is no cohort called"),
    ],
)
async def test_bad_cohort_commands_are_refused_and_change_nothing(pilot, command, refusal):
    bot = pilot
    before = [(c.name, c.starts_on, c.ends_on, c.cadence_days) for c in rows(bot, Cohort)]
    answer = await admin(bot, command)
    assert refusal in answer
    assert [(c.name, c.starts_on, c.ends_on, c.cadence_days) for c in rows(bot, Cohort)] == before


async def test_cohort_commands_are_for_admins_only(pilot):
    bot = pilot
    status, body = await bot.command("admin cohort close Pilot 2026", user="UJ1")
    assert status == 200
    assert cohort_named(bot, PILOT).status == "running"
