"""File uploads, version 2: `files.getUploadURLExternal`, the upload itself (`server.py`
receives the bytes), then `files.completeUploadExternal` shares the file."""

from __future__ import annotations

from handlers.devkit.fake_slack.errors import _error, _invalid_arguments
from handlers.devkit.fake_slack.state import _State


class FilesMixin(_State):
    def _files_get_upload_url(self, params: dict) -> dict:
        filename, length = params.get("filename"), params.get("length")
        if not filename or length in (None, ""):
            return _invalid_arguments("missing required field: filename or length")
        try:
            size = int(length)
        except (TypeError, ValueError):
            return _invalid_arguments("length must be an integer [json-pointer:/length]")
        file_id = self._new_id("F")
        self.files[file_id] = {"id": file_id, "name": filename, "length": size, "content": None}
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, params: dict) -> dict:
        listed = params.get("files")
        if not isinstance(listed, list) or not listed:
            return _invalid_arguments("files must be a non-empty array [json-pointer:/files]")
        channel = None
        if params.get("channel_id"):
            channel = self._resolve_channel(params["channel_id"])
            if channel is None:
                return _error("channel_not_found")
            refused = self._refusal(channel)
            if refused is not None:
                return refused
        answered = []
        for entry in listed:
            file_id = entry.get("id") if isinstance(entry, dict) else None
            stored = self.files.get(file_id) if isinstance(file_id, str) else None
            if stored is None or stored["content"] is None:
                return _error("file_not_found")
        for entry in listed:
            stored = self.files[entry["id"]]
            if channel:  # a shared file shows in the channel's history as a message
                ts = self._new_ts()
                self.messages[(channel, ts)] = {
                    "type": "message",
                    "subtype": "file_share",
                    "text": params.get("initial_comment") or "",
                    "user": self.bot_user_id,
                    "ts": ts,
                    "files": [{"id": stored["id"], "name": stored["name"]}],
                    "reactions": {},
                }
            answered.append(
                {
                    "id": stored["id"],
                    "name": stored["name"],
                    "title": entry.get("title") or stored["name"],
                    "size": len(stored["content"]),
                    "user": self.bot_user_id,
                    "channels": [channel] if channel else [],
                }
            )
        return {"ok": True, "files": answered}
