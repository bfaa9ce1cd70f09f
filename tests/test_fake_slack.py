"""The offline Slack kit: the fake Web API answers the real slack_sdk client as Slack would."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import parse_qs

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from handlers.devkit.fake_slack import FakeSlack, validate_blocks, validate_view
from handlers.devkit.signing import (
    command_body,
    event_body,
    interactive_body,
    signed_headers,
    slack_signature,
)

TOKEN = "xoxb-kit-token"


@pytest.fixture
async def fake():
    async with FakeSlack(token=TOKEN, team_id="T0001") as slack:
        slack.add_user("U1", tz="Europe/London", title="Data analyst", real_name="Ada Lovelace")
        slack.add_user("U2", tz="America/New_York", tz_offset=-18000)
        slack.add_user("UGONE", deleted=True)
        yield slack


@pytest.fixture
def client(fake):
    return AsyncWebClient(token=TOKEN, base_url=fake.api_url, retry_handlers=[])


def _modal(title: str = "Sign up", **extra) -> dict:
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}],
    }
    view.update(extra)
    return view


def _section(text: str = "hello", **extra) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


async def test_auth_test_identifies_the_bot(fake, client):
    response = await client.auth_test()
    assert response["ok"] is True
    assert (response["team_id"], response["user_id"], response["bot_id"]) == (
        "T0001",
        "UBOT",
        "BBOT",
    )
    [call] = fake.calls_to("auth.test")
    assert call.token == TOKEN and call.path == "/api/auth.test"


async def test_wrong_or_missing_token_is_refused_and_still_recorded(fake):
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=fake.api_url, retry_handlers=[])
    with pytest.raises(SlackApiError) as caught:
        await wrong.auth_test()
    assert caught.value.response["error"] == "invalid_auth"
    anonymous = AsyncWebClient(base_url=fake.api_url, retry_handlers=[])
    with pytest.raises(SlackApiError) as caught:
        await anonymous.auth_test()
    assert caught.value.response["error"] == "not_authed"
    assert [c.token for c in fake.calls_to("auth.test")] == ["xoxb-wrong", None]


async def test_token_can_come_as_a_parameter(fake):
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{fake.api_url}auth.test", data={"token": TOKEN}) as response:
            assert (await response.json())["ok"] is True
    assert fake.calls[-1].token == TOKEN and "token" not in fake.calls[-1].params


async def test_users_info_found_and_not_found(client):
    user = (await client.users_info(user="U1"))["user"]
    assert user["id"] == "U1" and user["tz"] == "Europe/London"
    assert user["profile"]["title"] == "Data analyst"
    assert user["real_name"] == "Ada Lovelace" and user["is_bot"] is False
    with pytest.raises(SlackApiError) as caught:
        await client.users_info(user="UNOBODY")
    assert caught.value.response["error"] == "user_not_found"


async def test_users_info_reflects_edits_to_the_stored_user(fake, client):
    fake.users["U2"]["deleted"] = True
    assert (await client.users_info(user="U2"))["user"]["deleted"] is True


async def test_conversations_open_is_deterministic_and_order_insensitive(fake, client):
    dm = (await client.conversations_open(users="U1"))["channel"]["id"]
    assert dm.startswith("D") and dm == fake.conversation_id("U1")
    again = await client.conversations_open(users=["U1"])
    assert again["channel"]["id"] == dm and again["already_open"] is True
    group = (await client.conversations_open(users="U1,U2"))["channel"]["id"]
    assert group.startswith("G") and group != dm
    reversed_group = await client.conversations_open(users=["U2", "U1"])
    assert reversed_group["channel"]["id"] == group


async def test_conversations_open_refuses_unknown_and_deactivated_users(client):
    with pytest.raises(SlackApiError) as caught:
        await client.conversations_open(users="U1,UNOBODY")
    assert caught.value.response["error"] == "user_not_found"
    with pytest.raises(SlackApiError) as caught:
        await client.conversations_open(users="UGONE")
    assert caught.value.response["error"] == "user_disabled"


async def test_post_then_react_then_already_reacted(fake, client):
    posted = await client.chat_postMessage(channel="U1", text="Welcome", blocks=[_section()])
    assert posted["channel"] == fake.conversation_id("U1")
    assert posted["message"]["user"] == "UBOT" and posted["message"]["bot_id"] == "BBOT"
    assert posted["message"]["ts"] == posted["ts"]
    await client.reactions_add(channel=posted["channel"], timestamp=posted["ts"], name="wave")
    with pytest.raises(SlackApiError) as caught:
        await client.reactions_add(channel=posted["channel"], timestamp=posted["ts"], name="wave")
    assert caught.value.response["error"] == "already_reacted"
    with pytest.raises(SlackApiError) as caught:
        await client.reactions_add(channel=posted["channel"], timestamp="1.000001", name="wave")
    assert caught.value.response["error"] == "message_not_found"
    [call] = fake.calls_to("chat.postMessage")
    assert call.params["blocks"] == [_section()]


async def test_message_timestamps_are_unique_and_increasing(fake, client):
    fake.add_channel("C1")
    stamps = [(await client.chat_postMessage(channel="C1", text=str(i)))["ts"] for i in range(3)]
    assert stamps == sorted(stamps, key=float) and len(set(stamps)) == 3


async def test_post_message_refusals(client):
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel="CNOWHERE", text="hi")
    assert caught.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as caught:
        await client.api_call("chat.postMessage", json={"channel": "U1"})
    assert caught.value.response["error"] == "no_text"
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel="U1", text="x" * 40001)
    assert caught.value.response["error"] == "msg_too_long"


async def test_fifty_one_blocks_are_invalid_blocks(fake, client):
    blocks = [{"type": "divider"} for _ in range(51)]
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel="U1", text="t", blocks=blocks)
    response = caught.value.response
    assert response["error"] == "invalid_blocks"
    assert response["response_metadata"]["messages"][0].startswith("[ERROR] ")
    assert "[json-pointer:/blocks]" in response["errors"][0]
    await client.chat_postMessage(channel="U1", text="t", blocks=blocks[:50])


async def test_form_encoded_blocks_are_decoded_and_validated(fake, client):
    fake.add_channel("C1")
    blocks = [_section(block_id="a"), _section(block_id="a")]
    with pytest.raises(SlackApiError) as caught:
        await client.api_call(
            "chat.postMessage", data={"channel": "C1", "blocks": json.dumps(blocks)}
        )
    assert caught.value.response["error"] == "invalid_blocks"
    assert "duplicate block_id" in caught.value.response["errors"][0]
    assert fake.calls[-1].params["blocks"] == blocks


async def test_multipart_parameters_are_decoded(fake):
    fake.add_channel("C1")
    form = aiohttp.FormData()
    form.add_field("channel", "C1")
    form.add_field("text", "hi")
    form.add_field("file", b"bytes", filename="a.txt")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as session:
        url = f"{fake.api_url}chat.postMessage"
        async with session.post(url, data=form, headers=headers) as response:
            assert (await response.json())["ok"] is True
    assert fake.calls[-1].params == {"channel": "C1", "text": "hi", "file": b"bytes"}


async def test_chat_update_needs_an_existing_message(fake, client):
    posted = await client.chat_postMessage(channel="U1", text="v1")
    updated = await client.chat_update(channel=posted["channel"], ts=posted["ts"], text="v2")
    assert updated["text"] == "v2" and updated["message"]["text"] == "v2"
    with pytest.raises(SlackApiError) as caught:
        await client.chat_update(channel=posted["channel"], ts="1.000001", text="v3")
    assert caught.value.response["error"] == "message_not_found"


async def test_post_ephemeral_answers_a_message_ts(fake, client):
    fake.add_channel("C1")
    response = await client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert response["message_ts"]
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postEphemeral(channel="C1", user="UNOBODY", text="nobody")
    assert caught.value.response["error"] == "user_not_found"


async def test_views_open_with_a_long_title_is_invalid_arguments(fake, client):
    with pytest.raises(SlackApiError) as caught:
        await client.views_open(trigger_id="t1", view=_modal("x" * 30))
    assert caught.value.response["error"] == "invalid_arguments"
    [message] = caught.value.response["response_metadata"]["messages"]
    assert message.startswith("[ERROR]") and "/view/title/text" in message
    opened = await client.views_open(trigger_id="t1", view=_modal("x" * 24))
    assert opened["view"]["id"].startswith("V") and opened["view"]["hash"]
    assert fake.calls_to("views.open")[-1].params["view"]["title"]["text"] == "x" * 24


async def test_views_open_with_an_expired_trigger(client):
    with pytest.raises(SlackApiError) as caught:
        await client.views_open(trigger_id="expired", view=_modal())
    assert caught.value.response["error"] == "expired_trigger_id"


async def test_views_update_keeps_the_id_and_checks_the_hash(client):
    opened = (await client.views_open(trigger_id="t1", view=_modal()))["view"]
    updated = await client.views_update(view_id=opened["id"], view=_modal("Step 2"))
    assert updated["view"]["id"] == opened["id"] and updated["view"]["hash"] != opened["hash"]
    with pytest.raises(SlackApiError) as caught:
        await client.views_update(view_id=opened["id"], hash=opened["hash"], view=_modal())
    assert caught.value.response["error"] == "hash_conflict"


async def test_views_publish_keeps_one_home_per_user(client):
    home = {"type": "home", "blocks": [_section()]}
    first = await client.views_publish(user_id="U1", view=home)
    second = await client.views_publish(user_id="U1", view=home)
    assert first["view"]["id"] == second["view"]["id"]
    assert first["view"]["type"] == "home" and first["view"]["team_id"] == "T0001"
    with pytest.raises(SlackApiError) as caught:
        await client.views_publish(user_id="U1", view=_modal())
    assert caught.value.response["error"] == "invalid_arguments"


async def test_rate_limit_carries_retry_after(fake, client):
    fake.fail_next("users.info", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as caught:
        await client.users_info(user="U1")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "7"
    assert caught.value.response["error"] == "ratelimited"
    assert (await client.users_info(user="U1"))["ok"] is True
    assert len(fake.calls_to("users.info")) == 2


async def test_server_error_then_recovery(fake, client):
    fake.fail_next("auth.test", status=500, times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as caught:
            await client.auth_test()
        assert caught.value.response.status_code == 500
        assert isinstance(caught.value.response.data, str)  # a gateway's text page, not JSON
    assert (await client.auth_test())["ok"] is True
    fake.fail_next("auth.test", status=503, times=3)
    fake.clear_failures()
    assert (await client.auth_test())["ok"] is True


async def test_injected_slack_error_with_status_200(fake, client):
    fake.fail_next("chat.postMessage", status=200, error="channel_not_found")
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel="U1", text="hi")
    assert caught.value.response.status_code == 200
    assert caught.value.response["error"] == "channel_not_found"
    with pytest.raises(ValueError):
        fake.fail_next("chat.postMessage", status=200)


async def test_unknown_method(client):
    with pytest.raises(SlackApiError) as caught:
        await client.api_call("admin.users.remove", json={"user_id": "U1"})
    assert caught.value.response["error"] == "unknown_method"


async def test_file_upload_v2_round_trip(fake, client):
    fake.add_channel("C1")
    response = await client.files_upload_v2(
        channel="C1", content="a,b\n1,2\n", filename="report.csv", title="Report"
    )
    assert response["file"]["name"] == "report.csv" and response["file"]["title"] == "Report"
    assert response["file"]["channels"] == ["C1"]
    [upload] = fake.calls_to("upload")
    assert fake.files[upload.params["file_id"]]["content"] == b"a,b\n1,2\n"
    [complete] = fake.calls_to("files.completeUploadExternal")
    assert complete.params["files"][0]["id"] == upload.params["file_id"]


async def test_response_url_posts_are_recorded(fake):
    url = fake.response_url("cmd7")
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"text": "done", "replace_original": True}) as ok:
            assert ok.status == 200
        bad = {"blocks": [{"type": "nonsense"}]}
        async with session.post(url, json=bad) as refused:
            assert refused.status == 400
            assert (await refused.json())["error"] == "invalid_blocks"
    first, second = fake.calls_to("response_url")
    assert first.params == {"text": "done", "replace_original": True}
    assert first.path == "/response/cmd7" and first.token is None
    assert second.params == bad


async def test_response_url_failure_injection(fake):
    fake.fail_next("response_url", status=503)
    async with aiohttp.ClientSession() as session:
        async with session.post(fake.response_url(), json={"text": "x"}) as response:
            assert response.status == 503
        async with session.post(fake.response_url(), json={"text": "x"}) as response:
            assert response.status == 200


async def test_clear_calls(fake, client):
    await client.auth_test()
    fake.clear_calls()
    assert fake.calls == []


def test_validate_blocks_limits():
    assert validate_blocks([_section()], surface="message") == []
    assert validate_blocks("[]", surface="message") == ["must be an array [json-pointer:/blocks]"]
    assert validate_blocks([{"type": "divider"}] * 100, surface="modal") == []
    assert validate_blocks([{"type": "divider"}] * 101, surface="home")
    [error] = validate_blocks([_section("x" * 3001)], surface="message")
    assert error == "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    fields = [{"type": "plain_text", "text": "f"}] * 11
    assert validate_blocks([{"type": "section", "fields": fields}], surface="message")
    header = {"type": "header", "text": {"type": "mrkdwn", "text": "h"}}
    assert validate_blocks([header], surface="message")  # headers are plain_text only
    button = {"type": "button", "text": {"type": "plain_text", "text": "b" * 76}, "action_id": "a"}
    [error] = validate_blocks([{"type": "actions", "elements": [button]}], surface="message")
    assert "/blocks/0/elements/0/text/text" in error
    context = {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}
    assert validate_blocks([context], surface="message")
    assert validate_blocks([_section(block_id="b" * 256)], surface="message")
    assert validate_blocks(
        [{"type": "input", "label": {"type": "plain_text", "text": "L"}}], surface="modal"
    )


def test_validate_blocks_checks_initial_option_is_offered():
    option = {"text": {"type": "plain_text", "text": "One"}, "value": "1"}
    select: dict[str, object] = {"type": "static_select", "action_id": "s", "options": [option]}
    block = {"type": "input", "label": {"type": "plain_text", "text": "Pick"}, "element": select}
    assert validate_blocks([block], surface="modal") == []
    select["initial_option"] = {"text": {"type": "plain_text", "text": "Two"}, "value": "2"}
    assert validate_blocks([block], surface="modal")


def test_validate_view_rules():
    assert validate_view(_modal()) == []
    assert validate_view({"type": "home", "blocks": []}) == []
    assert validate_view({"type": "dialog", "blocks": []})
    assert validate_view({"type": "modal", "blocks": []})  # a modal needs a title
    assert validate_view(_modal(submit={"type": "plain_text", "text": "s" * 25}))
    assert validate_view(_modal(private_metadata="m" * 3001))
    assert validate_view(_modal(callback_id="c" * 256))
    text_input = {"type": "plain_text_input", "action_id": "v"}
    input_block = {
        "type": "input",
        "label": {"type": "plain_text", "text": "L"},
        "element": text_input,
    }
    assert validate_view(_modal(blocks=[input_block]))  # input without a submit button
    assert (
        validate_view(_modal(blocks=[input_block], submit={"type": "plain_text", "text": "Go"}))
        == []
    )


def test_signature_matches_slack_sdk_verifier():
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    body = command_body(text="signup", response_url="https://hooks.example/1")
    now = int(time.time())
    headers = signed_headers(secret, body, timestamp=now)
    verifier = SignatureVerifier(secret)
    assert verifier.is_valid(
        body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )
    assert verifier.is_valid_request(body, headers)
    assert verifier.generate_signature(timestamp=str(now), body=body) == slack_signature(
        secret, str(now), body
    )
    assert not SignatureVerifier("another-secret").is_valid_request(body, headers)


def test_request_bodies_look_like_slack_sends_them():
    fields = parse_qs(command_body(text="help me", user_id="U9", trigger_id="t9"))
    assert fields["command"] == ["/mentor"] and fields["text"] == ["help me"]
    assert fields["user_id"] == ["U9"] and "enterprise_id" not in fields
    payload = {"type": "block_actions", "actions": [{"action_id": "a&b"}]}
    assert json.loads(parse_qs(interactive_body(payload))["payload"][0]) == payload
    envelope = json.loads(event_body({"type": "app_home_opened"}, event_id="Ev9", event_time=5))
    assert envelope["type"] == "event_callback" and envelope["event_id"] == "Ev9"
    assert envelope["authorizations"] == [
        {
            "enterprise_id": None,
            "team_id": "T0001",
            "user_id": "UBOT",
            "is_bot": True,
            "is_enterprise_install": False,
        }
    ]


# --- Socket Mode ------------------------------------------------------------------------------


def _slash_payload(text: str = "help") -> dict:
    return {"command": "/mentor", "text": text, "user_id": "U1", "team_id": "T0001"}


async def test_apps_connections_open_takes_only_the_app_token(fake):
    web_client = AsyncWebClient(base_url=fake.api_url, retry_handlers=[])
    opened = await web_client.apps_connections_open(app_token=fake.app_token)
    assert opened["url"] == fake.socket_url
    assert opened["url"].startswith("ws://127.0.0.1:") and opened["url"].endswith("/socket-mode")
    with pytest.raises(SlackApiError) as caught:
        await web_client.apps_connections_open(app_token=TOKEN)
    assert caught.value.response["error"] == "invalid_auth"
    async with aiohttp.ClientSession() as session:
        url = f"{fake.api_url}apps.connections.open"
        async with session.post(url, data={"token": fake.app_token}) as response:
            assert (await response.json())["ok"] is True
    # The app token is good for nothing else.
    with pytest.raises(SlackApiError) as caught:
        await AsyncWebClient(token=fake.app_token, base_url=fake.api_url).auth_test()
    assert caught.value.response["error"] == "invalid_auth"
    tokens = [c.token for c in fake.calls_to("apps.connections.open")]
    assert tokens == [fake.app_token, TOKEN, fake.app_token]


async def test_socket_mode_round_trip_with_the_sdk_client(fake):
    from slack_sdk.socket_mode.aiohttp import SocketModeClient
    from slack_sdk.socket_mode.response import SocketModeResponse

    seen: list[dict] = []

    async def record(_client, message: dict, _raw) -> None:
        seen.append(message)

    async def answer(client, request) -> None:
        reply = {"text": f"you said {request.payload['text']}"}
        await client.send_socket_mode_response(
            SocketModeResponse(envelope_id=request.envelope_id, payload=reply)
        )

    client = SocketModeClient(
        app_token=fake.app_token,
        web_client=AsyncWebClient(base_url=fake.api_url, retry_handlers=[]),
        auto_reconnect_enabled=False,
    )
    client.message_listeners.append(record)
    client.socket_mode_request_listeners.append(answer)
    try:
        await client.connect()
        await fake.socket_connected(timeout=5)
        assert fake.socket_clients == 1
        envelope_id = await fake.socket_send("slash_commands", _slash_payload("hi"))
        ack = await fake.socket_ack(envelope_id, timeout=5)
        assert ack == {"envelope_id": envelope_id, "payload": {"text": "you said hi"}}
        hello, envelope = seen
        assert hello["type"] == "hello" and hello["connection_info"] == {"app_id": "A1"}
        assert hello["num_connections"] == 1 and "debug_info" in hello
        assert envelope == {
            "envelope_id": envelope_id,
            "type": "slash_commands",
            "payload": _slash_payload("hi"),
            "accepts_response_payload": True,
        }
        assert fake.socket_sent == [envelope]
    finally:
        await client.close()
    await fake.socket_disconnected(timeout=5)
    assert fake.socket_clients == 0


async def test_socket_answers_ping_frames_and_records_bare_acks(fake):
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(fake.socket_url, autoping=False) as ws,
    ):
        assert (await ws.receive_json(timeout=5))["type"] == "hello"
        await ws.ping(b"sdk-ping-pong:1.5")
        pong = await ws.receive(timeout=5)
        assert pong.type == aiohttp.WSMsgType.PONG and pong.data == b"sdk-ping-pong:1.5"
        envelope_id = await fake.socket_send(
            "events_api",
            {"event": {"type": "app_home_opened"}},
            envelope_id="e-7",
            accepts_response_payload=False,
        )
        sent = await ws.receive_json(timeout=5)
        assert sent["envelope_id"] == envelope_id == "e-7"
        assert sent["accepts_response_payload"] is False
        await ws.send_str("not json")
        await ws.send_json({"envelope_id": "e-7"})
        assert await fake.socket_ack("e-7", timeout=5) == {"envelope_id": "e-7"}
    assert fake.socket_acks == [{"envelope_id": "e-7"}]


async def test_socket_send_needs_a_client_and_ack_waits_are_bounded(fake):
    with pytest.raises(RuntimeError):
        await fake.socket_send("slash_commands", _slash_payload())
    with pytest.raises(TimeoutError):
        await fake.socket_connected(timeout=0.05)
    with pytest.raises(TimeoutError):
        await fake.socket_ack("never-sent", timeout=0.05)


async def test_stopping_the_fake_closes_open_websockets():
    fake = FakeSlack(token=TOKEN)
    await fake.start()
    try:
        async with aiohttp.ClientSession() as session, session.ws_connect(fake.socket_url) as ws:
            await ws.receive_json(timeout=5)
            await fake.socket_connected(timeout=5)
            async with asyncio.timeout(5):
                await fake.stop()
            closed = await ws.receive(timeout=5)
            assert closed.type == aiohttp.WSMsgType.CLOSE
            assert closed.data == aiohttp.WSCloseCode.GOING_AWAY
    finally:
        await fake.stop()


async def test_conversations_info_tells_private_archived_and_membership(fake, client):
    fake.add_channel("CPUB", name="general")
    fake.add_channel("CPRIV", is_private=True)
    fake.add_channel("COLD", is_private=True, is_archived=True)
    fake.add_channel("COUT", is_private=True, bot_is_member=False)
    fake.add_channel("CPUBOUT", bot_is_member=False)

    def flags(answer) -> tuple:
        channel = answer["channel"]
        return channel["is_private"], channel["is_archived"], channel["is_member"]

    assert flags(await client.conversations_info(channel="CPUB")) == (False, False, True)
    assert flags(await client.conversations_info(channel="CPRIV")) == (True, False, True)
    assert flags(await client.conversations_info(channel="COLD")) == (True, True, True)
    # A public channel is visible to a bot that is not in it; a private one is not.
    assert flags(await client.conversations_info(channel="CPUBOUT")) == (False, False, False)
    for hidden in ("COUT", "CNOWHERE"):
        with pytest.raises(SlackApiError) as caught:
            await client.conversations_info(channel=hidden)
        assert caught.value.response["error"] == "channel_not_found"
    dm = (await client.conversations_open(users="U1,U2"))["channel"]["id"]
    answer = await client.conversations_info(channel=dm)
    assert answer["channel"]["is_mpim"] is True and answer["channel"]["is_private"] is True
