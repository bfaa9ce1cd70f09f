"""Preparation guides' listeners: none of its own; it registers how a guide is sent."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.core import outbox
from handlers.core.deps import Deps
from handlers.guides import messages, use_cases


def register(app: AsyncApp, deps: Deps) -> None:
    outbox.register_kind(deps, use_cases.KIND, messages.GUIDE)
