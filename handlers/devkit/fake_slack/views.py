"""Modals and the Home tab: `views.open`, `views.push`, `views.update`, `views.publish`."""

from __future__ import annotations

import copy
from typing import Any

from handlers.devkit.fake_slack.errors import _error, _invalid_arguments
from handlers.devkit.fake_slack.state import _State
from handlers.devkit.fake_slack.validation import validate_view


class ViewsMixin(_State):
    def _view_problem(self, params: dict, *, kind: str | None) -> tuple[dict | None, dict]:
        view = params.get("view")
        if view is None:
            return _invalid_arguments("missing required field: view"), {}
        errors = validate_view(view)
        if not errors and kind is not None and view.get("type") != kind:
            errors = [f"must be {kind} for this method [json-pointer:/view/type]"]
        if errors:
            return _invalid_arguments(*errors), {}
        return None, view

    def _store_view(self, view: dict, *, view_id: str | None = None) -> dict:
        previous = self.views.get(view_id or "")
        view_id = view_id or self._new_id("V")
        stored = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "blocks": view.get("blocks", []),
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "state": {"values": {}},
            "clear_on_close": False,
            "notify_on_close": False,
            "root_view_id": previous["root_view_id"] if previous else view_id,
            "previous_view_id": None,
            "app_id": "A1",
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        stored.update(view)
        stored.update(id=view_id, team_id=self.team_id, hash=self._new_hash())
        self.views[view_id] = stored
        return {"ok": True, "view": copy.deepcopy(stored)}

    def _external(self, external_id: Any) -> dict | None:
        for stored in self.views.values():
            if external_id and stored.get("external_id") == external_id:
                return stored
        return None

    def _open_view(self, params: dict) -> dict:
        if not params.get("trigger_id"):
            return _invalid_arguments("missing required field: trigger_id")
        problem, view = self._view_problem(params, kind="modal")
        if problem is not None:
            return problem
        if params["trigger_id"] == "expired":
            return _error("expired_trigger_id")
        if self._external(view.get("external_id")) is not None:
            return _error("duplicate_external_id")
        return self._store_view(view)

    def _views_open(self, params: dict) -> dict:
        return self._open_view(params)

    def _views_push(self, params: dict) -> dict:
        return self._open_view(params)

    def _views_update(self, params: dict) -> dict:
        view_id, external_id = params.get("view_id"), params.get("external_id")
        if not view_id and not external_id:
            return _invalid_arguments("missing required field: view_id or external_id")
        problem, view = self._view_problem(params, kind=None)
        if problem is not None:
            return problem
        stored = self.views.get(view_id) if view_id else self._external(external_id)
        if stored is not None and params.get("hash") and params["hash"] != stored["hash"]:
            return _error("hash_conflict")
        if stored is not None:
            view_id = stored["id"]
        if external_id and "external_id" not in view:
            view = dict(view, external_id=external_id)
        # Unknown ids are accepted: tests hand the bot views the fake never opened.
        return self._store_view(view, view_id=view_id or None)

    def _views_publish(self, params: dict) -> dict:
        user_id = params.get("user_id")
        if not user_id:
            return _invalid_arguments("missing required field: user_id")
        problem, view = self._view_problem(params, kind="home")
        if problem is not None:
            return problem
        view_id = self._home_ids.get(user_id)
        if view_id and params.get("hash") and params["hash"] != self.views[view_id]["hash"]:
            return _error("hash_conflict")
        answer = self._store_view(view, view_id=view_id)
        self._home_ids[user_id] = answer["view"]["id"]
        return answer
