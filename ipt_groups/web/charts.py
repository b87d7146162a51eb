"""Charts drawn on the server as SVG (pure: plain data in, markup out). Each has a title and a
description a screen reader reads; every value is also printed as text, and the pages show the same
numbers in a table, so nothing is told by colour alone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape
from itertools import count

_ids = count(1)
WIDTH = 640
LABEL_W = 180
BAR_H = 22
NOTE_W = 150  # room right of the bars for the value in words
GAP = 10
PHASE_CLASS = {"initial": "phase-initial", "middle": "phase-middle", "termination": "phase-termination"}


def _frame(title: str, desc: str, height: int, body: list[str]) -> str:
    n = next(_ids)
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="chart{n}-title chart{n}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart{n}-title">{escape(title)}</title><desc id="chart{n}-desc">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def _text(x: float, y: float, text: str, cls: str = "label", anchor: str = "start") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" text-anchor="{anchor}">{escape(text)}</text>'


def rate_bars(title: str, bars: Sequence[tuple[str, float | None, str]]) -> str:
    """Horizontal bars of rates in [0, 1]: (label, rate or None for no data, the text beside it)."""
    span = WIDTH - LABEL_W - NOTE_W
    body, y = [], GAP
    for label, rate, note in bars:
        body.append(_text(LABEL_W - 8, y + BAR_H * 0.7, label, anchor="end"))
        body.append(f'<rect x="{LABEL_W}" y="{y}" width="{span}" height="{BAR_H}" class="track"/>')
        if rate is not None:
            body.append(
                f'<rect x="{LABEL_W}" y="{y}" width="{span * rate:.1f}" height="{BAR_H}" class="bar"/>'
            )
        body.append(_text(LABEL_W + span + 8, y + BAR_H * 0.7, note))
        y += BAR_H + GAP
    desc = "; ".join(f"{label}: {note}" for label, _rate, note in bars)
    return _frame(title, desc, y, body)


def score_pairs(title: str, rows: Sequence[tuple[str, float | None, float | None]], top: int = 27) -> str:
    """Mean PHQ-9 at baseline and at the end per row, on the 0-27 scale: a line from one to the other,
    a hollow dot at the baseline, a filled dot at the end."""
    span = WIDTH - LABEL_W - NOTE_W
    body, y = [_axis(span, top)], 28
    for label, before, after in rows:
        body.append(_text(LABEL_W - 8, y + 5, label, anchor="end"))
        if before is not None and after is not None:
            x0, x1 = LABEL_W + span * before / top, LABEL_W + span * after / top
            body.append(f'<line x1="{x0:.1f}" y1="{y}" x2="{x1:.1f}" y2="{y}" class="pair"/>')
            body.append(f'<circle cx="{x0:.1f}" cy="{y}" r="6" class="baseline"/>')
            body.append(f'<circle cx="{x1:.1f}" cy="{y}" r="6" class="end"/>')
        body.append(_text(LABEL_W + span + 8, y + 5, _pair_note(before, after)))
        y += BAR_H + GAP
    desc = "; ".join(f"{label}: {_pair_note(b, a)}" for label, b, a in rows)
    return _frame(title, "Mean PHQ-9, baseline then end. " + desc, y, body)


def _pair_note(before: float | None, after: float | None) -> str:
    if before is None or after is None:
        return "no paired scores"
    return f"{before:g} to {after:g}"


def _axis(span: int, top: int) -> str:
    ticks = [
        _text(LABEL_W + span * v / top, 12, str(v), cls="tick", anchor="middle")
        for v in (0, 5, 10, 15, 20, 27)
    ]
    return "".join(ticks)


def timeline(sessions: Sequence[tuple[int, str, date, str]]) -> str:
    """A cycle's sessions in order (number, phase, local date, status), coloured and labelled by
    phase; a cancelled session is drawn hollow and struck through."""
    if not sessions:
        return ""
    step = (WIDTH - 40) / max(len(sessions), 1)
    body, phases = [], []
    for i, (number, phase, day, status) in enumerate(sessions):
        x = 20 + step * (i + 0.5)
        cls = PHASE_CLASS.get(phase, "phase-other") + (" cancelled" if status == "cancelled" else "")
        body.append(f'<circle cx="{x:.1f}" cy="40" r="{min(14, step / 2 - 2):.1f}" class="{cls}"/>')
        body.append(_text(x, 45, str(number), cls="num", anchor="middle"))
        body.append(_text(x, 75, day.strftime("%d %b"), cls="tick", anchor="middle"))
        if not phases or phases[-1][0] != phase:
            phases.append((phase, x))
    body += [_text(x, 14, phase, cls="phase-name", anchor="middle") for phase, x in phases]
    desc = "; ".join(
        f"session {n} ({phase}) {day.isoformat()} {status}" for n, phase, day, status in sessions
    )
    return _frame("The cycle's sessions by phase", desc, 90, body)
