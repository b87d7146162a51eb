"""What a member's SMS means: keywords and survey answers (pure functions, no I/O).

The caller reads every inbound SMS in this order:
1. `crisis.detect_crisis` on the raw text, for every sender - words of crisis count in any text;
2. `classify` - keywords (STOP, START, HELP, RSVP) win over any open survey conversation;
3. for kind "other" with an open conversation, `instruments.answer`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ipt_groups.checkins.instruments import Instrument

# Carrier-standard keywords (Twilio's defaults, except that YES is not START here). CANCEL is STOP,
# so an RSVP decline is "X", never "cancel".
STOP_KEYWORDS = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT")
START_KEYWORDS = ("START", "UNSTOP")
HELP_KEYWORDS = ("HELP", "INFO")
RSVP_CONFIRM_KEYWORDS = ("C", "CONFIRM")
RSVP_DECLINE_KEYWORDS = ("X",)
KINDS = ("stop", "start", "help", "rsvp_confirm", "rsvp_decline", "other")

_KEYWORD_KINDS = {
    **dict.fromkeys(STOP_KEYWORDS, "stop"),
    **dict.fromkeys(START_KEYWORDS, "start"),
    **dict.fromkeys(HELP_KEYWORDS, "help"),
    **dict.fromkeys(RSVP_CONFIRM_KEYWORDS, "rsvp_confirm"),
    **dict.fromkeys(RSVP_DECLINE_KEYWORDS, "rsvp_decline"),
}
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
_OPT_OUT_HINT = re.compile(r"(?<!\w)(stop|stopall|unsubscribe|opt[\s-]*out)(?!\w)", re.IGNORECASE)

NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
# "none" answers "how often?" naturally; it is not a number word, so it means nothing on the mood scale.
LABEL_SYNONYMS = {"none": 0}
_APOSTROPHES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u2032": "'", "`": "'"})
# A leading minus or plus sign is kept so that "-1" is rejected instead of read as 1.
_TRIM = re.compile(r"^[^\w+\-]+|[\W_]+$")
_LEADING_NUMBER = re.compile(r"(\d{1,3})(?!\w)(.*)", re.DOTALL)
_NOT_ALNUM = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Inbound:
    """An inbound SMS classified; `keyword` is the matched keyword in capitals, if any."""

    kind: str
    keyword: str | None
    text: str
    # A hint only: "please stop texting me" is not the STOP keyword, but a human may want to ask.
    mentions_opt_out: bool = False


def classify(text: str) -> Inbound:
    """Classify an SMS as a keyword (stop/start/help/rsvp_confirm/rsvp_decline) or "other".

    Rule: the WHOLE message, ignoring case and surrounding whitespace and punctuation, must equal a
    keyword, as carriers apply STOP: "Stop." and " stop " are STOP, "stop it please" is "other" (with
    mentions_opt_out=True). Digits are never keywords: they are survey answers.
    """
    word = _EDGES.sub("", text or "").upper()
    kind = _KEYWORD_KINDS.get(word)
    if kind:
        return Inbound(kind, word, text)
    return Inbound("other", None, text, mentions_opt_out=bool(_OPT_OUT_HINT.search(text or "")))


def parse_answer(text: str, instrument: Instrument) -> int | None:
    """Read a survey answer on `instrument`'s scale, or None when it is not a clear, in-range answer.

    Rule, after NFKC normalisation, case folding, collapsing whitespace, and trimming surrounding
    whitespace and punctuation (but not a leading "-" or "+", so "-1" is rejected):
    1. a label alone, ignoring spaces and punctuation ("More than half the days!", "nearly everyday");
       "none" is a synonym of 0 on labelled scales (PHQ) only;
    2. a number word alone, "zero" to "ten" ("one sec" is rejected: words never lead text);
    3. decimal digits (any script, e.g. Arabic-Indic), alone or followed by a space or punctuation and
       text ("2", "2 more than half the days", "2 - more than half", "7/10"); the text after the number
       must hold no other number ("2 or 3", "2.5", "1-2" are rejected) and must not be another value's
       label ("2 nearly every day" is rejected); a trailing "/max" or "out of max" is dropped;
    4. the value must lie in [instrument.min, instrument.max]. Anything else is None.
    """
    clean = _clean(text)
    value = _label_value(clean, instrument)
    if value is None:
        value = _number_value(_drop_out_of(clean, instrument.max), instrument)
    if value is None or not instrument.min <= value <= instrument.max:
        return None
    return value


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").translate(_APOSTROPHES).casefold()
    return _TRIM.sub("", " ".join(text.split()))


def _squash(text: str) -> str:
    return _NOT_ALNUM.sub("", text)


def _label_value(text: str, instrument: Instrument) -> int | None:
    if not instrument.labels:
        return None
    key = _squash(text)
    for offset, label in enumerate(instrument.labels):
        if key == _squash(label):
            return instrument.min + offset
    return LABEL_SYNONYMS.get(key)


def _drop_out_of(text: str, maximum: int) -> str:
    return re.sub(rf"\s*(?:/|\bout of)\s*{maximum}$", "", text)


def _number_value(text: str, instrument: Instrument) -> int | None:
    if text in NUMBER_WORDS:
        return NUMBER_WORDS[text]
    match = _LEADING_NUMBER.fullmatch(text)
    if not match:
        return None
    value, rest = int(match.group(1)), match.group(2)
    if _has_number(rest) or _label_value(rest, instrument) not in (None, value):
        return None
    return value


def _has_number(text: str) -> bool:
    words = re.findall(r"[^\W\d_]+", text)
    return bool(re.search(r"\d", text)) or any(word in NUMBER_WORDS for word in words)
