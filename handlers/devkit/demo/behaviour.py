"""How the simulated people answer the bot's messages: each pair's mood decides whether they pick
a date, answer a check-in or a pulse, or let the pair stall."""

from __future__ import annotations

from datetime import timedelta

from bot import pulse
from handlers.devkit.demo.actions import Actions
from handlers.devkit.demo.cast import LEADER_CHANGES, at_work, weekday_after
from handlers.devkit.forms import filled


def _elements(message: dict) -> list[dict]:
    found = []
    for block in message.get("blocks") or []:
        if block.get("type") == "actions":
            found += [dict(e, block_id=block.get("block_id", "")) for e in block["elements"]]
    return found


def _button(message: dict, action_id: str) -> dict | None:
    return next((e for e in _elements(message) if e.get("action_id") == action_id), None)


class Demo(Actions):
    """The simulated program: the people's actions (`Actions`), and what the bot's messages
    make them do, planned for a moment in their working day."""

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
