"""How the simulated people answer the bot's messages: each pair's mood decides whether they pick
a date, answer a check-in or a pulse, or let the pair stall."""

from __future__ import annotations

from datetime import timedelta

from bot import pulse
from handlers.devkit.demo.actions import Actions
from handlers.devkit.demo.cast import CARRY_OVER_YES, LEADER_CHANGES, at_work, weekday_after
from handlers.devkit.forms import filled
from handlers.outcomes.blocks import ITEM_ACTIONS, PROGRESS_ACTIONS


def _elements(message: dict) -> list[dict]:
    found = []
    for block in message.get("blocks") or []:
        if block.get("type") == "actions":
            found += [dict(e, block_id=block.get("block_id", "")) for e in block["elements"]]
    return found


def _button(message: dict, action_id: str) -> dict | None:
    return next((e for e in _elements(message) if e.get("action_id") == action_id), None)


def _item_rows(message: dict) -> list[list[dict]]:
    """The buttons of each agreement item an outcome question asks about, item by item."""
    rows = []
    for block in message.get("blocks") or []:
        if block.get("type") == "actions":
            buttons = [e for e in block["elements"] if e.get("action_id") in ITEM_ACTIONS]
            if buttons:
                rows.append([dict(e, block_id=block.get("block_id", "")) for e in buttons])
    return rows


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
        if len(members) == 2:
            self.respond_as_pair(members, channel, ts, message)
        elif len(members) == 1:
            self.respond_alone(members[0], channel, ts, message)

    def respond_as_pair(self, members: list[str], channel: str, ts: str, message: dict) -> None:
        text = message.get("text", "")
        rng, now = self.rng, self.clock.now
        mood = self.mood.setdefault(frozenset(members), "engaged")
        if _button(message, "cohort_continue") is not None:
            self.choose_at_cohort_end(members, mood, channel, ts, message)
        elif "Meet your" in text:
            if mood in ("engaged", "flaky"):
                self.pick_first_date(rng.choice(members), channel, ts, message)
            agreement = _button(message, "open_agreement")
            if agreement is not None and rng.random() < (0.7 if mood == "engaged" else 0.3):
                user = rng.choice(members)
                when = at_work(now, self.people[user].tz, rng, max_delay_hours=30)
                self.later(when, lambda: self.agree(user, channel, ts, agreement))
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

    def choose_at_cohort_end(
        self, members: list[str], mood: str, channel: str, ts: str, message: dict
    ) -> None:
        """The cohort has ended: pairs that meet (or came back to it) carry on into the next
        cohort; the others close. Answered within hours, before the next cohort is matched."""
        action = "cohort_continue" if mood in ("engaged", "revives") else "cohort_close_pair"
        element = _button(message, action)
        staying = [m for m in members if m not in self.left]
        if element is None or not staying:
            return
        user = self.rng.choice(staying)
        label = element.get("text", {}).get("text", action)
        when = at_work(self.clock.now, self.people[user].tz, self.rng, max_delay_hours=6)
        self.later(when, lambda: self.click(user, channel, ts, element, f"pressed “{label}”"))

    def respond_alone(self, user: str, channel: str, ts: str, message: dict) -> None:
        rng = self.rng
        when = at_work(self.clock.now, self.people[user].tz, rng)
        fit = _button(message, "fit_good")
        if fit is not None:
            self.later(
                when,
                lambda: self.click(user, channel, ts, fit, "answered “Good fit”"),
            )
        join = _button(message, "cohort_carry_over_join")
        if join is not None:
            accepts = rng.random() < CARRY_OVER_YES
            element = join if accepts else _button(message, "cohort_carry_over_decline")
            if element is not None:
                label = element.get("text", {}).get("text", "")
                say = f"answered the offer of the next cohort's pool: “{label}”"
                soon = at_work(self.clock.now, self.people[user].tz, rng, max_delay_hours=6)
                self.later(soon, lambda: self.click(user, channel, ts, element, say))
        progress = [e for e in _elements(message) if e["action_id"] in PROGRESS_ACTIONS]
        if progress:
            choice = rng.choices(progress, weights=[1, 3, 2][: len(progress)])[0]
            label = choice.get("text", {}).get("text", choice["action_id"])
            checkpoint = choice.get("value", "").rsplit(":", 1)[-1]
            self.later(
                when,
                lambda: self.click(
                    user, channel, ts, choice, f"answered the {checkpoint} question: {label}"
                ),
            )
            items = _item_rows(message)
            if items:
                self.later(
                    when + timedelta(minutes=2),
                    lambda: self.answer_items(user, channel, ts, items),
                )
            share = _button(message, "outcome_change_open")
            if share is not None and rng.random() < 0.7:
                self.later(
                    when + timedelta(minutes=5),
                    lambda: self.share_change(user, channel, ts, share),
                )

    async def answer_items(self, user: str, channel: str, ts: str, items: list[list[dict]]) -> None:
        """Each item of their own side of the learning agreement: how it went."""
        if user in self.left:
            return
        choices = [self.rng.choices(b, weights=[1, 3, 2][: len(b)])[0] for b in items]
        labels = ", ".join(c.get("text", {}).get("text", c["action_id"]) for c in choices)
        self.log.person(
            self.clock.now, user, f"answered their {len(choices)} agreement items: {labels}"
        )
        container = {"type": "message", "channel_id": channel, "message_ts": ts}
        for choice in choices:
            await self.bot.click(
                choice["action_id"],
                user=user,
                container=dict(container, is_ephemeral=False),
                block_id=choice["block_id"],
                value=choice["value"],
            )
        self.log.flush(self.clock.now)  # the question shown again each time: one line is enough

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
        change = LEADER_CHANGES[next(self.changes_shared) % len(LEADER_CHANGES)]
        state = {"change": {"value": {"type": "plain_text_input", "value": change}}}
        self.log.person(self.clock.now, user, "shared one thing they now do differently")
        _status, body = await self.bot.submit_view(filled(view, state), user=user)
        self.log.reply(self.clock.now, user, body)
        self.log.flush(self.clock.now, actor=user)
