"""The impact report's three renderings (handlers/reports/impact_blocks.py, impact_file.py):
the admin post stays within Block Kit's limits for any data, the sponsor's HTML page escapes
whatever people wrote and shows every figure the report shows, and the chart is a PNG in
which a hidden figure is a gap, never a zero."""

from __future__ import annotations

import base64
import html
import math
import re
from datetime import date, timedelta

import numpy
from matplotlib.patches import Rectangle

from bot.impact import (
    CHART_SHARES,
    NONE_SHOWN,
    NOT_ENOUGH,
    CohortFigures,
    Progress,
    impact_report,
)
from handlers.devkit.fake_slack import validate_blocks
from handlers.reports.impact_blocks import impact_blocks
from handlers.reports.impact_file import draw_chart, impact_html, render_chart

THREE = ("U1", "U2", "U3")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HOSTILE = "<script>alert('x')</script> <!channel> <@U123> & $\\frac{1}{0}$"


def monday(start: date, n: int) -> date:
    return start - timedelta(days=start.weekday()) + timedelta(days=7 * n)


def full_cohort(name: str, start: date, *, seed: int, changes=()) -> CohortFigures:
    progress: tuple[Progress, ...] = ("achieved", "some", "not_yet")
    return CohortFigures(
        name=name,
        starts_on=start,
        ends_on=start + timedelta(days=91),
        signed_up=24,
        paired=20,
        left=2,
        continued=4,
        pairs=10,
        sessions_held=51,
        sessions_planned=60,
        stalled_pairs=2,
        pulse=tuple((f"U{n % 9}", monday(start, n % 13), 1 + (n * seed) % 5) for n in range(150)),
        goal_progress=tuple(
            (f"U{n}", "leader" if n % 2 else "junior", progress[(n * seed) % 3]) for n in range(20)
        ),
        agreement_items=tuple(
            (f"U{n % 10}", "leader" if n % 2 else "junior", progress[(n + seed) % 3])
            for n in range(40)
        ),
        changes=tuple(changes),
    )


def rendered_text(blocks: list[dict]) -> str:
    texts = []
    for block in blocks:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts += [field["text"] for field in block.get("fields", [])]
        texts += [element.get("text", "") for element in block.get("elements", [])]
    return "\n".join(texts)


def a_report(**kwargs):
    changes = kwargs.pop("changes", [(f"L{n}", f"Change {n}: ask first") for n in range(4)])
    now = full_cohort("Spring 2026", date(2026, 3, 4), seed=7, changes=changes)
    before = full_cohort("Autumn 2025", date(2025, 9, 3), seed=3)
    return impact_report(now, before, min_responses=kwargs.pop("min_responses", 3))


# --- Block Kit -----------------------------------------------------------------------------------


def test_the_post_shows_every_figure_beside_the_previous_one():
    report = a_report()
    text, blocks = impact_blocks(report)
    as_dicts = [block.to_dict() for block in blocks]
    assert not validate_blocks(as_dicts)
    shown = rendered_text(as_dicts)
    for figure in report.figures:
        assert f"*{figure.label}*\n{figure.value}" in shown
        assert f"_Autumn 2025_\n{figure.previous}" in shown
    assert as_dicts[0]["text"]["text"] == "Impact report: Spring 2026"
    assert "4 March 2026 – 3 June 2026" in shown
    assert report.changes is not None
    for change in report.changes:
        assert f"• {change}" in shown
    assert "Spring 2026" in text and "match rate 83% (20 of 24)" in text


def test_hidden_figures_read_not_enough_in_the_post():
    report = a_report(min_responses=50, changes=[("L1", "a"), ("L2", "b")])
    _, blocks = impact_blocks(report)
    shown = rendered_text([block.to_dict() for block in blocks])
    assert f"*Pulse average (1–5)*\n{NOT_ENOUGH}" in shown
    assert f"_Autumn 2025_\n{NONE_SHOWN}" in shown
    assert "shown once at least 50 different leaders shared one" in shown
    assert "• a" not in shown and "• b" not in shown


def test_the_post_stays_within_block_kit_limits_for_any_data():
    huge = HOSTILE * 400  # ~24,000 characters
    changes = [(f"L{n}", f"{HOSTILE} {n} " * 40) for n in range(400)]
    now = full_cohort(huge, date(2026, 3, 4), seed=7, changes=changes)
    # A cohort that runs for years has hundreds of weeks.
    now = CohortFigures(**{**now.__dict__, "ends_on": date(2031, 3, 4)})
    before = full_cohort(huge + "B", date(2025, 9, 3), seed=3, changes=changes)
    for previous in (before, None):
        report = impact_report(now, previous, min_responses=3)
        text, blocks = impact_blocks(report)
        as_dicts = [block.to_dict() for block in blocks]
        assert not validate_blocks(as_dicts), validate_blocks(as_dicts)
        assert len(as_dicts) <= 50
        for block in as_dicts:
            if "text" in block:
                assert len(block["text"]["text"]) <= (150 if block["type"] == "header" else 3000)
            assert len(block.get("fields", [])) <= 10
            assert all(len(field["text"]) <= 2000 for field in block.get("fields", []))
        # The header is plain_text (Slack parses no mention there); everything else escaped.
        assert as_dicts[0]["type"] == "header" and as_dicts[0]["text"]["type"] == "plain_text"
        shown = rendered_text(as_dicts[1:])
        assert "<!channel>" not in shown and "<script>" not in shown and "<@U123>" not in shown
        assert "&lt;!channel&gt;" in shown
        # Capped where shown, and saying so: a long name ends in "…", changes and weeks
        # beyond what fits are counted, not dropped silently.
        if previous is not None:
            assert "_\n" in shown and "…_\n" in shown  # the previous column's heading
        assert "more sections of changes, in the full report." in shown
        assert "more weeks" in shown
        assert len(text) < 4000
        assert "<!channel>" not in text


def test_a_first_cohort_without_answers_still_makes_a_valid_post():
    empty = CohortFigures("First", date(2026, 1, 5), date(2026, 1, 5), 0, 0, 0, 0, 0, 0, 0, 0)
    report = impact_report(empty, None, min_responses=3)
    _, blocks = impact_blocks(report)
    as_dicts = [block.to_dict() for block in blocks]
    assert not validate_blocks(as_dicts)
    assert "nothing to compare with" in rendered_text(as_dicts)


# --- the HTML page -------------------------------------------------------------------------------


def test_the_page_escapes_what_people_wrote():
    changes = [(f"L{n}", f'{HOSTILE} <img src=x onerror="alert({n})">') for n in range(3)]
    now = full_cohort(HOSTILE, date(2026, 3, 4), seed=7, changes=changes)
    before = full_cohort("</title><script>bad()</script>", date(2025, 9, 3), seed=3)
    page = impact_html(impact_report(now, before, min_responses=3))
    assert "<script" not in page.lower()
    assert "<img src=x" not in page  # only as inert text: &lt;img src=x onerror=&quot;...
    assert page.count("<img") == 1  # the chart, nothing anyone wrote
    assert page.count("<title>") == 1 and page.count("</title>") == 1
    assert html.escape(HOSTILE) in page
    assert f"<title>Reverse mentoring impact report: {html.escape(HOSTILE)}</title>" in page


def test_the_page_shows_every_figure_the_report_shows():
    report = a_report()
    page = impact_html(report)
    for figure in report.figures:
        css = ' class="hidden"' if figure.hidden else ""
        row = f"<td>{html.escape(figure.label)}</td><td{css}>{html.escape(figure.value)}</td>"
        assert row in page
        assert html.escape(figure.previous) in page
    for week in report.pulse_weeks:
        assert f"<td>Week {week.week}</td>" in page
        if week.value is not None:
            assert f"<td>{week.text}</td>" in page
    assert report.changes is not None
    for change in report.changes:
        assert f"<li>{html.escape(change)}</li>" in page
    assert "Figures from fewer than 3 different people are hidden" in page
    assert "How to read this" in page
    assert "4 March 2026 – 3 June 2026" in page


def test_the_page_carries_the_chart_inside_it():
    report = a_report()
    page = impact_html(report)
    [encoded] = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert base64.b64decode(encoded).startswith(PNG_SIGNATURE)
    assert "http://" not in page and "https://" not in page  # nothing to fetch
    given = impact_html(report, chart=PNG_SIGNATURE + b"given")
    assert base64.b64encode(PNG_SIGNATURE + b"given").decode() in given


def test_the_page_hides_what_the_report_hides():
    report = a_report(min_responses=50, changes=[("L1", "secret change")])
    page = impact_html(report)
    assert "secret change" not in page
    assert f'<td class="hidden">{NOT_ENOUGH}</td>' in page
    assert "shown once at least 50 different leaders shared one" in page


# --- the chart -----------------------------------------------------------------------------------


def test_the_chart_is_a_png_for_any_report():
    empty = CohortFigures("First", date(2026, 1, 5), date(2026, 1, 5), 0, 0, 0, 0, 0, 0, 0, 0)
    hostile = full_cohort(HOSTILE * 10, date(2026, 3, 4), seed=7)
    for report in (
        a_report(),
        impact_report(empty, None, min_responses=3),
        impact_report(hostile, hostile, min_responses=3),
        a_report(min_responses=50),
    ):
        png = render_chart(report)
        assert png.startswith(PNG_SIGNATURE) and len(png) > 5_000


def test_hidden_figures_are_gaps_in_the_chart_never_zeros():
    # Leaders' and juniors' goals hidden now (too few people), shown before.
    now = CohortFigures(
        "Now",
        date(2026, 3, 4),
        date(2026, 6, 3),
        10,
        8,
        0,
        0,
        4,
        10,
        10,
        0,  # no pair stalled: a real zero, drawn as a zero-height bar
        pulse=(
            *((person, monday(date(2026, 3, 4), week), 4) for week in (0, 2) for person in THREE),
            ("U1", monday(date(2026, 3, 4), 1), 1),  # week 2: one person, hidden
        ),
        goal_progress=(("L1", "leader", "achieved"),),
    )
    before = full_cohort("Before", date(2025, 9, 3), seed=3)
    report = impact_report(now, before, min_responses=3)
    figure = draw_chart(report)
    pulse_axes, shares_axes = figure.axes[:2]
    line = next(ln for ln in pulse_axes.get_lines() if ln.get_label() == "Now")
    ys: list[float] = numpy.asarray(line.get_ydata(), dtype=float).tolist()
    assert ys[0] == 4 and math.isnan(ys[1]) and ys[2] == 4  # week 2 is a gap
    assert all(math.isnan(y) for y in ys[3:])
    bars = {
        container.get_label(): [patch for patch in container if isinstance(patch, Rectangle)]
        for container in shares_axes.containers
    }
    now_shown = [key for key in CHART_SHARES if report.figure(key).number is not None]
    assert "goal_achieved_leader" not in now_shown and "stalled_share" in now_shown
    assert len(bars["Now"]) == len(now_shown)  # one bar per shown figure, none for hidden
    heights = {key: patch.get_height() for key, patch in zip(now_shown, bars["Now"], strict=True)}
    assert heights["stalled_share"] == 0 and heights["match_rate"] == 80
    before_shown = [key for key in CHART_SHARES if report.figure(key).previous_number is not None]
    assert len(bars["Before"]) == len(before_shown)
