"""What a feature tells the outbox about one kind of message it sends."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from storage.models import OutboxMessage

if TYPE_CHECKING:
    from handlers.core.deps import Deps


@dataclass(frozen=True)
class Draft:
    """What a message says and where it goes; with `file`, a file shared there instead
    (`text` is then its comment)."""

    channel: str
    text: str
    blocks: list | None = None
    file: bytes | None = None
    filename: str = ""
    title: str = ""


@dataclass(frozen=True)
class Failure:
    """A message that failed for good, in the transaction that records it."""

    session: Session
    deps: Deps
    message: OutboxMessage
    error: str  # Slack's error code (or ours)
    content: bool  # Slack can never take the message as written; else its destination is gone
    now: datetime


# -> True when the kind dealt with the failure itself
OnFailed = Callable[[Failure], bool]


@dataclass(frozen=True)
class Kind:
    """How a feature's outbox kind is drafted and what follows its sending.

    - `draft(deps, message)` returns a Draft, or None when the message has become moot.
    - `after_sent(session, message, channel, ts, now)` runs in the transaction that records
      the send (also when a crash check finds the message went out).
    - `follow_up(deps, message, channel, ts)` runs after it, outside any transaction (say,
      seeding reactions), and must be safe to repeat.
    - `valid_for` and `stale(session, message, now)` say when it is too late to send it;
      `on_expired(session, message)` undoes what deciding it recorded.
    - Quiet hours: `to_pair` messages wait until both of the pair are at work (else the
      leader), a message with a `recipient(message)` for that person; others go at once.
    - `prefetch(session, messages)`, when given, reads in bulk what `stale` will ask about
      these messages of the kind (storage's `remember_*` functions), so a batch's checks
      cost a few statements instead of some per message.
    - `on_failed` handles a permanent failure its own way (a pair whose channel is gone is
      paused); unhandled, a message Slack can never take is reported to the admins.
      `to_admin_channel` kinds wait while the admin channel is broken."""

    draft: Callable[[Deps, OutboxMessage], Awaitable[Draft | None]]
    after_sent: Callable[[Session, OutboxMessage, str, str, datetime], None] | None = None
    follow_up: Callable[[Deps, OutboxMessage, str, str], Awaitable[None]] | None = None
    valid_for: timedelta | None = None
    stale: Callable[[Session, OutboxMessage, datetime], str | None] | None = None
    on_expired: Callable[[Session, OutboxMessage], None] | None = None
    prefetch: Callable[[Session, list[OutboxMessage]], None] | None = None
    to_pair: bool = False
    recipient: Callable[[OutboxMessage], str | None] | None = None
    on_failed: OnFailed | None = None
    to_admin_channel: bool | Callable[[OutboxMessage], bool] = False
    alert_on_failure: bool = True
    shares_file: bool = False

    def goes_to_admin_channel(self, message: OutboxMessage) -> bool:
        rule = self.to_admin_channel
        return rule(message) if callable(rule) else rule


def register_kind(deps: Deps, name: str, kind: Kind) -> None:
    """Called from a feature's register(): its messages go through the outbox."""
    deps.outbox_kinds[name] = kind


def kind_of(deps: Deps, message: OutboxMessage) -> Kind:
    kind: Any = deps.outbox_kinds.get(message.kind)
    if kind is None:
        raise LookupError(f"no feature registered the outbox kind {message.kind!r}")
    return kind


def to_person(field: str) -> Callable[[OutboxMessage], str | None]:
    """A recipient rule: the person named in the payload's `field`, if it names a person."""

    def recipient(message: OutboxMessage) -> str | None:
        value = (message.payload or {}).get(field)
        return value if isinstance(value, str) and value[:1] in ("U", "W") else None

    return recipient
