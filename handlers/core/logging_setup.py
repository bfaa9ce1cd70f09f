"""Logging that never prints tokens or people's words."""

from __future__ import annotations

import logging
import re

_SECRET = re.compile(r"\b(xox[a-z]-|xapp-)[A-Za-z0-9-]+")
# OAuth's code and state in the redirect URL (the access log): single-use, but still secrets.
_OAUTH_QUERY = re.compile(r"([?&](?:code|state)=)[^&\s\"]+")


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _OAUTH_QUERY.sub(r"\1[redacted]", _SECRET.sub(r"\1[redacted]", message))
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RedactSecrets())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # At DEBUG these libraries log request and payload bodies, which hold personal data.
    for noisy in ("slack_sdk", "slack_bolt", "aiohttp.access", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, logging.getLevelName(level)))
    # Logs the whole body of a badly signed request at INFO: people's words and the URL
    # that answers them. The 401 is what matters.
    logging.getLogger("slack_bolt.RequestVerification").setLevel(logging.WARNING)
