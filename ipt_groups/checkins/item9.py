"""PHQ-9 item 9 read in the words members answer it with, in every language the programme knows (pure
functions, no I/O).

Item 9 asks about thoughts of being better off dead or of self-harm, so its answer is read for safety
before anything else, and every language's words are tried whatever the member's language (a Spanish
speaker registered as `en` answers "varios días"). In order, after `crisis.normalise` (case, accents,
spacing and punctuation do not count):
1. the whole answer is a label or a number word of any language ("varios días", "dos"): that value;
2. the whole answer says no and nothing else ("no", "never", "nunca", "ningún día", "no, never"): 0;
3. the answer holds a word that means yes, at least sometimes ("yes", "a veces"), or speaks of days or
   of how often ("every night", "most of the time", "more than half"): above 0, value unknown (the
   caller alerts at once and asks for the number);
4. anything else is unreadable (re-prompted once, then a review alert).
The words are data (`ITEM9_WORDS`, one `Item9Words` per language); every function takes the
catalogues to read with, so a programme's or a later issue's per-language catalogues can feed them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from ipt_groups.checkins.crisis import normalise


@dataclass(frozen=True, eq=False)  # compared (and cached) as the object it is
class Item9Words:
    """One language's words for answering item 9 (see the module docstring for how each is used)."""

    labels: tuple[str, ...] = ()  # labels[v] names the answer v, 0 to 3, as the validated wording has it
    numbers: Mapping[str, int] = field(default_factory=dict)  # number words, 0 to 3
    no: tuple[str, ...] = ()  # an answer made only of these (and `fillers`) is 0
    yes: tuple[str, ...] = ()  # anywhere in the answer: yes, at least sometimes
    frequency: tuple[str, ...] = ()  # anywhere in the answer: days or how often, so above 0
    fillers: tuple[str, ...] = ()  # may follow a no without changing it ("no thanks")


ENGLISH = Item9Words(
    labels=("not at all", "several days", "more than half the days", "nearly every day"),
    numbers={"zero": 0, "one": 1, "two": 2, "three": 3},
    no=("no", "nope", "nah", "never", "never ever", "not at all", "not once", "none", "no days",
        "zero days", "not a day", "not one day", "not a single day", "no never"),
    yes=("yes", "yeah", "yea", "yep", "yup", "sometimes", "some days", "often", "always",
         "all the time", "every day", "everyday", "daily", "a lot", "most days", "occasionally",
         "a little", "a bit", "kind of", "kinda", "sort of"),
    frequency=("day", "days", "night", "nights", "week", "weeks", "time", "times", "half", "most",
               "every", "nightly", "once", "twice", "rarely", "hardly", "seldom", "constantly",
               "frequently", "usually", "mostly"),
    fillers=("thanks", "thank you", "thx", "ok", "okay"),
)  # fmt: skip
SPANISH = Item9Words(
    labels=("ningún día", "varios días", "más de la mitad de los días", "casi todos los días"),
    numbers={"cero": 0, "uno": 1, "una": 1, "dos": 2, "tres": 3},
    no=("no", "nunca", "jamás", "ningún día", "ni un día", "ninguno", "ninguna", "nada", "para nada",
        "en absoluto", "no nunca", "ni una vez"),
    yes=("sí", "a veces", "aveces", "algunas veces", "de vez en cuando", "siempre", "casi siempre",
         "seguido", "mucho", "todos los días"),
    frequency=("día", "días", "noche", "noches", "semana", "semanas", "vez", "veces", "mitad",
               "diario", "diariamente", "todos", "casi", "rara vez", "poco", "pocas"),
    fillers=("gracias", "ok", "bueno"),
)  # fmt: skip
ITEM9_WORDS: dict[str, Item9Words] = {"en": ENGLISH, "es": SPANISH}


def item9_value(text: str, catalogues: Mapping[str, Item9Words] = ITEM9_WORDS) -> int | None:
    """The value of an answer that is only a label, a number word or a no, in any language."""
    form = normalise(text)
    for words in catalogues.values():
        if form in _named(words):
            return _named(words)[form]
    return 0 if form and any(_only_no(words).fullmatch(form) for words in catalogues.values()) else None


def reads_as_yes(text: str, catalogues: Mapping[str, Item9Words] = ITEM9_WORDS) -> bool:
    """Whether an answer plainly means yes, at least sometimes, or speaks of days or how often."""
    form = normalise(text)
    return any(_anywhere(words.yes + words.frequency).search(form) for words in catalogues.values())


@lru_cache(maxsize=32)
def _named(words: Item9Words) -> dict[str, int]:
    named = {normalise(label): value for value, label in enumerate(words.labels)}
    return named | {normalise(word): value for word, value in words.numbers.items()}


@lru_cache(maxsize=32)
def _only_no(words: Item9Words) -> re.Pattern[str]:
    no = _alternation(words.no)
    return re.compile(rf"(?:{no})(?: (?:{no}))*(?: (?:{_alternation(words.fillers) or '(?!)'}))*")


@lru_cache(maxsize=32)
def _anywhere(phrases: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w)(?:{_alternation(phrases) or '(?!)'})(?!\w)")


def _alternation(phrases: tuple[str, ...]) -> str:
    forms = sorted({normalise(p) for p in phrases} - {""}, key=len, reverse=True)
    return "|".join(map(re.escape, forms))
