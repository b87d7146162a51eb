"""Weekly availability windows: plain data, parsed and checked without Flask or a database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

from ipt_groups.time_of_day import format_minutes, parse_hhmm
from ipt_groups.vocabulary import DAYS


@dataclass(frozen=True, order=True)
class Window:
    """A weekly window in its owner's own timezone; `end` of 24:00 is written "24:00"."""

    day: str
    start: time
    end_minutes: int  # minutes after local midnight; 1440 means the end of the day

    @property
    def start_minutes(self) -> int:
        return self.start.hour * 60 + self.start.minute

    def to_dict(self) -> dict:
        return {
            "day": self.day,
            "start": self.start.strftime("%H:%M"),
            "end": format_minutes(self.end_minutes),
        }


def parse_window(raw: dict) -> Window:
    """Build a Window from {"day", "start", "end"}; raises ValueError naming the problem."""
    day = str(raw.get("day", "")).lower()
    if day not in DAYS:
        raise ValueError(f"day {raw.get('day')!r} is not one of {', '.join(DAYS)}")
    start = parse_hhmm(str(raw.get("start", "")))
    end = parse_hhmm(str(raw.get("end", "")), allow_24=True)
    if end <= start:
        raise ValueError(
            f"window on {day} ends ({format_minutes(end)}) before it starts ({format_minutes(start)})"
        )
    return Window(day, time(start // 60, start % 60), end)


def parse_windows(raw: list[dict]) -> list[Window]:
    """Parse and sort a list of windows; overlapping windows of one day are merged."""
    windows = sorted(parse_window(w) for w in raw)
    merged: list[Window] = []
    for w in windows:
        last = merged[-1] if merged else None
        if last and last.day == w.day and w.start_minutes <= last.end_minutes:
            merged[-1] = Window(last.day, last.start, max(last.end_minutes, w.end_minutes))
        else:
            merged.append(w)
    return merged


_SHEET_WINDOW = re.compile(r"^\s*([A-Za-z]{3})[a-z]*\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$")


def parse_sheet_availability(text: str) -> list[dict]:
    """Parse a spreadsheet cell such as "mon 18:00-20:30; wed 09:00-12:00" into window dicts."""
    out = []
    for part in filter(None, (p.strip() for p in re.split(r"[;\n]", text or ""))):
        m = _SHEET_WINDOW.match(part)
        if not m:
            raise ValueError(f"{part!r} is not a window like 'mon 18:00-20:30'")
        day, start, end = m.groups()
        out.append({"day": day.lower(), "start": start.zfill(5), "end": end.zfill(5)})
    return out
