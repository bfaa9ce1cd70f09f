"""Block Kit's rules, block by block and element by element, as Slack enforces them.

`_Checker` collects Slack's complaints with the JSON pointer of each; `validation.py` runs it
over a whole message, modal or Home tab.
"""

from __future__ import annotations

from typing import Any

BLOCK_TYPES = frozenset(
    {
        "section",
        "divider",
        "image",
        "actions",
        "context",
        "input",
        "header",
        "rich_text",
        "file",
        "video",
    }
)
_SELECTS = frozenset(
    {
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
    }
)
_CHOICES = frozenset({"checkboxes", "radio_buttons", "datepicker", "timepicker", "datetimepicker"})
_TEXT_INPUTS = frozenset(
    {"plain_text_input", "email_text_input", "url_text_input", "number_input", "rich_text_input"}
)
ACTION_ELEMENTS = _SELECTS | _CHOICES | {"button", "overflow", "workflow_button"}
ACCESSORY_ELEMENTS = ACTION_ELEMENTS | {"image"}
INPUT_ELEMENTS = _SELECTS | _CHOICES | _TEXT_INPUTS | {"file_input"}
_SURFACE_MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(f"{message} [json-pointer:{path}]")

    def string(self, value: Any, path: str, *, max_len: int, min_len: int = 0) -> None:
        if not isinstance(value, str):
            self.fail(path, "must be a string")
        elif len(value) > max_len:
            self.fail(path, f"must be less than {max_len + 1} characters")
        elif len(value) < min_len:
            self.fail(path, f"must be more than {min_len - 1} characters")

    def optional(self, obj: dict, key: str, path: str, *, max_len: int) -> None:
        if key in obj:
            self.string(obj[key], f"{path}/{key}", max_len=max_len)

    def items(self, value: Any, path: str, *, max_items: int, min_items: int = 1) -> list:
        if not isinstance(value, list):
            self.fail(path, "must be an array")
            return []
        if len(value) > max_items:
            self.fail(path, f"must be less than {max_items + 1} items")
        if len(value) < min_items:
            self.fail(path, f"must be more than {min_items - 1} items")
        return value

    def text(self, obj: Any, path: str, *, max_len: int, plain_only: bool = False) -> None:
        if not isinstance(obj, dict):
            self.fail(path, "must provide an object")
            return
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        kind = obj.get("type")
        if kind not in allowed:
            self.fail(f"{path}/type", f"must be one of: {', '.join(allowed)}")
        if kind == "mrkdwn" and "emoji" in obj:
            self.fail(f"{path}/emoji", "invalid additional property: emoji")
        self.string(obj.get("text"), f"{path}/text", max_len=max_len, min_len=1)

    def optional_text(
        self, obj: dict, key: str, path: str, *, max_len: int, plain_only=True
    ) -> None:
        if key in obj:
            self.text(obj[key], f"{path}/{key}", max_len=max_len, plain_only=plain_only)

    def required_text(
        self, obj: dict, key: str, path: str, *, max_len: int, plain_only=True
    ) -> None:
        if key not in obj:
            self.fail(path, f"missing required field: {key}")
        else:
            self.text(obj[key], f"{path}/{key}", max_len=max_len, plain_only=plain_only)

    def confirm(self, obj: dict, path: str) -> None:
        if "confirm" not in obj:
            return
        dialog, path = obj["confirm"], f"{path}/confirm"
        if not isinstance(dialog, dict):
            self.fail(path, "must provide an object")
            return
        self.required_text(dialog, "title", path, max_len=100)
        self.required_text(dialog, "text", path, max_len=300, plain_only=False)
        self.required_text(dialog, "confirm", path, max_len=30)
        self.required_text(dialog, "deny", path, max_len=30)

    def options(self, el: dict, path: str, *, max_items: int, plain_only: bool) -> None:
        values: set = set()
        groups = el.get("option_groups")
        if groups is not None:
            listed = []
            for g, group in enumerate(self.items(groups, f"{path}/option_groups", max_items=100)):
                if isinstance(group, dict):
                    self.required_text(group, "label", f"{path}/option_groups/{g}", max_len=75)
                    listed.append((f"{path}/option_groups/{g}/options", group.get("options")))
        elif "options" in el or el["type"] in ("static_select", "multi_static_select"):
            listed = [(f"{path}/options", el.get("options"))]
        else:
            listed = []
        for options_path, options in listed:
            for o, option in enumerate(self.items(options, options_path, max_items=max_items)):
                opath = f"{options_path}/{o}"
                if not isinstance(option, dict):
                    self.fail(opath, "must provide an object")
                    continue
                self.required_text(option, "text", opath, max_len=75, plain_only=plain_only)
                self.string(option.get("value"), f"{opath}/value", max_len=150, min_len=1)
                self.optional_text(option, "description", opath, max_len=75, plain_only=plain_only)
                values.add(option.get("value"))
        if not listed:
            return
        # Slack refuses an initial choice that is not one of the options offered.
        initial = [el["initial_option"]] if isinstance(el.get("initial_option"), dict) else []
        initial += [o for o in el.get("initial_options") or [] if isinstance(o, dict)]
        for chosen in initial:
            if chosen.get("value") not in values:
                self.fail(f"{path}/initial_option", "must match one of the provided options")

    def element(self, el: Any, path: str, allowed: frozenset[str]) -> None:
        if not isinstance(el, dict):
            self.fail(path, "must provide an object")
            return
        kind = el.get("type")
        if kind not in allowed:
            self.fail(f"{path}/type", f"unsupported element type: {kind}")
            return
        self.optional(el, "action_id", path, max_len=255)
        self.optional_text(el, "placeholder", path, max_len=150)
        self.confirm(el, path)
        if kind in ("button", "workflow_button"):
            self.required_text(el, "text", path, max_len=75)
            self.optional(el, "value", path, max_len=2000)
            self.optional(el, "url", path, max_len=3000)
            if "style" in el and el["style"] not in ("primary", "danger"):
                self.fail(f"{path}/style", "must be one of: primary, danger")
        elif kind == "image":
            self.image(el, path)
        elif kind == "overflow":
            self.options(el, path, max_items=5, plain_only=True)
        elif kind in ("radio_buttons", "checkboxes"):
            self.options(el, path, max_items=10, plain_only=False)
        elif kind in _SELECTS:
            self.options(el, path, max_items=100, plain_only=True)
        elif kind in _TEXT_INPUTS:
            for key in ("min_length", "max_length"):
                if key in el and not (isinstance(el[key], int) and 0 <= el[key] <= 3000):
                    self.fail(f"{path}/{key}", "must be an integer between 0 and 3000")

    def image(self, obj: dict, path: str) -> None:
        if "image_url" in obj:
            self.string(obj["image_url"], f"{path}/image_url", max_len=3000, min_len=1)
        elif "slack_file" not in obj:
            self.fail(path, "must provide either image_url or slack_file")
        if "alt_text" not in obj:
            self.fail(path, "missing required field: alt_text")
        else:
            self.string(obj["alt_text"], f"{path}/alt_text", max_len=2000, min_len=1)

    def block(self, block: Any, path: str) -> None:
        if not isinstance(block, dict):
            self.fail(path, "must provide an object")
            return
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            self.fail(f"{path}/type", f"unsupported block type: {kind}")
            return
        if kind == "section":
            if "text" not in block and "fields" not in block:
                self.fail(path, "must provide either text or fields")
            self.optional_text(block, "text", path, max_len=3000, plain_only=False)
            if "fields" in block:
                fields = self.items(block["fields"], f"{path}/fields", max_items=10)
                for f, field in enumerate(fields):
                    self.text(field, f"{path}/fields/{f}", max_len=2000)
            if "accessory" in block:
                self.element(block["accessory"], f"{path}/accessory", ACCESSORY_ELEMENTS)
        elif kind == "header":
            self.required_text(block, "text", path, max_len=150)
        elif kind == "image":
            self.image(block, path)
            self.optional_text(block, "title", path, max_len=2000)
        elif kind == "actions":
            elements = self.items(block.get("elements"), f"{path}/elements", max_items=25)
            for e, element in enumerate(elements):
                self.element(element, f"{path}/elements/{e}", ACTION_ELEMENTS)
        elif kind == "context":
            elements = self.items(block.get("elements"), f"{path}/elements", max_items=10)
            for e, element in enumerate(elements):
                epath = f"{path}/elements/{e}"
                if isinstance(element, dict) and element.get("type") == "image":
                    self.image(element, epath)
                else:
                    self.text(element, epath, max_len=3000)
        elif kind == "input":
            self.required_text(block, "label", path, max_len=2000)
            self.optional_text(block, "hint", path, max_len=2000)
            if "element" not in block:
                self.fail(path, "missing required field: element")
            else:
                self.element(block["element"], f"{path}/element", INPUT_ELEMENTS)
        elif kind == "rich_text":
            self.items(block.get("elements"), f"{path}/elements", max_items=100, min_items=0)
        elif kind == "file":
            for key in ("external_id", "source"):
                if key not in block:
                    self.fail(path, f"missing required field: {key}")
        elif kind == "video":
            self.required_text(block, "title", path, max_len=200)
            for key in ("alt_text", "thumbnail_url", "video_url"):
                if key not in block:
                    self.fail(path, f"missing required field: {key}")
