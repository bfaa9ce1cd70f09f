"""Cohorts from an admin's Home tab, through signed requests: the newest cohorts with an Edit
button each and a New cohort button; the form creates, edits and closes, refuses bad values
field by field with nothing changed, and is for admins only."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import col, select

from handlers.devkit.forms import filled
from storage.models import Cohort, Pair
from tests.test_guides_flow import junior, leader, sign_up


async def home_of(bot, user: str) -> dict:
    await bot.event(
        {"type": "app_home_opened", "user": user, "tab": "home"},
        event_id=f"EvH{user}{len(bot.slack.calls)}",
    )
    [call] = [c for c in bot.slack.calls_to("views.publish") if c.params["user_id"] == user][-1:]
    return call.params["view"]


def buttons(view: dict) -> list[dict]:
    found = []
    for block in view["blocks"]:
        found += [e for e in block.get("elements") or [] if e.get("type") == "button"]
        accessory = block.get("accessory") or {}
        if accessory.get("type") == "button":
            found.append(accessory)
    return found


def cohorts(bot) -> list[Cohort]:
    return bot.runtime.deps.db.run_sync(
        lambda s: list(s.exec(select(Cohort).order_by(col(Cohort.id))))
    )


def form_state(
    *,
    name: str | None,
    starts_on: str | None = None,
    ends_on: str | None = None,
    cadence_days: str | None = None,
    stall_days: str | None = None,
    signups_open: str | None = None,
    close: bool = False,
) -> dict:
    def text(value: str | None) -> dict:
        return {"value": {"type": "plain_text_input", "value": value}}

    def day(value: str | None) -> dict:
        return {"value": {"type": "datepicker", "selected_date": value}}

    state = {
        "name": text(name),
        "starts_on": day(starts_on),
        "ends_on": day(ends_on),
        "cadence_days": text(cadence_days),
        "stall_days": text(stall_days),
        "escalate_after_days": text(None),
        "pulse_cadence_days": text(None),
    }
    if signups_open is not None:
        state["signups_open"] = {
            "value": {"type": "radio_buttons", "selected_option": {"value": signups_open}}
        }
    if close:
        state["close"] = {"value": {"type": "checkboxes", "selected_options": [{"value": "close"}]}}
    return state


async def open_form(bot, user: str, action_id: str, value: str | None = None) -> dict:
    before = len(bot.slack.calls_to("views.open"))
    fields = {"value": value} if value is not None else {}
    await bot.click(action_id, user=user, **fields)
    opened = bot.slack.calls_to("views.open")[before:]
    assert len(opened) == 1, "the form did not open"
    return opened[0].params["view"]


@pytest.fixture
async def pilot(bot):
    status, body = await bot.command(
        "admin cohort new Pilot start=2026-03-02 end=2026-08-28", user="UADMIN"
    )
    assert "Created *Pilot*" in body["text"]
    return bot


async def test_admins_see_the_cohorts_on_home_and_others_do_not(pilot):
    bot = pilot
    await sign_up(bot, "UJ1", junior())
    view = await home_of(bot, "UADMIN")
    sections = [(b.get("text") or {}).get("text", "") for b in view["blocks"]]
    assert any(text.startswith("*Pilot* (running, open for signups)") for text in sections)
    [cohort] = cohorts(bot)
    assert {"action_id": "cohort_home_edit", "value": str(cohort.id)}.items() <= {
        k: v for b in buttons(view) if b["action_id"] == "cohort_home_edit" for k, v in b.items()
    }.items()
    assert "cohort_home_new" in [b["action_id"] for b in buttons(view)]

    participant = await home_of(bot, "UJ1")
    assert "cohort_home" not in str(participant["blocks"])


async def test_a_new_cohort_from_the_form(pilot):
    bot = pilot
    view = await open_form(bot, "UADMIN", "cohort_home_new")
    status, body = await bot.submit_view(
        filled(
            view,
            form_state(
                name="Spring 2026", starts_on="2026-09-07", ends_on="2027-02-26", cadence_days="21"
            ),
        ),
        user="UADMIN",
    )
    assert body["response_action"] == "update", body
    assert "Created *Spring 2026*" in str(body["view"])
    spring = cohorts(bot)[-1]
    assert (spring.name, spring.starts_on, spring.ends_on, spring.cadence_days) == (
        "Spring 2026",
        date(2026, 9, 7),
        date(2027, 2, 26),
        21,
    )
    assert (spring.stall_days, spring.signups_open) == (None, True)


@pytest.mark.parametrize(
    ("answers", "field", "says"),
    [
        (dict(name="Autumn", cadence_days="3"), "cadence_days", "from 7 to 60, or empty"),
        (
            dict(name="Autumn", starts_on="2026-09-07", ends_on="2026-09-01"),
            "ends_on",
            "ends after",
        ),
        (dict(name="Autumn", ends_on="2026-09-01"), "starts_on", "a start"),
        (dict(name="pilot", starts_on="2026-09-07"), "name", "already a cohort called"),
        (dict(name="<script>"), "name", "may use letters"),
        (dict(name=" "), "name", "Give the cohort a name"),
    ],
)
async def test_the_form_refuses_bad_values_next_to_their_field(pilot, answers, field, says):
    bot = pilot
    before = [(c.name, c.starts_on, c.ends_on, c.cadence_days) for c in cohorts(bot)]
    view = await open_form(bot, "UADMIN", "cohort_home_new")
    status, body = await bot.submit_view(filled(view, form_state(**answers)), user="UADMIN")
    assert body["response_action"] == "errors", body
    assert list(body["errors"]) == [field]
    assert says in body["errors"][field]
    assert [(c.name, c.starts_on, c.ends_on, c.cadence_days) for c in cohorts(bot)] == before


async def test_editing_a_cohort_from_the_form(pilot):
    bot = pilot
    [cohort] = cohorts(bot)
    view = await open_form(bot, "UADMIN", "cohort_home_edit", str(cohort.id))
    initial = {
        b["block_id"]: b["element"].get("initial_value") or b["element"].get("initial_date")
        for b in view["blocks"]
        if b["type"] == "input"
    }
    assert (initial["name"], initial["starts_on"], initial["ends_on"]) == (
        "Pilot",
        "2026-03-02",
        "2026-08-28",
    )
    status, body = await bot.submit_view(
        filled(
            view,
            form_state(
                name="Pilot 2026",
                starts_on="2026-03-02",
                ends_on="2026-09-25",
                stall_days="30",
                signups_open="closed",
            ),
        ),
        user="UADMIN",
    )
    assert body["response_action"] == "update", body
    [edited] = cohorts(bot)
    assert (edited.name, edited.ends_on, edited.stall_days, edited.signups_open) == (
        "Pilot 2026",
        date(2026, 9, 25),
        30,
        False,
    )


async def test_closing_a_cohort_from_the_form_ends_its_pairs(pilot):
    bot = pilot
    await sign_up(bot, "UJ1", junior())
    await sign_up(bot, "UL1", leader("Operations"))
    await bot.command("admin match", user="UADMIN")
    await bot.settle()
    [cohort] = cohorts(bot)
    view = await open_form(bot, "UADMIN", "cohort_home_edit", str(cohort.id))
    status, body = await bot.submit_view(
        filled(view, form_state(name="Pilot", starts_on="2026-03-02", close=True)),
        user="UADMIN",
    )
    assert body["response_action"] == "update", body
    assert "Closed *Pilot*: 1 live pairs" in str(body["view"])
    [closed] = cohorts(bot)
    assert closed.status == "closed"
    pairs = bot.runtime.deps.db.run_sync(lambda s: list(s.exec(select(Pair))))
    assert [p.status for p in pairs] == ["ended"]


async def test_only_admins_may_open_or_save_the_form(pilot):
    bot = pilot
    await sign_up(bot, "UJ1", junior())
    before = len(bot.slack.calls_to("views.open"))
    await bot.click("cohort_home_new", user="UJ1")
    assert len(bot.slack.calls_to("views.open")) == before
    # A forged submission of the admin's form by someone else changes nothing.
    view = await open_form(bot, "UADMIN", "cohort_home_new")
    status, body = await bot.submit_view(
        filled(view, form_state(name="Forged", starts_on="2026-09-07")), user="UJ1"
    )
    assert body["response_action"] == "errors"
    assert [c.name for c in cohorts(bot)] == ["Pilot"]
