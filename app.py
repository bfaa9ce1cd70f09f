"""Composition root: settings -> engine -> Bolt app -> listeners -> scheduler -> start."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import re
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn, TextIO

import aiohttp
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from dotenv import find_dotenv, load_dotenv
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

import handlers.core
from bot.guides import GuideError, load_guides
from bot.prompts import PromptLibraryError, load_library
from bot.settings import ConfigError, Settings, load_settings, redact_url
from handlers.agreement import listeners as agreement
from handlers.cohorts import listeners as cohorts
from handlers.core.bolt import TrackedApp
from handlers.core.deps import Deps
from handlers.core.http import build_web_app
from handlers.core.installations import build_oauth
from handlers.core.logging_setup import configure_logging
from handlers.core.rate_limits import SharedRateLimits
from handlers.core.scheduler import build_scheduler
from handlers.core.slack import NotInstalled, SlackCallError, SlackGateway
from handlers.guides import listeners as guides
from handlers.home import listeners as home
from handlers.mentor import listeners as mentor
from handlers.outcomes import listeners as outcomes
from handlers.pairing import listeners as pairing
from handlers.profile import listeners as profile
from handlers.profile.roster import run_import
from handlers.pulse import listeners as pulse
from handlers.reports import listeners as reports
from handlers.rhythm import listeners as rhythm
from handlers.settings import listeners as settings
from handlers.settings.use_cases import check_admin_channel
from storage import workspaces
from storage.db import Database, make_engine
from storage.migrations import MigrationError, describe_before

log = logging.getLogger("reverse_mentor")
STOP_GRACE_SECONDS = 10.0


# In order: the core first (its event record wraps every listener); `mentor` before `rhythm`
# (Bolt runs only the first matching listener: a message in a DM with the bot is mentor's,
# any other message event the rhythm's); the tick runs the features' steps in this order.
FEATURES = (
    handlers.core,
    mentor,
    profile,
    pairing,
    guides,
    rhythm,
    agreement,
    cohorts,
    pulse,
    outcomes,
    reports,
    home,
    settings,
)


@dataclass
class Runtime:
    settings: Settings
    deps: Deps
    bolt: AsyncApp
    scheduler: AsyncIOScheduler

    async def healthy(self) -> bool:
        if not self.scheduler.running:
            return False
        try:
            return await asyncio.to_thread(self.deps.db.ping)
        except Exception:
            return False

    def web_app(self) -> web.Application:
        return build_web_app(self.bolt, healthy=self.healthy)


def build(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    wall: Callable[[], float] = time.time,
) -> Runtime:
    """Everything the bot is, wired once; tests drive this same object. `sleep`, `monotonic`
    and `wall` are the Slack gateway's timer (waits, retries, shared rate limits)."""
    db = Database(make_engine(settings.database_url))
    db.prepare()
    # With OAuth (many workspaces) the client has no token: each call brings its workspace's.
    client = AsyncWebClient(
        token=settings.bot_token, base_url=settings.api_url, retry_handlers=[], timeout=15
    )
    oauth = build_oauth(settings, db, client, monotonic=monotonic) if settings.oauth else None
    deps = Deps(
        settings=settings,
        db=db,
        slack=SlackGateway(
            client,
            tokens=oauth.tokens if oauth is not None else None,
            rate_limits=SharedRateLimits(db, wall=wall, monotonic=monotonic),
            paced=settings.slack_pacing,
            sleep=sleep,
            monotonic=monotonic,
        ),
        clock=clock,
        prompts=load_library(),
        guides=load_guides(),
        oauth=oauth,
    )
    bolt = TrackedApp(
        deps=deps,
        client=client,
        signing_secret=settings.signing_secret or "",
        **(oauth.bolt_options() if oauth is not None else {}),
    )
    for feature in FEATURES:
        feature.register(bolt, deps)
    bolt.match_by_body()
    return Runtime(settings=settings, deps=deps, bolt=bolt, scheduler=build_scheduler(deps))


async def serve(runtime: Runtime) -> None:
    """Run until SIGTERM or SIGINT, then stop the scheduler and close the database."""
    settings = runtime.settings
    if settings.oauth:
        log.info("many workspaces by OAuth: each installs the bot at /slack/install")
    else:
        await _check_bot_token(runtime)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    # One connection pool for every Slack call, instead of a new TLS handshake per call.
    http = aiohttp.ClientSession()
    runtime.deps.slack.client.session = http
    runtime.scheduler.start()
    runner: web.AppRunner | None = None
    socket_handler: AsyncSocketModeHandler | None = None
    connecting: asyncio.Future | None = None
    stopping = asyncio.ensure_future(stop.wait())
    try:
        if settings.socket_mode:
            socket_handler = AsyncSocketModeHandler(runtime.bolt, settings.app_token)
            socket_handler.client.wss_uri = await _first_socket_url(socket_handler)
            # The SDK retries a failed connection forever: a signal must still stop it.
            connecting = asyncio.ensure_future(socket_handler.connect_async())
            await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if connecting.done():
                log.info("running in Socket Mode")
        else:
            runner = web.AppRunner(runtime.web_app())
            await runner.setup()
            await web.TCPSite(runner, port=settings.port).start()
            oauth_paths = (
                "GET /slack/install, GET /slack/oauth_redirect, " if settings.oauth else ""
            )
            log.info(
                "listening on port %d (POST /slack/events, %sGET /healthz)",
                settings.port,
                oauth_paths,
            )
        # What start-up built lives as long as the process: the collector need not walk it on
        # every full collection, each of which stalls every request in flight (about 0.1 s
        # with the bot's objects; bench_http's p99 showed them).
        gc.freeze()
        await stop.wait()
        log.info("shutting down")
    finally:
        for task in (connecting, stopping):
            if task is not None and not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if socket_handler is not None:
            await socket_handler.close_async()
        if runner is not None:
            await runner.cleanup()
        # No new ticks; the one in flight (and sending started after an ack) may finish.
        runtime.scheduler.pause()
        await runtime.deps.finish(grace=STOP_GRACE_SECONDS)
        runtime.scheduler.shutdown(wait=False)
        await http.close()
        runtime.deps.db.close()


async def _check_bot_token(runtime: Runtime) -> None:
    """One workspace: SLACK_BOT_TOKEN must work, and MENTOR_ADMIN_CHANNEL be usable."""
    settings = runtime.settings
    try:
        identity = await runtime.deps.slack.call("auth.test", budget=60)
    except SlackCallError as exc:
        if exc.transient:
            raise SystemExit(
                f"Slack did not answer auth.test ({exc.error}): is SLACK_API_URL reachable?"
            ) from None
        raise SystemExit(
            f"Slack rejected SLACK_BOT_TOKEN ({exc.error}): reinstall the app and copy the "
            "Bot User OAuth Token again into .env."
        ) from None
    log.info("connected to team %s as %s", identity.get("team_id"), identity.get("user_id"))
    if settings.admin_channel is not None:
        problem = await check_admin_channel(
            runtime.deps.slack,
            settings.admin_channel,
            budget=30,
            setting=f"MENTOR_ADMIN_CHANNEL ({settings.admin_channel})",
        )
        if problem is not None and problem.refused:
            raise SystemExit(problem.text)
        if problem is not None:  # an admin can fix these without a restart
            log.warning("%s", problem.text)


async def _first_socket_url(handler: AsyncSocketModeHandler) -> str | None:
    """Open the first Socket Mode URL here, so a rejected app token stops the start-up
    (the SDK would log a traceback and retry it forever). None leaves other failures to it."""
    try:
        opened = await handler.client.web_client.apps_connections_open(app_token=handler.app_token)
    except SlackApiError as exc:
        if exc.response.status_code == 429 or exc.response.status_code >= 500:
            return None
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        raise SystemExit(
            f"Slack rejected SLACK_APP_TOKEN ({error}): in your app's settings, Basic Information "
            "> App-Level Tokens, create one with the connections:write scope and copy it into .env."
        ) from None
    except (aiohttp.ClientError, OSError, TimeoutError):
        return None
    return opened.get("url")


USAGE = """usage: reverse-mentor                    run the bot
       reverse-mentor import-roster FILE [--rejoin] [--cohort NAME] [--team TEAM_ID]
                                         add or update participants from a CSV roster
                                         (--rejoin: also bring back people who left;
                                         --cohort: put them in that cohort's pool;
                                         --team: the workspace, with many by OAuth)
       reverse-mentor delete-workspace TEAM_ID [--yes]
                                         delete every record of a workspace, after a
                                         confirmation (--yes: without asking)
       reverse-mentor demo [--weeks N] [--seed N] [--database PATH] [--quiet]
                                         play a pilot and an expanded cohort in a simulated
                                         workspace (no tokens)
       reverse-mentor migrate            bring DATABASE_URL's schema up to date (the bot
                                         also does on start) and say where it now is
From a checkout, `python app.py` takes the same arguments."""
_TEAM_ID = re.compile(r"^T[A-Z0-9]+$")


def demo(argv: list[str]) -> int:
    """The real bot against a fake Slack workspace on loopback, on a simulated clock."""
    import argparse

    from handlers.devkit.demo import run_demo

    parser = argparse.ArgumentParser(prog="reverse-mentor demo", usage=None)
    parser.add_argument(
        "--weeks", type=int, default=12, help="the pilot and the expansion together (default 12)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed for the simulated people")
    parser.add_argument("--database", help="SQLite file to keep (default: a temporary one)")
    parser.add_argument(
        "--quiet", action="store_true", help="print the final summary and impact report only"
    )
    args = parser.parse_args(argv)
    return asyncio.run(
        run_demo(
            weeks=args.weeks,
            seed=args.seed,
            database=args.database,
            quiet=args.quiet,
            out=sys.stdout,
        )
    )


def migrate_database(argv: list[str]) -> int:
    """Apply the pending schema revisions (storage/migrations.py), as start-up does, and say
    where the database now is. Only the database is touched, so only DATABASE_URL is read."""
    if argv:
        print(USAGE, file=sys.stderr)
        return 2
    load_dotenv(find_dotenv(usecwd=True), override=False)
    database_url = os.environ.get("DATABASE_URL", "").strip() or Settings.database_url
    where = redact_url(database_url)
    try:
        engine = make_engine(database_url)
    except (ArgumentError, ImportError) as exc:
        print(
            f"reverse-mentor migrate: DATABASE_URL ({where}) cannot be used: {exc}", file=sys.stderr
        )
        return 2
    try:
        migration = Database(engine).prepare()
    except MigrationError as exc:
        print(f"reverse-mentor migrate: {where}: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"reverse-mentor migrate: {where}: {reason}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    if migration.changed:
        print(f"{where}: migrated from {describe_before(migration)} to revision {migration.after}")
    else:
        print(f"{where}: at revision {migration.after}, the newest; nothing to apply")
    return 0


def roster_arguments(argv: list[str]) -> tuple[str, bool, str | None, str | None] | None:
    """(FILE, rejoin, team, cohort) from `import-roster FILE [--rejoin] [--cohort NAME]
    [--team TEAM_ID]` (the options on either side), else None."""
    if not argv or argv[0] != "import-roster":
        return None
    rest = argv[1:]
    team = None
    if "--team" in rest:
        at = rest.index("--team")
        if at + 1 >= len(rest) or not _TEAM_ID.match(rest[at + 1]) or rest.count("--team") > 1:
            return None
        team, rest = rest[at + 1], rest[:at] + rest[at + 2 :]
    cohort = None
    if "--cohort" in rest:
        at = rest.index("--cohort")
        if at + 1 >= len(rest) or rest[at + 1].startswith("-") or rest.count("--cohort") > 1:
            return None
        cohort, rest = rest[at + 1], rest[:at] + rest[at + 2 :]
    rejoin = "--rejoin" in rest
    files = [a for a in rest if a != "--rejoin"]
    if len(files) != 1 or files[0].startswith("-") or rest.count("--rejoin") > 1:
        return None
    return files[0], rejoin, team, cohort


def delete_workspace_arguments(argv: list[str]) -> tuple[str, bool] | None:
    """(TEAM_ID, yes) from `delete-workspace TEAM_ID [--yes]`, else None."""
    if not argv or argv[0] != "delete-workspace":
        return None
    rest = argv[1:]
    yes = "--yes" in rest
    teams = [a for a in rest if a != "--yes"]
    if len(teams) != 1 or not _TEAM_ID.match(teams[0]) or rest.count("--yes") > 1:
        return None
    return teams[0], yes


def delete_workspace(
    settings: Settings,
    team_id: str,
    *,
    yes: bool = False,
    ask: Callable[[str], str] = input,
    out: TextIO = sys.stdout,
) -> int:
    """Delete every row of a workspace (its people, pairs, answers, messages, settings and
    installation) after the admin types its ID again. Works while the bot runs."""
    db = Database(make_engine(settings.database_url))
    try:
        db.prepare()
        counts = db.run_sync(lambda s: workspaces.workspace_counts(session=s, team_id=team_id))
        if not counts:
            print(f"delete-workspace: nothing is stored for {team_id}.", file=out)
            return 1
        listed = ", ".join(f"{table} {n}" for table, n in sorted(counts.items()))
        installed = any(t in counts for t in workspaces.SLACK_TEAM_TABLES)
        print(
            f"Workspace {team_id} has {sum(counts.values())} records ({listed}). Deleting "
            "them removes its participants, pairs, sessions, answers, settings and messages "
            "for good"
            + (
                ", and its installation: the bot stops serving it until it is installed again."
                if installed
                else "."
            ),
            file=out,
        )
        if not yes:
            try:
                typed = ask(f"Type {team_id} to delete it: ").strip()
            except EOFError:
                typed = ""
            if typed != team_id:
                print("delete-workspace: not confirmed; nothing was deleted.", file=out)
                return 1
        deleted = db.run_sync(lambda s: workspaces.delete_workspace(session=s, team_id=team_id))
        print(f"delete-workspace: deleted {sum(deleted.values())} records of {team_id}.", file=out)
        return 0
    finally:
        db.close()


def main(argv: list[str]) -> int:
    if argv in (["-h"], ["--help"], ["help"]):
        print(USAGE)
        return 0
    if argv and argv[0] == "demo":
        return demo(argv[1:])
    if argv and argv[0] == "migrate":
        return migrate_database(argv[1:])
    roster = roster_arguments(argv)
    deletion = delete_workspace_arguments(argv)
    if argv and roster is None and deletion is None:
        print(USAGE, file=sys.stderr)
        return 2
    # .env from the working directory; real environment variables win over it.
    load_dotenv(find_dotenv(usecwd=True), override=False)
    try:
        settings = load_settings(os.environ)
    except ConfigError as exc:
        print(f"reverse-mentor: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    if deletion is not None:
        return delete_workspace(settings, deletion[0], yes=deletion[1])
    try:
        runtime = build(settings)
    except PromptLibraryError as exc:
        print(f"reverse-mentor: the prompt library is invalid: {exc}", file=sys.stderr)
        return 2
    except GuideError as exc:
        print(f"reverse-mentor: the preparation guides are invalid: {exc}", file=sys.stderr)
        return 2
    if roster is not None:
        path, rejoin, team, cohort = roster
        try:
            return asyncio.run(
                run_import(
                    runtime.deps,
                    path,
                    out=sys.stdout,
                    err=sys.stderr,
                    rejoin=rejoin,
                    team_id=team,
                    cohort=cohort,
                )
            )
        except NotInstalled:
            print(
                f"import-roster: the bot is not installed in {team}; nothing was imported.",
                file=sys.stderr,
            )
            return 1
        except SlackCallError as exc:
            print(f"import-roster: Slack said {exc.error}; nothing was imported.", file=sys.stderr)
            return 1
        finally:
            runtime.deps.db.close()
    asyncio.run(serve(runtime))
    return 0


def cli() -> NoReturn:
    """The installed `reverse-mentor` command (pyproject's [project.scripts])."""
    sys.exit(main(sys.argv[1:]))


if __name__ == "__main__":
    cli()
