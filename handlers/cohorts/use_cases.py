"""Cohorts, one transaction per decision: which cohort a new member joins; the admins'
create, edit and close; a cohort's end (its pairs choose to continue into the next cohort or
to close; people who were in no pair are offered the next cohort's pool); and those answers.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.views import View
from sqlmodel import Session

from bot import cohort as rules
from bot.cohort import OWN_SETTINGS, CohortChange, CohortFacts, CohortStatus
from bot.profiles import Status
from handlers.cohorts import blocks
from handlers.cohorts.blocks import CohortLine
from handlers.core import outbox
from handlers.core.deps import Deps
from handlers.pairing.use_cases import end_pair
from handlers.settings.use_cases import retime_pairs
from storage import cohorts, pairs, participants, program
from storage import outbox as rows
from storage.models import Cohort, Pair, Participant, saved_id

log = logging.getLogger(__name__)

CHOICE = "cohort_choice"
CARRY_OVER = "cohort_carry_over"
CLOSED_AT_END = "cohort_closed"  # a pair chose to close when its cohort ended


@dataclass(frozen=True)
class CohortAnswer:
    """What an admin's cohort change came to: said back as text, or (from the form) shown
    next to `field` when refused."""

    text: str
    ok: bool
    field: str | None = None


def _refused(text: str, field: str | None = None) -> CohortAnswer:
    return CohortAnswer(text=text, ok=False, field=field)


def place_new_member(
    session: Session, *, person: Participant, rejoined: bool, now: datetime
) -> None:
    """Someone who signs up (or comes back) joins the cohort open for signups; the first
    signup of a workspace with no cohort starts "Cohort 1"; with cohorts but none taking
    signups they wait, and join the next cohort an admin creates."""
    if person.cohort_id is not None and not rejoined:
        return  # an edit of one's profile changes no cohort
    target = cohorts.signup_cohort(session=session, team_id=person.team_id)
    if target is None and not cohorts.cohorts_of(session=session, team_id=person.team_id):
        target = cohorts.first_cohort(session=session, team_id=person.team_id, now=now)
    cohorts.join(session=session, person=person, cohort_id=target.id if target else None, now=now)


def _line(session: Session, row: Cohort, signups: Cohort | None) -> CohortLine:
    cohort_id = saved_id(row)
    return CohortLine(
        cohort_id=cohort_id,
        name=row.name,
        status=row.status,
        signups_open=signups is not None and signups.id == cohort_id,
        settings=program.get_program_settings(
            session=session, team_id=row.team_id, cohort_id=cohort_id
        ),
        people=len(cohorts.members(session=session, cohort_id=cohort_id)),
        live_pairs=sum(_live(p) for p in cohorts.pairs_in(session=session, cohort_id=cohort_id)),
        own=tuple(
            f"{key} {getattr(row, field)} days"
            for key, field in OWN_SETTINGS.items()
            if getattr(row, field) is not None
        ),
    )


def cohort_lines_now(session: Session, *, team_id: str) -> list[CohortLine]:
    signups = cohorts.signup_cohort(session=session, team_id=team_id)
    return [
        _line(session, row, signups) for row in cohorts.cohorts_of(session=session, team_id=team_id)
    ]


async def form_view(deps: Deps, *, team_id: str, cohort_id: int | None) -> View | None:
    """The Home tab's form for a new cohort (None) or an existing one; None if it is gone."""

    def load(session: Session) -> View | None:
        workspace = program.workspace_settings(session=session, team_id=team_id)
        if cohort_id is None:
            return blocks.cohort_modal(None, None, workspace=workspace)
        row = cohorts.get_cohort(session=session, team_id=team_id, cohort_id=cohort_id)
        if row is None:
            return None
        return blocks.cohort_modal(
            cohort_id,
            program.facts_of(row),
            workspace=workspace,
            signups_open=row.signups_open,
            closable=row.status != CohortStatus.CLOSED,
        )

    return await deps.db.read(load)


async def save_form(
    deps: Deps, *, team_id: str, cohort_id: int | None, fields: dict[str, str | None]
) -> CohortAnswer:
    """The Home tab's form, saved like the command: a new cohort, or an edit (and, when
    ticked, closing it)."""
    if cohort_id is None:
        change = rules.cohort_form_change(fields, name_before=None, bounds=_bounds())
        return await create(deps, team_id=team_id, change=change)
    found = await deps.db.read(
        lambda s: cohorts.get_cohort(session=s, team_id=team_id, cohort_id=cohort_id)
    )
    if found is None:
        return _refused("This cohort no longer exists.", "name")
    change = rules.cohort_form_change(fields, name_before=found.name, bounds=_bounds())
    if change.errors:
        return _refused(change.problems, next(iter(change.errors)))
    if "close" in (fields.get("close") or ""):
        return await close(deps, team_id=team_id, name=found.name)
    return await edit(deps, team_id=team_id, change=change)


async def cohort_lines(deps: Deps, *, team_id: str) -> list[CohortLine]:
    return await deps.db.read(lambda s: cohort_lines_now(s, team_id=team_id))


def _bounds() -> dict[str, tuple[int, int]]:
    from bot.program_settings import BOUNDS  # the same ranges as the workspace's settings

    return {field: (BOUNDS[field].low, BOUNDS[field].high) for field in OWN_SETTINGS.values()}


def parse_change(words: list[str]) -> CohortChange:
    return rules.parse_cohort_change(words, bounds=_bounds())


async def create(deps: Deps, *, team_id: str, change: CohortChange) -> CohortAnswer:
    """A new cohort, open for signups. People waiting for a cohort join it; people whose
    cohort has ended without a pair for them are asked whether they want to."""

    def make(session: Session) -> CohortAnswer:
        if change.errors:
            return _refused(change.problems, next(iter(change.errors)))
        if cohorts.cohort_named(session=session, team_id=team_id, name=change.name):
            return _refused(
                f"There is already a cohort called *{change.name}*: pick another name.", "name"
            )
        if "new_name" in change.values:
            return _refused(
                "`name=` renames a cohort with `edit`; a new one takes its name first.", "name"
            )
        values = change.values
        facts = CohortFacts(name=change.name)
        known = {f.name for f in dataclasses.fields(facts)}
        facts = dataclasses.replace(
            facts,
            **{k: v for k, v in values.items() if k in known},  # type: ignore[arg-type]
        )
        problem = rules.check_dates(facts.starts_on, facts.ends_on)
        if problem is not None:
            return _refused(problem, "starts_on" if facts.starts_on is None else "ends_on")
        now = deps.clock()
        row = cohorts.create_cohort(session=session, team_id=team_id, name=change.name, now=now)
        _apply(row, values)
        session.add(row)
        joined = 0
        for person in cohorts.waiting(session=session, team_id=team_id):
            cohorts.join(session=session, person=person, cohort_id=row.id, now=now)
            joined += 1
        offered = 0
        for earlier in cohorts.cohorts_of(session=session, team_id=team_id):
            if earlier.id != row.id and earlier.status != CohortStatus.RUNNING:
                offered += offer_carry_over(session, ended=earlier, to=row, now=now)
        log.info("cohort created: %d waiting joined it, %d offered to carry over", joined, offered)
        extra = f" {joined} people who were waiting joined it." if joined else ""
        if offered:
            extra += f" {offered} people from an ended cohort were asked whether to join."
        return CohortAnswer(text=f"Created *{row.name}*, open for signups.{extra}", ok=True)

    answer = await deps.db.run(make)
    outbox.kick(deps)
    return answer


def _apply(row: Cohort, values: dict[str, object]) -> None:
    for field, value in values.items():
        if field == "new_name":
            row.name = str(value)
        elif field == "signups_open":
            row.signups_open = bool(value)
        else:
            setattr(row, field, value)


async def edit(deps: Deps, *, team_id: str, change: CohortChange) -> CohortAnswer:
    """Change a cohort; its pairs' pending prompts, nudges and escalations are re-timed
    from its new rhythm."""
    answer = await _edit(deps, team_id=team_id, change=change)
    if answer.ok:
        deps.spawn(retime_pairs(deps, team_id=team_id))
    return answer


async def _edit(deps: Deps, *, team_id: str, change: CohortChange) -> CohortAnswer:
    def change_it(session: Session) -> CohortAnswer:
        if change.errors:
            return _refused(change.problems, next(iter(change.errors)))
        row = cohorts.cohort_named(session=session, team_id=team_id, name=change.name)
        if row is None:
            return _refused(
                f"There is no cohort called *{change.name}*: `/mentor admin cohort list`.", "name"
            )
        if row.status == CohortStatus.CLOSED:
            return _refused(f"*{row.name}* is closed: nothing in it can change.", "name")
        if not change.values:
            return _refused("Say what to change, for example `end=2027-06-30` or `cadence=21`.")
        new_name = change.values.get("new_name")
        if isinstance(new_name, str):
            other = cohorts.cohort_named(session=session, team_id=team_id, name=new_name)
            if other is not None and other.id != row.id:
                return _refused(f"There is already a cohort called *{new_name}*.", "name")
        before = program.get_program_settings(session=session, team_id=team_id, cohort_id=row.id)
        facts = program.facts_of(row)
        known = {f.name for f in dataclasses.fields(facts)}
        updated: CohortFacts = dataclasses.replace(
            facts,
            **{k: v for k, v in change.values.items() if k in known},  # type: ignore[arg-type]
        )
        problem = rules.check_dates(updated.starts_on, updated.ends_on)
        if problem is not None:
            return _refused(problem, "starts_on" if updated.starts_on is None else "ends_on")
        after = rules.cohort_settings(
            program.workspace_settings(session=session, team_id=team_id), updated
        )
        live = sum(_live(p) for p in cohorts.pairs_in(session=session, cohort_id=saved_id(row)))
        surprise = rules.surprise_end(
            after,
            before,
            now=deps.clock(),
            end_decided=row.end_decided_at is not None,
            live_pairs=live,
        )
        if surprise is not None:
            field = "ends_on" if surprise[0] == "program_end" else "starts_on"
            return _refused(surprise[1], field)
        _apply(row, change.values)
        session.add(row)
        return CohortAnswer(text=f"Saved *{row.name}*.", ok=True)

    return await deps.db.run(change_it)


async def close(deps: Deps, *, team_id: str, name: str) -> CohortAnswer:
    """An admin closes a cohort: its live pairs end (thanked), it takes no more signups, and
    nothing more is decided in it; people left without a pair may join the next cohort."""

    def close_it(session: Session) -> CohortAnswer:
        row = cohorts.cohort_named(session=session, team_id=team_id, name=name)
        if row is None:
            return _refused(
                f"There is no cohort called *{name}*: `/mentor admin cohort list`.", "name"
            )
        if row.status == CohortStatus.CLOSED:
            return _refused(f"*{row.name}* was already closed.", "close")
        now = deps.clock()
        ended = 0
        for pair in cohorts.pairs_in(session=session, cohort_id=saved_id(row)):
            if _live(pair):
                ended += end_pair(session, pair=pair, reason="program_ended", now=now)
        row.status, row.signups_open, row.closed_at = CohortStatus.CLOSED, False, now
        session.add(row)
        following = cohorts.next_cohort(session=session, cohort=row)
        offered = offer_carry_over(session, ended=row, to=following, now=now) if following else 0
        log.info("cohort closed by an admin: %d pairs ended", ended)
        text = f"Closed *{row.name}*: {ended} live pairs were thanked and ended." + (
            f" {offered} people without a pair were asked whether to join *{following.name}*."
            if following is not None and offered
            else ""
        )
        return CohortAnswer(text=text, ok=True)

    answer = await deps.db.run(close_it)
    outbox.kick(deps)
    return answer


def end_cohort(session: Session, *, cohort: Cohort, now: datetime) -> int:
    """A cohort's end checkpoint has come: it takes no more signups and decides nothing more.
    With a next cohort running, each live pair is asked whether to continue into it, and
    people without a pair whether to join its pool; with none, the pairs are thanked and
    closed. Returns how many pairs were closed."""
    cohort.status, cohort.signups_open = CohortStatus.ENDED, False
    session.add(cohort)
    following = cohorts.next_cohort(session=session, cohort=cohort)
    live = [p for p in cohorts.pairs_in(session=session, cohort_id=saved_id(cohort)) if _live(p)]
    if following is None:
        return sum(end_pair(session, pair=pair, reason="program_ended", now=now) for pair in live)
    for pair in live:
        rows.enqueue(
            session=session,
            team_id=cohort.team_id,
            key=f"cohort_choice:{cohort.id}:{pair.id}",
            kind=CHOICE,
            pair_id=pair.id,
            payload={"cohort": cohort.id},
            now=now,
        )
    offer_carry_over(session, ended=cohort, to=following, now=now)
    return 0


def _live(pair: Pair) -> bool:
    return pair.status in pairs.LIVE


def offer_carry_over(session: Session, *, ended: Cohort, to: Cohort, now: datetime) -> int:
    """Ask everyone active in an ended cohort's pool who is in no live pair whether they want
    to join `to`'s pool; each person is asked once per cohort offered."""
    paired = _paired_in(session, ended)
    offered = 0
    for person in cohorts.members(session=session, cohort_id=saved_id(ended)):
        if pairs.live_pairs_of(session=session, team_id=ended.team_id, user_id=person.user_id):
            continue
        offered += _offer(
            session,
            ended=ended,
            to=to,
            user_id=person.user_id,
            had_pair=person.user_id in paired,
            now=now,
        )
    return offered


def _paired_in(session: Session, cohort: Cohort) -> set[str]:
    """Everyone who was in a pair of the cohort (read once for all the offers)."""
    return {
        user
        for pair in cohorts.pairs_ever_in(session=session, cohort_id=saved_id(cohort))
        for user in (pair.mentor_id, pair.mentee_id)
    }


def _offer(
    session: Session, *, ended: Cohort, to: Cohort, user_id: str, had_pair: bool, now: datetime
) -> bool:
    return rows.enqueue(
        session=session,
        team_id=ended.team_id,
        key=f"carry_over:{to.id}:{user_id}",
        kind=CARRY_OVER,
        payload={"user": user_id, "from": ended.id, "to": to.id, "had_pair": had_pair},
        now=now,
    )


async def choose(
    deps: Deps, *, team_id: str, user_id: str, pair_id: int, carry_on: bool
) -> tuple[str, bool] | None:
    """One of the two answers their pair's choice at its cohort's end: (what to say, whether
    it was done and replaces the question), or None if it is not theirs to answer (or was
    answered already)."""

    def decide(session: Session) -> tuple[str, bool] | None:
        pair = pairs.get_pair(session=session, team_id=team_id, pair_id=pair_id)
        if pair is None or user_id not in (pair.mentor_id, pair.mentee_id) or not _live(pair):
            return None
        current = cohorts.get_cohort(session=session, team_id=team_id, cohort_id=pair.cohort_id)
        if current is None or current.status == CohortStatus.RUNNING:
            return None  # answered already: the pair runs in a running cohort
        now = deps.clock()
        following = cohorts.next_cohort(session=session, cohort=current)
        if not carry_on:
            end_pair(session, pair=pair, reason=CLOSED_AT_END, now=now)
            if following is not None:  # each may still want someone new in the next cohort
                for member in (pair.mentor_id, pair.mentee_id):
                    _offer(
                        session,
                        ended=current,
                        to=following,
                        user_id=member,
                        had_pair=True,  # this pair, closing now
                        now=now,
                    )
            return f"<@{user_id}> chose to close this pairing. Thank you both!", True
        if following is None:  # closed since the question went out
            return (
                "The next cohort has been closed since, so there is none to continue into.",
                False,
            )
        cohorts.move_pair(session=session, pair=pair, cohort_id=saved_id(following), now=now)
        for member in (pair.mentor_id, pair.mentee_id):
            person = participants.get_participant(session=session, team_id=team_id, user_id=member)
            if person is not None and person.status != Status.LEFT:
                cohorts.join(session=session, person=person, cohort_id=following.id, now=now)
        return (
            f"<@{user_id}> chose to continue: you're now part of *{following.name}*, "
            "with all your history. Your sessions carry on as before."
        ), True

    answer = await deps.db.run(decide)
    if answer is not None and answer[1]:
        log.info("a pair answered its cohort-end choice")
        outbox.kick(deps)
    return answer


async def answer_carry_over(
    deps: Deps, *, team_id: str, user_id: str, cohort_id: int, join: bool
) -> str | None:
    """Someone answers the offer to join a cohort's pool; None if the offer no longer holds."""

    def decide(session: Session) -> str | None:
        target = cohorts.get_cohort(session=session, team_id=team_id, cohort_id=cohort_id)
        person = participants.get_participant(session=session, team_id=team_id, user_id=user_id)
        if target is None or person is None or person.status == Status.LEFT:
            return None
        if person.cohort_id == target.id:
            return f"You're already in the pool of *{target.name}*."
        current = cohorts.get_cohort(session=session, team_id=team_id, cohort_id=person.cohort_id)
        if current is not None and current.status == CohortStatus.RUNNING:
            return None  # they are in a running cohort: nothing to carry over from
        if not join:
            return "No problem: you stay out of the next cohort. Sign up again any time."
        if target.status != CohortStatus.RUNNING:
            return f"*{target.name}* has ended meanwhile, so there's no pool to join."
        cohorts.join(session=session, person=person, cohort_id=target.id, now=deps.clock())
        return f"You're in the pool of *{target.name}*: we'll introduce you when we match."

    return await deps.db.run(decide)


def still_choosing(session: Session, *, team_id: str, pair_id: int) -> bool:
    """The pair has not answered its cohort-end choice yet (for the message's staleness)."""
    pair = pairs.get_pair(session=session, team_id=team_id, pair_id=pair_id)
    if pair is None or not _live(pair):
        return False
    current = cohorts.get_cohort(session=session, team_id=team_id, cohort_id=pair.cohort_id)
    return current is not None and current.status == CohortStatus.ENDED
