"""`reverse-mentor demo`: the real bot plays a whole program against a fake Slack workspace.

Everything the bot does here is what it does in production: the same app object `app.build`
makes, the same handlers, storage, matching, cadence, pulse and summary code, reached through
signed HTTP requests exactly as Slack sends them. Only Slack (the fake in `fake_slack.py`, on
127.0.0.1), the people (simulated, driven by a seeded `random.Random`) and the clock (simulated:
twelve weeks pass in seconds) are stand-ins. The transcript is read back from the calls the bot
made to the fake Slack and from what the simulated people did.
"""

from __future__ import annotations

import heapq
import itertools
import random
import re
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot import pulse
from handlers.core.scheduler import tick
from handlers.devkit.driver import (
    BOT_TOKEN,
    TEAM_ID,
    Clock,
    Driver,
    FakeTimer,
    make_settings,
    start_driver,
    stop_driver,
)
from handlers.devkit.fake_slack import FakeSlack
from handlers.devkit.forms import filled, signup_state
from storage.models import Pair

ADMIN = "UADMIN"
ADMIN_CHANNEL = "CADMIN"
SIGNUP_DAY = datetime(2026, 2, 27, 9, 0, tzinfo=UTC)  # a Friday: people sign up
PROGRAM_START = date(2026, 3, 2)  # the Monday after: the admin matches everyone

ZONES = {
    "Asia/Tokyo": "Tokyo",
    "Asia/Kolkata": "Bengaluru",
    "Europe/London": "London",
    "Europe/Berlin": "Berlin",
    "America/New_York": "New York",
}
# Two juniors and two or three leaders per zone, so everyone can find a partner at work.
JUNIORS = [
    ("Aiko Tanaka", "Asia/Tokyo"),
    ("Ren Sato", "Asia/Tokyo"),
    ("Priya Nair", "Asia/Kolkata"),
    ("Arjun Mehta", "Asia/Kolkata"),
    ("Sam Okafor", "Europe/London"),
    ("Maya Collins", "Europe/London"),
    ("Lena Vogel", "Europe/Berlin"),
    ("Jonas Weber", "Europe/Berlin"),
    ("Zoe Martinez", "America/New_York"),
    ("Tyler Brooks", "America/New_York"),
    ("Nia Johnson", "America/New_York"),
    ("Ola Bakare", "Europe/London"),
]
LEADERS = [
    ("Hiroshi Mori", "Asia/Tokyo"),
    ("Keiko Ito", "Asia/Tokyo"),
    ("Vikram Rao", "Asia/Kolkata"),
    ("Anjali Iyer", "Asia/Kolkata"),
    ("Margaret Hale", "Europe/London"),
    ("David Clarke", "Europe/London"),
    ("Ursula Brandt", "Europe/Berlin"),
    ("Klaus Richter", "Europe/Berlin"),
    ("Robert Chen", "America/New_York"),
    ("Linda Park", "America/New_York"),
    ("Frank Russo", "America/New_York"),
    ("Helen Ward", "Europe/London"),
]
LATE_JOINER = "Grace Mensah"  # signs up after someone leaves, and is matched to their partner
JUNIOR_TITLES = ["Data analyst", "Graduate engineer", "Marketing associate", "UX designer"]
LEADER_TITLES = ["VP Operations", "Chief Financial Officer", "Head of Sales", "General Counsel"]
DEPARTMENTS = ["Finance", "Operations", "Sales", "Legal", "Engineering", "Marketing", "People"]
TOPICS = ["ai", "social", "inclusion", "hybrid", "sustainability", "genz", "career"]
JUNIOR_GOALS = [
    "Help a leader get hands-on with AI tools.",
    "Show how my generation uses social media at work.",
    "Learn how decisions get made at the top.",
]
LEADER_GOALS = [
    "Understand how younger colleagues want to work.",
    "Use AI tools in my own week, not just talk about them.",
    "Make our hybrid policy work for early-career people.",
]
LEADER_CHANGES = [
    "I draft my board notes with an AI assistant, then edit.",
    "I moved my team's status meeting to an async thread.",
    "I ask the newest person in the room to speak first.",
    "I post on our internal social channel every week.",
    "I stopped scheduling meetings on Friday afternoons.",
    "I record a short video instead of a long all-hands email.",
    "I invite a graduate to every strategy review.",
    "I check our job ads for jargon before they go out.",
    "I keep one day a week free of meetings for my team.",
    "I ask for feedback in a quick poll, not at the end of a call.",
    "I try each new tool myself before I approve it.",
    "I explain the why behind a decision, not only the what.",
]
SCALE = [point.emoji for point in pulse.SCALE]  # "one" ... "five"


@dataclass
class Person:
    user_id: str
    name: str
    tz: str
    role: str
    answers: dict

    @property
    def first(self) -> str:
        return self.name.split()[0]


@dataclass(order=True)
class _Planned:
    when: datetime
    seq: int
    action: Callable[[], Awaitable[None]] = field(compare=False)


# --- the transcript ----------------------------------------------------------------------------

_MENTION = re.compile(r"<@([A-Z0-9]+)>")
_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")


def stamp(moment: datetime) -> str:
    return moment.strftime("%a %d %b %H:%M")


class Transcript:
    """Turns the fake Slack's recorded calls, and the people's actions, into readable lines."""

    def __init__(self, slack: FakeSlack, out: TextIO, *, quiet: bool, start: date) -> None:
        self.slack = slack
        self.out = out
        self.quiet = quiet
        self.start = start
        self.seen = 0
        self.day: date | None = None
        self.counts: dict[str, int] = {}

    def name(self, user_id: str) -> str:
        user = self.slack.users.get(user_id)
        return user["real_name"].split()[0] if user else user_id

    def clean(self, text: str, *, limit: int = 140) -> str:
        text = _MENTION.sub(lambda m: self.name(m.group(1)), text or "")
        text = _DATE.sub(lambda m: _short_date(m.group(1)), text)
        text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or self._channel_name(m.group(1))), text)
        text = _LINK.sub(lambda m: m.group(2), text)
        text = text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
        text = " ".join(text.replace("*", "").split())
        return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"

    def _channel_name(self, channel_id: str) -> str:
        return self.slack.channels.get(channel_id, {}).get("name", channel_id)

    def where(self, channel: str) -> str:
        if channel in self.slack.channels:
            return "#" + self._channel_name(channel)
        if channel in self.slack.users:
            return self.name(channel)
        members = self.slack.conversations.get(channel, {}).get("members", [])
        if len(members) == 1:
            return self.name(members[0])
        if members:
            return f"group DM ({', '.join(self.name(m) for m in members)})"
        return channel

    def line(self, moment: datetime, text: str) -> None:
        if self.quiet:
            return
        if moment.date() != self.day:
            self.day = moment.date()
            week = (self.day - self.start).days // 7 + 1
            label = f"week {week}" if self.day >= self.start else "before the program"
            print(f"\n── {self.day:%A %d %B %Y} ({label}) ──", file=self.out)
        print(f"{stamp(moment)} · {text}", file=self.out)

    def person(self, moment: datetime, user_id: str, text: str) -> None:
        self.line(moment, f"{self.name(user_id)} {text}")

    def reply(self, moment: datetime, user_id: str, body: Any) -> None:
        """What the bot answered a command or a form in the HTTP response itself."""
        if not isinstance(body, dict):
            return
        if body.get("response_action") == "errors":
            self.line(moment, f"bot → {self.name(user_id)}: form errors {body.get('errors')}")
        elif body.get("response_action") in ("update", "push"):
            view = body.get("view") or {}
            title = (view.get("title") or {}).get("text", "")
            first = next(
                (b["text"]["text"] for b in view.get("blocks", []) if b.get("type") == "section"),
                "",
            )
            said = f"“{title}”: {self.clean(first, limit=100)}" if first else f"“{title}”"
            self.line(moment, f"bot → {self.name(user_id)}: {said}")
        elif body.get("text"):
            self.line(moment, f"bot → {self.name(user_id)} (only them): {self.clean(body['text'])}")

    def flush(self, moment: datetime, *, actor: str | None = None) -> None:
        """Render the calls the bot made since the last flush."""
        calls = self.slack.calls[self.seen :]
        self.seen = len(self.slack.calls)
        seeded: dict[tuple[str, str], list[str]] = {}
        for call in calls:
            self.counts[call.method] = self.counts.get(call.method, 0) + 1
            params = call.params
            if call.method == "chat.postMessage":
                where = self.where(params.get("channel", ""))
                self.line(moment, f"bot → {where}: {self.clean(params.get('text', ''))}")
            elif call.method == "chat.postEphemeral":
                who = self.name(params.get("user", ""))
                self.line(moment, f"bot → {who} (only them): {self.clean(params.get('text', ''))}")
            elif call.method == "reactions.add":
                key = (params.get("channel", ""), params.get("timestamp", ""))
                if key not in seeded:
                    seeded[key] = []
                    self.line(moment, f"bot → {self.where(key[0])}: seeded the pulse's scale")
                seeded[key].append(params.get("name", ""))
            elif call.method == "views.open":
                title = ((params.get("view") or {}).get("title") or {}).get("text", "a form")
                who = self.name(actor) if actor else "someone"
                self.line(moment, f"bot → {who}: opened the “{title}” form")
            elif call.method == "files.completeUploadExternal":
                where = self.where(params.get("channel_id", ""))
                titles = ", ".join(f.get("title", "") for f in params.get("files") or [])
                self.line(moment, f"bot → {where}: shared the chart “{titles}”")
            elif call.method == "response_url":
                if params.get("delete_original") or not actor:
                    continue
                text = self.clean(_answered(params) or params.get("text", ""))
                if params.get("response_type") == "in_channel":
                    self.line(moment, f"bot → {self.name(actor)}'s pair: {text}")
                else:
                    self.line(moment, f"bot → {self.name(actor)} (only them): {text}")


def _answered(params: dict) -> str | None:
    """For a question replaced in place with the answer marked: the line saying so."""
    for block in params.get("blocks") or []:
        for element in block.get("elements") or [] if block.get("type") == "context" else []:
            if "You answered" in element.get("text", ""):
                return element["text"].replace("*", "")
    return None


def _short_date(iso: str) -> str:
    try:
        return f"{date.fromisoformat(iso):%a %d %b}"
    except ValueError:
        return iso


def blocks_to_text(blocks: list[dict], transcript: Transcript) -> str:
    """A plain-text rendering of a Block Kit message (the admin summary)."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = block["text"]["text"]
            lines += [title, "=" * len(title)]
        elif kind == "divider":
            lines.append("")
        elif kind == "context":
            lines += [_plain(e.get("text", ""), transcript) for e in block.get("elements", [])]
        elif kind == "section":
            if block.get("text"):
                lines.append(_plain(block["text"]["text"], transcript))
            fields = [
                _plain(f["text"], transcript).replace("\n  ", ": ")
                for f in block.get("fields") or []
            ]
            if fields:
                lines.append(" · ".join(fields))
    return "\n".join(lines)


def _plain(text: str, transcript: Transcript) -> str:
    text = _MENTION.sub(lambda m: transcript.name(m.group(1)), text)
    text = _DATE.sub(lambda m: _short_date(m.group(1)), text)
    text = text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    return text.replace("*", "").replace("\n", "\n  ").replace("  •", "  •")


# --- the simulation ----------------------------------------------------------------------------


def rhythm_for(weeks: int) -> dict[str, str]:
    """The settings the admin saves: the defaults for a long program; a tighter rhythm for a
    short one, so that prompts, pulses, nudges and escalations all happen within it."""
    if weeks >= 8:
        return dict(cadence_days="14", stall_days="21", escalate_after_days="7")
    return dict(
        cadence_days="7",
        stall_days="10",
        escalate_after_days="4",
        pulse_cadence_days="7",
        pulse_close_days="5",
    )


def make_people(rng: random.Random) -> list[Person]:
    people = []
    for index, (name, tz) in enumerate(JUNIORS):
        topics = tuple(sorted(rng.sample(TOPICS, rng.randint(2, 3))))
        answers = dict(
            role="junior",
            level=str(rng.choice([1, 1, 2])),
            department=DEPARTMENTS[index % len(DEPARTMENTS)],
            topics=topics,
            goals=rng.choice(JUNIOR_GOALS),
            capacity="1",
        )
        people.append(Person(f"UJ{index + 1:02d}", name, tz, "junior", answers))
    for index, (name, tz) in enumerate(LEADERS):
        topics = tuple(sorted(rng.sample(TOPICS, rng.randint(2, 4))))
        answers = dict(
            role="leader",
            level=str(rng.choice([5, 6])),
            department=DEPARTMENTS[(index + 3) % len(DEPARTMENTS)],
            topics=topics,
            goals=rng.choice(LEADER_GOALS),
            capacity="1",
        )
        people.append(Person(f"UL{index + 1:02d}", name, tz, "leader", answers))
    return people


def at_work(after: datetime, tz: str, rng: random.Random, *, max_delay_hours: int = 20):
    """A moment, some minutes to hours after `after`, inside the person's working day."""
    zone = ZoneInfo(tz)
    moment = (after + timedelta(minutes=rng.randint(15, max_delay_hours * 60))).astimezone(zone)
    for _ in range(10):
        if moment.weekday() < 5 and time(9) <= moment.time() < time(17, 30):
            break
        day = moment.date() + timedelta(days=1 if moment.time() >= time(9) else 0)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        start = datetime.combine(day, time(9), tzinfo=zone)
        moment = start + timedelta(minutes=rng.randint(0, 150))
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def weekday_after(day: date, days: int) -> date:
    day += timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _elements(message: dict) -> list[dict]:
    found = []
    for block in message.get("blocks") or []:
        if block.get("type") == "actions":
            found += [dict(e, block_id=block.get("block_id", "")) for e in block["elements"]]
    return found


def _button(message: dict, action_id: str) -> dict | None:
    return next((e for e in _elements(message) if e.get("action_id") == action_id), None)


class Demo:
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

    async def configure(self, weeks: int, end: date) -> None:
        """The admin opens `/mentor admin settings` and saves the program's dates and rhythm."""
        await self.command(ADMIN, "admin settings")
        view = self.slack.calls_to("views.open")[-1].params["view"]
        changes = dict(
            program_start=PROGRAM_START.isoformat(),
            program_end=end.isoformat(),
            admin_channel=ADMIN_CHANNEL,
            **rhythm_for(weeks),
        )
        self.log.person(
            self.clock.now,
            ADMIN,
            f"saved the settings: program {PROGRAM_START:%d %b} – {end:%d %b %Y}, "
            f"sessions every {changes['cadence_days']} days, stalled after "
            f"{changes['stall_days']} days, summaries in #mentoring-admins",
        )
        _status, body = await self.bot.submit_view(
            filled(view, settings_state(view, changes)), user=ADMIN
        )
        if not isinstance(body, dict) or body.get("response_action") != "update":
            raise RuntimeError(f"the settings were refused: {body}")
        self.log.reply(self.clock.now, ADMIN, body)
        self.log.flush(self.clock.now, actor=ADMIN)

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

    # --- what the bot's messages make people do ---

    def members(self, channel: str) -> list[str]:
        found = self.slack.conversations.get(channel, {}).get("members", [])
        return [m for m in found if m in self.people]

    def respond_to_new_messages(self) -> None:
        items = list(self.slack.messages.items())
        for (channel, ts), message in items[self.messages_seen :]:
            self.respond(channel, ts, message)
        self.messages_seen = len(items)

    def respond(self, channel: str, ts: str, message: dict) -> None:
        members = self.members(channel)
        text = message.get("text", "")
        rng, now = self.rng, self.clock.now
        if len(members) == 2:
            mood = self.mood.setdefault(frozenset(members), "engaged")
            if "Meet your" in text and mood in ("engaged", "flaky"):
                self.pick_first_date(rng.choice(members), channel, ts, message)
            elif "happen?" in text and mood not in ("stalls", "revives"):
                self.answer_checkin(rng.choice(members), mood, channel, ts, message)
            elif pulse.QUESTION in text and mood not in ("stalls", "revives"):
                for user in members:
                    if rng.random() < (0.85 if mood == "engaged" else 0.6):
                        self.answer_pulse(user, mood, channel, ts, message)
            elif "since your last session" in text and mood == "revives":
                self.mood[frozenset(members)] = "engaged"
                user = rng.choice(members)
                element = _button(message, "log_met_today")
                if element is not None:
                    self.later(
                        at_work(now, self.people[user].tz, rng, max_delay_hours=40),
                        lambda: self.click(
                            user, channel, ts, element, "pressed “We met today” on the nudge"
                        ),
                    )
        elif len(members) == 1:
            user = members[0]
            when = at_work(now, self.people[user].tz, rng)
            fit = _button(message, "fit_good")
            if fit is not None:
                self.later(
                    when,
                    lambda: self.click(user, channel, ts, fit, "answered “Good fit”"),
                )
            outcome = [e for e in _elements(message) if e["action_id"].startswith("outcome_")]
            progress = [e for e in outcome if e["action_id"] != "outcome_change_open"]
            if progress:
                choice = rng.choices(progress, weights=[1, 3, 2][: len(progress)])[0]
                label = choice.get("text", {}).get("text", choice["action_id"])
                checkpoint = choice.get("value", "")
                self.later(
                    when,
                    lambda: self.click(
                        user, channel, ts, choice, f"answered the {checkpoint} question: {label}"
                    ),
                )
                share = _button(message, "outcome_change_open")
                if share is not None and rng.random() < 0.7:
                    self.later(
                        when + timedelta(minutes=5),
                        lambda: self.share_change(user, channel, ts, share),
                    )

    def pick_first_date(self, user: str, channel: str, ts: str, message: dict) -> None:
        element = _button(message, "pick_session_date")
        if element is None:
            return
        when = at_work(self.clock.now, self.people[user].tz, self.rng)
        days = self.rng.randint(3, 8)

        async def pick() -> None:
            day = weekday_after(self.clock.now.date(), days)
            await self.click(
                user,
                channel,
                ts,
                element,
                f"picked {day:%a %d %b} for the first session",
                selected_date=day.isoformat(),
            )

        self.later(when, pick)

    def answer_checkin(self, user: str, mood: str, channel: str, ts: str, message: dict) -> None:
        weights = [8, 1, 1] if mood == "engaged" else [4, 4, 2]
        kind = self.rng.choices(["met", "reschedule", "skip"], weights=weights)[0]
        element = _button(message, f"checkin_{kind}")
        if element is None:
            return
        when = at_work(self.clock.now, self.people[user].tz, self.rng)
        days = self.rng.randint(2, 6)

        async def answer() -> None:
            if kind == "met":
                await self.click(user, channel, ts, element, "pressed “We met” on the check-in")
            elif kind == "skip":
                await self.click(user, channel, ts, element, "pressed “Skip this one”")
            else:
                day = weekday_after(self.clock.now.date(), days)
                await self.click(
                    user,
                    channel,
                    ts,
                    element,
                    f"rescheduled the session to {day:%a %d %b}",
                    selected_date=day.isoformat(),
                )

        self.later(when, answer)

    def answer_pulse(self, user: str, mood: str, channel: str, ts: str, message: dict) -> None:
        weights = [0, 1, 2, 4, 3] if mood == "engaged" else [1, 2, 3, 2, 1]
        rating = self.rng.choices(range(1, 6), weights=weights)[0]
        when = at_work(self.clock.now, self.people[user].tz, self.rng)
        if self.rng.random() < 0.75:
            self.later(when, lambda: self.react(user, channel, ts, rating))
            return
        element = _button(message, f"pulse_rate_{rating}")
        if element is not None:
            say = f"pressed the {rating} button on the pulse (answered privately)"
            self.later(when, lambda: self.click(user, channel, ts, element, say))

    async def share_change(self, user: str, channel: str, ts: str, element: dict) -> None:
        if user in self.left:
            return
        before = len(self.slack.calls_to("views.open"))
        await self.click(user, channel, ts, element, "pressed “Share one change”")
        opened = self.slack.calls_to("views.open")[before:]
        if not opened:
            return
        view = opened[-1].params["view"]
        change = LEADER_CHANGES[int(user[2:]) % len(LEADER_CHANGES)]
        state = {"change": {"value": {"type": "plain_text_input", "value": change}}}
        self.log.person(self.clock.now, user, "shared one thing they now do differently")
        _status, body = await self.bot.submit_view(filled(view, state), user=user)
        self.log.reply(self.clock.now, user, body)
        self.log.flush(self.clock.now, actor=user)


def rng_title(rng: random.Random, role: str) -> str:
    return rng.choice(JUNIOR_TITLES if role == "junior" else LEADER_TITLES)


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


async def run_demo(
    *,
    weeks: int = 12,
    seed: int = 1,
    database: str | Path | None = None,
    quiet: bool = False,
    out: TextIO,
    chart: str | Path | None = None,
) -> int:
    """Play a `weeks`-long program; print the transcript (unless quiet), the final summary
    and where the chart went. Returns a process exit code."""
    if not 2 <= weeks <= 52:
        print("demo: --weeks must be between 2 and 52", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="reverse-mentor-demo-"))
    if database is None:
        database_path = workdir / "demo.db"
    else:
        database_path = Path(database)
        if database_path.exists() and database_path.stat().st_size > 0:
            print(f"demo: {database_path} already exists; give a new file", file=sys.stderr)
            shutil.rmtree(workdir, ignore_errors=True)
            return 2
    chart_path = Path(chart) if chart is not None else workdir / "program-summary.png"
    clock = Clock(now=SIGNUP_DAY)
    rng = random.Random(seed)
    end = PROGRAM_START + timedelta(days=7 * weeks - 3)  # the Friday of the last week
    try:
        async with FakeSlack(token=BOT_TOKEN, team_id=TEAM_ID, clock=clock) as slack:
            slack.add_user(ADMIN, tz="Europe/London", real_name="Morgan Reyes", title="L&D lead")
            slack.add_channel(ADMIN_CHANNEL, name="mentoring-admins", is_private=True)
            settings = make_settings(
                slack, database_path, MENTOR_ADMINS=ADMIN, MENTOR_TICK_SECONDS="60"
            )
            driver = await start_driver(settings, slack, clock=clock, timer=FakeTimer())
            transcript = Transcript(slack, out, quiet=quiet, start=PROGRAM_START)
            try:
                demo = Demo(driver, clock, rng, transcript)
                await play(demo, weeks=weeks, end=end)
            finally:
                await stop_driver(driver)
            return report(slack, transcript, out, chart_path)
    finally:
        _clean_up(workdir, database_path if database is None else None)


def _clean_up(workdir: Path, database_path: Path | None) -> None:
    """Delete the temporary database (the chart stays) and the folder if nothing is left."""
    if database_path is not None:
        for suffix in ("", "-wal", "-shm"):
            database_path.with_name(database_path.name + suffix).unlink(missing_ok=True)
    if not any(workdir.iterdir()):
        workdir.rmdir()


async def play(demo: Demo, *, weeks: int, end: date) -> None:
    clock, rng = demo.clock, demo.rng
    await demo.configure(weeks, end)
    people = make_people(rng)
    for person in rng.sample(people, len(people)):
        clock.advance(minutes=rng.randint(3, 25))
        await demo.sign_up(person)

    clock.now = datetime.combine(PROGRAM_START, time(9), tzinfo=UTC)
    await demo.command(ADMIN, "admin match")
    pairs = sorted(
        demo.bot.runtime.deps.db.run_sync(
            lambda s: {frozenset((p.mentor_id, p.mentee_id)) for p in s.exec(select(Pair))}
        ),
        key=sorted,
    )
    moods = ["stalls", "revives", "flaky", "flaky", "flaky"]
    moods += ["engaged"] * max(0, len(pairs) - len(moods))
    rng.shuffle(moods)
    demo.mood.update(zip(pairs, moods, strict=False))
    await settle_and_tick(demo)

    # Someone from an engaged pair leaves part-way; a late joiner takes their partner on.
    engaged = [p for p in pairs if demo.mood[p] == "engaged"]
    leave_day = weekday_after(PROGRAM_START, max(3, round(weeks * 7 * 0.3)))
    if engaged:
        leaving_pair = rng.choice(engaged)
        leaver = next(u for u in sorted(leaving_pair) if demo.people[u].role == "leader")
        partner = next(u for u in leaving_pair if u != leaver)
        tz = demo.people[leaver].tz
        leave_at = at_work(datetime.combine(leave_day, time(0), tzinfo=UTC), tz, rng)
        demo.later(leave_at, lambda: demo.leave(leaver))

        async def late_signup() -> None:
            freed = demo.people[partner]
            answers = dict(freed.answers, role="leader", level="6", goals=LEADER_GOALS[0])
            answers["department"] = "Strategy"
            await demo.sign_up(Person("UL99", LATE_JOINER, freed.tz, "leader", answers))
            # The admin matches the pool again the next working day.
            match_at = at_work(clock.now + timedelta(hours=12), "Europe/London", rng)
            demo.later(match_at, lambda: demo.command(ADMIN, "admin match"))

        demo.later(
            at_work(leave_at + timedelta(hours=20), demo.people[partner].tz, rng), late_signup
        )

    next_tick = clock.now.replace(minute=0) + timedelta(hours=1)
    finish = datetime.combine(end, time(23), tzinfo=UTC)
    while next_tick <= finish:
        if demo.plan and demo.plan[0].when <= next_tick:
            planned = heapq.heappop(demo.plan)
            clock.now = max(clock.now, planned.when)
            await planned.action()
            demo.respond_to_new_messages()
            continue
        clock.now = next_tick
        await settle_and_tick(demo)
        next_tick += timedelta(hours=1)


async def settle_and_tick(demo: Demo) -> None:
    await tick(demo.bot.runtime.deps)
    await demo.bot.settle()
    demo.log.flush(demo.clock.now)
    demo.respond_to_new_messages()


def report(slack: FakeSlack, transcript: Transcript, out: TextIO, chart_path: Path) -> int:
    summaries = [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.params.get("channel") == ADMIN_CHANNEL and "summary" in c.params.get("text", "")
    ]
    if not summaries:
        print("demo: no summary was posted", file=out)
        return 1
    last = summaries[-1].params
    print("\n" + "═" * 72, file=out)
    print(blocks_to_text(last.get("blocks") or [], transcript) or last["text"], file=out)
    print("═" * 72, file=out)
    charts = [
        c
        for c in slack.calls_to("files.completeUploadExternal")
        if c.params.get("channel_id") == ADMIN_CHANNEL
    ]
    content = None
    if charts:
        file_id = (charts[-1].params.get("files") or [{}])[0].get("id")
        content = slack.files.get(file_id, {}).get("content")
    if content:
        chart_path.parent.mkdir(parents=True, exist_ok=True)
        chart_path.write_bytes(content)
        print(f"Chart: {chart_path}", file=out)
    else:
        print("demo: the summary's chart was not shared", file=out)
        return 1
    counts = transcript.counts
    print(
        f"Slack calls the bot made: {sum(counts.values())} "
        f"({counts.get('chat.postMessage', 0)} messages, "
        f"{counts.get('reactions.add', 0)} reactions, {counts.get('views.open', 0)} forms)",
        file=out,
    )
    return 0
