"""Objectives and outcomes: the cohort's midpoint and end checkpoints.

Each tick compares the clock with every workspace's cohort dates. A checkpoint is decided
once, in one transaction with its schedule stamp (`WorkspaceSchedule.*_decided_at`) and its
outbox rows (`outcome:{checkpoint}:{user_id}`): every active participant who has taken part
in a pair is asked privately how their goal went; at the end every live pair is also thanked
and closed, and the final summary is posted. Answers are stored, never logged.
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_bolt.async_app import AsyncAck, AsyncApp
from sqlmodel import Session

from bot import cohort
from bot.outcomes import CHECKPOINTS, validate_change
from bot.profiles import Status
from handlers import delivery, summary
from handlers.deps import Deps
from handlers.outcomes import blocks
from handlers.outcomes.blocks import PROGRESS_ACTIONS, OutcomeActions
from handlers.slack_api import SlackCallError
from storage import outbox, outcomes, pairs, participants, program
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

QUESTION_KIND = "outcome_question"


def register(app: AsyncApp, deps: Deps) -> None:
    delivery.register_kind(deps, QUESTION_KIND, delivery.Kind(draft=_draft_question))
    deps.tick_steps.append(decide_checkpoints)

    @app.action(OutcomeActions.NOT_YET)
    @app.action(OutcomeActions.SOME)
    @app.action(OutcomeActions.ACHIEVED)
    async def progress_answer(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        checkpoint = action.get("value") or ""
        progress = PROGRESS_ACTIONS[action["action_id"]]

        def record(session: Session):
            person = _asked_person(session, team_id=team_id, user_id=user_id, checkpoint=checkpoint)
            if person is None:
                return None
            outcomes.record_progress(
                session=session,
                team_id=team_id,
                user_id=user_id,
                checkpoint=checkpoint,
                progress=progress,
                now=deps.clock(),
            )
            leader = outcomes.is_leader_in(session=session, team_id=team_id, user_id=user_id)
            return person.goals, leader

        recorded = await deps.db.run(record)
        if recorded is None or "response_url" not in body:
            return
        log.info("outcome progress recorded at the %s", checkpoint)
        goal, leader = recorded
        text, content = blocks.question_blocks(
            checkpoint, goal=goal, leader=leader, answered=progress
        )
        await deps.slack.respond(
            body["response_url"], replace_original=True, text=text, blocks=content
        )

    @app.action(OutcomeActions.OPEN_CHANGE)
    async def open_change(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        checkpoint = action.get("value") or ""

        def current(session: Session):
            if not _may_share_change(session, team_id, user_id, checkpoint):
                return None
            row = outcomes.answer_of(
                session=session, team_id=team_id, user_id=user_id, checkpoint=checkpoint
            )
            return (row.change if row else None) or ""

        existing = await deps.db.run(current)
        if existing is None:
            return
        try:
            await deps.slack.call(
                "views.open",
                trigger_id=body["trigger_id"],
                view=blocks.change_modal(checkpoint, current=existing),
                budget=2.0,
            )
        except SlackCallError as exc:
            log.warning("the change form did not open: %s", exc.error)

    @app.view(blocks.CHANGE_CALLBACK)
    async def change_submitted(ack: AsyncAck, body: dict) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        view = body["view"]
        checkpoint = view.get("private_metadata") or ""
        field = (view["state"]["values"].get(blocks.CHANGE_BLOCK) or {}).get(
            blocks.CHANGE_ACTION
        ) or {}
        change, error = validate_change(field.get("value"))
        if error is not None:
            await ack(response_action="errors", errors={blocks.CHANGE_BLOCK: error})
            return

        def save(session: Session) -> bool:
            if not _may_share_change(session, team_id, user_id, checkpoint):
                return False
            outcomes.record_change(
                session=session,
                team_id=team_id,
                user_id=user_id,
                checkpoint=checkpoint,
                change=change,
                now=deps.clock(),
            )
            return True

        if not await deps.db.run(save):
            await ack(response_action="update", view=blocks.change_refused_view())
            return
        await ack(response_action="update", view=blocks.change_saved_view(shared=bool(change)))
        log.info("a leader's change %s at the %s", "shared" if change else "cleared", checkpoint)


def _asked_person(session: Session, *, team_id: str, user_id: str, checkpoint: str):
    """The participant, if this checkpoint has been decided and they are still in the program."""
    if checkpoint not in CHECKPOINTS:
        return None
    midpoint_done, end_done = outcomes.decided_flags(session=session, team_id=team_id)
    if not (midpoint_done if checkpoint == "midpoint" else end_done):
        return None
    person = participants.get_participant(session=session, team_id=team_id, user_id=user_id)
    if person is None or person.status == Status.LEFT:
        return None
    return person


def _may_share_change(session: Session, team_id: str, user_id: str, checkpoint: str) -> bool:
    person = _asked_person(session, team_id=team_id, user_id=user_id, checkpoint=checkpoint)
    return person is not None and outcomes.is_leader_in(
        session=session, team_id=team_id, user_id=user_id
    )


# --- The tick: decide each checkpoint once ----------------------------------------------------


async def decide_checkpoints(deps: Deps) -> int:
    """Decide whatever checkpoint has come, per workspace; returns how many were decided."""
    teams = await deps.db.run(lambda s: program.workspaces(session=s))
    decided = 0
    for team_id in teams:
        now = deps.clock()
        checkpoint = await deps.db.run(lambda s, t=team_id, n=now: _decide(s, t, n))
        if checkpoint is None:
            continue
        decided += 1
    return decided


def _decide(session: Session, team_id: str, now: datetime) -> str | None:
    settings = program.get_program_settings(session=session, team_id=team_id)
    if not cohort.checkpoint_moments(settings):
        return None  # no cohort dates: nothing to write
    midpoint_done, end_done = outcomes.decided_flags(session=session, team_id=team_id)
    checkpoint = cohort.due_checkpoint(
        settings, now, midpoint_decided=midpoint_done, end_decided=end_done
    )
    if checkpoint is None:
        return None
    schedule = program.schedule_of(session=session, team_id=team_id)
    outcomes.mark_decided(session=session, schedule=schedule, checkpoint=checkpoint, now=now)
    closed = 0
    if checkpoint == "end":
        # A midpoint not asked by now is skipped: one question on the last day is enough.
        outcomes.mark_decided(session=session, schedule=schedule, checkpoint="midpoint", now=now)
        for pair in pairs.live_pairs(session=session, team_id=team_id):
            closed += pairs.end_pair(session=session, pair=pair, reason="program_ended", now=now)
        # The final summary goes through the outbox like the weekly one: once, and retried.
        outbox.enqueue(
            session=session,
            team_id=team_id,
            key=f"summary:{team_id}:final",
            kind=summary.KIND,
            payload={"end": now.isoformat(), "final": True},
            now=now,
        )
    people = outcomes.checkpoint_people(session=session, team_id=team_id)
    for user_id, leader in people:
        outbox.enqueue(
            session=session,
            team_id=team_id,
            key=f"outcome:{checkpoint}:{user_id}",
            kind=QUESTION_KIND,
            payload={"user": user_id, "checkpoint": checkpoint, "leader": leader},
            now=now,
        )
    log.info(
        "outcome checkpoint %s decided: %d people asked, %d pairs closed",
        checkpoint,
        len(people),
        closed,
    )
    return checkpoint


async def _draft_question(deps: Deps, message: OutboxMessage) -> delivery.Draft | None:
    user_id = message.payload["user"]
    checkpoint = message.payload["checkpoint"]

    def load(session: Session):
        person = participants.get_participant(
            session=session, team_id=message.team_id, user_id=user_id
        )
        row = outcomes.answer_of(
            session=session, team_id=message.team_id, user_id=user_id, checkpoint=checkpoint
        )
        return person, row

    person, row = await deps.db.run(load)
    if person is None or person.status == Status.LEFT:
        return None  # left since: nothing to ask
    text, content = blocks.question_blocks(
        checkpoint,
        goal=person.goals,
        leader=bool(message.payload.get("leader")),
        answered=row.progress if row else None,
    )
    channel = await delivery.open_if_person(deps, user_id)
    return delivery.Draft(channel=channel, text=text, blocks=content)
