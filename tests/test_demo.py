"""`python app.py demo`: the real bot plays a program against the fake Slack workspace."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

from handlers.devkit.demo import run_demo

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"


async def test_a_short_program_shows_every_part_of_the_rhythm(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    out = io.StringIO()
    chart = tmp_path / "chart.png"
    database = tmp_path / "demo.db"
    code = await run_demo(weeks=3, seed=1, database=database, quiet=False, out=out, chart=chart)
    transcript = out.getvalue()
    assert code == 0, transcript[-2000:]
    for expected in (
        "ran /mentor signup",  # the real signup modal...
        "opened the “Reverse mentoring” form",
        "ran /mentor admin settings",  # ...the real settings modal...
        "ran /mentor admin match",
        "Meet your reverse-mentoring pair",  # ...introductions,
        "A conversation prompt for your session on",
        "happen?",  # a check-in...
        "pressed “We met” on the check-in",  # ...and answers to it
        "on the pulse",
        "since your last session or message",  # a nudge...
        "has stalled",  # ...and, a few days later, the admins are told
        "ran /mentor leave",
        "Matched 1 pairs",  # the leaver's partner, on a later match
        "Final program summary",
    ):
        assert expected in transcript, expected
    assert " reacted :" in transcript
    assert "── Monday 02 March 2026 (week 1) ──" in transcript
    assert "xoxb-" not in transcript and "<@U" not in transcript
    assert chart.read_bytes().startswith(PNG)
    assert f"Chart: {chart}" in transcript
    assert database.exists()  # kept when asked for
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors


def test_the_command_runs_with_no_tokens_no_env_file_and_no_setup(tmp_path):
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "demo", "--weeks", "2", "--quiet"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Final program summary" in done.stdout
    assert "Sessions" in done.stdout and "Pulse" in done.stdout
    assert "bot →" not in done.stdout  # --quiet: the summary only
    chart = Path(done.stdout.split("Chart: ", 1)[1].splitlines()[0])
    try:
        assert chart.read_bytes().startswith(PNG)
    finally:
        chart.unlink()
        chart.parent.rmdir()  # the temporary database went with the run
    assert list(tmp_path.iterdir()) == []  # nothing written to the working directory
