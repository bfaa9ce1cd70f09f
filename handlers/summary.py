"""Admin channel summaries (weekly, on demand, final), their chart, and the pairs export.

The weekly summary is decided in a tick step, once per workspace and week, as an outbox row
keyed `summary:{team}:{date}`, so overlapping ticks and restarts post it once. On-demand
summaries post directly. The chart goes up after the summary (files v2), and a failed upload
never holds the summary back.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from sqlmodel import Session

from bot import summary as figures
from bot.cadence import ProgramSettings, zone
from bot.summary import (
    NOT_ENOUGH,
    PROGRESS,
    PROGRESS_LABELS,
    OutcomeFact,
    PairFact,
    PersonFact,
    Summary,
)
from handlers import delivery
from handlers.blocks import escape
from handlers.deps import Deps
from handlers.slack_api import SlackCallError
from handlers.summary_chart import render_chart
from handlers.today import today_for
from storage import outbox, program, pulse
from storage import summary as store
from storage.models import OutboxMessage, Pair

log = logging.getLogger(__name__)

KIND = "admin_summary"
CHART_KIND = "summary_chart"
EXPORT_KIND = "export"
CALL_BUDGET = 60.0
WEEK = timedelta(days=7)
CHART_WEEKS = 8
FINAL_CHART_WEEKS = (4, 26)  # the final chart spans the program, within these bounds
MAX_BLOCKS = 50
SECTION_MAX = 2900  # Slack allows 3000 characters in a section's text
ATTENTION_SHOWN = 15
CHANGE_MAX = 280
CHANGE_SECTIONS_MAX = 6
NAME_LOOKUPS_AT_ONCE = 8
ON_DEMAND_VALID_FOR = timedelta(hours=1)  # an admin asked for it now, not tomorrow
FINAL_VALID_FOR = timedelta(days=14)
EXPORT_VALID_FOR = timedelta(hours=1)


def register(app: AsyncApp, deps: Deps) -> None:
    delivery.register_kind(
        deps,
        KIND,
        delivery.Kind(
            draft=_draft, after_sent=_after_sent, stale=_summary_stale, to_admin_channel=True
        ),
    )
    # The chart and the export are file shares: sent once, checked after a crash like posts.
    delivery.register_kind(
        deps,
        CHART_KIND,
        delivery.Kind(
            draft=_draft_chart,
            valid_for=WEEK,
            to_admin_channel=True,
            alert_on_failure=False,  # the summary stands without it
            shares_file=True,
        ),
    )
    delivery.register_kind(
        deps,
        EXPORT_KIND,
        delivery.Kind(
            draft=_draft_export,
            valid_for=EXPORT_VALID_FOR,
            alert_on_failure=False,  # the admin who asked is answered
            shares_file=True,
        ),
    )
    deps.tick_steps.append(decide_weekly)


# --- the weekly decision ---------------------------------------------------------------------


async def decide_weekly(deps: Deps) -> int:
    """Tick step: set each workspace's next summary time, and decide the summaries due."""
    now = deps.clock()
    return await deps.db.run(lambda s: _decide_weekly(s, deps, now))


def _decide_weekly(session: Session, deps: Deps, now: datetime) -> int:
    decided = 0
    for team_id in program.workspaces(session=session):
        settings = program.get_program_settings(session=session, team_id=team_id)
        schedule = program.schedule_of(session=session, team_id=team_id)
        due = schedule.summary_due_at
        if due is not None and due > now:
            continue
        store.set_summary_due(session=session, team_id=team_id, due_at=_next_due(now, settings))
        if due is None:
            continue  # first sight of this workspace: the first summary is the next slot
        if now - due > WEEK:  # after a long outage: one summary of the last week, not many
            due = min(_next_due(now - WEEK, settings), now)
        if _channel_setting(deps, settings) is None:
            log.info("no admin channel set: the weekly summary was skipped")
            continue
        day = due.astimezone(zone(settings.timezone)).date()
        decided += outbox.enqueue(
            session=session,
            team_id=team_id,
            key=f"summary:{team_id}:{day.isoformat()}",
            kind=KIND,
            payload={"end": due.isoformat()},
            now=now,
        )
    return decided


def _next_due(after: datetime, settings: ProgramSettings) -> datetime:
    return figures.next_summary_at(
        after, weekday=settings.summary_weekday, hour=settings.summary_hour, tz=settings.timezone
    )


def _channel_setting(deps: Deps, settings: ProgramSettings) -> str | None:
    return settings.admin_channel or deps.settings.admin_channel


async def admin_channel(deps: Deps, *, team_id: str) -> str | None:
    """The workspace's admin channel (program setting, else MENTOR_ADMIN_CHANNEL), or None."""
    settings = await deps.db.run(lambda s: program.get_program_settings(session=s, team_id=team_id))
    return _channel_setting(deps, settings)


async def _draft(deps: Deps, message: OutboxMessage) -> delivery.Draft | None:
    channel = message.payload.get("channel") or await admin_channel(deps, team_id=message.team_id)
    if channel is None:
        return None  # unset since it was decided
    end = datetime.fromisoformat(message.payload["end"])
    final = bool(message.payload.get("final"))
    report = await build_summary(
        deps, team_id=message.team_id, end=end, now=deps.clock(), final=final
    )
    title = message.payload.get("title") or (
        "Final program summary" if final else "Weekly program summary"
    )
    text, content = summary_blocks(report, title=title, final=final)
    return delivery.Draft(
        channel=await delivery.open_if_person(deps, channel), text=text, blocks=content
    )


def _summary_stale(session: Session, message: OutboxMessage, now: datetime) -> str | None:
    """A weekly summary is replaced by the next week's; an on-demand one by asking again."""
    age = now - message.created_at
    if message.payload.get("final"):
        return "older than two weeks" if age > FINAL_VALID_FOR else None
    if message.payload.get("title"):
        return "asked for over an hour ago" if age > ON_DEMAND_VALID_FOR else None
    if now - datetime.fromisoformat(message.payload["end"]) > WEEK:
        return "a newer weekly summary replaces it"
    return None


def _after_sent(session: Session, message: OutboxMessage, channel: str, ts: str, now) -> None:
    """The summary is out: record it, and decide its chart in the same transaction (so a
    crash can neither lose the chart nor share it twice)."""
    store.record_summary_posted(session=session, team_id=message.team_id, at=now)
    outbox.enqueue(
        session=session,
        team_id=message.team_id,
        key=chart_key(message.key),
        kind=CHART_KIND,
        payload={
            "channel": channel,
            "end": message.payload["end"],
            "final": bool(message.payload.get("final")),
        },
        now=now,
    )


def chart_key(summary_key: str) -> str:
    return f"chart:{summary_key}"


# --- building a summary ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Loaded:
    settings: ProgramSettings
    people: list[PersonFact]
    pairs: list[PairFact]
    sessions: list
    prompt_ids: list[str]
    ratings: list[tuple[str, int]]  # (who, rating): only counted, never shown together
    previous: list[tuple[str, int]]
    outcomes: list[OutcomeFact]
    start: datetime


def _pair_fact(pair: Pair) -> PairFact:
    return PairFact(
        id=pair.id or 0,
        mentor_id=pair.mentor_id,
        mentee_id=pair.mentee_id,
        status=pair.status,
        created_at=pair.created_at,
        ended_at=pair.ended_at,
        last_activity_at=pair.last_activity_at,
        introduced=pair.dm_channel_id is not None,
    )


def _period_start(settings: ProgramSettings, pairs: list[PairFact], end: datetime, final: bool):
    place = zone(settings.timezone)
    if not final:
        return end - WEEK
    if settings.program_start is not None:
        return datetime.combine(settings.program_start, time(0), tzinfo=place)
    first = min((p.created_at for p in pairs), default=end - WEEK)
    return datetime.combine(first.astimezone(place).date(), time(0), tzinfo=place)


def _load(
    session: Session, *, team_id: str, end: datetime, final: bool, start: datetime | None
) -> _Loaded:
    settings = program.get_program_settings(session=session, team_id=team_id)
    end = end.astimezone(zone(settings.timezone))
    pairs = [_pair_fact(p) for p in store.all_pairs(session=session, team_id=team_id)]
    if start is None:
        start = _period_start(settings, pairs, end, final)
    start = start.astimezone(zone(settings.timezone))
    people = [PersonFact(*row) for row in store.people(session=session, team_id=team_id)]
    leaders = {p.user_id for p in people if p.role == "leader"} | {p.mentee_id for p in pairs}
    ratings = pulse.ratings_in_period(session=session, team_id=team_id, start=start, end=end)
    previous = []
    if not final:
        previous = pulse.ratings_in_period(
            session=session, team_id=team_id, start=start - WEEK, end=start
        )
    outcomes = [
        OutcomeFact(checkpoint, progress, change, is_leader=user_id in leaders, person=user_id)
        for user_id, checkpoint, progress, change in store.outcome_answers(
            session=session, team_id=team_id
        )
    ]
    return _Loaded(
        settings=settings,
        people=people,
        pairs=pairs,
        sessions=store.held_sessions(session=session, team_id=team_id),
        prompt_ids=store.prompts_sent_between(
            session=session, team_id=team_id, start=start, end=end
        ),
        ratings=[(user_id, rating) for _, user_id, rating in ratings],
        previous=[(user_id, rating) for _, user_id, rating in previous],
        outcomes=outcomes,
        start=start,
    )


async def build_summary(
    deps: Deps,
    *,
    team_id: str,
    end: datetime,
    now: datetime,
    final: bool = False,
    start: datetime | None = None,
) -> Summary:
    """The figures for [start, end): by default the week before `end`; `final`: the program."""
    loaded = await deps.db.run(
        lambda s: _load(s, team_id=team_id, end=end, final=final, start=start)
    )
    topic_of = {prompt.id: prompt.topic for prompt in deps.prompts}
    return figures.compute_summary(
        people=loaded.people,
        pairs=loaded.pairs,
        sessions=loaded.sessions,
        ratings=loaded.ratings,
        previous_ratings=loaded.previous,
        topics=[topic_of[p] for p in loaded.prompt_ids if p in topic_of],
        outcomes=loaded.outcomes,
        start=loaded.start,
        end=end.astimezone(loaded.start.tzinfo),
        now=now,
        settings=loaded.settings,
    )


# --- Block Kit ------------------------------------------------------------------------------


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text[:SECTION_MAX]))


def _fields(*pairs: tuple[str, object]) -> SectionBlock:
    return SectionBlock(fields=[MarkdownTextObject(text=f"*{k}*\n{v}") for k, v in pairs])


def _pulse_line(report: Summary, noun: str) -> str:
    mean = report.pulse
    if mean.value is None:
        have = "no responses" if mean.count == 0 else _from_people(mean.count, mean.people)
        return (
            f"{NOT_ENOUGH.capitalize()} {noun} ({have}; an average needs at least "
            f"{report.min_responses} different people)."
        )
    line = f"{mean.shown()} out of 5 from {_from_people(mean.count, mean.people)} {noun}"
    change = report.pulse_change
    if change is not None:
        line += f" ({change:+.1f} since the week before)"
    return line + "."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _from_people(answers: int, people: int, noun: str = "response") -> str:
    """ "3 responses by 1 person": people are what the minimum counts."""
    return f"{_count(answers, noun)} by {people} {'person' if people == 1 else 'people'}"


def _cadence_line(report: Summary) -> str:
    cadence = report.cadence
    if cadence.pairs == 0:
        return "No pair has been introduced yet."
    line = (
        f"{cadence.held_per_pair:.1f} per pair against {cadence.expected_per_pair:.1f} expected "
        f"(one every {cadence.cadence_days} days)"
    )
    if cadence.pace is not None:
        line += f": {round(cadence.pace * 100)}% of the cadence"
    return line + "."


def _outcome_lines(report: Summary) -> list[str]:
    lines = []
    for outcome in report.outcomes:
        name = outcome.checkpoint.capitalize()
        answered = _from_people(outcome.answers, outcome.people, "answer")
        if outcome.shares is None:
            lines.append(
                f"{name}: {NOT_ENOUGH} ({answered}; at least {report.min_responses} "
                "different people needed)"
            )
        else:
            shares = " · ".join(
                f"{round(outcome.shares[key] * 100)}% {PROGRESS_LABELS[key]}" for key in PROGRESS
            )
            lines.append(f"{name} ({answered}): {shares}")
    return lines


def _change_sections(report: Summary) -> list[Block]:
    found: list[Block] = []
    for outcome in report.outcomes:
        if not outcome.changes:
            continue
        heading = f"*What leaders will change ({outcome.checkpoint}, anonymous)*"
        items = [f"• {escape(_clip(change, CHANGE_MAX))}" for change in outcome.changes]
        chunk: list[str] = [heading]
        for item in items:
            if len("\n".join([*chunk, item])) > SECTION_MAX:
                found.append(_section("\n".join(chunk)))
                chunk = []
            chunk.append(item)
        found.append(_section("\n".join(chunk)))
    if len(found) > CHANGE_SECTIONS_MAX:
        dropped = len(found) - CHANGE_SECTIONS_MAX
        found = found[:CHANGE_SECTIONS_MAX]
        found.append(_context(f"…and {dropped} more sections of changes not shown."))
    return found


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def summary_blocks(report: Summary, *, title: str, final: bool = False) -> tuple[str, list]:
    """(fallback text, blocks): within 50 blocks; people's own text is escaped."""
    noun = "in the program" if final else "this week"
    label = figures.period_label(report.start, report.end)
    content: list[Block] = [
        HeaderBlock(text=title),
        _context(
            f"{label} · from the bot's own records: sign-ups, pairs, logged sessions, pulse "
            f"answers and outcome answers. Every average and share needs answers from at least "
            f"{report.min_responses} different people, so none can point to one person."
        ),
        _fields(("Signed up", report.signed_up), ("Waiting for a pair", report.waiting)),
        _fields(
            ("Active pairs", report.active_pairs),
            ("Paused", report.paused_pairs),
            ("Stalled", report.stalled_pairs),
            ("Ended", report.ended_pairs),
            *((("Being introduced", report.introducing),) if report.introducing else ()),
        ),
        DividerBlock(),
        _section(
            f"*Sessions*\n{report.sessions_in_period} held {noun} · {report.sessions_total} in "
            f"total\n{_cadence_line(report)}"
        ),
        _section(f"*Pulse*\n{_pulse_line(report, noun)}"),
    ]
    if report.top_topics:
        topics = " · ".join(f"{figures.topic_label(t)} ({n})" for t, n in report.top_topics)
        content.append(_section(f"*Most discussed* (prompts sent {noun})\n{topics}"))
    else:
        content.append(_section(f"*Most discussed*\nNo prompts went out {noun}."))
    if report.attention:
        lines = [
            f"• <@{s.mentor_id}> and <@{s.mentee_id}>: {s.days} days without a session or message"
            for s in report.attention[:ATTENTION_SHOWN]
        ]
        if len(report.attention) > ATTENTION_SHOWN:
            lines.append(f"…and {len(report.attention) - ATTENTION_SHOWN} more.")
        content.append(_section("*Needing attention*\n" + "\n".join(lines)))
    else:
        content.append(_section("*Needing attention*\nNo stalled pairs."))
    outcome_lines = _outcome_lines(report)
    if outcome_lines:
        content.append(DividerBlock())
        content.append(_section("*Outcomes*\n" + "\n".join(outcome_lines)))
        content.extend(_change_sections(report))
    text = (
        f"{title}: {_count(report.active_pairs, 'active pair')}, "
        f"{_count(report.sessions_in_period, 'session')} {noun}, pulse {report.pulse.shown()}"
    )
    return text, content[:MAX_BLOCKS]


# --- posting ---------------------------------------------------------------------------------


async def post_summary(
    deps: Deps,
    *,
    team_id: str,
    now: datetime,
    final: bool = False,
    channel: str | None = None,
) -> bool:
    """Post the summary (the week before `now`, or the whole program when `final`) and its
    chart to `channel`, else the admin channel, at once; False if there is none or it did
    not go out. It goes through the outbox like the weekly one: once, never twice."""
    channel = channel or await admin_channel(deps, team_id=team_id)
    if channel is None:
        return False
    key = f"summary:{team_id}:{'final' if final else 'now'}:{now.isoformat()}"
    title = "Final program summary" if final else "Program summary"
    payload = {"end": now.isoformat(), "final": final, "title": title, "channel": channel}
    status = await delivery.send_now(deps, team_id=team_id, key=key, kind=KIND, payload=payload)
    if status != "sent":
        return False
    await delivery.deliver_now(deps, team_id=team_id, key=chart_key(key))
    return True


async def _draft_chart(deps: Deps, message: OutboxMessage) -> delivery.Draft | None:
    """The weekly chart as a PNG, drawn in a worker thread; None (with a warning) if it
    cannot be drawn: the summary stands without it."""
    end = datetime.fromisoformat(message.payload["end"])
    team_id = message.team_id
    try:
        weeks = CHART_WEEKS
        if message.payload.get("final"):
            report = await build_summary(deps, team_id=team_id, end=end, now=end, final=True)
            span = (report.end - report.start) / WEEK
            weeks = int(min(max(span + 0.999, FINAL_CHART_WEEKS[0]), FINAL_CHART_WEEKS[1]))
        points = await deps.db.run(
            lambda s: _chart_points(s, team_id=team_id, end=end, weeks=weeks)
        )
        png = await asyncio.to_thread(render_chart, points)
    except Exception:
        log.warning("the summary chart could not be drawn", exc_info=True)
        return None
    return delivery.Draft(
        channel=message.payload["channel"],
        text="",
        file=png,
        filename=f"program-summary-{end.date().isoformat()}.png",
        title="Pulse and sessions per week",
    )


def _chart_points(session: Session, *, team_id: str, end: datetime, weeks: int):
    settings = program.get_program_settings(session=session, team_id=team_id)
    end = end.astimezone(zone(settings.timezone))
    ratings = []
    for back in range(weeks, 0, -1):  # one read per week, each stamped with its week's start
        first = end - back * WEEK
        ratings += [
            (first, user_id, rating)
            for _, user_id, rating in pulse.ratings_in_period(
                session=session, team_id=team_id, start=first, end=first + WEEK
            )
        ]
    return figures.weekly_series(
        sessions=[day for _, day in store.held_sessions(session=session, team_id=team_id)],
        ratings=ratings,
        end=end,
        weeks=weeks,
        min_responses=settings.min_responses,
    )


# --- App Home headline ------------------------------------------------------------------------


async def headline_numbers(deps: Deps, *, team_id: str, now: datetime) -> dict[str, str]:
    """A few label -> value strings for the admin's App Home (this month in the workspace's
    time zone); the pulse is a number only over at least min_responses responses."""
    settings = await deps.db.run(lambda s: program.get_program_settings(session=s, team_id=team_id))
    local = now.astimezone(zone(settings.timezone))
    month_start = datetime.combine(local.date().replace(day=1), time(0), tzinfo=local.tzinfo)
    report = await build_summary(deps, team_id=team_id, end=now, now=now, start=month_start)
    return {
        "Participants": str(report.signed_up),
        "Active pairs": str(report.active_pairs),
        "Sessions this month": str(report.sessions_in_period),
        "Pulse this month": report.pulse.shown(),
    }


# --- the export -------------------------------------------------------------------------------


# What became of an export or summary sent at once (an outbox row's status).
NOT_SENT = frozenset({"failed", "expired", "skipped", "missing"})
ON_ITS_WAY = frozenset({"pending", "sending"})  # Slack was slow: the outbox finishes the job
EXPORT_DELAYED = "Slack is slow to answer: the export will reach your DMs in a few minutes."


async def send_export(deps: Deps, *, team_id: str, user_id: str) -> str:
    """A CSV of every pair (names, status, dates, sessions held, survey response count), as a
    file in the admin's DM, sent through the outbox at once. No ratings: a pair's average
    would point to one of its two people. Returns the outbox status ("sent", or see NOT_SENT,
    ON_ITS_WAY)."""
    key = f"export:{user_id}:{deps.clock().isoformat()}"
    payload = {"admin": user_id}
    return await delivery.send_now(
        deps, team_id=team_id, key=key, kind=EXPORT_KIND, payload=payload
    )


async def _draft_export(deps: Deps, message: OutboxMessage) -> delivery.Draft | None:
    team_id, user_id = message.team_id, message.payload["admin"]

    def load(session: Session):
        pairs = [_pair_fact(p) for p in store.all_pairs(session=session, team_id=team_id)]
        held: dict[int, int] = {}
        for pair_id, _ in store.held_sessions(session=session, team_id=team_id):
            held[pair_id] = held.get(pair_id, 0) + 1
        responses = {
            pair_id: len(ratings)
            for pair_id, ratings in pulse.response_counts_by_pair(
                session=session, team_id=team_id
            ).items()
        }
        return pairs, held, responses

    pairs, held, responses = await deps.db.run(load)
    names = await _names(deps, team_id, {u for p in pairs for u in (p.mentor_id, p.mentee_id)})
    text = figures.export_csv(
        pairs,
        sessions_by_pair=held,
        responses_by_pair=responses,
        names=names,
    )
    dm = await delivery.open_if_person(deps, user_id)
    today = (await today_for(deps, team_id=team_id, user_id=user_id)).isoformat()
    return delivery.Draft(
        channel=dm,
        text=(
            f"Every pair so far ({len(pairs)}), with how many survey responses each had. No "
            "ratings (a pair is two people, so its average would point to one of them) "
            "and no goals."
        ),
        file=text.encode("utf-8"),
        filename=f"reverse-mentor-pairs-{today}.csv",
        title=f"Reverse Mentor pairs, {today}",
    )


async def _names(deps: Deps, team_id: str, user_ids: set[str]) -> dict[str, str]:
    """Real names from Slack (cached); someone Slack can't tell about gets an empty name."""
    gate = asyncio.Semaphore(NAME_LOOKUPS_AT_ONCE)

    async def name_of(user_id: str) -> tuple[str, str]:
        async with gate:
            user = await deps.user_info(team_id=team_id, user_id=user_id, budget=10)
        profile = (user or {}).get("profile") or {}
        return user_id, (user or {}).get("real_name") or profile.get("real_name") or ""

    return dict(await asyncio.gather(*(name_of(u) for u in sorted(user_ids))))


# --- /mentor admin summary | export -----------------------------------------------------------


async def summary_command(ack: AsyncAck, deps: Deps, *, team_id: str, response_url: str) -> None:
    """Post now to the admin channel; without one, answer with the summary itself."""
    channel = await admin_channel(deps, team_id=team_id)
    now = deps.clock()
    if channel is None:
        report = await build_summary(deps, team_id=team_id, end=now, now=now)
        text, content = summary_blocks(report, title="Program summary")
        note = _context("No admin channel is set, so only you see this (and no chart).")
        content = [*content[: MAX_BLOCKS - 1], note]
        await ack(text=text, blocks=content, response_type="ephemeral")
        return
    await ack(text=f"Posting the program summary in <#{channel}>…", response_type="ephemeral")
    posted = await post_summary(deps, team_id=team_id, now=now, channel=channel)
    if posted:
        answer = f"Posted the program summary in <#{channel}>."
    else:
        answer = await unposted_answer(deps, team_id=team_id, channel=channel)
    await _respond(deps, response_url, answer)


async def unposted_answer(deps: Deps, *, team_id: str, channel: str) -> str:
    """Why a summary did not go out, and what happens to it."""
    problem = await deps.db.run(lambda s: program.admin_channel_problem(session=s, team_id=team_id))
    if problem is not None:
        return delivery.admin_channel_fix(channel, problem)
    return f"I couldn't post in <#{channel}> just now (Slack didn't answer). Please try again."


async def export_command(
    ack: AsyncAck, deps: Deps, *, team_id: str, user_id: str, response_url: str
) -> None:
    await ack(text="Preparing the pairs export for your DMs…", response_type="ephemeral")
    status = await send_export(deps, team_id=team_id, user_id=user_id)
    if status == "sent":
        answer = "The pairs export is in your DMs with me."
    elif status in ON_ITS_WAY:
        answer = EXPORT_DELAYED
    else:
        answer = "I couldn't send the export just now. Please try again in a minute."
    await _respond(deps, response_url, answer)


async def _respond(deps: Deps, response_url: str, text: str) -> None:
    if not response_url:
        return
    try:
        await deps.slack.respond(
            response_url, response_type="ephemeral", replace_original=True, text=text
        )
    except SlackCallError as exc:
        log.warning("could not answer the admin: %s", exc.error)
