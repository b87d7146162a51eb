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

from ipt_groups.messaging.catalogue import Catalogues, shipped

if TYPE_CHECKING:
    from ipt_groups.checkins.wording import Instrument

# What each catalogue keyword list means here. Every catalogue's opt-out, opt-in and help keywords work
# for everyone, as the carrier applies them to every sender; "resubscribe" (YES) opts in only a member
# who has opted out, and is a reply from anyone else. CANCEL and CANCELAR are opt-outs, so an RSVP
# decline is "X", never "cancel".
KINDS_OF_KEYWORDS = {
    "opt_out": "stop",
    "opt_in": "start",
    "resubscribe": "resubscribe",
    "help": "help",
    "rsvp_confirm": "rsvp_confirm",
    "rsvp_decline": "rsvp_decline",
}
KINDS = ("stop", "start", "resubscribe", "help", "rsvp_confirm", "rsvp_decline", "other")

_OPT_OUT_HINT = re.compile(r"(?<!\w)(stop|stopall|unsubscribe|opt[\s-]*out)(?!\w)", re.IGNORECASE)

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


def classify(text: str, language: str | None = None, catalogues: Catalogues | None = None) -> Inbound:
    """Classify an SMS as a keyword (stop/start/resubscribe/help/rsvp_confirm/rsvp_decline) or "other".

    Rule: the WHOLE message, after Unicode NFKC folding (a full-width ＳＴＯＰ is STOP) and ignoring case,
    accents and surrounding whitespace and punctuation, must equal a keyword, as carriers apply STOP:
    "Stop.", " stop " and "¡Alto!" are opt-outs, "stop it please" is "other" (with
    mentions_opt_out=True). Every catalogue's opt-out, opt-in and help keywords work for everyone (the
    carrier applies them to every sender); RSVP keywords are the reader's language's and English's.
    Digits are never keywords: they are survey answers.
    """
    found = (catalogues or shipped()).keyword(text or "", language)
    if found:
        return Inbound(KINDS_OF_KEYWORDS[found[0]], found[1], text)
    return Inbound("other", None, text, mentions_opt_out=bool(_OPT_OUT_HINT.search(text or "")))


def parse_answer(text: str, instrument: Instrument) -> int | None:
    """Read a survey answer on `instrument`'s scale, or None when it is not a clear, in-range answer.

    Rule, after NFKC normalisation, case and accent folding, collapsing whitespace, and trimming
    surrounding whitespace and punctuation (but not a leading "-" or "+", so "-1" is rejected):
    1. a label of the instrument's language alone, ignoring spaces, punctuation and accents ("More than
       half the days!", "nearly everyday", "mas de la mitad de los dias"); its words for none ("none",
       "nunca") are 0 on labelled scales (PHQ) only;
    2. a number word alone, of the instrument's language or English, "zero"/"cero" to "ten"/"diez"
       ("one sec" is rejected: words never lead text);
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
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return _TRIM.sub("", " ".join(text.split()))


def _squash(text: str) -> str:
    return _NOT_ALNUM.sub("", text)


def _label_value(text: str, instrument: Instrument) -> int | None:
    if not instrument.labels:
        return None
    key = _squash(text)
    for offset, label in enumerate(instrument.labels):
        if key == _squash(_clean(label)):
            return instrument.min + offset
    return instrument.min if key in {_squash(w) for w in instrument.none_words} else None


def _drop_out_of(text: str, maximum: int) -> str:
    return re.sub(rf"\s*(?:/|\bout of)\s*{maximum}$", "", text)


def _number_value(text: str, instrument: Instrument) -> int | None:
    if text in instrument.number_words:
        return instrument.number_words[text]
    match = _LEADING_NUMBER.fullmatch(text)
    if not match:
        return None
    value, rest = int(match.group(1)), match.group(2)
    if _has_number(rest, instrument) or _label_value(rest, instrument) not in (None, value):
        return None
    return value


def _has_number(text: str, instrument: Instrument) -> bool:
    words = re.findall(r"[^\W\d_]+", text)
    return bool(re.search(r"\d", text)) or any(word in instrument.number_words for word in words)
