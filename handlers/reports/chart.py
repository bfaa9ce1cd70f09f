"""The admin summary's small chart: the pulse trend and sessions per week, as a PNG.

Drawn with matplotlib's Agg backend through its object API (a Figure with its own canvas, no
pyplot), so nothing global is touched and it is safe in a worker thread (asyncio.to_thread).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.summary import NOT_ENOUGH, WeekPoint

WIDTH_IN, HEIGHT_IN, DPI = 8.0, 2.8, 100
INK, ACCENT, MUTED = "#3b2e5a", "#7a5fc0", "#9a9a9a"


def render_chart(points: Sequence[WeekPoint]) -> bytes:
    """Two panels side by side; a week whose pulse had too few responses is a gap."""
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(figure)
    pulse_axes, sessions_axes = figure.subplots(1, 2)
    labels = [f"{p.starts.day} {p.starts:%b}" for p in points]
    positions = list(range(len(points)))

    values = [p.pulse.value for p in points]  # None: too few responses, never a number
    pulse_axes.set_title("Pulse (1–5), weekly average", fontsize=10, color=INK)
    pulse_axes.set_ylim(1, 5)
    pulse_axes.set_yticks([1, 2, 3, 4, 5])
    if any(v is not None for v in values):
        # NaN breaks the line: a hidden week is a gap, not a zero.
        pulse_axes.plot(
            positions,
            [v if v is not None else float("nan") for v in values],
            color=ACCENT,
            marker="o",
            linewidth=2,
        )
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

    sessions_axes.set_title("Sessions held per week", fontsize=10, color=INK)
    sessions_axes.bar(positions, [p.sessions for p in points], color=INK)
    top = max((p.sessions for p in points), default=0)
    sessions_axes.set_ylim(0, max(top, 1) * 1.15)
    sessions_axes.yaxis.get_major_locator().set_params(integer=True)

    if any(v is None for v in values) and any(v is not None for v in values):
        pulse_axes.set_xlabel(f"gaps: {NOT_ENOUGH}", fontsize=7, color=MUTED)

    for axes in (pulse_axes, sessions_axes):
        axes.set_xticks(positions)
        axes.set_xticklabels(labels, fontsize=7, rotation=0)
        axes.tick_params(axis="y", labelsize=8)
        axes.set_xlim(-0.6, len(points) - 0.4)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.grid(axis="y", alpha=0.25)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
