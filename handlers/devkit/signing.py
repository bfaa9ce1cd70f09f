"""Build and sign request bodies the way Slack sends them to the app."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

VERIFICATION_TOKEN = "legacy-verification-token"


def slack_signature(secret: str, timestamp: str, body: str) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str,
    body: str,
    *,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": slack_signature(secret, stamp, body),
        "Content-Type": content_type,
    }


def command_body(
    *,
    command: str = "/mentor",
    text: str = "",
    user_id: str = "U1",
    team_id: str = "T0001",
    channel_id: str = "C1",
    trigger_id: str = "tr-1",
    response_url: str = "",
    enterprise_id: str | None = None,
    is_enterprise_install: bool = False,
) -> str:
    # Field order and names as Slack posts a slash command (no enterprise_id outside Grid).
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": "acme",
        "channel_id": channel_id,
        "channel_name": "general" if channel_id.startswith("C") else "directmessage",
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": "A1",
        "is_enterprise_install": "true" if is_enterprise_install else "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    if enterprise_id is not None:  # in an Enterprise Grid org
        fields.update(enterprise_id=enterprise_id, enterprise_name=f"Org {enterprise_id}")
    return urlencode(fields)


def interactive_body(payload: dict) -> str:
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))})


def event_body(
    event: dict,
    *,
    team_id: str = "T0001",
    event_id: str = "Ev1",
    event_time: int | None = None,
    api_app_id: str = "A1",
    enterprise_id: str | None = None,
    is_enterprise_install: bool = False,
) -> str:
    """An event as Slack delivers it; in an Enterprise Grid org it names the org, and an
    org-wide installation's authorization names no workspace."""
    envelope: dict = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        **({"enterprise_id": enterprise_id} if enterprise_id else {}),
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()) if event_time is None else event_time,
        "authorizations": [
            {
                "enterprise_id": enterprise_id,
                "team_id": None if is_enterprise_install else team_id,
                "user_id": "UBOT",
                "is_bot": True,
                "is_enterprise_install": is_enterprise_install,
            }
        ],
        "is_ext_shared_channel": False,
    }
    return json.dumps(envelope, separators=(",", ":"))
