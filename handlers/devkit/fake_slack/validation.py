"""Block Kit validation of a whole surface (message, modal, Home tab), and of a message's
payload: plain functions, so tests can check the checker itself."""

from __future__ import annotations

from typing import Any

from handlers.devkit.fake_slack.blocks import _SURFACE_MAX_BLOCKS, _Checker
from handlers.devkit.fake_slack.errors import _error, _invalid_blocks

MESSAGE_TEXT_MAX = 40000


def validate_blocks(blocks: Any, *, surface: str = "message", path: str = "/blocks") -> list[str]:
    """Slack's complaints about `blocks` on a surface ("message", "modal" or "home"); [] if fine."""
    if surface not in _SURFACE_MAX_BLOCKS:
        raise ValueError(f"unknown surface {surface!r}")
    check = _Checker()
    listed = check.items(blocks, path, max_items=_SURFACE_MAX_BLOCKS[surface], min_items=0)
    seen: set[str] = set()
    for index, block in enumerate(listed):
        bpath = f"{path}/{index}"
        if isinstance(block, dict) and "block_id" in block:
            block_id = block["block_id"]
            check.string(block_id, f"{bpath}/block_id", max_len=255, min_len=1)
            if block_id in seen:
                check.fail(f"{bpath}/block_id", f"duplicate block_id: {block_id}")
            if isinstance(block_id, str):
                seen.add(block_id)
        check.block(block, bpath)
    return check.errors


def validate_view(view: Any) -> list[str]:
    """Slack's complaints about a modal or Home tab view; [] if fine."""
    check = _Checker()
    path = "/view"
    if not isinstance(view, dict):
        check.fail(path, "must provide an object")
        return check.errors
    kind = view.get("type")
    if kind not in ("modal", "home"):
        check.fail(f"{path}/type", "must be one of: modal, home")
        kind = "modal"
    if kind == "modal":
        check.required_text(view, "title", path, max_len=24)
    else:
        check.optional_text(view, "title", path, max_len=24)
    check.optional_text(view, "submit", path, max_len=24)
    check.optional_text(view, "close", path, max_len=24)
    check.optional(view, "callback_id", path, max_len=255)
    check.optional(view, "private_metadata", path, max_len=3000)
    check.optional(view, "external_id", path, max_len=255)
    if "blocks" not in view:
        check.fail(path, "missing required field: blocks")
        return check.errors
    errors = check.errors + validate_blocks(view["blocks"], surface=kind, path=f"{path}/blocks")
    blocks = view["blocks"] if isinstance(view["blocks"], list) else []
    has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
    if kind == "modal" and has_input and "submit" not in view:
        errors.append(f"must provide submit when blocks contain an input [json-pointer:{path}]")
    return errors


def _has_content(params: dict) -> bool:
    return bool(params.get("text") or params.get("blocks") or params.get("attachments"))


def _message_problem(params: dict, *, surface: str) -> dict | None:
    if "blocks" in params:
        errors = validate_blocks(params["blocks"], surface=surface)
        if errors:
            return _invalid_blocks(errors)
    text = params.get("text")
    if isinstance(text, str) and len(text) > MESSAGE_TEXT_MAX:
        return _error("msg_too_long")
    return None
