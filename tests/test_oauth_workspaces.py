"""Two workspaces installed by OAuth in one database: nothing of one is read by, sent to, or
counted for the other, through signed requests and ticks: sign-ups, admins, matching, the
tick's prompts and weekly summaries, the Home tab and the export. Each workspace has its own
token, and the fake Slack refuses a token used about another workspace's people or
conversations, so a message sent with the wrong one fails this test."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import col, select

from handlers.core.scheduler import tick
from handlers.devkit.forms import filled, signup_state
from storage import program
from storage.models import Pair
from tests.kit.guides import is_guide, without_guides
from tests.test_settings_modal import settings_state
from tests.test_summary import block_text, uploaded

T1, T2 = "T0001", "T0002"
ADMINS = {T1: "UOWNER", T2: "UOWN9"}  # each workspace's owner: a program admin there
CHANNELS = {T1: "G1ADMIN", T2: "G2ADMIN"}
PEOPLE: dict[str, dict[str, dict[str, Any]]] = {
    T1: {
        "UJ1": dict(role="junior", level="1", department="Finance", topics=("ai",)),
        "UL1": dict(role="leader", level="6", department="Ops", topics=("ai",)),
    },
    T2: {
        "UJ9": dict(role="junior", level="2", department="Sales", topics=("ai",)),
        "UL9": dict(role="leader", level="5", department="Legal", topics=("ai",)),
        "UL8": dict(role="leader", level="4", department="Risk", topics=("ai",)),
    },
}
EVERYONE = {team: set(people) | {ADMINS[team]} for team, people in PEOPLE.items()}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def pairs_of(bot, team: str) -> list[tuple[str, str]]:
    return bot.runtime.deps.db.run_sync(
        lambda s: [
            (p.mentor_id, p.mentee_id)
            for p in s.exec(select(Pair).where(Pair.team_id == team).order_by(col(Pair.id)))
        ]
    )


def team_of_call(slack, call) -> set[str]:
    """The workspaces whose people or conversations a Web API call is about."""
    params = call.params
    refs = [params.get(k) for k in ("user", "user_id", "channel", "channel_id")]
    users = params.get("users")
    refs += users.split(",") if isinstance(users, str) else list(users or [])
    return {t for t in (slack._team_of(r) for r in refs) if t is not None}


async def set_up(bot, slack) -> None:
    slack.add_workspace(T2, name="Globex")
    slack.add_user("UOWN9", tz="Europe/London", team_id=T2, is_owner=True)
    for team, people in PEOPLE.items():
        for user in people:
            slack.add_user(user, tz="Europe/London", team_id=team, real_name=f"Person {user}")
        slack.add_channel(CHANNELS[team], is_private=True, team_id=team)
        await bot.install(team)
    for team, people in PEOPLE.items():
        for user, answers in people.items():
            await bot.command("signup", user=user, team=team)
            view = slack.calls_to("views.open")[-1].params["view"]
            _, body = await bot.submit_view(
                filled(view, signup_state(**answers)), user=user, team=team
            )
            assert body["response_action"] == "update", body


async def save_settings(bot, slack, team: str, **changes) -> dict:
    before = len(slack.calls_to("views.open"))
    status, _ = await bot.command(
        "admin settings", user=ADMINS[team], team=team, trigger_id=f"trig-{team}"
    )
    [opened] = slack.calls_to("views.open")[before:]
    view = opened.params["view"]
    assert "program_admins" in {b.get("block_id") for b in view["blocks"]}
    admins = changes.pop("program_admins", [])
    state = settings_state(admin_channel=CHANNELS[team], **changes)
    state["program_admins"] = {"value": {"type": "multi_users_select", "selected_users": admins}}
    _, body = await bot.submit_view(filled(view, state), user=ADMINS[team], team=team)
    assert body["response_action"] == "update", body
    return body


async def test_two_installed_workspaces_share_a_database_and_nothing_else(oauth_bot, slack, clock):
    bot = oauth_bot
    await set_up(bot, slack)
    tokens = {team: slack.grant_of(team).token for team in (T1, T2)}
    assert tokens[T1] != tokens[T2]

    # Each workspace's admin sets its own admin channel (checked with its own token) and its
    # own program admins: U2 is one in T1 only.
    await save_settings(bot, slack, T1, program_admins=["U2"])
    await save_settings(bot, slack, T2)
    saved = bot.runtime.deps.db.run_sync(
        lambda s: {t: program.get_program_settings(session=s, team_id=t) for t in (T1, T2)}
    )
    assert (saved[T1].admin_channel, saved[T1].program_admins) == (CHANNELS[T1], ("U2",))
    assert (saved[T2].admin_channel, saved[T2].program_admins) == (CHANNELS[T2], ())
    _, counted = await bot.command("admin participants", user="U2", team=T1)
    assert "*Junior*: 1 active" in str(counted)

    # Head counts: each workspace counts its own.
    _, t1_counts = await bot.command("admin participants", user=ADMINS[T1], team=T1)
    _, t2_counts = await bot.command("admin participants", user=ADMINS[T2], team=T2)
    assert "*Junior*: 1 active" in str(t1_counts) and "*Leader*: 1 active" in str(t1_counts)
    assert "*Junior*: 1 active" in str(t2_counts) and "*Leader*: 2 active" in str(t2_counts)

    # Matching pairs within a workspace, introduced with its own token.
    await bot.command("admin match", user=ADMINS[T1], team=T1)
    assert pairs_of(bot, T1) == [("UJ1", "UL1")] and pairs_of(bot, T2) == []
    await bot.command("admin match", user=ADMINS[T2], team=T2)
    [t2_pair] = pairs_of(bot, T2)
    assert set(t2_pair) <= set(PEOPLE[T2])
    intros = without_guides(slack.calls_to("chat.postMessage"))
    assert [(c.params["channel"], c.token) for c in intros] == [
        (slack.conversation_id("UJ1", "UL1"), tokens[T1]),
        (slack.conversation_id(*t2_pair), tokens[T2]),
    ]
    # Each person's preparation guide too, in their own DM, with their workspace's token.
    guides = [c for c in slack.calls_to("chat.postMessage") if is_guide(c)]
    assert sorted((c.params["channel"], c.token) for c in guides) == sorted(
        [(slack.conversation_id(user), tokens[T1]) for user in ("UJ1", "UL1")]
        + [(slack.conversation_id(user), tokens[T2]) for user in t2_pair]
    )
    _, stranger = await bot.command("status", user="UJ1", team=T2)
    _, unknown = await bot.command("status", user="UNOBODY", team=T2)
    assert stranger == unknown  # signed up in T1 means nothing in T2

    # The tick: each weekly summary counts its own workspace, in its own admin channel.
    clock.now = at("2026-03-02 10:00")
    await tick(bot.runtime.deps)  # first sight: next Monday 09:00 is planned
    clock.now = at("2026-03-09 09:00")
    await tick(bot.runtime.deps)
    await bot.settle()
    summaries = {
        c.params["channel"]: c
        for c in slack.calls_to("chat.postMessage")
        if c.params["channel"] in CHANNELS.values()
    }
    assert set(summaries) == set(CHANNELS.values())
    for team, expected in ((T1, 2), (T2, 3)):
        posted = summaries[CHANNELS[team]]
        assert posted.token == tokens[team]
        assert f"*Signed up*\n{expected}" in block_text(posted)
        assert "*Active pairs*\n1" in block_text(posted)
    charts = slack.calls_to("files.completeUploadExternal")
    assert {(c.params["channel_id"], c.token) for c in charts} == {
        (CHANNELS[T1], tokens[T1]),
        (CHANNELS[T2], tokens[T2]),
    }

    # The tick's prompts: each pair's to its own group DM, with its own workspace's token.
    clock.now = bot.runtime.deps.db.run_sync(
        lambda s: max(p.prompt_due_at for p in s.exec(select(Pair)))
    )
    before = len(slack.calls)
    await tick(bot.runtime.deps)
    await bot.settle()
    prompts = [c for c in slack.calls[before:] if c.method == "chat.postMessage"]
    assert {(c.params["channel"], c.token) for c in prompts} == {
        (slack.conversation_id("UJ1", "UL1"), tokens[T1]),
        (slack.conversation_id(*t2_pair), tokens[T2]),
    }

    # The Home tab shows the viewer's own workspace only, and is published with its token.
    before = len(slack.calls_to("views.publish"))
    for team, user in ((T1, "UL1"), (T2, "UOWN9")):
        await bot.event(
            {"type": "app_home_opened", "user": user, "tab": "home"},
            event_id=f"Ev{user}",
            team=team,
        )
    t1_home, t2_home = slack.calls_to("views.publish")[before:]
    assert (t1_home.token, t2_home.token) == (tokens[T1], tokens[T2])
    assert "UJ1" in str(t1_home.params["view"])
    assert not any(u in str(t1_home.params["view"]) for u in EVERYONE[T2])
    assert not any(u in str(t2_home.params["view"]) for u in EVERYONE[T1])
    assert "Active pairs" in str(t2_home.params["view"])  # the owner sees T2's program

    # Exports hold only the workspace they were asked in.
    before = len(uploaded(bot))
    await bot.command("admin export", user=ADMINS[T1], team=T1)
    await bot.command("admin export", user=ADMINS[T2], team=T2)
    t1_csv, t2_csv = (data.decode() for data in uploaded(bot)[before:])
    assert "UJ1" in t1_csv and not any(u in t1_csv for u in EVERYONE[T2])
    assert set(t2_pair) <= {u for u in PEOPLE[T2] if u in t2_csv}
    assert not any(u in t2_csv for u in EVERYONE[T1])

    # Every call the bot made was made with the token of the workspace it was about.
    by_token = {tokens[T1]: T1, tokens[T2]: T2}
    for call in slack.calls:
        if not call.path.startswith("/api/") or call.method == "oauth.v2.access":
            continue
        assert call.token in by_token, (call.method, call.token)
        assert team_of_call(slack, call) <= {by_token[call.token]}, (call.method, call.params)

    # A program admin of T1 is nobody in T2 (where Slack does not know them either).
    _, refused = await bot.command("admin participants", user="U2", team=T2)
    assert "*Junior*" not in str(refused) and "admin" in str(refused).lower()
