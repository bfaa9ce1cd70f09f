"""`python app.py` as a real process against the fake Slack: start, serve, stop cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Self, TypeVar
from urllib.parse import parse_qsl

import aiohttp
import pytest

from handlers.devkit.driver import BOT_TOKEN, SIGNING_SECRET, TEAM_ID
from handlers.devkit.signing import command_body, signed_headers

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 30  # a cold interpreter importing slack_bolt and sqlmodel on a busy CI box
STOP_TIMEOUT = 15

T = TypeVar("T")


class AppProcess:
    """The child process plus its output, read line by line as it arrives."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._changed = asyncio.Condition()
        self._readers = [
            asyncio.create_task(self._read(process.stdout, self.stdout)),
            asyncio.create_task(self._read(process.stderr, self.stderr)),
        ]

    @classmethod
    async def start(cls, cwd: Path, env: dict[str, str]) -> Self:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "app.py"),
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def _read(self, stream: asyncio.StreamReader | None, lines: list[str]) -> None:
        assert stream is not None
        while raw := await stream.readline():
            lines.append(raw.decode(errors="replace").rstrip("\n"))
            async with self._changed:
                self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        return "\n".join(self.stdout + self.stderr)

    def _eof(self) -> bool:
        return all(reader.done() for reader in self._readers)

    async def wait_for_stderr(self, needle: str, seconds: float = START_TIMEOUT) -> str:
        """The first stderr line containing `needle`; fails if the process ends without it."""

        def found() -> str | None:
            return next((line for line in self.stderr if needle in line), None)

        try:
            async with asyncio.timeout(seconds), self._changed:
                await self._changed.wait_for(lambda: found() is not None or self._eof())
        except TimeoutError:
            pytest.fail(f"no {needle!r} on stderr after {seconds}s:\n{self.output}")
        line = found()
        if line is None:
            pytest.fail(f"app exited ({self.process.returncode}) before {needle!r}:\n{self.output}")
        return line

    async def before_exit(self, waiter: Awaitable[T], what: str, seconds: float) -> T:
        """Await `waiter`, failing at once if the app dies first rather than at the timeout."""
        wanted = asyncio.ensure_future(waiter)
        exited = asyncio.ensure_future(self.process.wait())
        try:
            done, _ = await asyncio.wait(
                {wanted, exited}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
            )
            if wanted in done:
                return wanted.result()
        finally:
            for task in (wanted, exited):
                task.cancel()
            await asyncio.gather(wanted, exited, return_exceptions=True)
        if exited in done:
            await self.exit_code(5)
            pytest.fail(f"app exited ({self.process.returncode}) before {what}:\n{self.output}")
        pytest.fail(f"no {what} after {seconds}s:\n{self.output}")

    async def exit_code(self, seconds: float) -> int:
        """Wait for the process to end and its output to be read in full."""
        try:
            async with asyncio.timeout(seconds):
                code = await self.process.wait()
                await asyncio.gather(*self._readers)
        except TimeoutError:
            pytest.fail(f"app still running after {seconds}s:\n{self.output}")
        return code

    async def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return await self.exit_code(STOP_TIMEOUT)

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await self.process.wait()
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)


@contextlib.asynccontextmanager
async def running_app(cwd: Path, env: dict[str, str]):
    app = await AppProcess.start(cwd, env)
    try:
        yield app
    finally:
        await app.kill()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _env(slack, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}",
        "MENTOR_TICK_SECONDS": "1",
    }
    env.update(extra)
    return env


def _assert_no_secrets(app: AppProcess, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in app.output


def _assert_clean_log(app: AppProcess) -> None:
    assert "Traceback" not in app.output
    assert not [line for line in app.stderr if " ERROR " in line or " CRITICAL " in line]


async def test_http_mode_serves_and_stops_on_sigterm(slack, tmp_path):
    port = _free_port()
    async with running_app(tmp_path, _env(slack, tmp_path, PORT=str(port))) as app:
        await app.wait_for_stderr(f"listening on port {port}")
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            async with session.get(f"{base}/healthz") as health:
                assert health.status == 200 and await health.json() == {"ok": True}

            body = command_body(
                text="help",
                user_id="U1",
                team_id=TEAM_ID,
                response_url=slack.response_url("proc1"),
            )
            started = time.perf_counter()
            async with session.post(
                f"{base}/slack/events", data=body, headers=signed_headers(SIGNING_SECRET, body)
            ) as answer:
                payload = await answer.json()
            elapsed = time.perf_counter() - started
            print(f"\n/mentor help answered over HTTP in {elapsed * 1000:.1f} ms")
            assert answer.status == 200
            assert payload["response_type"] == "ephemeral"
            assert "/mentor signup" in str(payload["blocks"])

            forged = signed_headers("f" * 32, body)
            async with session.post(f"{base}/slack/events", data=body, headers=forged) as bad:
                assert bad.status == 401

        assert await app.stop() == 0
        assert any("shutting down" in line for line in app.stderr)
        _assert_clean_log(app)
        _assert_no_secrets(app, BOT_TOKEN, SIGNING_SECRET)


async def test_socket_mode_answers_a_command_and_stops_on_sigterm(slack, tmp_path):
    env = _env(slack, tmp_path, SLACK_APP_TOKEN=slack.app_token)
    async with running_app(tmp_path, env) as app:
        await app.before_exit(
            slack.socket_connected(timeout=START_TIMEOUT), "Socket Mode connection", START_TIMEOUT
        )
        await app.wait_for_stderr("running in Socket Mode")
        # Slack delivers a slash command over Socket Mode as the same fields, JSON-encoded.
        command = dict(
            parse_qsl(
                command_body(
                    text="help",
                    user_id="U1",
                    team_id=TEAM_ID,
                    channel_id="C1",
                    trigger_id="trig-socket",
                    response_url=slack.response_url("sock1"),
                ),
                keep_blank_values=True,
            )
        )
        started = time.perf_counter()
        envelope_id = await slack.socket_send("slash_commands", command)
        ack = await slack.socket_ack(envelope_id, timeout=10)
        elapsed = time.perf_counter() - started
        print(f"\n/mentor help acknowledged over Socket Mode in {elapsed * 1000:.1f} ms")
        assert ack["envelope_id"] == envelope_id
        assert ack["payload"]["response_type"] == "ephemeral"
        assert "/mentor signup" in str(ack["payload"]["blocks"])

        assert await app.stop() == 0
        await slack.socket_disconnected(timeout=5)
        assert any("shutting down" in line for line in app.stderr)
        _assert_clean_log(app)
        _assert_no_secrets(app, BOT_TOKEN, SIGNING_SECRET, slack.app_token)


async def test_rejected_bot_token_exits_with_one_clear_line(slack, tmp_path):
    env = _env(slack, tmp_path, PORT=str(_free_port()), SLACK_BOT_TOKEN="xoxb-wrong")
    async with running_app(tmp_path, env) as app:
        code = await app.exit_code(STOP_TIMEOUT)
        assert code != 0
        assert "Traceback" not in app.output
        # Start-up log lines may come first; the reason is one plain line, and the last.
        mentions = [line for line in app.stderr if "SLACK_BOT_TOKEN" in line]
        assert mentions == [app.stderr[-1]]
        assert mentions[0].startswith("Slack rejected SLACK_BOT_TOKEN (invalid_auth)")
        assert app.stdout == []
        assert [c.token for c in slack.calls_to("auth.test")] == ["xoxb-wrong"]
        _assert_no_secrets(app, "xoxb-wrong", SIGNING_SECRET)


async def test_rejected_app_token_exits_with_one_clear_line(slack, tmp_path):
    env = _env(slack, tmp_path, SLACK_APP_TOKEN="xapp-1-wrong")
    async with running_app(tmp_path, env) as app:
        code = await app.exit_code(STOP_TIMEOUT)
        assert code != 0
        assert "Traceback" not in app.output
        mentions = [line for line in app.stderr if "SLACK_APP_TOKEN" in line]
        assert mentions == [app.stderr[-1]]
        assert mentions[0].startswith("Slack rejected SLACK_APP_TOKEN (invalid_auth)")
        assert slack.socket_clients == 0
        _assert_no_secrets(app, "xapp-1-wrong", BOT_TOKEN, SIGNING_SECRET)


async def test_sigterm_stops_socket_mode_while_it_cannot_connect(slack, tmp_path):
    # Slack's Socket Mode endpoint is down: the SDK retries every few seconds, forever.
    slack.fail_next("apps.connections.open", status=503, times=100)
    env = _env(slack, tmp_path, SLACK_APP_TOKEN=slack.app_token)
    async with running_app(tmp_path, env) as app:
        await app.wait_for_stderr("Retrying")
        assert await app.stop() == 0
        assert any("shutting down" in line for line in app.stderr)
        assert not any("running in Socket Mode" in line for line in app.stderr)
        _assert_no_secrets(app, BOT_TOKEN, SIGNING_SECRET, slack.app_token)


async def test_a_public_admin_channel_stops_the_start_with_one_clear_line(slack, tmp_path):
    slack.add_channel("C0PUBLIC", name="general")
    port = _free_port()
    env = _env(slack, tmp_path, PORT=str(port), MENTOR_ADMIN_CHANNEL="C0PUBLIC")
    async with running_app(tmp_path, env) as app:
        code = await app.exit_code(STOP_TIMEOUT)
        assert code != 0
        assert "Traceback" not in app.output
        mentions = [line for line in app.stderr if "MENTOR_ADMIN_CHANNEL" in line]
        assert mentions == [app.stderr[-1]]
        assert mentions[0].startswith("MENTOR_ADMIN_CHANNEL (C0PUBLIC) is a public channel")
        assert "must be private" in mentions[0]
        assert not any(f"listening on port {port}" in line for line in app.stderr)
        [asked] = slack.calls_to("conversations.info")
        assert asked.params["channel"] == "C0PUBLIC"
        _assert_no_secrets(app, BOT_TOKEN, SIGNING_SECRET)


@pytest.mark.parametrize("bot_is_member", [True, False])
async def test_a_private_admin_channel_starts_and_warns_until_the_bot_is_in_it(
    slack, tmp_path, bot_is_member
):
    slack.add_channel("C0SECRET", is_private=True, bot_is_member=bot_is_member)
    port = _free_port()
    env = _env(slack, tmp_path, PORT=str(port), MENTOR_ADMIN_CHANNEL="C0SECRET")
    async with running_app(tmp_path, env) as app:
        await app.wait_for_stderr(f"listening on port {port}")
        warnings = [line for line in app.stderr if "MENTOR_ADMIN_CHANNEL" in line]
        if bot_is_member:
            assert warnings == []
        else:
            [warning] = warnings
            assert " WARNING " in warning and "/invite @Reverse Mentor" in warning
        assert len(slack.calls_to("conversations.info")) == 1
        assert await app.stop() == 0
        _assert_clean_log(app)
