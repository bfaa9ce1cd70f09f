"""A cohort's impact report: decided at the cohort's end, posted a week later (when the end
answers are in) to the admin channel, followed by its chart and a self-contained HTML page a
sponsor can forward. All three come from one ImpactReport (bot/impact.py), built from the
cohort's rows and the previous cohort's; every answer-based figure hides under the minimum.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, timedelta

from sqlmodel import Session

from bot.cadence import zone
from bot.cohort import program_end
from bot.impact import CohortFigures, ImpactReport, Progress, Role, impact_report
from bot.outcomes import is_leader
from bot.profiles import Status
from handlers.core import outbox
from handlers.core.deps import Deps
from handlers.reports.impact_blocks import impact_blocks
from handlers.reports.impact_file import impact_html, render_chart
from handlers.reports.use_cases import admin_channel
from storage import cohorts, program
from storage import impact as store
from storage import outbox as rows
from storage.models import Cohort, OutboxMessage, saved_id

log = logging.getLogger(__name__)

KIND = "impact_report"
FILE_KIND = "impact_file"
AFTER_THE_END = timedelta(days=7)  # the end question's answers come in over the week after


def decide_impact_report(session: Session, *, cohort: Cohort, now: datetime) -> bool:
    """At a cohort's end: its impact report, to be posted a week later."""
    return rows.enqueue(
        session=session,
        team_id=cohort.team_id,
        key=f"impact:{cohort.id}",
        kind=KIND,
        payload={"cohort": cohort.id},
        now=now,
        not_before=now + AFTER_THE_END,
    )


def _cohort_figures(session: Session, row: Cohort) -> CohortFigures:
    cohort_id = saved_id(row)
    settings = program.get_program_settings(
        session=session, team_id=row.team_id, cohort_id=cohort_id
    )
    starts_on = row.starts_on or row.created_at.date()
    ends_on = program_end(settings) or starts_on
    place = zone(settings.timezone)
    people = set(cohorts.people_ever_in(session=session, cohort_id=cohort_id))
    pairs = cohorts.pairs_ever_in(session=session, cohort_id=cohort_id)
    pair_ids = [saved_id(p) for p in pairs]
    introduced = [p for p in pairs if p.dm_channel_id is not None]
    paired = {u for p in introduced for u in (p.mentor_id, p.mentee_id)}
    people |= paired
    facts = store.roles_and_statuses(session=session, team_id=row.team_id, users=people)
    mentees = {p.mentee_id for p in introduced}
    held = [
        (pair_id, day)
        for pair_id, day in store.sessions_held(session=session, pair_ids=pair_ids)
        if starts_on <= day <= ends_on
    ]
    planned = 0
    for pair in introduced:
        first = max(pair.created_at.astimezone(place).date(), starts_on)
        last = min(pair.ended_at.astimezone(place).date() if pair.ended_at else ends_on, ends_on)
        planned += max((last - first).days, 0) // settings.cadence_days
    stalled = sum(p.nudged_at is not None for p in introduced)
    continued = sum(p.cohort_id != cohort_id for p in pairs)  # moved on to a later cohort
    ratings = store.ratings(session=session, pair_ids=pair_ids)
    pulse = tuple(
        (user, _week_start(moment.astimezone(place).date()), rating)
        for user, moment, rating in ratings
        if starts_on <= moment.astimezone(place).date() <= ends_on + timedelta(days=7)
    )
    answers = store.end_answers(session=session, cohort_id=cohort_id)

    def role(user: str) -> Role:
        known = facts.get(user, ("", ""))[0]
        return _LEADER if is_leader(known, mentee_in_a_pair=user in mentees) else _JUNIOR

    return CohortFigures(
        name=row.name,
        starts_on=starts_on,
        ends_on=ends_on,
        signed_up=len(people),
        paired=len(paired),
        left=sum(facts.get(u, ("", ""))[1] == Status.LEFT for u in people),
        continued=continued,
        pairs=len(introduced),
        sessions_held=len(held),
        sessions_planned=planned,
        stalled_pairs=stalled,
        pulse=pulse,
        goal_progress=tuple(
            (a.user_id, role(a.user_id), progress)
            for a in answers
            if (progress := _progress(a.progress)) is not None
        ),
        agreement_items=tuple(
            (user, _LEADER if as_leader else _JUNIOR, progress)
            for user, as_leader, raw in store.end_item_answers(session=session, cohort_id=cohort_id)
            if (progress := _progress(raw)) is not None
        ),
        changes=tuple((a.user_id, a.change) for a in answers if a.change),
    )


_LEADER: Role = "leader"
_JUNIOR: Role = "junior"
_PROGRESS: dict[str, Progress] = {"not_yet": "not_yet", "some": "some", "achieved": "achieved"}


def _progress(raw: str | None) -> Progress | None:
    return _PROGRESS.get(raw or "")


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def build_report(session: Session, *, team_id: str, cohort_id: int) -> ImpactReport | None:
    row = cohorts.get_cohort(session=session, team_id=team_id, cohort_id=cohort_id)
    if row is None:
        return None
    before = cohorts.previous_cohort(session=session, cohort=row)
    settings = program.get_program_settings(session=session, team_id=team_id)
    return impact_report(
        _cohort_figures(session, row),
        _cohort_figures(session, before) if before is not None else None,
        min_responses=settings.min_responses,
    )


async def _draft(deps: Deps, message: OutboxMessage) -> outbox.Draft | None:
    channel = await admin_channel(deps, team_id=message.team_id)
    if channel is None:
        return None
    report = await deps.db.read(
        lambda s: build_report(s, team_id=message.team_id, cohort_id=message.payload["cohort"])
    )
    if report is None:
        return None
    text, content = impact_blocks(report)
    return outbox.Draft(
        channel=await outbox.open_if_person(deps, channel, team_id=message.team_id),
        text=text,
        blocks=content,
    )


def _after_sent(
    session: Session, message: OutboxMessage, channel: str, ts: str, now: datetime
) -> None:
    """The report is out: decide its chart and its page in the same transaction."""
    for form in ("chart", "page"):
        rows.enqueue(
            session=session,
            team_id=message.team_id,
            key=f"{message.key}:{form}",
            kind=FILE_KIND,
            payload={"channel": channel, "cohort": message.payload["cohort"], "form": form},
            now=now,
        )


async def _draft_file(deps: Deps, message: OutboxMessage) -> outbox.Draft | None:
    report = await deps.db.read(
        lambda s: build_report(s, team_id=message.team_id, cohort_id=message.payload["cohort"])
    )
    if report is None:
        return None
    slug = "".join(c if c.isalnum() else "-" for c in report.cohort.lower())[:40].strip("-")
    try:
        png = await asyncio.to_thread(render_chart, report)
    except Exception:
        log.warning("the impact chart could not be drawn", exc_info=True)
        return None
    if message.payload["form"] == "chart":
        return outbox.Draft(
            channel=message.payload["channel"],
            text="",
            file=png,
            filename=f"impact-{slug or 'cohort'}.png",
            title="Pulse by week and outcomes, beside the previous cohort",
        )
    page = await asyncio.to_thread(impact_html, report, chart=png)
    return outbox.Draft(
        channel=message.payload["channel"],
        text="The same report as a page to forward (open it in a browser, or print it to PDF).",
        file=page.encode("utf-8"),
        filename=f"impact-{slug or 'cohort'}.html",
        title=f"Impact report: {report.cohort}"[:250],
    )


REPORT = outbox.Kind(
    draft=_draft, after_sent=_after_sent, valid_for=timedelta(days=14), to_admin_channel=True
)
FILE = outbox.Kind(
    draft=_draft_file,
    valid_for=timedelta(days=14),
    to_admin_channel=True,
    alert_on_failure=False,  # the posted report stands without them
    shares_file=True,
)
