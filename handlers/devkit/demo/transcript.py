"""The transcript: the fake Slack's recorded calls, and the people's actions, as readable lines;
the admin summary's Block Kit as plain text."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, TextIO

from handlers.devkit.fake_slack import FakeSlack

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
                shared = params.get("files") or []
                titles = ", ".join(f.get("title", "") for f in shared)
                names = [self.slack.files.get(f.get("id"), {}).get("name") or "" for f in shared]
                what = "page" if all(n.endswith(".html") for n in names) else "chart"
                self.line(moment, f"bot → {where}: shared the {what} “{titles}”")
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
    """A plain-text rendering of a Block Kit message (the admin summary, the impact report)."""
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
            if fields and len(fields) % 2 == 0 and all(f.startswith("_") for f in fields[1::2]):
                # A comparison (the impact report): each figure, then the previous cohort's.
                lines += [
                    f"  {mine}  ({theirs.replace('_', '', 2)})"
                    for mine, theirs in zip(fields[::2], fields[1::2], strict=True)
                ]
            elif fields:
                lines.append(" · ".join(fields))
    return "\n".join(lines)


def _plain(text: str, transcript: Transcript) -> str:
    text = _MENTION.sub(lambda m: transcript.name(m.group(1)), text)
    text = _DATE.sub(lambda m: _short_date(m.group(1)), text)
    text = text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    return text.replace("*", "").replace("\n", "\n  ").replace("  •", "  •")
