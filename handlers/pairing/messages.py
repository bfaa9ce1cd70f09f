"""Pairing's messages: the introduction (the pair goes live when it is out) and the goodbye."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from handlers.core import outbox
from handlers.core.deps import Deps
from handlers.pairing import blocks
from storage import pairs, participants, program, rhythm
from storage.models import OutboxMessage, Pair, Participant, saved_id


async def draft_intro(deps: Deps, message: OutboxMessage) -> outbox.Draft | None:
    def load(session: Session) -> tuple[Pair | None, Participant | None, Participant | None]:
        pair = pairs.get_pair(
            session=session, team_id=message.team_id, pair_id=message.pair_id or 0
        )
        if pair is None:
            return None, None, None
        mentor = participants.get_participant(
            session=session, team_id=pair.team_id, user_id=pair.mentor_id
        )
        mentee = participants.get_participant(
            session=session, team_id=pair.team_id, user_id=pair.mentee_id
        )
        return pair, mentor, mentee

    pair, mentor, mentee = await deps.db.read(load)
    if pair is None or pair.status == "ended" or mentor is None or mentee is None:
        return None  # ended before we got to it: nothing to introduce
    channel_id = pair.dm_channel_id
    if channel_id is None:
        opened = await deps.slack.call(
            "conversations.open",
            team_id=pair.team_id,
            users=f"{pair.mentor_id},{pair.mentee_id}",
            budget=outbox.CALL_BUDGET_SECONDS,
        )
        channel_id = opened["channel"]["id"]
        await deps.db.run(
            lambda s: pairs.remember_channel(
                session=s, pair_id=saved_id(pair), channel_id=channel_id, now=deps.clock()
            )
        )
    return outbox.Draft(
        channel=channel_id,
        text=f"Meet your reverse-mentoring pair: <@{pair.mentor_id}> and <@{pair.mentee_id}>",
        blocks=blocks.intro_blocks(pair, mentor=mentor, mentee=mentee),
    )


def intro_sent(
    session: Session, message: OutboxMessage, channel: str, ts: str, now: datetime
) -> None:
    """The pair is live in Slack: its rhythm starts (a first date, prompts, pulses)."""
    live = pairs.mark_introduced(
        session=session, pair_id=message.pair_id or 0, channel_id=channel, ts=ts, now=now
    )
    if live is not None:
        settings = program.get_program_settings(session=session, team_id=live.team_id)
        rhythm.start_rhythm(session=session, pair=live, settings=settings, now=now)


def intro_failed(failure: outbox.Failure) -> bool:
    """Slack will not take the introduction: the pair waits on hold, the admins decide."""
    session, message, error, now = failure.session, failure.message, failure.error, failure.now
    pair = pairs.mark_intro_failed(session=session, pair_id=message.pair_id or 0, now=now)
    if pair is not None:
        outbox.alert_admins(
            session,
            failure.deps,
            team_id=message.team_id,
            key=f"intro_failed:{pair.id}",
            text=(
                f"I couldn't introduce <@{pair.mentor_id}> and <@{pair.mentee_id}> "
                f"(Slack said `{error}`). They stay paired but on hold; "
                f"`/mentor admin unpair <@{pair.mentor_id}> <@{pair.mentee_id}>` "
                "returns both to the pool."
            ),
            now=now,
        )
    return True


async def draft_goodbye(deps: Deps, message: OutboxMessage) -> outbox.Draft | None:
    pair = await deps.db.run(
        lambda s: pairs.get_pair(session=s, team_id=message.team_id, pair_id=message.pair_id or 0)
    )
    if pair is None or pair.dm_channel_id is None:
        return None
    text, content = blocks.ended_blocks(message.payload.get("reason"))
    return outbox.Draft(channel=pair.dm_channel_id, text=text, blocks=content)


def goodbye_failed(failure: outbox.Failure) -> bool:
    return not failure.content  # the pair is over: only a message Slack can never take is reported


INTRO = outbox.Kind(
    draft=draft_intro,
    after_sent=intro_sent,
    on_failed=intro_failed,
    to_pair=True,  # moot only if the pair ends first: never too late to introduce
)
GOODBYE = outbox.Kind(
    draft=draft_goodbye,
    on_failed=goodbye_failed,
    to_pair=True,
    valid_for=timedelta(days=14),
)
