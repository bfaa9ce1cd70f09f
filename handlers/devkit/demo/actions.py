"""What the simulated people do: each action a signed request into the app, as Slack would send
it, then logged with what the bot did in answer."""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.agreement import JUNIOR, LEADER
from handlers.core.blocks import INPUT_ACTION
from handlers.devkit.demo.cast import (
    ADMIN,
    ADMIN_CHANNEL,
    JUNIOR_WANTS,
    LEADER_WANTS,
    SCALE,
    ZONES,
    Person,
    rhythm_for,
    rng_title,
)
from handlers.devkit.demo.transcript import Transcript
from handlers.devkit.driver import Clock, Driver
from handlers.devkit.forms import filled, signup_state


@dataclass(order=True)
class _Planned:
    when: datetime
    seq: int
    action: Callable[[], Awaitable[None]] = field(compare=False)


class Actions:
    """The simulation's state (people, moods, the plan of what happens when) and the things a
    person does; `Demo` (behaviour.py) adds how they answer the bot's messages."""

    def __init__(
        self, driver: Driver, clock: Clock, rng: random.Random, transcript: Transcript
    ) -> None:
        self.bot = driver
        self.slack = driver.slack
        self.clock = clock
        self.rng = rng
        self.log = transcript
        self.people: dict[str, Person] = {}
        self.left: set[str] = set()
        self.mood: dict[frozenset, str] = {}  # pair members -> engaged, flaky, revives, stalls
        self.plan: list[_Planned] = []
        self.seq = itertools.count()
        self.messages_seen = 0
        self.event_ids = itertools.count(1)
        self.changes_shared = itertools.count()  # each change shared is another one

    # --- what people do ---

    def later(self, when: datetime, action: Callable[[], Awaitable[None]]) -> None:
        heapq.heappush(self.plan, _Planned(when, next(self.seq), action))

    async def command(self, user: str, text: str, *, say: str | None = None) -> Any:
        self.log.person(self.clock.now, user, say or f"ran /mentor {text}")
        _status, body = await self.bot.command(text, user=user, trigger_id=f"trig-{user}")
        self.log.reply(self.clock.now, user, body)
        self.log.flush(self.clock.now, actor=user)
        return body

    async def click(
        self, user: str, channel: str, ts: str, element: dict, say: str, **fields
    ) -> None:
        if user in self.left:
            return
        self.log.person(self.clock.now, user, say)
        container = {
            "type": "message",
            "channel_id": channel,
            "message_ts": ts,
            "is_ephemeral": False,
        }
        fields.setdefault("block_id", element.get("block_id", "b"))
        if "value" in element:
            fields.setdefault("value", element["value"])
        await self.bot.click(element["action_id"], user=user, container=container, **fields)
        self.log.flush(self.clock.now, actor=user)

    async def sign_up(self, person: Person) -> None:
        self.slack.add_user(
            person.user_id,
            tz=person.tz,
            real_name=person.name,
            title=rng_title(self.rng, person.role),
        )
        self.people[person.user_id] = person
        where = ZONES.get(person.tz, person.tz)
        await self.command(person.user_id, "signup", say=f"({where}) ran /mentor signup")
        view = self.slack.calls_to("views.open")[-1].params["view"]
        topics = ", ".join(person.answers["topics"])
        self.log.person(
            self.clock.now, person.user_id, f"submitted it: {person.role}, topics {topics}"
        )
        _status, body = await self.bot.submit_view(
            filled(view, signup_state(**person.answers)), user=person.user_id
        )
        self.log.reply(self.clock.now, person.user_id, body)
        self.log.flush(self.clock.now, actor=person.user_id)

    async def configure(self, weeks: int) -> None:
        """The admin opens `/mentor admin settings` and saves the admin channel and the rhythm
        for a cohort `weeks` long; the dates it shows are the current cohort's, kept."""
        await self.command(ADMIN, "admin settings")
        view = self.slack.calls_to("views.open")[-1].params["view"]
        changes = dict(admin_channel=ADMIN_CHANNEL, **rhythm_for(weeks))
        self.log.person(
            self.clock.now,
            ADMIN,
            f"saved the settings: sessions every {changes['cadence_days']} days, stalled "
            f"after {changes['stall_days']} days, summaries in #mentoring-admins "
            "(the dates are the cohort's)",
        )
        _status, body = await self.bot.submit_view(
            filled(view, settings_state(view, changes)), user=ADMIN
        )
        if not isinstance(body, dict) or body.get("response_action") != "update":
            raise RuntimeError(f"the settings were refused: {body}")
        self.log.reply(self.clock.now, ADMIN, body)
        self.log.flush(self.clock.now, actor=ADMIN)

    async def new_cohort(self, name: str, start: date, end: date, *own: str) -> None:
        """The admin creates a cohort with `/mentor admin cohort new`; it opens for signups."""
        words = [name, f"start={start.isoformat()}", f"end={end.isoformat()}", *own]
        body = await self.command(ADMIN, "admin cohort new " + " ".join(words))
        answer = str((body or {}).get("text", "")) if isinstance(body, dict) else ""
        if f"Created *{name}*" not in answer:
            raise RuntimeError(f"the cohort {name} was refused: {body}")

    async def agree(self, user: str, channel: str, ts: str, element: dict) -> None:
        """One of a pair opens the learning agreement from their intro and saves two or three
        things each of them wants."""
        if user in self.left:
            return
        before = len(self.slack.calls_to("views.open"))
        await self.click(user, channel, ts, element, "pressed “Agree what you each want”")
        opened = self.slack.calls_to("views.open")[before:]
        if not opened:
            return
        view = opened[-1].params["view"]
        leader_items = self.rng.sample(LEADER_WANTS, self.rng.randint(2, 3))
        junior_items = self.rng.sample(JUNIOR_WANTS, self.rng.randint(2, 3))
        state = {
            LEADER: {INPUT_ACTION: {"type": "plain_text_input", "value": "\n".join(leader_items)}},
            JUNIOR: {INPUT_ACTION: {"type": "plain_text_input", "value": "\n".join(junior_items)}},
        }
        self.log.person(
            self.clock.now,
            user,
            f"saved the learning agreement: {len(leader_items)} things the leader wants "
            f"to learn, {len(junior_items)} the mentor wants to gain",
        )
        _status, body = await self.bot.submit_view(filled(view, state), user=user)
        self.log.reply(self.clock.now, user, body)
        self.log.flush(self.clock.now, actor=user)

    async def leave(self, user: str) -> None:
        body = await self.command(user, "leave")
        confirm = next(
            e
            for b in (body or {}).get("blocks", [])
            if b.get("type") == "actions"
            for e in b["elements"]
            if e.get("action_id") == "leave_confirm"
        )
        self.log.person(self.clock.now, user, "pressed “Leave” to confirm")
        container = {"type": "message", "message_ts": "1", "is_ephemeral": True}
        await self.bot.click(
            confirm["action_id"], user=user, container=container, value=confirm.get("value")
        )
        self.log.flush(self.clock.now, actor=user)
        self.left.add(user)

    async def react(self, user: str, channel: str, ts: str, rating: int) -> None:
        if user in self.left:
            return
        self.log.person(self.clock.now, user, f"reacted :{SCALE[rating - 1]}: on the pulse")
        event = {
            "type": "reaction_added",
            "user": user,
            "reaction": SCALE[rating - 1],
            "item_user": self.slack.bot_user_id,
            "item": {"type": "message", "channel": channel, "ts": ts},
            "event_ts": f"{self.clock.now.timestamp():.6f}",
        }
        await self.bot.event(event, event_id=f"EvDemo{next(self.event_ids):06d}")
        self.log.flush(self.clock.now, actor=user)


def settings_state(view: dict, changes: dict[str, str]) -> dict:
    """The settings modal's answers as Slack reports them: what it opened with, plus changes."""
    state: dict = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        name, element = block["block_id"], block["element"]
        kind = element["type"]
        if kind == "datepicker":
            value = changes.get(name, element.get("initial_date"))
            answer = {"type": kind, "selected_date": value}
        elif kind == "conversations_select":
            value = changes.get(name, element.get("initial_conversation"))
            answer = {"type": kind, "selected_conversation": value}
        elif kind == "checkboxes":
            initial = [o["value"] for o in element.get("initial_options") or []]
            chosen = changes[name].split(",") if name in changes else initial
            answer = {"type": kind, "selected_options": [{"value": v} for v in chosen]}
        elif kind == "static_select":
            initial_value = (element.get("initial_option") or {}).get("value")
            value = changes.get(name, initial_value)
            answer = {"type": kind, "selected_option": {"value": value} if value else None}
        else:
            answer = {"type": kind, "value": changes.get(name, element.get("initial_value"))}
        state[name] = {element["action_id"]: answer}
    return state
