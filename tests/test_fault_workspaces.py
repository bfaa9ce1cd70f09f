"""Two workspaces in one database: nothing of one is visible to, or sent into, the other."""

from __future__ import annotations

from sqlmodel import col, select

from handlers.core.scheduler import tick
from handlers.devkit.forms import SignupAnswers, filled, signup_state
from handlers.devkit.signing import command_body, interactive_body
from storage.models import OutboxMessage, Pair
from tests.test_summary import uploaded

T1, T2 = "T0001", "T0002"
PEOPLE = {
    T1: {
        "UJ1": SignupAnswers(role="junior", level="1", department="Finance", topics=("ai",)),
        "UL1": SignupAnswers(role="leader", level="6", department="Ops", topics=("ai",)),
    },
    T2: {
        "UJ9": SignupAnswers(role="junior", level="2", department="Sales", topics=("ai",)),
        "UL9": SignupAnswers(role="leader", level="5", department="Legal", topics=("ai",)),
        "UL8": SignupAnswers(role="leader", level="4", department="Risk", topics=("ai",)),
    },
}


async def command(bot, text: str, *, user: str, team: str):
    body = command_body(
        text=text,
        user_id=user,
        team_id=team,
        trigger_id=f"trig-{team}-{user}",
        response_url=bot.slack.response_url(f"{team}-{user}"),
    )
    response = await bot.post(body, content_type="application/x-www-form-urlencoded")
    return response.status, await response.json() if response.content_type.endswith(
        "json"
    ) else None


async def submit_view(bot, view: dict, *, user: str, team: str):
    payload = {
        "type": "view_submission",
        "team": {"id": team, "domain": team.lower()},
        "user": {"id": user, "team_id": team},
        "api_app_id": "A1",
        "token": "legacy-verification-token",
        "view": view,
    }
    response = await bot.post(
        interactive_body(payload), content_type="application/x-www-form-urlencoded"
    )
    return response.status, await response.json()


async def sign_up_everyone(bot) -> None:
    for team, people in PEOPLE.items():
        for user, answers in people.items():
            bot.slack.add_user(user, tz="Europe/London", team_id=team, real_name=f"Person {user}")
            await command(bot, "signup", user=user, team=team)
            view = bot.slack.calls_to("views.open")[-1].params["view"]
            status, body = await submit_view(
                bot, filled(view, signup_state(**answers)), user=user, team=team
            )
            assert body["response_action"] == "update", body


def pairs_of(bot, team: str) -> list[tuple[str, str]]:
    return bot.runtime.deps.db.run_sync(
        lambda s: [
            (p.mentor_id, p.mentee_id)
            for p in s.exec(select(Pair).where(Pair.team_id == team).order_by(col(Pair.id)))
        ]
    )


def text_of(body) -> str:
    return str(body)


def posted_channels(bot) -> set[str]:
    return {c.params["channel"] for c in bot.slack.calls_to("chat.postMessage")}


async def test_two_workspaces_share_a_database_and_nothing_else(bot, clock):
    await sign_up_everyone(bot)
    t1_people, t2_people = set(PEOPLE[T1]), set(PEOPLE[T2])

    # Head counts: each workspace counts its own.
    _, t1_counts = await command(bot, "admin participants", user="UADMIN", team=T1)
    _, t2_counts = await command(bot, "admin participants", user="UADMIN", team=T2)
    assert "*Junior*: 1 active" in text_of(t1_counts) and "*Leader*: 1 active" in text_of(t1_counts)
    assert "*Junior*: 1 active" in text_of(t2_counts) and "*Leader*: 2 active" in text_of(t2_counts)

    # Matching T1 pairs only T1 people and introduces only them.
    await command(bot, "admin match", user="UADMIN", team=T1)
    assert pairs_of(bot, T1) == [("UJ1", "UL1")]
    assert pairs_of(bot, T2) == []
    # (Each of the two also gets their preparation guide in their own DM.)
    assert posted_channels(bot) == {
        bot.slack.conversation_id("UJ1", "UL1"),
        bot.slack.conversation_id("UJ1"),
        bot.slack.conversation_id("UL1"),
    }

    # T2's people are not paired, whatever T1 did; T1's people are strangers in T2.
    _, status = await command(bot, "status", user="UJ9", team=T2)
    assert "UL1" not in text_of(status) and "UJ1" not in text_of(status)
    _, stranger = await command(bot, "status", user="UJ1", team=T2)
    _, unknown = await command(bot, "status", user="UNOBODY", team=T2)
    assert stranger == unknown  # signed up in T1 means nothing in T2

    # Matching T2 pairs within T2 (one leader stays waiting), never across.
    await command(bot, "admin match", user="UADMIN", team=T2)
    [t2_pair] = pairs_of(bot, T2)
    assert set(t2_pair) <= t2_people
    assert pairs_of(bot, T1) == [("UJ1", "UL1")]
    for call in bot.slack.calls_to("chat.postMessage"):
        mentioned = {u for u in t1_people | t2_people if u in call.params["text"]}
        assert mentioned <= t1_people or mentioned <= t2_people, call.params["text"]

    # A tick's prompts: each pair's prompt goes to its own group DM.
    clock.now = bot.runtime.deps.db.run_sync(
        lambda s: max(p.prompt_due_at for p in s.exec(select(Pair)))
    )
    await tick(bot.runtime.deps)
    await bot.settle()
    prompts = bot.runtime.deps.db.run_sync(
        lambda s: {
            (m.team_id, m.channel_id)
            for m in s.exec(select(OutboxMessage).where(OutboxMessage.kind == "prompt"))
        }
    )
    assert prompts == {
        (T1, bot.slack.conversation_id("UJ1", "UL1")),
        (T2, bot.slack.conversation_id(*t2_pair)),
    }

    # The Home tab shows the viewer's own workspace only.
    before = len(bot.slack.calls_to("views.publish"))
    for team, user in ((T1, "UL1"), (T2, "UL9")):
        await bot.post(
            _event({"type": "app_home_opened", "user": user, "tab": "home"}, team, f"Ev{user}"),
            content_type="application/json",
        )
    t1_home, t2_home = (str(c.params["view"]) for c in bot.slack.calls_to("views.publish")[before:])
    assert "UJ1" in t1_home and not any(u in t1_home for u in t2_people)
    assert not any(u in t2_home for u in t1_people)

    # Summaries and exports hold only the workspace they were asked in.
    _, t1_summary = await command(bot, "admin summary", user="UADMIN", team=T1)
    _, t2_summary = await command(bot, "admin summary", user="UADMIN", team=T2)
    assert t1_summary != t2_summary
    await command(bot, "admin export", user="UADMIN", team=T1)
    await command(bot, "admin export", user="UADMIN", team=T2)
    t1_csv, t2_csv = (data.decode() for data in uploaded(bot))
    assert "UJ1" in t1_csv and not any(u in t1_csv for u in t2_people)
    assert set(t2_pair) <= {u for u in t2_people if u in t2_csv}
    assert not any(u in t2_csv for u in t1_people)


def _event(event: dict, team: str, event_id: str) -> str:
    from handlers.devkit.signing import event_body

    return event_body(event, team_id=team, event_id=event_id)
