"""Whether a channel may be the admin channel: summaries and alerts name stalled pairs, so it
must be private, in use, and one the bot is in.

Pure: the caller asks Slack (conversations.info) and passes what it said. The settings form
shows the text next to the field; start-up (MENTOR_ADMIN_CHANNEL) stops on a refused channel
and only warns about the rest, which an admin can fix without a restart.
"""

from __future__ import annotations

from dataclasses import dataclass

INVITE = "/invite @Reverse Mentor"
_PRIVATE_WHY = "summaries and alerts name stalled pairs, so the admin channel must be private"

# What went wrong -> (the settings form's field error, the start-up line about {setting}).
_TEXTS: dict[str, tuple[str, str]] = {
    "public": (
        f"This channel is public, but {_PRIVATE_WHY}: choose a private channel.",
        f"{{setting}} is a public channel, but {_PRIVATE_WHY}: set it to a private channel's "
        "ID, or leave it empty and choose one in /mentor admin settings.",
    ),
    "archived": (
        "This channel is archived, so summaries and alerts could not be posted there: choose "
        "a private channel in use.",
        "{setting} is an archived channel, so summaries and alerts could not be posted there: "
        "set it to a private channel in use.",
    ),
    # A private channel the bot is not in is invisible to it, exactly like a wrong ID.
    "invite": (
        f"Invite me first: {INVITE} in that channel, then save again.",
        f"I can't see the channel in {{setting}} or I'm not in it: type {INVITE} in it "
        "(summaries and alerts can't reach it until then), or check the ID.",
    ),
    "unanswered": (
        "Slack didn't answer, nothing was saved; press Save again.",
        "Slack didn't answer when I checked {setting} ({error}); starting anyway.",
    ),
    "unreadable": (
        "Slack wouldn't say what this channel is ({error}), so nothing was saved: reinstall "
        "the app from manifest.yml (it needs channels:read and groups:read), then save again.",
        "Slack wouldn't say what the channel in {setting} is ({error}): reinstall the app from "
        "manifest.yml (it needs channels:read and groups:read); starting anyway.",
    ),
}
_REFUSED = frozenset({"public", "archived"})


@dataclass(frozen=True)
class ChannelProblem:
    kind: str  # "public", "archived", "invite", "unanswered" or "unreadable"
    text: str  # what is wrong and what to do, for the admin

    @property
    def refused(self) -> bool:
        """The channel itself is unacceptable: no invitation or retry makes it do."""
        return self.kind in _REFUSED


def admin_channel_problem(
    *,
    is_private: bool | None = None,
    is_archived: bool | None = None,
    is_member: bool | None = None,
    error: str | None = None,
    transient: bool = False,
    setting: str | None = None,
) -> ChannelProblem | None:
    """What stops this channel from being the admin channel, or None if it will do.

    Pass what conversations.info said: the channel's flags, or Slack's `error` code when it
    failed (`transient` when Slack did not answer in time). `setting` names the environment
    variable the channel came from (start-up); without it the text is for the settings form.
    """
    if error is not None:
        if transient:
            kind = "unanswered"
        elif error == "channel_not_found":
            kind = "invite"
        else:
            kind = "unreadable"
    elif not is_private:
        kind = "public"
    elif is_archived:
        kind = "archived"
    elif is_member is False:
        kind = "invite"
    else:
        return None
    form, start_up = _TEXTS[kind]
    text = (start_up if setting else form).format(setting=setting, error=error)
    return ChannelProblem(kind=kind, text=text)
