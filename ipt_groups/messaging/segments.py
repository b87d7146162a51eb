"""What a text costs: its encoding and its number of SMS segments (carriers bill per segment). Pure.

A text wholly in the GSM 03.38 alphabet (its basic table and its extension table, read by the
`gsm0338` codec) goes as GSM-7: 160 characters in one segment, 153 a segment once it is split, where an
extension character (such as € or [) takes two and is never split across segments. Any other character
(á, í, ó, ú, ¡, an emoji) makes the whole text UCS-2: 70 UTF-16 code units in one segment, 67 a segment
once split, a surrogate pair never split. ñ, é, ü and ¿ are in the GSM alphabet; á, í, ó and ú are not.
"""

from __future__ import annotations

from dataclasses import dataclass

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

GSM7, UCS2 = "GSM-7", "UCS-2"
SINGLE = {GSM7: 160, UCS2: 70}
SPLIT = {GSM7: 153, UCS2: 67}


@dataclass(frozen=True)
class Segments:
    """A text's encoding, its length in that encoding's units, and how many segments it takes."""

    encoding: str
    units: int
    count: int

    def __str__(self) -> str:
        return (
            f"{self.count} segment{'' if self.count == 1 else 's'} ({self.encoding}, {self.units} characters)"
        )


def _gsm_units(char: str) -> int | None:
    try:
        return len(char.encode("gsm03.38"))
    except UnicodeEncodeError:
        return None


def measure(text: str) -> Segments:
    """The encoding and segment count of an SMS body."""
    sizes = [_gsm_units(c) for c in text]
    encoding = GSM7 if None not in sizes else UCS2
    if encoding == UCS2:
        sizes = [len(c.encode("utf-16-le")) // 2 for c in text]
    units = sum(sizes)
    if units <= SINGLE[encoding]:
        return Segments(encoding, units, 1 if units else 0)
    return Segments(encoding, units, _split(sizes, SPLIT[encoding]))


def _split(sizes: list[int], room: int) -> int:
    """Segments when characters of these sizes are packed in order, none split across two."""
    count, used = 1, 0
    for size in sizes:
        if used + size > room:
            count, used = count + 1, 0
        used += size
    return count
