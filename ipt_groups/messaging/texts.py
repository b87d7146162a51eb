"""Message texts. Lock screens show SMS to anyone nearby, so no default text names therapy, a
diagnosis, a problem area or a group's topic; a programme may replace any text (setting
`message_texts`), and the same placeholders are available."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

DEFAULT_TEXTS = {
    "session_reminder_24h": "Hi {first_name}, a reminder from {programme}: your group meets tomorrow, "
    "{when}. Reply C to confirm or X if you can't come.",
    "session_reminder_2h": "Hi {first_name}, your group meets today at {time}. See you soon.",
    "meeting_reminder_24h": "Hi {first_name}, a reminder from {programme}: your one-to-one meeting "
    "is tomorrow, {when}.",
    "meeting_reminder_2h": "Hi {first_name}, your one-to-one meeting is today at {time}.",
    "session_facilitator_24h": "{programme}: {group} meets tomorrow, {when}. {count} members: {roster}.",
    "session_moved": "Hi {first_name}, {programme}: your group's meeting on {old_when} has moved to {when}.",
    "session_cancelled": "Hi {first_name}, {programme}: your group's meeting on {old_when} is cancelled.",
    "missed_you": "Hi {first_name}, we missed you at the group this week. We hope to see you next time. "
    "Reply C to tell us you're coming.",
    "session_cancelled_shifted": "Hi {first_name}, {programme}: your group's meeting on {old_when} is "
    "cancelled. The rest move one week later; the next is {when}.",
}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def render(key: str, context: dict, overrides: dict | None = None) -> str:
    """The text for `key` with its placeholders filled; unknown placeholders become empty."""
    template = (overrides or {}).get(key) or DEFAULT_TEXTS[key]
    return " ".join(template.format_map(_Blank(context)).split())


def local_when(instant: datetime, tz: str, group_tz: str | None = None) -> dict:
    """Date and time as the recipient reads them; the zone is named when it is not the group's."""
    local = instant.astimezone(ZoneInfo(tz))
    time = local.strftime("%H:%M")
    if group_tz and group_tz != tz:
        time += f" {local.tzname()}"
    return {"when": f"{local:%a %d %b} at {time}", "time": time, "date": f"{local:%a %d %b}"}


def first_name(name: str, preferred: str | None = None) -> str:
    """What a greeting calls someone: their preferred name; else the given names of a "Family, Given"
    name ("Nguyen, Thi Lan": "Thi Lan"); else the first word of the name."""
    if preferred and preferred.strip():
        return preferred.strip()
    family, comma, given = (name or "").partition(",")
    if comma and family.strip() and given.strip():
        return " ".join(given.split(",")[0].split())
    return (name or "").strip().split(" ")[0]
