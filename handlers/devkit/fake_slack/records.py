"""What the fake keeps about calls and tokens: plain records, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Call:
    method: str
    params: dict
    token: str | None
    path: str


@dataclass
class Grant:
    """A bot token the fake's OAuth issued: for one workspace, or org-wide for an org."""

    token: str
    team_id: str | None  # None for an org-wide installation
    enterprise_id: str | None
    org_wide: bool
    bot_user_id: str
    bot_id: str
    expires_at: float | None = None  # epoch seconds (token rotation), like Slack's expiry
    refresh_token: str | None = None
    revoked: bool = False


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    error: str | None


class _BadRequest(Exception):
    def __init__(self, error: str) -> None:
        self.error = error
