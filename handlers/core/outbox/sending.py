"""Sends what the outbox holds. Slack calls happen outside database transactions.

Each message goes: stale? (dropped) -> quiet hours? (later) -> claimed (one sender, with a
lease) -> drafted -> its channel recorded -> posted (or its file shared) -> recorded as sent.

A drain does this a batch at a time: one transaction looks for rows in doubt, claims the
due rows and checks them all (what the checks need is read in bulk first, storage/memo.py);
the drafts of pair messages use the pairs that check read (`checked_pair`). Then one
statement records every post's channel (each row is "sending" from then on: after a crash
its channel is searched for it before any resend), one round trip reserves the posts' paced
slots, and one statement records them all as sent at the end: about one statement per
message in all. A post whose kind keeps books on it (an intro, a survey) goes one at a
time as before, its bookkeeping done before the next post. A batch whose checks are older
than RECHECK_AFTER (a slow Slack) puts its unposted rows back, to be checked again; that
also keeps every post well inside the lease the batch's start gave it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlmodel import Session

from bot.cadence import ProgramSettings
from bot.program_settings import is_timezone
from handlers.core.deps import Deps
from handlers.core.outbox.crash_check import InDoubt, find_in_doubt, settle_in_doubt
from handlers.core.outbox.failures import failed
from handlers.core.outbox.kinds import Draft, Kind, kind_of
from handlers.core.outbox.recording import (
    CALL_BUDGET_SECONDS,
    LEASE,
    after_sent,
    follow_up,
    metadata_for,
)
from handlers.core.outbox.timing import (
    allowed_at,
    allowed_for_person,
    recipient_zone,
    stale_reason,
    zone_matters,
)
from handlers.core.slack import SlackCallError, Slot
from storage import outbox, pairs, participants, program
from storage.memo import remembering
from storage.models import OutboxMessage, Pair, saved_id

log = logging.getLogger("handlers.core.outbox")

BATCH = 50
# Checks this old are made again before the rest of a batch is posted (a slow Slack).
RECHECK_AFTER = timedelta(seconds=10)
# The pairs a batch's checks read, by (team, id): its drafts use them (`checked_pair`).
_CHECKED_PAIRS: ContextVar[dict[tuple[str, int], Pair] | None] = ContextVar(
    "checked_pairs", default=None
)


async def checked_pair(deps: Deps, message: OutboxMessage) -> Pair | None:
    """The pair a message is for: as the check before sending it just read it (in a batch),
    else read now."""
    key = (message.team_id, message.pair_id or 0)
    checked = _CHECKED_PAIRS.get()
    if checked is not None and key in checked:
        return checked[key]
    return await deps.db.read(lambda s: pairs.get_pair(session=s, team_id=key[0], pair_id=key[1]))


def kick(deps: Deps) -> None:
    """Deliver now instead of waiting for the next tick."""
    deps.spawn(deliver_due(deps))


async def deliver_due(deps: Deps) -> int:
    """Send every due message once; returns how many were sent. One drain at a time per
    process (an optimisation: the claim is what makes each row go out once, however many
    processes drain at once)."""
    sent = 0
    dropped: Counter[str] = Counter()
    async with deps.outbox_lock:
        look_for_doubt = True
        # Sending can decide new messages (an admin alert for a failed intro): drain until empty.
        # Anything that failed was pushed into the future, so this ends.
        while True:
            batch = await _claim_batch(deps, look_for_doubt=look_for_doubt)
            look_for_doubt = False
            if batch.in_doubt is not None:
                # Rows in doubt are checked before anything new is claimed.
                await settle_in_doubt(deps, batch.in_doubt)
                continue
            sent += await _deliver_batch(deps, batch, dropped)
            # A full batch may leave more due; a failure or a kind's bookkeeping may have
            # decided more (an admin alert, a chart); else the outbox is drained.
            if not batch.claimed or (batch.claimed < BATCH and not batch.decided_more):
                break
    if dropped:
        shown = ", ".join(f"{n} {kind}" for kind, n in sorted(dropped.items()))
        log.info(
            "dropped %d stale messages instead of sending them late: %s", dropped.total(), shown
        )
    return sent


async def send_now(deps: Deps, *, team_id: str, key: str, kind: str, payload: dict) -> str:
    """Decide a message and send it at once (someone is waiting for it), through the outbox
    like any other; returns its status ("sent", or still "pending"/"sending" when Slack was
    slow and the outbox will finish the job, or "failed")."""
    await deps.db.run(
        lambda s: outbox.enqueue(
            session=s, team_id=team_id, key=key, kind=kind, payload=payload, now=deps.clock()
        )
    )
    return await deliver_now(deps, team_id=team_id, key=key)


async def deliver_now(deps: Deps, *, team_id: str, key: str) -> str:
    """Send one decided message at once (an admin waiting for it); returns its status."""

    def take(session: Session) -> OutboxMessage | None:
        message = outbox.get_message(session=session, team_id=team_id, key=key)
        if message is None or not outbox.claim(
            session=session,
            message_id=saved_id(message),
            claimant=deps.instance_id,
            now=deps.clock(),
            lease=LEASE,
        ):
            return None
        return outbox.get_message(session=session, team_id=team_id, key=key)

    claimed = await deps.db.run(take)
    if claimed is not None:
        await _deliver(deps, claimed, Counter())
    after = await deps.db.run(lambda s: outbox.get_message(session=s, team_id=team_id, key=key))
    return after.status if after is not None else "missing"


@dataclass
class _Batch:
    """Rows claimed together, checked in the transaction that claimed them."""

    claimed: int = 0
    checked_at: datetime | None = None
    going: list[tuple[OutboxMessage, Kind]] = field(default_factory=list)
    ask_zone: list[tuple[OutboxMessage, Kind, str, ProgramSettings]] = field(default_factory=list)
    pairs: dict[tuple[str, int], Pair] = field(default_factory=dict)
    dropped: Counter[str] = field(default_factory=Counter)
    decided_more: bool = False
    in_doubt: InDoubt | None = None  # found instead of claiming: settle these first


async def _claim_batch(deps: Deps, *, look_for_doubt: bool) -> _Batch:
    """Claim and check a batch, in one transaction that first (`look_for_doubt`) looks for
    rows in doubt: if there are any, nothing is claimed."""
    now = deps.clock()

    def claim_and_check(session: Session) -> _Batch:
        if look_for_doubt:
            found = find_in_doubt(session, now, is_dead=deps.claimant_is_dead)
            if found.messages:
                return _Batch(in_doubt=found)
        claimed = outbox.claim_due(
            session=session, claimant=deps.instance_id, now=now, lease=LEASE, limit=BATCH
        )
        batch = _check_batch(session, deps, claimed, now)
        batch.claimed = len(claimed)
        return batch

    return await deps.db.run(claim_and_check)


def _check_batch(
    session: Session, deps: Deps, messages: list[OutboxMessage], now: datetime
) -> _Batch:
    """`_check` for claimed rows in bulk: every read first (remembered, storage/memo.py),
    then the writes. A row for someone whose time zone is not stored is checked except for
    the hour, and left in `ask_zone` with its program's settings: only Slack's profile can
    say when it is working hours for them."""
    batch = _Batch(checked_at=now)
    if not messages:
        return batch
    kinds = [(message, kind_of(deps, message)) for message in messages]
    verdicts: list[tuple[OutboxMessage, Kind, str, object]] = []
    with remembering(session):
        _read_in_bulk(session, kinds, batch)
        for message, kind in kinds:
            person_tz: str | None = None
            recipient = kind.recipient(message) if kind.recipient is not None else None
            if recipient is not None and zone_matters(message, kind):
                person_tz = _stored_zone(session, message.team_id, recipient)
            reason = stale_reason(session, message, kind, now)
            if reason is not None:
                verdicts.append((message, kind, "expire", reason))
                continue
            if recipient is not None and zone_matters(message, kind) and person_tz is None:
                settings = program.get_program_settings(session=session, team_id=message.team_id)
                batch.ask_zone.append((message, kind, recipient, settings))
                continue
            later = allowed_at(session, message, kind, now, person_tz)
            verdicts.append((message, kind, "later" if later > now else "go", later))
    for message, kind, verdict, detail in verdicts:
        if verdict == "go":
            batch.going.append((message, kind))
        elif verdict == "later":
            assert isinstance(detail, datetime)
            outbox.defer(
                session=session,
                message_id=saved_id(message),
                claimant=deps.instance_id,
                not_before=detail,
            )
        elif outbox.expire(
            session=session,
            message_id=saved_id(message),
            claimant=deps.instance_id,
            reason=str(detail),
        ):
            if kind.on_expired is not None:
                kind.on_expired(session, message)
            batch.dropped[message.kind] += 1
    return batch


def _read_in_bulk(session: Session, kinds: list[tuple[OutboxMessage, Kind]], batch: _Batch) -> None:
    """What the checks of these rows will ask, read in a few statements."""
    loaded = pairs.load_pairs(
        session=session, pair_ids={m.pair_id for m, _ in kinds if m.pair_id is not None}
    )
    people: dict[str, set[str]] = {}
    for message, kind in kinds:
        if message.pair_id is not None:
            pair = pairs.get_pair(session=session, team_id=message.team_id, pair_id=message.pair_id)
            if pair is not None:
                batch.pairs[(message.team_id, message.pair_id)] = pair
                people.setdefault(pair.team_id, set()).update((pair.mentor_id, pair.mentee_id))
        recipient = kind.recipient(message) if kind.recipient is not None else None
        if recipient is not None:
            people.setdefault(message.team_id, set()).add(recipient)
    del loaded  # held until every pair of the batch is in `batch.pairs`
    for team_id, user_ids in sorted(people.items()):
        participants.remember_participants(session=session, team_id=team_id, user_ids=user_ids)
    by_kind: dict[str, list[OutboxMessage]] = {}
    for message, kind in kinds:
        if kind.prefetch is not None:
            by_kind.setdefault(message.kind, []).append(message)
    prefetches = {message.kind: kind.prefetch for message, kind in kinds if kind.prefetch}
    for name, messages in by_kind.items():
        prefetches[name](session, messages)


def _stored_zone(session: Session, team_id: str, user_id: str) -> str | None:
    person = participants.get_participant(session=session, team_id=team_id, user_id=user_id)
    if person is not None and person.timezone and is_timezone(person.timezone):
        return person.timezone
    return None


@contextmanager
def _drafting_with(checked: dict[tuple[str, int], Pair]) -> Iterator[None]:
    token = _CHECKED_PAIRS.set(checked)
    try:
        yield
    finally:
        _CHECKED_PAIRS.reset(token)


async def _deliver_batch(deps: Deps, batch: _Batch, dropped: Counter[str]) -> int:
    """Send a checked batch: draft each, then post them one by one (files are shared as
    before, one at a time). Returns how many went out."""
    dropped.update(batch.dropped)
    if batch.ask_zone:
        await _check_zones_from_slack(deps, batch)
    if not batch.going:
        return 0
    checked_at = batch.checked_at or deps.clock()
    posts: list[tuple[OutboxMessage, Draft]] = []
    sent = 0
    with _drafting_with(batch.pairs):
        for message, kind in batch.going:
            try:
                draft = await kind.draft(deps, message)
            except Exception as exc:
                await failed(deps, message, exc)
                batch.decided_more = True
                continue
            if draft is None:
                await deps.db.run(partial(_skip, deps=deps, message=message))
            elif draft.file is not None:
                sent += await _send_file(deps, message, draft, batch)
            else:
                posts.append((message, draft))
    return sent + await _post_all(deps, posts, checked_at, batch)


async def _check_zones_from_slack(deps: Deps, batch: _Batch) -> None:
    """Rows for someone whose time zone is not stored: Slack's profile says (else UTC) when
    their working hours are; the rest of their check was made with the batch's."""
    later: list[tuple[OutboxMessage, datetime]] = []
    for message, kind, user_id, settings in batch.ask_zone:
        profile = await deps.user_info(team_id=message.team_id, user_id=user_id, budget=1.0)
        tz = (profile or {}).get("tz")
        zone = tz if isinstance(tz, str) and is_timezone(tz) else "UTC"
        now = deps.clock()
        at = allowed_for_person(settings, now, zone)
        if at > now:
            later.append((message, at))
        else:
            batch.going.append((message, kind))
    if later:
        await deps.db.run(lambda s: _defer(s, deps, later))


def _defer(session: Session, deps: Deps, rows: list[tuple[OutboxMessage, datetime]]) -> None:
    for message, not_before in rows:
        outbox.defer(
            session=session,
            message_id=saved_id(message),
            claimant=deps.instance_id,
            not_before=not_before,
        )


async def _send_file(deps: Deps, message: OutboxMessage, draft: Draft, batch: _Batch) -> int:
    try:
        ts = await _share_file(deps, message, draft)
    except Exception as exc:
        await failed(deps, message, exc)
        batch.decided_more = True
        return 0
    if ts is None:
        return 0
    if await deps.db.run(lambda s: after_sent(s, deps, message, draft.channel, ts, deps.clock())):
        batch.decided_more = batch.decided_more or kind_of(deps, message).after_sent is not None
        await follow_up(deps, message, draft.channel, ts)
        return 1
    return 0


async def _post_all(
    deps: Deps, posts: list[tuple[OutboxMessage, Draft]], checked_at: datetime, batch: _Batch
) -> int:
    """Post one by one. Plain posts are started together: one statement records every
    channel (each row is then "sending": after a crash its channel is searched for it
    before any resend) and one round trip reserves their paced slots; they are recorded
    together at the end. A post whose kind keeps books on it (an intro's pair, a survey's
    reactions) goes as before: one statement records the previous such post and starts it,
    so at most one of them is ever in doubt."""
    if not posts:
        return 0
    plain = [(m, d) for m, d in posts if not _keeps_books(deps, m)]
    started, slots = await _start_all(deps, plain)
    slot_of = {saved_id(m): slot for (m, _), slot in zip(plain, slots, strict=True)}
    recorded = 0
    last: tuple[OutboxMessage, str, str] | None = None  # a booked post, not yet recorded
    posted: list[tuple[OutboxMessage, str, str]] = []  # plain posts, not yet recorded
    unposted: list[OutboxMessage] = []
    try:
        for message, draft in posts:
            booked = _keeps_books(deps, message)
            if not booked and saved_id(message) not in started:
                log.warning("a %s message was not sent: its claim ran out first", message.kind)
                continue
            if unposted or deps.clock() - checked_at > RECHECK_AFTER:
                # Checked too long ago: checked again first. This also keeps every plain
                # post well inside the lease their start gave all of them at once.
                unposted.append(message)
                continue
            if booked:
                went, ok = await _record_and_start(deps, last, (message, draft.channel))
                recorded += went
                last = None
                if not ok:
                    log.warning("a %s message was not sent: its claim ran out first", message.kind)
                    continue
            elif last is not None:
                # A booked post's bookkeeping is done before anything else goes out.
                done, last = last, None
                recorded += await _record(deps, [done], [])
            try:
                answer = await _post_message(
                    deps, message, draft, slot=slot_of.get(saved_id(message))
                )
            except Exception as exc:
                await failed(deps, message, exc)
                batch.decided_more = True
                continue
            done = (message, draft.channel, answer.get("ts") or "")
            if booked:
                last = done
                if kind_of(deps, message).after_sent is not None:
                    batch.decided_more = True  # its bookkeeping may decide more (a chart)
            else:
                posted.append(done)
    finally:
        if last is not None:
            posted.append(last)
        if posted or unposted:
            recorded += await _record(deps, posted, unposted)
        if unposted:
            batch.decided_more = True
    return recorded


def _keeps_books(deps: Deps, message: OutboxMessage) -> bool:
    kind = kind_of(deps, message)
    return kind.after_sent is not None or kind.follow_up is not None


async def _start_all(
    deps: Deps, posts: list[tuple[OutboxMessage, Draft]]
) -> tuple[set[int], list[Slot | None]]:
    """Every row's channel recorded (and its lease renewed) in one statement, and every
    post's paced slot reserved in one more; returns the ids that may go, and the slots."""
    now = deps.clock()
    channels = {saved_id(message): draft.channel for message, draft in posts}
    started = await deps.db.run(
        lambda s: outbox.start_many(
            session=s, claimant=deps.instance_id, channels=channels, now=now, lease=LEASE
        )
    )
    going = [(m, d) for m, d in posts if saved_id(m) in started]
    reserved = await deps.slack.reserve(
        "chat.postMessage",
        [(m.team_id, {"channel": d.channel}) for m, d in going],
        within=CALL_BUDGET_SECONDS,
    )
    slot_of = {saved_id(m): slot for (m, _), slot in zip(going, reserved, strict=True)}
    return started, [slot_of.get(saved_id(m)) for m, _ in posts]


async def _record(
    deps: Deps, posted: list[tuple[OutboxMessage, str, str]], unposted: list[OutboxMessage]
) -> int:
    """In one transaction: the posts recorded as sent (with their kinds' bookkeeping) and
    the rows never posted put back. Returns how many were recorded; the follow-ups of
    those run after the transaction."""
    now = deps.clock()

    def work(session: Session) -> set[int]:
        went = outbox.record_many(
            session=session,
            claimant=deps.instance_id,
            sent={saved_id(m): ts or None for m, _, ts in posted},
            released=[saved_id(m) for m in unposted],
            now=now,
        )
        for message, channel, ts in posted:
            if saved_id(message) in went:
                after_sent(session, deps, message, channel, ts, now, marked=True)
        return went

    went = await deps.db.run(work)
    for message, channel, ts in posted:
        if saved_id(message) in went:
            await follow_up(deps, message, channel, ts)
    return len(went)


async def _record_and_start(
    deps: Deps,
    last: tuple[OutboxMessage, str, str] | None,
    start: tuple[OutboxMessage, str] | None,
) -> tuple[int, bool]:
    """In one transaction: record `last` as sent (with its kind's bookkeeping) and record
    where `start` goes. Returns (1 if `last` was recorded, whether `start` may be posted);
    the follow-up of `last` runs after the transaction."""
    now = deps.clock()

    def work(session: Session) -> tuple[bool, bool]:
        went, started = outbox.record_and_start(
            session=session,
            claimant=deps.instance_id,
            sent=(saved_id(last[0]), last[1], last[2] or None) if last else None,
            start=(saved_id(start[0]), start[1]) if start else None,
            now=now,
            lease=LEASE,
        )
        if went and last is not None:
            after_sent(session, deps, last[0], last[1], last[2], now, marked=True)
        return went, started

    went, started = await deps.db.run(work)
    if went and last is not None:
        await follow_up(deps, last[0], last[1], last[2])
    return int(went), started


def _skip(session: Session, deps: Deps, message: OutboxMessage) -> bool:
    """Decided, then made moot before it went (its draft says so): nothing is sent."""
    return outbox.mark_skipped(
        session=session, message_id=saved_id(message), claimant=deps.instance_id
    )


async def _deliver(deps: Deps, message: OutboxMessage, dropped: Counter[str]) -> int:
    """Send one row this process has claimed (or drop it as stale, or put it back for the
    working hours of the people it is for)."""
    kind = kind_of(deps, message)
    person_tz = await recipient_zone(deps, message, kind)
    now = deps.clock()
    verdict = await deps.db.run(lambda s: _check(s, deps, message, kind, now, person_tz))
    if verdict == "expired":
        dropped[message.kind] += 1
    if verdict != "go":
        return 0
    try:
        draft = await kind.draft(deps, message)
        if draft is None:
            await deps.db.run(
                lambda s: outbox.mark_skipped(
                    session=s, message_id=saved_id(message), claimant=deps.instance_id
                )
            )
            return 0
        if draft.file is not None:
            ts = await _share_file(deps, message, draft)
        else:
            ts = await _post(deps, message, draft)
    except Exception as exc:
        await failed(deps, message, exc)
        return 0
    if ts is None:
        return 0  # the claim was lost before sending: someone else has the row now
    channel = draft.channel
    if await deps.db.run(lambda s: after_sent(s, deps, message, channel, ts, deps.clock())):
        await follow_up(deps, message, channel, ts)
    return 1


def _check(
    session: Session,
    deps: Deps,
    message: OutboxMessage,
    kind: Kind,
    now: datetime,
    person_tz: str | None,
) -> str:
    """In one transaction, for a claimed row: drop it if stale, put it back until the
    working hours it must wait for, or let it go."""
    reason = stale_reason(session, message, kind, now)
    if reason is not None:
        if outbox.expire(
            session=session, message_id=saved_id(message), claimant=deps.instance_id, reason=reason
        ):
            if kind.on_expired is not None:
                kind.on_expired(session, message)
            return "expired"
        return "lost"
    later = allowed_at(session, message, kind, now, person_tz)
    if later > now:
        outbox.defer(
            session=session,
            message_id=saved_id(message),
            claimant=deps.instance_id,
            not_before=later,
        )
        return "later"
    return "go"


async def _start_sending(
    deps: Deps, message: OutboxMessage, channel: str, file_id: str | None = None
) -> bool:
    """Record where it goes (for the crash check) and renew the claim; False: claim lost."""
    started = await deps.db.run(
        lambda s: outbox.start_sending(
            session=s,
            message_id=message.id or 0,
            claimant=deps.instance_id,
            channel_id=channel,
            now=deps.clock(),
            lease=LEASE,
            file_id=file_id,
        )
    )
    if not started:
        log.warning("a %s message was not sent: its claim ran out first", message.kind)
    return started


async def _post(deps: Deps, message: OutboxMessage, draft: Draft) -> str | None:
    if not await _start_sending(deps, message, draft.channel):
        return None
    posted = await _post_message(deps, message, draft)
    return posted.get("ts") or ""


async def _post_message(
    deps: Deps, message: OutboxMessage, draft: Draft, *, slot: Slot | None = None
) -> dict:
    """The drafted message posted, tagged with its outbox key (metadata_for) so that a
    crash check can find it in the channel's history."""
    return await deps.slack.call(
        "chat.postMessage",
        team_id=message.team_id,
        channel=draft.channel,
        text=draft.text,
        blocks=draft.blocks,
        metadata=metadata_for(message),
        unfurl_links=False,
        budget=CALL_BUDGET_SECONDS,
        slot=slot,
    )


async def _share_file(deps: Deps, message: OutboxMessage, draft: Draft) -> str | None:
    """Files v2: get an upload URL, POST the bytes, then complete it into the channel. Only
    the last step shares it, and it is never repeated blindly: the file's id is recorded
    first, so after a timeout the channel's history is checked for it before a new try.
    (slack_sdk's files_upload_v2 does the three steps in one call, which hides that id.)"""
    data = draft.file or b""
    step = "getting an upload URL"
    try:
        ticket = await deps.slack.call(
            "files.getUploadURLExternal",
            team_id=message.team_id,
            filename=draft.filename,
            length=len(data),
            budget=CALL_BUDGET_SECONDS,
        )
        step = "uploading"
        await deps.slack.upload(ticket["upload_url"], data, budget=CALL_BUDGET_SECONDS)
        if not await _start_sending(deps, message, draft.channel, file_id=ticket["file_id"]):
            return None
        step = "completing the upload"
        extra: dict[str, Any] = {"initial_comment": draft.text} if draft.text else {}
        await deps.slack.call(
            "files.completeUploadExternal",
            team_id=message.team_id,
            files=[{"id": ticket["file_id"], "title": draft.title or draft.filename}],
            channel_id=draft.channel,
            budget=CALL_BUDGET_SECONDS,
            **extra,
        )
    except (SlackCallError, KeyError, TypeError) as exc:
        error = exc.error if isinstance(exc, SlackCallError) else type(exc).__name__
        log.warning("file upload failed at %s: %s", step, error)
        raise
    return ""
