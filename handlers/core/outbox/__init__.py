"""The outbox: every message the bot sends is decided into a row (storage/outbox.py) in the
transaction that decides it, then sent from here, once, whatever crashes or outages happen.

Features register their kinds of message (`Kind`) and decide rows with `storage.outbox`;
this package claims, drafts, sends, checks after crashes and handles failures."""

from handlers.core.outbox.failures import (
    ADMIN_CHANNEL_ERRORS,
    ALERT,
    ALERT_KIND,
    admin_channel_fix,
    admin_people,
    alert_admins,
    open_if_person,
)
from handlers.core.outbox.kinds import Draft, Failure, Kind, register_kind, to_person
from handlers.core.outbox.recording import CALL_BUDGET_SECONDS, LEASE, metadata_for
from handlers.core.outbox.sending import (
    checked_pair,
    deliver_due,
    deliver_now,
    kick,
    send_now,
)

# What waits while the admin channel takes no posts (see failures.py).
ADMIN_KINDS = ("admin_alert", "admin_summary", "summary_chart")

__all__ = [
    "ADMIN_CHANNEL_ERRORS",
    "ADMIN_KINDS",
    "ALERT",
    "ALERT_KIND",
    "CALL_BUDGET_SECONDS",
    "LEASE",
    "Draft",
    "Failure",
    "Kind",
    "admin_channel_fix",
    "admin_people",
    "alert_admins",
    "checked_pair",
    "deliver_due",
    "deliver_now",
    "kick",
    "metadata_for",
    "open_if_person",
    "register_kind",
    "send_now",
    "to_person",
]
