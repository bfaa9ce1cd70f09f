"""The reports' messages: the weekly, final and on-demand summary, its chart (decided when
the summary is recorded as posted), and the pairs export, a file in an admin's DM."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlmodel import Session

from bot import summary as figures
from bot.cadence import zone
from bot.summary import PairFact, WeekPoint
from handlers.core import outbox
from handlers.core.deps import Deps
from handlers.core.today import today_for
from handlers.reports.blocks import summary_blocks
from handlers.reports.chart import render_chart
from handlers.reports.use_cases import (
    CHART_KIND,
    CHART_WEEKS,
    FINAL_CHART_WEEKS,
    WEEK,
    admin_channel,
    build_summary,
    chart_key,
    names_of,
    pair_fact,
)
from storage import cohorts, program, pulse
from storage import outbox as rows
from storage import summary as store
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

ON_DEMAND_VALID_FOR = timedelta(hours=1)  # an admin asked for it now, not tomorrow
FINAL_VALID_FOR = timedelta(days=14)
EXPORT_VALID_FOR = timedelta(hours=1)


async def _draft(deps: Deps, message: OutboxMessage) -> outbox.Draft | None:
    channel = message.payload.get("channel") or await admin_channel(deps, team_id=message.team_id)
    if channel is None:
        return None  # unset since it was decided
    end = datetime.fromisoformat(message.payload["end"])
    final = bool(message.payload.get("final"))
    cohort = message.payload.get("cohort") if final else None
    report = await build_summary(
        deps,
        team_id=message.team_id,
        end=end,
        now=deps.clock(),
        final=final,
        cohort_id=cohort if isinstance(cohort, int) else None,
    )
    title = message.payload.get("title") or (
        "Final program summary" if final else "Weekly program summary"
    )
    text, content = summary_blocks(report, title=title, final=final)
    return outbox.Draft(
        channel=await outbox.open_if_person(deps, channel, team_id=message.team_id),
        text=text,
        blocks=content,
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


def _after_sent(
    session: Session, message: OutboxMessage, channel: str, ts: str, now: datetime
) -> None:
    """The summary is out: record it, and decide its chart in the same transaction (so a
    crash can neither lose the chart nor share it twice)."""
    store.record_summary_posted(session=session, team_id=message.team_id, at=now)
    rows.enqueue(
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


async def _draft_chart(deps: Deps, message: OutboxMessage) -> outbox.Draft | None:
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
        points = await deps.db.read(
            lambda s: _chart_points(s, team_id=team_id, end=end, weeks=weeks)
        )
        png = await asyncio.to_thread(render_chart, points)
    except Exception:
        log.warning("the summary chart could not be drawn", exc_info=True)
        return None
    return outbox.Draft(
        channel=message.payload["channel"],
        text="",
        file=png,
        filename=f"program-summary-{end.date().isoformat()}.png",
        title="Pulse and sessions per week",
    )


def _chart_points(session: Session, *, team_id: str, end: datetime, weeks: int) -> list[WeekPoint]:
    settings = program.get_program_settings(session=session, team_id=team_id)
    end = end.astimezone(zone(settings.timezone))
    ratings: list[tuple[datetime, str, int]] = []
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


async def _draft_export(deps: Deps, message: OutboxMessage) -> outbox.Draft | None:
    team_id, user_id = message.team_id, message.payload["admin"]

    def load(
        session: Session,
    ) -> tuple[list[PairFact], dict[int, int], dict[int, int], dict[int, list[str]]]:
        pairs = [pair_fact(p) for p in store.all_pairs(session=session, team_id=team_id)]
        held: dict[int, int] = {}
        for pair_id, _ in store.held_sessions(session=session, team_id=team_id):
            held[pair_id] = held.get(pair_id, 0) + 1
        responses = {
            pair_id: len(ratings)
            for pair_id, ratings in pulse.response_counts_by_pair(
                session=session, team_id=team_id
            ).items()
        }
        named = cohorts.cohort_names_by_pair(session=session, team_id=team_id)
        return pairs, held, responses, named

    pairs, held, responses, named = await deps.db.read(load)
    names = await names_of(deps, team_id, {u for p in pairs for u in (p.mentor_id, p.mentee_id)})
    text = figures.export_csv(
        pairs,
        sessions_by_pair=held,
        responses_by_pair=responses,
        names=names,
        cohorts_by_pair=named,
    )
    dm = await outbox.open_if_person(deps, user_id, team_id=team_id)
    today = (await today_for(deps, team_id=team_id, user_id=user_id)).isoformat()
    return outbox.Draft(
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


SUMMARY = outbox.Kind(
    draft=_draft, after_sent=_after_sent, stale=_summary_stale, to_admin_channel=True
)
# The chart and the export are file shares: sent once, checked after a crash like posts.
CHART = outbox.Kind(
    draft=_draft_chart,
    valid_for=WEEK,
    to_admin_channel=True,
    alert_on_failure=False,  # the summary stands without it
    shares_file=True,
)
EXPORT = outbox.Kind(
    draft=_draft_export,
    valid_for=EXPORT_VALID_FOR,
    alert_on_failure=False,  # the admin who asked is answered
    shares_file=True,
)
