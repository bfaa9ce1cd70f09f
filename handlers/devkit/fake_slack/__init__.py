"""A fake Slack Web API on loopback: records every call and answers the way Slack does.

Used by tests and the offline demo through the real slack_sdk client (base_url=fake.api_url).

Its first token (`token`) works for everything, as tests of one workspace need. Workspaces
that install the app through the fake's OAuth (`/oauth/v2/authorize`, `oauth.v2.access`)
each get a token of their own, and a call made with it about a user or a conversation of
another workspace is refused the way Slack refuses it (`user_not_found`,
`channel_not_found`): so a bot that sends with the wrong workspace's token fails a test.

One module per part, so each Slack API family has a file of its own:

    server.py         FakeSlack (every family below in one object), the HTTP server, routing
    state.py          _State: the attributes every family shares, ids, shared lookups
    users.py          auth.test, users.info, users.lookupByEmail; add_user
    conversations.py  conversations.open / .info / .history; add_channel, open_dm
    chat.py           chat.postMessage, chat.postEphemeral, chat.update
    reactions.py      reactions.add
    views.py          views.open / .push / .update / .publish
    files.py          files.getUploadURLExternal, files.completeUploadExternal
    oauth.py          workspaces, OAuth installs, tokens (rotation, revocation)
    socket_mode.py    the Socket Mode websocket
    limits.py         rate limits (RateLimits) and injected failures (fail_next, ...)
    blocks.py         Block Kit's rules, block by block (_Checker)
    validation.py     validate_blocks, validate_view, a message's payload checks
    errors.py         the bodies of Slack's error answers
    records.py        Call, Grant
"""

from handlers.devkit.fake_slack.blocks import (
    ACCESSORY_ELEMENTS,
    ACTION_ELEMENTS,
    BLOCK_TYPES,
    INPUT_ELEMENTS,
)
from handlers.devkit.fake_slack.limits import RateLimits
from handlers.devkit.fake_slack.records import Call, Grant
from handlers.devkit.fake_slack.server import FakeSlack
from handlers.devkit.fake_slack.validation import MESSAGE_TEXT_MAX, validate_blocks, validate_view

__all__ = [
    "ACCESSORY_ELEMENTS",
    "ACTION_ELEMENTS",
    "BLOCK_TYPES",
    "INPUT_ELEMENTS",
    "MESSAGE_TEXT_MAX",
    "Call",
    "FakeSlack",
    "Grant",
    "RateLimits",
    "validate_blocks",
    "validate_view",
]
