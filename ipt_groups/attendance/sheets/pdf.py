"""The attendance sheet as a printable PDF (fpdf2): a sign-in roster, the grid, and a summary page.

Page 1 is the sign-in roster for the next session: group name, local date and time, the names of the
members expected, a box each to tick and a signature line. It may be left on a table, so it shows no
problem area, scores or alerts. Next, landscape, the members x sessions grid by phase with a subtotal
after each phase; 20 sessions x 15 members fit one page. Last, a bar chart of the group's attendance rate
by phase drawn from rectangles, and the members' PHQ-9 scores across the cycle as a table (ten crossing
lines in a small chart read worse than ten short rows). Open safety-alert counts stay off paper: they
mark a named person as at risk, and staff see them in the JSON and CSV.

Fonts. fpdf2's core fonts know latin-1 only, so names like "Łucja" or "Nguyễn" need a TTF: DejaVu Sans is
used when found in one of FONT_DIRS (Debian/Ubuntu, Fedora, Arch, Alpine, macOS paths). When it is not
(a slim CI image), the PDF falls back to core Helvetica, and characters outside latin-1 are replaced by
their unaccented letter ("ễ" -> "e") or, failing that, "?". Latin-1 accents (é, ñ, ü, ç) survive either way.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from ipt_groups.attendance.reports import MemberRow, Sheet
from ipt_groups.attendance.rules import PHASE_NAMES
from ipt_groups.attendance.sheets.text import (
    COMPLETION_LABELS,
    PHASE_LABELS,
    clock,
    long_date,
    percent,
    short_date,
)

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu-sans-fonts"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/share/fonts/dejavu"),
    Path("/Library/Fonts"),
)
MARGIN = 10.0
CELL_MARKS = {"present": "P", "late": "L", "absent": "A", "excused": "E", "cancelled": "x", "unrecorded": "?"}
CELL_FILLS = {"absent": (250, 215, 215), "cancelled": (225, 225, 225), "not_enrolled": (225, 225, 225)}
LEGEND = (
    "P present  L late  A absent  E excused  ? not recorded  x cancelled  grey: not enrolled or cancelled.  "
    "Absent: absences in a row up to the latest session."
)


def find_fonts(dirs: Iterable[Path] = FONT_DIRS) -> tuple[Path, Path] | None:
    """The regular and bold DejaVu Sans files (bold falls back to regular), or None if absent."""
    for d in dirs:
        regular = d / "DejaVuSans.ttf"
        if regular.is_file():
            bold = d / "DejaVuSans-Bold.ttf"
            return regular, bold if bold.is_file() else regular
    return None


# letters with no decomposition to a base letter, common in names (Polish, Croatian, Turkish, French)
_NO_DECOMPOSITION = str.maketrans(
    dict(zip("ŁłĐđıĦħŊŋ’‘–—", "LlDdiHhNn''--", strict=True)) | {"Œ": "OE", "œ": "oe"}
)


def latin1(text: str) -> str:
    """Text the core fonts can draw: latin-1 kept, other letters unaccented, the rest '?'."""
    return "".join(ch if ord(ch) < 256 else _unaccented(ch) for ch in text.translate(_NO_DECOMPOSITION))


def _unaccented(ch: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return base if base and all(ord(c) < 256 for c in base) else "?"


class _Pdf(FPDF):
    """FPDF with the chosen font, a footer, and cells that clean their text for that font."""

    def __init__(self, fonts: tuple[Path, Path] | None, footer_text: str):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_text = footer_text
        self.set_margins(MARGIN, MARGIN)
        self.set_auto_page_break(False)  # pages break where the grid says, so headers repeat
        self.family, self.clean = _install(self, fonts)

    def footer(self):
        self.set_y(-MARGIN)
        self.put(0, 5, f"{self.footer_text} - page {self.page_no()} of {{nb}}", size=7, align="R")

    def put(self, w: float, h: float, text: str, size: float = 9, style: str = "", **kw) -> None:
        """A cell in the sheet font; `line=True` moves to the next line after it."""
        line = kw.pop("line", False)
        self.set_font(self.family, style, size)
        nx, ny = (XPos.LMARGIN, YPos.NEXT) if line else (XPos.RIGHT, YPos.TOP)
        self.cell(w, h, self.clean(text), new_x=nx, new_y=ny, **kw)

    def room(self) -> float:
        """Height left above the bottom margin and footer."""
        return self.h - 2 * MARGIN - self.get_y()


def _install(pdf: FPDF, fonts: tuple[Path, Path] | None) -> tuple[str, Callable[[str], str]]:
    if fonts is None:
        return "helvetica", latin1
    pdf.add_font("sheet", "", str(fonts[0]))
    pdf.add_font("sheet", "B", str(fonts[1]))
    return "sheet", str


def sheet_pdf(sheet: Sheet, fonts: tuple[Path, Path] | None | str = "system") -> bytes:
    """The printable sheet; fonts: "system" finds DejaVu Sans, None forces the core-font fallback."""
    tz = sheet.group.timezone
    made = f"{sheet.group.name} - printed {long_date(sheet.generated_at, tz)} {clock(sheet.generated_at, tz)}"
    pdf = _Pdf(find_fonts() if fonts == "system" else fonts, made)
    pdf.set_title(pdf.clean(f"Attendance - {sheet.group.name}"))
    pdf.set_creation_date(sheet.generated_at)  # the same sheet gives the same bytes
    _roster_page(pdf, sheet)
    _grid_pages(pdf, sheet)
    _summary_page(pdf, sheet)
    return bytes(pdf.output())


# --- page 1: sign-in roster ------------------------------------------------------------------------


def _roster_page(pdf: _Pdf, sheet: Sheet) -> None:
    pdf.add_page(orientation="P")
    pdf.put(0, 9, "Sign-in sheet", size=16, style="B", line=True)
    pdf.put(0, 8, sheet.group.name, size=13, style="B", line=True)
    pdf.put(0, 6, _when(sheet), size=11, line=True)
    if sheet.group.facilitator:
        pdf.put(0, 6, f"Facilitator: {sheet.group.facilitator}", size=11, line=True)
    pdf.ln(4)
    pdf.put(12, 7, "#", style="B", border="B")
    pdf.put(150, 7, "Name", style="B", border="B")
    pdf.put(28, 7, "Here", style="B", border="B", align="C", line=True)
    for number, member in enumerate(sheet.roster, 1):
        _roster_line(pdf, number, member.name)
    if not sheet.roster:
        pdf.put(0, 9, "No members are expected: there is no upcoming session.", line=True)
    _signature(pdf)


def _when(sheet: Sheet) -> str:
    s, tz = sheet.next_session, sheet.group.timezone
    if s is None:
        return "No session scheduled"
    return f"Session {s.number} - {long_date(s.starts_at, tz)}, {clock(s.starts_at, tz)} ({tz})"


def _roster_line(pdf: _Pdf, number: int, name: str) -> None:
    if pdf.room() < 30:  # keep the signature line on the last page with names
        pdf.add_page(orientation="P")
    y = pdf.get_y()
    pdf.put(12, 9, str(number), border="B")
    pdf.put(150, 9, name, size=11, border="B")
    pdf.put(28, 9, "", border="B", line=True)
    pdf.rect(MARGIN + 162 + 11.5, y + 2, 5, 5)  # the box to tick, centred in the 28 mm column


def _signature(pdf: _Pdf) -> None:
    pdf.ln(14)
    y = pdf.get_y()
    pdf.put(40, 6, "Facilitator signature")
    pdf.line(MARGIN + 42, y + 5, MARGIN + 120, y + 5)
    pdf.set_x(MARGIN + 126)
    pdf.put(12, 6, "Date")
    pdf.line(MARGIN + 138, y + 5, MARGIN + 180, y + 5)
    pdf.ln(8)


# --- the grid --------------------------------------------------------------------------------------

# Columns as (kind, key, width): name, each phase's sessions then its subtotal, then the cycle columns.
Column = tuple[str, object, float]
TAIL = (("cycle", "Cycle", 12.0), ("absences", "Absent", 12.0), ("status", "Completion", 24.0))
SUBTOTAL_W = 13.0
ROW_H, HEAD_H = 6.0, 5.0


def _columns(sheet: Sheet, width: float) -> list[Column]:
    fixed = sum(w for _, _, w in TAIL) + SUBTOTAL_W * len(PHASE_NAMES)
    name_w = 44.0
    session_w = min(10.0, max(3.5, (width - fixed - name_w) / max(1, len(sheet.sessions))))
    cols: list[Column] = [("name", None, name_w)]
    index = 0
    for phase in PHASE_NAMES:
        for _ in sheet.phase_sessions(phase):
            cols.append(("session", index, session_w))
            index += 1
        cols.append(("subtotal", phase, SUBTOTAL_W))
    return cols + [(kind, label, w) for kind, label, w in TAIL]


def _grid_pages(pdf: _Pdf, sheet: Sheet) -> None:
    pdf.add_page(orientation="L")
    cols = _columns(sheet, pdf.w - 2 * MARGIN)
    _grid_title(pdf, sheet)
    _grid_head(pdf, sheet, cols)
    for row in sheet.rows:
        if pdf.room() < ROW_H * 2 + 8:
            pdf.add_page(orientation="L")
            _grid_head(pdf, sheet, cols)
        _grid_row(pdf, sheet, cols, row)
    _totals_row(pdf, sheet, cols)
    pdf.ln(3)
    pdf.put(0, 4, LEGEND, size=7, line=True)


def _grid_title(pdf: _Pdf, sheet: Sheet) -> None:
    tz, rule = sheet.group.timezone, sheet.rule
    pdf.put(0, 8, f"Attendance - {sheet.group.name}", size=14, style="B", line=True)
    term = ", including one in the termination phase" if rule.require_termination else ""
    rule_text = f"Completion: at least {percent(rule.min_rate)}% of sessions held{term}."
    pdf.put(0, 5, f"As of {long_date(sheet.generated_at, tz)}. {rule_text}", size=8, line=True)
    pdf.ln(2)


def _grid_head(pdf: _Pdf, sheet: Sheet, cols: list[Column]) -> None:
    pdf.set_fill_color(235, 235, 235)
    for kind, key, w in cols:  # line 1: phase names over their sessions and subtotal
        if kind == "subtotal":
            span = w + sum(cw for k, i, cw in cols if k == "session" and sheet.sessions[i].phase == key)
            pdf.put(span, HEAD_H, PHASE_LABELS[key], size=7, style="B", border=1, align="C", fill=True)
        elif kind not in ("session", "subtotal"):
            pdf.put(w, HEAD_H, "", border="LTR")
    pdf.ln(HEAD_H)
    for line in (2, 3):  # session numbers over their dates; column names
        for kind, key, w in cols:
            text = _head_text(sheet, kind, key, line)
            size, style = (5, "") if kind == "session" and line == 3 else (6.5, "B")
            pdf.put(w, HEAD_H, text, size=size, style=style, border="LR" if line == 2 else "LRB", align="C")
        pdf.ln(HEAD_H)


def _head_text(sheet: Sheet, kind: str, key: object, line: int) -> str:
    if kind == "session":
        session = sheet.sessions[key]
        return str(session.number) if line == 2 else short_date(session.starts_at, sheet.group.timezone)
    if line == 3:
        return ""
    return {"name": "Member", "subtotal": "Att/held"}.get(kind, key)


def _grid_row(pdf: _Pdf, sheet: Sheet, cols: list[Column], row: MemberRow) -> None:
    for kind, key, w in cols:
        cell = row.cells[key] if kind == "session" else None
        fill = CELL_FILLS.get(cell)
        if fill:
            pdf.set_fill_color(*fill)
        style = "B" if kind == "absences" and row.consecutive_absences >= 2 else ""
        align = "L" if kind == "name" else "C"
        pdf.put(
            w, ROW_H, _row_text(kind, key, row), size=7, style=style, border=1, align=align, fill=bool(fill)
        )
    pdf.ln(ROW_H)


def _row_text(kind: str, key: object, row: MemberRow) -> str:
    if kind == "name":
        return row.member.name
    if kind == "session":
        return CELL_MARKS.get(row.cells[key], "")
    if kind == "subtotal":
        tally = row.phases[key]
        return f"{tally.attended}/{tally.held}" if tally.held else ""
    if kind == "cycle":
        return f"{percent(row.cycle.rate)}%" if row.cycle.rate is not None else ""
    if kind == "absences":
        return str(row.consecutive_absences)
    return COMPLETION_LABELS[row.completion]


def _totals_row(pdf: _Pdf, sheet: Sheet, cols: list[Column]) -> None:
    texts = {"name": "Attended", "cycle": "", "absences": "", "status": ""}
    for kind, key, w in cols:
        if kind == "session":
            s = sheet.sessions[key]
            text = str(sheet.session_attended[key]) if s.status == "held" else ""
        elif kind == "subtotal":
            tally = sheet.phase_totals[key]
            text = f"{percent(tally.rate)}%" if tally.rate is not None else ""
        else:
            text = texts[kind]
        pdf.put(w, ROW_H, text, size=7, style="B", border=1, align="L" if kind == "name" else "C")
    pdf.ln(ROW_H)


# --- summary: rate by phase and PHQ-9 --------------------------------------------------------------

CHART_W, CHART_H, BAR_W = 110.0, 45.0, 20.0
PHQ_H = 5.5


def _summary_page(pdf: _Pdf, sheet: Sheet) -> None:
    pdf.add_page(orientation="L")
    pdf.put(0, 8, "Attendance rate by phase", size=12, style="B", line=True)
    top = pdf.get_y() + 6
    _bar_chart(pdf, sheet, MARGIN + 12, top)
    pdf.set_y(top + CHART_H + 12)
    pdf.put(0, 8, "PHQ-9 across the cycle", size=12, style="B", line=True)
    _phq9_table(pdf, sheet)


def _bar_chart(pdf: _Pdf, sheet: Sheet, x0: float, top: float) -> None:
    base = top + CHART_H
    pdf.set_draw_color(0)
    pdf.line(x0, top, x0, base)
    pdf.line(x0, base, x0 + CHART_W, base)
    for tick in (0, 50, 100):
        pdf.set_xy(x0 - 11, base - CHART_H * tick / 100 - 2)
        pdf.put(10, 4, f"{tick}%", size=7, align="R")
    for i, phase in enumerate(PHASE_NAMES):
        _bar(pdf, x0 + 10 + i * (BAR_W + 15), base, PHASE_LABELS[phase], sheet.phase_totals[phase].rate)
    _threshold(pdf, x0, base - CHART_H * sheet.rule.min_rate, sheet.rule.min_rate)


def _bar(pdf: _Pdf, x: float, base: float, label: str, rate: float | None) -> None:
    height = CHART_H * (rate or 0)
    pdf.set_fill_color(90, 120, 170)
    if height:
        pdf.rect(x, base - height, BAR_W, height, style="F")
    pdf.set_xy(x - 5, base - height - 5)
    pdf.put(BAR_W + 10, 4, f"{percent(rate)}%" if rate is not None else "none held", size=8, align="C")
    pdf.set_xy(x - 5, base + 1)
    pdf.put(BAR_W + 10, 5, label, size=8, align="C")


def _threshold(pdf: _Pdf, x0: float, y: float, rate: float) -> None:
    pdf.set_dash_pattern(dash=1.5, gap=1.5)
    pdf.line(x0, y, x0 + CHART_W, y)
    pdf.set_dash_pattern()
    pdf.set_xy(x0 + CHART_W + 2, y - 2)
    pdf.put(40, 4, f"completion rule {percent(rate)}%", size=7)


def _phq9_table(pdf: _Pdf, sheet: Sheet) -> None:
    rows = [r for r in sheet.rows if r.phq9]
    if not rows:
        pdf.put(0, 6, "No PHQ-9 scores yet.", line=True)
        return
    _phq9_head(pdf)
    for row in rows:
        if pdf.room() < PHQ_H + 2:
            pdf.add_page(orientation="L")
            _phq9_head(pdf)
        readings = "    ".join(f"{short_date(s.taken_at, sheet.group.timezone)}: {s.score}" for s in row.phq9)
        pdf.put(50, PHQ_H, row.member.name, border="B")
        pdf.put(190, PHQ_H, readings, border="B")
        pdf.put(37, PHQ_H, _signed(row.phq9_change), border="B", align="C", line=True)


def _phq9_head(pdf: _Pdf) -> None:
    pdf.put(50, PHQ_H, "Member", style="B", border="B")
    pdf.put(190, PHQ_H, "PHQ-9 scores (date: score), earliest first", style="B", border="B")
    pdf.put(37, PHQ_H, "Change since first", style="B", border="B", align="C", line=True)


def _signed(change: int | None) -> str:
    if change is None:
        return ""
    return f"{change:+d}" if change else "0"
