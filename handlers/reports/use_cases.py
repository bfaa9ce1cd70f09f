"""Reports: the weekly summary decided once per workspace and week, summaries and exports
sent at once for an admin who asks, and the figures behind them (bot/summary.py computes
them from plain facts; nothing here can show a figure about fewer people than the minimum)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlmodel import Session

from bot import summary as figures
from bot.cadence import ProgramSettings, zone
from bot.outcomes import own_side
from bot.summary import ItemFact, OutcomeFact, PairFact, PersonFact, Summary
from handlers.core import outbox
from handlers.core.deps import Deps
from storage import cohorts, program, pulse
from storage import outbox as rows
from storage import summary as store
from storage.models import Pair

log = logging.getLogger(__name__)

KIND = "admin_summary"
CHART_KIND = "summary_chart"
EXPORT_KIND = "export"
WEEK = timedelta(days=7)
CHART_WEEKS = 8
FINAL_CHART_WEEKS = (4, 26)  # the final chart spans the program, within these bounds
NAME_LOOKUPS_AT_ONCE = 8
# What became of an export or summary sent at once (an outbox row's status).
NOT_SENT = frozenset({"failed", "expired", "skipped", "missing"})
ON_ITS_WAY = frozenset({"pending", "sending"})  # Slack was slow: the outbox finishes the job
EXPORT_DELAYED = "Slack is slow to answer: the export will reach your DMs in a few minutes."


async def decide_weekly(deps: Deps) -> int:
    """Tick step: set each workspace's next summary time, and decide the summaries due."""
    now = deps.clock()
    return await deps.db.run(lambda s: _decide_weekly(s, deps, now))


def next_weekly(session: Session, _deps: Deps, now: datetime) -> datetime | None:
    """When `decide_weekly` could next do anything: `now` for a workspace whose next summary
    is not set yet, else the earliest one's time."""
    moments: list[datetime] = []
    for team_id in program.workspaces(session=session):
        due = program.summary_due_at(session=session, team_id=team_id)
        moments.append(now if due is None else due)
    return min(moments, default=None)


def _decide_weekly(session: Session, deps: Deps, now: datetime) -> int:
    decided = 0
    for team_id in program.workspaces(session=session):
        schedule = program.schedule_of(session=session, team_id=team_id)
        due = schedule.summary_due_at
        if due is not None and due > now:
            continue  # most ticks: the settings need not be read
        settings = program.get_program_settings(session=session, team_id=team_id)
        store.set_summary_due(session=session, team_id=team_id, due_at=_next_due(now, settings))
        if due is None:
            continue  # first sight of this workspace: the first summary is the next slot
        if now - due > WEEK:  # after a long outage: one summary of the last week, not many
            due = min(_next_due(now - WEEK, settings), now)
        if _channel_setting(deps, settings) is None:
            log.info("no admin channel set: the weekly summary was skipped")
            continue
        day = due.astimezone(zone(settings.timezone)).date()
        decided += rows.enqueue(
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
    settings = await deps.db.read(
        lambda s: program.get_program_settings(session=s, team_id=team_id)
    )
    return _channel_setting(deps, settings)


def chart_key(summary_key: str) -> str:
    return f"chart:{summary_key}"


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
    items: list[ItemFact]
    start: datetime


def pair_fact(pair: Pair) -> PairFact:
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


def _period_start(
    settings: ProgramSettings, pairs: list[PairFact], end: datetime, final: bool
) -> datetime:
    place = zone(settings.timezone)
    if not final:
        return end - WEEK
    if settings.program_start is not None:
        return datetime.combine(settings.program_start, time(0), tzinfo=place)
    first = min((p.created_at for p in pairs), default=end - WEEK)
    return datetime.combine(first.astimezone(place).date(), time(0), tzinfo=place)


def _load(
    session: Session,
    *,
    team_id: str,
    end: datetime,
    final: bool,
    start: datetime | None,
    cohort_id: int | None = None,
) -> _Loaded:
    """What a summary reads: the workspace's (a weekly summary), or one cohort's (its final
    summary, `cohort_id`). Outcome answers are always one cohort's, the current one's unless
    named: the same person answers at every cohort's midpoint."""
    settings = program.get_program_settings(session=session, team_id=team_id, cohort_id=cohort_id)
    end = end.astimezone(zone(settings.timezone))
    pair_rows = store.all_pairs(session=session, team_id=team_id)
    if cohort_id is not None:
        pair_rows = cohorts.pairs_ever_in(session=session, cohort_id=cohort_id)
    pairs = [pair_fact(p) for p in pair_rows]
    pair_ids = {p.id for p in pairs}
    if start is None:
        start = _period_start(settings, pairs, end, final)
    start = start.astimezone(zone(settings.timezone))
    people = [PersonFact(*row) for row in store.people(session=session, team_id=team_id)]
    sessions = store.held_sessions(session=session, team_id=team_id)
    if cohort_id is not None:
        members = set(cohorts.people_ever_in(session=session, cohort_id=cohort_id))
        people = [p for p in people if p.user_id in members]
        sessions = [(pair_id, day) for pair_id, day in sessions if pair_id in pair_ids]
    leaders = {p.user_id for p in people if p.role == "leader"} | {p.mentee_id for p in pairs}
    ratings = pulse.ratings_in_period(session=session, team_id=team_id, start=start, end=end)
    if cohort_id is not None:
        ratings = [r for r in ratings if r[0] in pair_ids]
    current = cohorts.current_cohort(session=session, team_id=team_id)
    answers_of = cohort_id if cohort_id is not None else (current.id if current else None)
    previous = []
    if not final:
        previous = pulse.ratings_in_period(
            session=session, team_id=team_id, start=start - WEEK, end=start
        )
    outcomes = [
        OutcomeFact(checkpoint, progress, change, is_leader=user_id in leaders, person=user_id)
        for user_id, checkpoint, progress, change in store.outcome_answers(
            session=session, team_id=team_id, cohort_id=answers_of
        )
    ]
    items = []
    for user_id, mentor_id, mentee_id, checkpoint, progress in store.item_answers(
        session=session, team_id=team_id, cohort_id=answers_of
    ):
        side = own_side(user_id, mentor_id=mentor_id, mentee_id=mentee_id)
        if side is not None:
            items.append(ItemFact(side, checkpoint, progress, person=user_id))
    return _Loaded(
        settings=settings,
        people=people,
        pairs=pairs,
        sessions=sessions,
        prompt_ids=store.prompts_sent_between(
            session=session, team_id=team_id, start=start, end=end
        ),
        ratings=[(user_id, rating) for _, user_id, rating in ratings],
        previous=[(user_id, rating) for _, user_id, rating in previous],
        outcomes=outcomes,
        items=items,
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
    cohort_id: int | None = None,
) -> Summary:
    """The figures for [start, end): by default the week before `end`; `final`: the cohort
    `cohort_id` (or the current one) from its start."""
    loaded = await deps.db.read(
        lambda s: _load(s, team_id=team_id, end=end, final=final, start=start, cohort_id=cohort_id)
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
        items=loaded.items,
        start=loaded.start,
        end=end.astimezone(loaded.start.tzinfo),
        now=now,
        settings=loaded.settings,
    )


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
    status = await outbox.send_now(deps, team_id=team_id, key=key, kind=KIND, payload=payload)
    if status != "sent":
        return False
    await outbox.deliver_now(deps, team_id=team_id, key=chart_key(key))
    return True


async def headline_numbers(deps: Deps, *, team_id: str, now: datetime) -> dict[str, str]:
    """A few label -> value strings for the admin's App Home (this month in the workspace's
    time zone); the pulse is a number only over at least min_responses responses."""
    settings = await deps.db.read(
        lambda s: program.get_program_settings(session=s, team_id=team_id)
    )
    local = now.astimezone(zone(settings.timezone))
    month_start = datetime.combine(local.date().replace(day=1), time(0), tzinfo=local.tzinfo)
    report = await build_summary(deps, team_id=team_id, end=now, now=now, start=month_start)
    return {
        "Participants": str(report.signed_up),
        "Active pairs": str(report.active_pairs),
        "Sessions this month": str(report.sessions_in_period),
        "Pulse this month": report.pulse.shown(),
    }


async def send_export(deps: Deps, *, team_id: str, user_id: str) -> str:
    """A CSV of every pair (names, status, dates, sessions held, survey response count), as a
    file in the admin's DM, sent through the outbox at once. No ratings: a pair's average
    would point to one of its two people. Returns the outbox status ("sent", or see NOT_SENT,
    ON_ITS_WAY)."""
    key = f"export:{user_id}:{deps.clock().isoformat()}"
    payload = {"admin": user_id}
    return await outbox.send_now(deps, team_id=team_id, key=key, kind=EXPORT_KIND, payload=payload)


async def names_of(deps: Deps, team_id: str, user_ids: set[str]) -> dict[str, str]:
    """Real names from Slack (cached); someone Slack can't tell about gets an empty name."""
    gate = asyncio.Semaphore(NAME_LOOKUPS_AT_ONCE)

    async def name_of(user_id: str) -> tuple[str, str]:
        async with gate:
            user = await deps.user_info(team_id=team_id, user_id=user_id, budget=10)
        profile = (user or {}).get("profile") or {}
        return user_id, (user or {}).get("real_name") or profile.get("real_name") or ""

    return dict(await asyncio.gather(*(name_of(u) for u in sorted(user_ids))))


async def unposted_answer(deps: Deps, *, team_id: str, channel: str) -> str:
    """Why a summary did not go out, and what happens to it."""
    problem = await deps.db.read(
        lambda s: program.admin_channel_problem(session=s, team_id=team_id)
    )
    if problem is not None:
        return outbox.admin_channel_fix(channel, problem)
    return f"I couldn't post in <#{channel}> just now (Slack didn't answer). Please try again."
