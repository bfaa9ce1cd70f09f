"""A cohort's impact report as files: its chart (a PNG) and a self-contained HTML page a
program lead can forward to a sponsor (inline CSS, the chart inside as a base64 image, no
script, nothing fetched). Both come from the same ImpactReport as the admin post.

The chart is drawn with matplotlib's object API (a Figure with its own Agg canvas, no pyplot),
so it is safe in a worker thread. A hidden figure (fewer people than the minimum) is a gap in
the chart, never a zero.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.impact import CHART_SHARES, NONE_SHOWN, NOT_ENOUGH, ImpactReport, PulseWeek
from handlers.core.blocks import clip
from handlers.reports.impact_blocks import period_text

WIDTH_IN, HEIGHT_IN, DPI = 10.0, 3.6, 100
INK, ACCENT, MUTED = "#3b2e5a", "#7a5fc0", "#9a9a9a"
LEGEND_NAME = 40
CHART_ALT = "The weekly pulse of this cohort and the previous one, and key shares side by side"
SHARE_LABELS = {
    "match_rate": "Matched",
    "sessions_rate": "Sessions\nheld",
    "stalled_share": "Pairs\nstalled",
    "goal_achieved_leader": "Leaders'\ngoals met",
    "goal_achieved_junior": "Mentors'\ngoals met",
    "agreement_achieved_leader": "Leaders'\nagreements",
    "agreement_achieved_junior": "Mentors'\nagreements",
}


def _plain(text: str) -> str:
    """A name as matplotlib should draw it: one short line, a "$" never starting mathtext."""
    return clip(text, LEGEND_NAME).replace("$", r"\$")


def _gapped(weeks: Sequence[PulseWeek]) -> list[float]:
    return [math.nan if w.value is None else w.value for w in weeks]


def draw_chart(report: ImpactReport) -> Figure:
    """The chart as a matplotlib Figure (render_chart makes it a PNG): the pulse week by week,
    this cohort against the previous one, and the key shares side by side."""
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(figure)
    pulse_axes, shares_axes = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.4]})
    current_name = _plain(report.cohort)
    previous_name = _plain(report.previous_cohort) if report.previous_cohort else None

    pulse_axes.set_title("Pulse (1–5), weekly average", fontsize=10, color=INK)
    pulse_axes.set_ylim(1, 5)
    pulse_axes.set_yticks([1, 2, 3, 4, 5])
    pulse_axes.set_xlabel(f"week of the cohort (gaps: {NOT_ENOUGH})", fontsize=7, color=MUTED)
    drawn = False
    if previous_name is not None and any(w.value is not None for w in report.previous_pulse_weeks):
        weeks = report.previous_pulse_weeks
        pulse_axes.plot(
            [w.week for w in weeks],
            _gapped(weeks),  # NaN breaks the line: a hidden week is a gap
            color=MUTED,
            linestyle="--",
            marker="o",
            markersize=3,
            label=previous_name,
        )
        drawn = True
    if any(w.value is not None for w in report.pulse_weeks):
        weeks = report.pulse_weeks
        pulse_axes.plot(
            [w.week for w in weeks],
            _gapped(weeks),
            color=ACCENT,
            marker="o",
            markersize=4,
            linewidth=2,
            label=current_name,
        )
        drawn = True
    last_week = max(
        (w.week for w in (*report.pulse_weeks, *report.previous_pulse_weeks)), default=1
    )
    pulse_axes.set_xlim(0.5, last_week + 0.5)
    if drawn:
        pulse_axes.legend(fontsize=7, frameon=False, loc="lower right")
    else:
        pulse_axes.text(
            0.5,
            0.5,
            NOT_ENOUGH,
            ha="center",
            va="center",
            color=MUTED,
            transform=pulse_axes.transAxes,
        )

    shares_axes.set_title("Key shares (%)", fontsize=10, color=INK)
    figures = [report.figure(key) for key in CHART_SHARES]
    width = 0.38
    positions = list(range(len(figures)))
    series = [(current_name, [f.number for f in figures], ACCENT, width / 2)]
    if previous_name is not None:
        series.insert(0, (previous_name, [f.previous_number for f in figures], MUTED, -width / 2))
    for name, numbers, colour, offset in series:
        # Only the figures shown get a bar: a hidden one is an empty slot, never a zero bar.
        shown = [(x, n) for x, n in zip(positions, numbers, strict=True) if n is not None]
        shares_axes.bar(
            [x + offset for x, _ in shown],
            [n * 100 for _, n in shown],
            width=width,
            color=colour,
            label=name,
        )
        for x, number in zip(positions, numbers, strict=True):
            if number is None:
                shares_axes.text(
                    x + offset, 2, "–", ha="center", va="bottom", color=MUTED, fontsize=8
                )
    shares_axes.set_ylim(0, 125)  # room above 100% for the legend
    shares_axes.set_yticks([0, 20, 40, 60, 80, 100])
    shares_axes.set_xticks(positions)
    shares_axes.set_xticklabels([SHARE_LABELS[key] for key in CHART_SHARES], fontsize=7)
    shares_axes.set_xlabel(
        f"–: hidden (under {report.min_responses} people) or nothing to count",
        fontsize=7,
        color=MUTED,
    )
    shares_axes.legend(fontsize=7, frameon=False, loc="upper center", ncols=2)
    for axes in (pulse_axes, shares_axes):
        axes.tick_params(axis="y", labelsize=8)
        axes.tick_params(axis="x", labelsize=7)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.grid(axis="y", alpha=0.25)
    figure.tight_layout()
    return figure


def render_chart(report: ImpactReport) -> bytes:
    """The chart as PNG bytes."""
    out = io.BytesIO()
    draw_chart(report).savefig(out, format="png")
    return out.getvalue()


# --- the HTML page -------------------------------------------------------------------------------

STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #3b2e5a;
       margin: 0; background: #f7f6fb; }
main { max-width: 920px; margin: 0 auto; padding: 32px 24px 48px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 2px solid #e6e1f3; padding-bottom: 4px; }
.period { color: #6b6680; margin: 0 0 16px; overflow-wrap: anywhere; }
.note { background: #f3f0fa; border-left: 4px solid #7a5fc0; padding: 8px 14px; font-size: 14px; }
img { max-width: 100%; height: auto; display: block; margin: 16px 0; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #ece9f3;
         vertical-align: top; overflow-wrap: anywhere; }
th { background: #faf9fd; }
td.hidden, td.none { color: #9a9a9a; font-style: italic; }
ul.changes li { margin: 4px 0; overflow-wrap: anywhere; }
footer { color: #6b6680; font-size: 12px; margin-top: 32px; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _value_cell(text: str, hidden: bool) -> str:
    css = ' class="hidden"' if hidden else (' class="none"' if text == NONE_SHOWN else "")
    return f"<td{css}>{_e(text)}</td>"


def _figure_table(report: ImpactReport, previous_heading: str, figures: Sequence) -> str:
    rows = [
        "<tr>"
        f"<td>{_e(f.label)}</td>"
        f"{_value_cell(f.value, f.hidden)}"
        f"{_value_cell(f.previous, f.previous == NONE_SHOWN)}"
        "</tr>"
        for f in figures
    ]
    return (
        "<table><thead><tr><th>Figure</th>"
        f"<th>{_e(report.cohort)}</th><th>{_e(previous_heading)}</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _weeks_table(report: ImpactReport, previous_heading: str) -> str:
    previous = {w.week: w for w in report.previous_pulse_weeks}
    numbers = sorted({w.week for w in report.pulse_weeks} | set(previous))
    current = {w.week: w for w in report.pulse_weeks}
    rows = []
    for number in numbers:
        now, before = current.get(number), previous.get(number)
        now_text = NONE_SHOWN if now is None else now.text
        before_text = NONE_SHOWN if before is None or before.value is None else before.text
        rows.append(
            f"<tr><td>Week {number}</td>"
            f"{_value_cell(now_text, now is not None and now.value is None)}"
            f"{_value_cell(before_text, before_text == NONE_SHOWN)}</tr>"
        )
    return (
        "<table><thead><tr><th>Week</th>"
        f"<th>{_e(report.cohort)}</th><th>{_e(previous_heading)}</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _changes(report: ImpactReport) -> str:
    if report.changes is None:
        return (
            f"<p>{_e(NOT_ENOUGH.capitalize())}: the changes are shown once at least "
            f"{report.min_responses} different leaders shared one.</p>"
        )
    if not report.changes:
        return "<p>No leader shared a change.</p>"
    items = "".join(f"<li>{_e(change)}</li>" for change in report.changes)
    return f'<ul class="changes">{items}</ul>'


def impact_html(report: ImpactReport, *, chart: bytes | None = None) -> str:
    """The report as one HTML page with the chart inside (drawn now unless `chart` is given):
    every text escaped, no script, nothing to fetch."""
    png = chart if chart is not None else render_chart(report)
    previous_heading = report.previous_cohort or "Previous cohort"
    compared = (
        f"compared with {report.previous_cohort}"
        if report.previous_cohort is not None
        else "the first cohort: nothing to compare with yet"
    )
    n = report.min_responses
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(f'Reverse mentoring impact report: {report.cohort}')}</title>",
        f"<style>{STYLE}</style></head><body><main>",
        f"<h1>{_e(f'Reverse mentoring impact report: {report.cohort}')}</h1>",
        f'<p class="period">{_e(period_text(report))} · {_e(compared)}</p>',
        '<section class="note"><h2>How to read this</h2>',
        "<p>Each figure for this cohort sits beside the same figure for the cohort before. "
        "Participation and rhythm are counts of people, pairs and logged sessions. The pulse "
        "(how valuable people found their conversations, 1 to 5), goal progress, the learning "
        "agreements and the leaders' changes come from people's own answers.</p>",
        f"<p><strong>Figures from fewer than {n} different people are hidden</strong> "
        f"(&ldquo;{_e(NOT_ENOUGH)}&rdquo;, or {_e(NONE_SHOWN)} for the previous cohort), so no "
        "figure can point to one person. In the chart a hidden figure is a gap, never a zero. "
        "The leaders' changes are anonymous and listed in an order that says nothing about "
        "who wrote them.</p></section>",
        f'<img src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}" '
        f'alt="{_e(CHART_ALT)}">',
    ]
    for group, figures in report.groups:
        parts.append(f"<h2>{_e(group)}</h2>")
        parts.append(_figure_table(report, previous_heading, figures))
    parts.append("<h2>Pulse week by week</h2>")
    parts.append(_weeks_table(report, previous_heading))
    parts.append("<h2>What leaders will change</h2>")
    parts.append(_changes(report))
    parts.append(
        "<footer>From the Reverse Mentor bot's own records: sign-ups, pairs, logged sessions, "
        "pulse answers and outcome answers. Nothing is read from conversations.</footer>"
    )
    parts.append("</main></body></html>")
    return "\n".join(parts)
