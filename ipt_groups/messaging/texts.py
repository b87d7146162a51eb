"""The facts a text shows, written for its reader: dates and times in the reader's locale and timezone
(Babel, with the patterns of the reader's catalogue: "Tue 02 Mar at 18:00", "mar 2 de mar, 18:00"),
which day a meeting is, names as a lock screen may show them (texts to staff name a group by its number,
never by its name, which may name its topic), and the words it may not show (therapy, a diagnosis, a
problem area, in every catalogue's language). Pure: Babel and the standard library."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from ipt_groups.messaging.catalogue import Catalogue, shipped

DAY_RELATIONS = ("today", "tomorrow", "later")


def local_when(instant: datetime, tz: str, catalogue: Catalogue, group_tz: str | None = None) -> dict:
    """`when`, `date` and `time` as the reader reads them; the zone is named when it is not the group's."""
    zone = ZoneInfo(tz)
    named = bool(group_tz and group_tz != tz)
    formats = catalogue.formats

    def written(pattern: str) -> str:
        return format_datetime(instant, formats[pattern], tzinfo=zone, locale=catalogue.locale)

    return {
        "when": written("when_zone" if named else "when"),
        "date": written("date"),
        "time": written("time_zone" if named else "time"),
    }


def day_relation(starts_at: datetime, sent_at: datetime, tz: str) -> str:
    """Whether a meeting is "today", "tomorrow" or "later", seen from when its text is sent, in the
    reader's timezone."""
    zone = ZoneInfo(tz)
    days = (starts_at.astimezone(zone).date() - sent_at.astimezone(zone).date()).days
    return DAY_RELATIONS[min(max(days, 0), 2)]


def day_word(catalogue: Catalogue, relation: str) -> str:
    """The reader's word for a day relation ("tomorrow", "mañana")."""
    return catalogue.texts[f"day_{relation}"]


def group_label(group_id: int, catalogue: Catalogue) -> str:
    """How texts to staff name a group, in the reader's words: by its number ("group 4", "grupo 4"),
    never its name, which may name its topic ("Tuesday grief") on a lock screen."""
    return catalogue.render("group_label", {"group_id": group_id})


def first_name(name: str, preferred: str | None = None) -> str:
    """What a greeting calls someone: their preferred name; else the given names of a "Family, Given"
    name ("Nguyen, Thi Lan": "Thi Lan"); else the first word of the name."""
    if preferred and preferred.strip():
        return preferred.strip()
    family, comma, given = (name or "").partition(",")
    if comma and family.strip() and given.strip():
        return " ".join(given.split(",")[0].split())
    return (name or "").strip().split(" ")[0]


def short_name(name: str, preferred: str | None = None) -> str:
    """What a greeting calls them and the initial of the family name ("Rosa D", "Thi Lan N" for
    "Nguyen, Thi Lan"): what a text may show of a member."""
    family, comma, given = (name or "").partition(",")
    words = (name or "").split() if not (comma and family.strip() and given.strip()) else family.split()
    called = first_name(name, preferred)
    last = words[-1] if words and (comma or len(words) > 1) else ""
    return f"{called} {last[0]}" if last else called


def roster(people: Iterable[tuple[str, str | None]]) -> str:
    """Members (name, preferred name) as a facilitator's text lists them: what they are called and an
    initial, in alphabetical order."""
    return ", ".join(sorted(short_name(name, preferred) for name, preferred in people))


def _folded(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in text if not unicodedata.combining(c))


@lru_cache(maxsize=16)
def _patterns(words: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    def pattern(phrase: str) -> re.Pattern[str]:
        body = r"[\s_-]+".join(re.escape(part) for part in _folded(phrase).split())
        return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)

    return tuple((word, pattern(word)) for word in words)


def forbidden_words(catalogues: Iterable[Catalogue] | None = None) -> tuple[str, ...]:
    """Every catalogue's words a lock screen must not show (a Spanish word in an English text counts)."""
    found = (w for c in (catalogues or shipped().by_language.values()) for w in c.forbidden)
    return tuple(dict.fromkeys(found))


def reveals_therapy(text: str, words: tuple[str, ...] | None = None) -> list[str]:
    """The forbidden words found in `text` as whole words, ignoring case and accents ("role_dispute" and
    "depresion" count)."""
    folded = _folded(text)
    return [word for word, pattern in _patterns(words or forbidden_words()) if pattern.search(folded)]


def sample_dates(start: datetime, days: int = 7) -> list[datetime]:
    """A week of instants in every month from `start` (every day name and month name), for measuring
    the longest date a text can show."""
    return [start.replace(month=m) + timedelta(days=d) for m in range(1, 13) for d in range(days)]
