"""The sheet and the programme report as JSON-ready dicts and as CSV that opens cleanly in spreadsheets.

CSV conventions: UTF-8 with a byte order mark (Excel reads UTF-8 without one as the local code page and
mangles accents), CRLF line endings and minimal quoting from the csv module, comma-separated. Rates are
whole percents with no % sign and no decimals, which read the same under decimal-comma locales. A text
cell starting with =, +, -, @, tab or CR gets a leading apostrophe so a spreadsheet does not run it as a
formula (CSV injection); numbers are written as numbers and never guarded, so -3 stays -3. The returned
str starts with U+FEFF: encode it with "utf-8", not "utf-8-sig", or the BOM doubles.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from ipt_groups.attendance.reports import CheckinScore, MemberRow, Sheet
from ipt_groups.attendance.rules import PHASE_NAMES, PhaseTally, SessionInfo
from ipt_groups.attendance.sheets.text import COMPLETION_LABELS, PHASE_LABELS, percent

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# --- JSON ------------------------------------------------------------------------------------------


def _tally(tally: PhaseTally) -> dict:
    return {"attended": tally.attended, "held": tally.held, "rate": tally.rate}


def _session(session: SessionInfo | None) -> dict | None:
    if session is None:
        return None
    return {
        "id": session.id,
        "number": session.number,
        "phase": session.phase,
        "status": session.status,
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat() if session.ends_at else None,
        "local_date": session.day.isoformat(),
    }


def _score(score: CheckinScore | None) -> dict | None:
    if score is None:
        return None
    return {"instrument": score.instrument, "score": score.score, "taken_at": score.taken_at.isoformat()}


def _row(row: MemberRow, sessions: tuple[SessionInfo, ...]) -> dict:
    m = row.member
    return {
        "member": {
            "id": m.id,
            "name": m.name,
            "joined_on": m.joined_on.isoformat(),
            "left_on": m.left_on.isoformat() if m.left_on else None,
        },
        "attendance": {str(s.id): cell for s, cell in zip(sessions, row.cells, strict=True)},
        "phases": {phase: _tally(t) for phase, t in row.phases.items()},
        "cycle": _tally(row.cycle),
        "completion": row.completion,
        "consecutive_absences": row.consecutive_absences,
        "outreach_session_ids": list(row.outreach),
        "latest_score": _score(row.latest_score),
        "phq9_change": row.phq9_change,
        "phq9": [_score(s) for s in row.phq9],
        "open_alerts": row.open_alerts,
    }


def sheet_json(sheet: Sheet) -> dict:
    """The sheet as a JSON-safe dict: ISO 8601 datetimes (UTC) and dates, ids as keys are strings."""
    g, rule = sheet.group, sheet.rule
    return {
        "group": {"id": g.id, "name": g.name, "timezone": g.timezone, "facilitator": g.facilitator},
        "generated_at": sheet.generated_at.isoformat(),
        "rule": {
            "min_rate": rule.min_rate,
            "require_termination": rule.require_termination,
            "count_late_as_present": rule.count_late_as_present,
            "excused_counts_as_missed": rule.excused_counts_as_missed,
        },
        "phases": [
            {
                "name": p,
                "sessions": [_session(s) for s in sheet.phase_sessions(p)],
                "totals": _tally(sheet.phase_totals[p]),
            }
            for p in PHASE_NAMES
        ],
        "session_attended": {
            str(s.id): n for s, n in zip(sheet.sessions, sheet.session_attended, strict=True)
        },
        "next_session": _session(sheet.next_session),
        "roster": [{"id": m.id, "name": m.name} for m in sheet.roster],
        "members": [_row(r, sheet.sessions) for r in sheet.rows],
    }


# --- CSV -------------------------------------------------------------------------------------------


def guard(value: object) -> object:
    """A text cell made safe from formula injection; numbers and None pass through."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(header: list[str], rows: Iterable[list]) -> str:
    """Rows as spreadsheet-ready CSV text: BOM, CRLF, quoting, text cells guarded, None as empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([guard(v) for v in row] for row in rows)
    return BOM + out.getvalue()


def _sheet_header() -> list[str]:
    per_phase = [f"{PHASE_LABELS[p]} {what}" for p in PHASE_NAMES for what in ("attended", "held", "rate %")]
    return [
        "Member",
        *per_phase,
        "Cycle rate %",
        "Completion",
        "Consecutive absences",
        "Latest score",
        "Latest check-in",
        "PHQ-9 change since baseline",
        "Open safety alerts",
    ]


def _sheet_line(row: MemberRow) -> list:
    phases = [
        v
        for p in PHASE_NAMES
        for v in (row.phases[p].attended, row.phases[p].held, percent(row.phases[p].rate))
    ]
    latest = row.latest_score
    return [
        row.member.name,
        *phases,
        percent(row.cycle.rate),
        COMPLETION_LABELS[row.completion],
        row.consecutive_absences,
        latest.score if latest else None,
        latest.instrument if latest else None,
        row.phq9_change,
        row.open_alerts,
    ]


def sheet_csv(sheet: Sheet) -> str:
    """One line per member: per-phase attended/held/rate, cycle rate, completion, absences, scores, alerts."""
    return to_csv(_sheet_header(), (_sheet_line(r) for r in sheet.rows))


REPORT_COLUMNS = (
    ("Group id", "group_id"),
    ("Group", "group_name"),
    ("Phase", "phase"),
    ("Held sessions", "held_sessions"),
    ("Attended", "attended"),
    ("Enrolled members", "enrolled_members"),
    ("Expected", "expected"),
    ("Rate %", "rate"),
    ("Mean sessions attended", "mean_attended"),
)


def _report_value(line: dict, key: str) -> object:
    value = line[key]
    if key == "rate":
        return percent(value)
    if key == "mean_attended" and value is not None:
        return f"{value:.1f}"
    return value


def report_csv(lines: Iterable[dict]) -> str:
    """The output of attendance.programme_report as CSV, with the sheet's conventions."""
    rows = ([_report_value(line, key) for _, key in REPORT_COLUMNS] for line in lines)
    return to_csv([label for label, _ in REPORT_COLUMNS], rows)
