"""Times of day written as HH:MM (a group's slot, availability windows, quiet hours): plain Python."""

from __future__ import annotations

import re

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def format_minutes(minutes: int) -> str:
    """Format minutes after midnight as HH:MM (1440 -> 24:00)."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_hhmm(text: str, allow_24: bool = False) -> int:
    """Minutes after midnight for "HH:MM"; raises ValueError with a readable reason."""
    if allow_24 and text == "24:00":
        return 1440
    m = _HHMM.match(text or "")
    if not m:
        raise ValueError(f"{text!r} is not a time of day as HH:MM (00:00-23:59)")
    return int(m.group(1)) * 60 + int(m.group(2))
