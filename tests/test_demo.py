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
    """Four weeks: a two-week pilot, then a two-week expansion, and its impact report."""
    caplog.set_level(logging.WARNING)
    out = io.StringIO()
    chart = tmp_path / "chart.png"
    database = tmp_path / "demo.db"
    code = await run_demo(weeks=4, seed=1, database=database, quiet=False, out=out, chart=chart)
    transcript = out.getvalue()
    assert code == 0, transcript[-2000:]
    for expected in (
        # The admin creates the pilot, with the real settings modal for the rest...
        "ran /mentor admin cohort new Pilot start=2026-03-02 end=2026-03-13",
        "Created Pilot, open for signups.",
        "ran /mentor admin settings",
        "ran /mentor signup",  # ...people sign up in the real signup modal...
        "opened the “Reverse mentoring” form",
        "ran /mentor admin match",
        "Meet your reverse-mentoring pair",  # ...introductions,
        "pressed “Agree what you each want”",  # learning agreements,
        "saved the learning agreement",
        "A conversation prompt for your session on",
        "happen?",  # a check-in...
        "pressed “We met” on the check-in",  # ...and answers to it
        "on the pulse",
        "since your last session or message",  # a nudge...
        "has stalled",  # ...and, a few days later, the admins are told
        "ran /mentor leave",
        "Matched 1 pairs",  # the leaver's partner, on a later match
        # In the pilot's last week the expansion is created; at the pilot's end pairs choose.
        "ran /mentor admin cohort new Expansion start=2026-03-16 end=2026-03-27",
        "Pilot has come to its end",
        "pressed “Continue into Expansion”",
        "pressed “Close our pairing”",
        "answered the offer of the next cohort's pool: “Yes, join Expansion”",
        "answered the end question",
        "agreement items: ",  # each one's own items, at the midpoint and the end
        "Final program summary",
        "bot → #mentoring-admins: Impact report: Expansion",
        "shared the page “Impact report: Expansion”",
    ):
        assert expected in transcript, expected
    assert " reacted :" in transcript
    assert "── Monday 02 March 2026 (week 1) ──" in transcript
    assert "── Friday 03 April 2026 (week 5) ──" in transcript  # a week after the end
    assert "xoxb-" not in transcript and "<@U" not in transcript
    assert chart.read_bytes().startswith(PNG)
    assert f"Chart: {chart}" in transcript
    assert database.exists()  # kept when asked for
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors

    # It ends with the expansion's impact report, compared with the pilot, with figures
    # from enough people, and its chart and page saved beside the summary's chart.
    report = transcript.rsplit("Impact report: Expansion\n", 1)[1]
    assert "compared with Pilot" in report
    assert "(Pilot: " in report
    pulse = next(line for line in report.splitlines() if "Pulse average" in line)
    assert "ratings by" in pulse and "not enough responses" not in pulse, pulse
    for label in ("Leaders: goal achieved", "Junior mentors: goal achieved"):
        line = next(line for line in report.splitlines() if label in line)
        assert "answers)" in line and "not enough responses" not in line, line
    assert (tmp_path / "impact-expansion.png").read_bytes().startswith(PNG)
    page = (tmp_path / "impact-expansion.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "impact report: Expansion" in page and "Pilot" in page
    assert f"Impact chart: {tmp_path / 'impact-expansion.png'}" in transcript
    assert f"Impact page: {tmp_path / 'impact-expansion.html'}" in transcript


def test_the_command_runs_with_no_tokens_no_env_file_and_no_setup(tmp_path):
    """The shortest demo (a week of pilot, a week of expansion), as CI runs it: twice at
    once, to see that a seed gives the same run."""
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, str(ROOT / "app.py"), "demo", "--weeks", "2", "--quiet"]
    runs = [
        subprocess.Popen(
            command,
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=180) for run in runs]
    folders = []
    for run, (stdout, stderr) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, stderr[-2000:]
        folders.append(Path(stdout.split("Chart: ", 1)[1].splitlines()[0]).parent)
    try:
        stdout = outputs[0][0]
        assert "Final program summary" in stdout
        assert "Sessions" in stdout and "Pulse" in stdout
        assert "Impact report: Expansion" in stdout and "compared with Pilot" in stdout
        assert "bot →" not in stdout  # --quiet: the summary and the report only
        assert outputs[1][0].replace(str(folders[1]), str(folders[0])) == stdout
        for folder in folders:
            assert (folder / "program-summary.png").read_bytes().startswith(PNG)
            assert (folder / "impact-expansion.png").read_bytes().startswith(PNG)
            assert (folder / "impact-expansion.html").stat().st_size > 0
            assert (
                f"Impact page: {folder / 'impact-expansion.html'}"
                in outputs[folders.index(folder)][0]
            )
    finally:
        for folder in folders:
            for name in ("program-summary.png", "impact-expansion.png", "impact-expansion.html"):
                (folder / name).unlink(missing_ok=True)
            folder.rmdir()  # the temporary database went with the run
    assert list(tmp_path.iterdir()) == []  # nothing written to the working directory
