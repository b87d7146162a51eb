"""Words of crisis per language, which crisis-line text a reader gets, and the words that answer PHQ-9
item 9 with yes (pure functions, no I/O). The crisis-line texts themselves are in the catalogues.

Every inbound SMS is read against every language's list, the sender's own language first (a Spanish
speaker registered as `en`, a stranger, a member who switches language mid-sentence). Text and phrases
are normalised alike: Unicode NFKC, case-folded, accents dropped, apostrophes dropped, every other
character that is not a letter or digit made a space, runs of one letter folded to one ("diieee",
"suiiicide", "kill" -> "kil" on both sides). A phrase matches whole words only, so "skill myself" is not
"kill myself". A false alert costs a human a minute; a missed one can cost a life: when in doubt a phrase
goes in, and a programme can add its own (docs/crisis-phrases.md) but never remove a built-in one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from ipt_groups.messaging.catalogue import primary

DEFAULT_LANGUAGE = "en"
MIN_PHRASE_CHARS = 3  # shorter phrases would match ordinary words and bury real alerts
MAX_PHRASE_CHARS = 100

BUILT_IN_PHRASES: dict[str, tuple[str, ...]] = {
    "en": (
        "suicide",
        "suicidal",
        "kill myself",
        "killing myself",
        "end my life",
        "ending my life",
        "take my own life",
        "end it all",
        "hurt myself",
        "hurting myself",
        "harm myself",
        "self harm",
        "want to die",
        "wanna die",
        "better off dead",
        "don't want to live",
        "no reason to live",
        # common misspellings and run-together forms
        "sucide",
        "suicde",
        "suiside",
        "suicidel",
        "sucidal",
        "suicidial",
        "kill my self",
        "killmyself",
        "selfharm",
        "self harming",
        "want 2 die",
        # slang
        "kms",
        "unalive",
        "unaliving",
        # means and plans
        "overdose",
        "overdosed",
        "overdosing",
        "take all my pills",
        "took all my pills",
        "hang myself",
        "shoot myself",
        "cut myself",
        "cutting myself",
        # wishes
        "wish i was dead",
        "wish i were dead",
        "want to be dead",
        "rather be dead",
        "don't want to be alive",
        "better off without me",
        "no point living",
        "no point in living",
        "can't go on",
        "cannot go on",
    ),
    "es": (
        "suicidio",
        "suicida",
        "suicidar",
        "suicidarme",
        "me quiero morir",
        "quiero morir",
        "quiero morirme",
        "quisiera morir",
        "quisiera morirme",
        "ganas de morir",
        "me quiero matar",
        "quiero matarme",
        "me voy a matar",
        "voy a matarme",
        "matarme",
        "no quiero vivir",
        "no quiero seguir viviendo",
        "quitarme la vida",
        "acabar con mi vida",
        "terminar con mi vida",
        "mejor muerto",
        "mejor muerta",
        "hacerme daño",
        "lastimarme",
        "cortarme las venas",
        "sobredosis",
        "no vale la pena vivir",
        "no tengo razón para vivir",
        # SMS spellings and misspellings
        "suisidio",
        "suisidarme",
        "kiero morir",
        "me kiero morir",
        "kiero matarme",
    ),
}

# Words that plainly answer item 9 with "yes, at least sometimes" (English and Spanish). They alert at
# once instead of after a re-prompt: the member has said the thoughts are there, and a member who says
# so and then stops replying must not wait for the check-in to expire before a human hears of it.
YES_WORDS = (
    "yes",
    "yeah",
    "yea",
    "yep",
    "yup",
    "sometimes",
    "some days",
    "often",
    "always",
    "all the time",
    "every day",
    "everyday",
    "daily",
    "a lot",
    "most days",
    "occasionally",
    "a little",
    "a bit",
    "kind of",
    "kinda",
    "sort of",
    "sí",
    "a veces",
    "aveces",
    "algunas veces",
    "de vez en cuando",
    "siempre",
    "casi siempre",
    "seguido",
    "mucho",
    "todos los días",
)

_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc\u2032`\u00b4]")
_NOT_WORD = re.compile(r"[\W_]+")
_REPEATS = re.compile(r"([^\W\d_])\1+")
_TAGGED = re.compile(r"([a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*):\s*(.+)")


@dataclass(frozen=True)
class CrisisMatch:
    """A phrase found in a text, as written in its list, and the language of that list."""

    phrase: str
    language: str


def normalise(text: str) -> str:
    """The form text and phrases are compared in (see the module docstring)."""
    text = _APOSTROPHES.sub("", text or "")
    if text.isascii():  # most texts: NFKC and accents change nothing (the webhook's hot path)
        text = text.lower()
    else:  # apostrophes went first too: NFKC makes an acute accent used as one a space and a mark
        text = unicodedata.normalize("NFKC", text).casefold()
        text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
        text = _APOSTROPHES.sub("", text)
    text = _NOT_WORD.sub(" ", text)
    return _REPEATS.sub(r"\1", text).strip()


def phrase_lists(*added: Mapping[str, Iterable[str]]) -> dict[str, tuple[str, ...]]:
    """The built-in lists with phrases added per language; nothing is ever taken away."""
    lists = {lang: list(phrases) for lang, phrases in BUILT_IN_PHRASES.items()}
    for extra in added:
        for lang, phrases in extra.items():
            lists.setdefault(primary(lang), []).extend(p for p in phrases if p.strip())
    return {lang: tuple(dict.fromkeys(phrases)) for lang, phrases in lists.items()}


def phrases_by_language(items: Iterable[str]) -> dict[str, list[str]]:
    """CRISIS_PHRASES entries by language: "es:no aguanto más" is Spanish, a phrase alone English."""
    lists: dict[str, list[str]] = {}
    for item in items:
        tagged = _TAGGED.fullmatch(item.strip())
        lang, phrase = (tagged.group(1), tagged.group(2)) if tagged else (DEFAULT_LANGUAGE, item)
        lists.setdefault(primary(lang), []).append(phrase.strip())
    return lists


def detect_crisis(
    text: str, lists: Mapping[str, tuple[str, ...]] | None = None, language: str | None = None
) -> CrisisMatch | None:
    """The first phrase of crisis found in `text`, trying `language`'s list first and then every
    other list (English first); None when there is none."""
    lists = BUILT_IN_PHRASES if lists is None else lists
    form = normalise(text)
    for lang in _order(lists, language) if form else ():
        if phrase := _find(form, lists[lang]):
            return CrisisMatch(phrase, lang)
    return None


def find_phrase(text: str, phrases: tuple[str, ...]) -> str | None:
    """The phrase of `phrases` found in `text` as whole words, compared in normalised form."""
    return _find(normalise(text), phrases)


def reads_as_yes(text: str) -> bool:
    """Whether an answer to PHQ-9 item 9 plainly means yes, at least sometimes (YES_WORDS)."""
    return find_phrase(text, YES_WORDS) is not None


def _find(form: str, phrases: tuple[str, ...]) -> str | None:
    pattern, originals = _compiled(phrases)
    found = pattern.search(form) if pattern else None
    return originals[found.group(1)] if found else None


def _order(lists: Mapping[str, tuple[str, ...]], language: str | None) -> list[str]:
    first = [primary(language)] if primary(language) in lists else []
    rest = sorted(lists, key=lambda lang: (lang != DEFAULT_LANGUAGE, lang))
    return first + [lang for lang in rest if lang not in first]


@lru_cache(maxsize=64)
def _compiled(phrases: tuple[str, ...]) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """One alternation per list, longest phrase first, compiled once per distinct list."""
    originals: dict[str, str] = {}
    for phrase in phrases:
        originals.setdefault(normalise(phrase), phrase)
    originals.pop("", None)
    if not originals:
        return None, originals
    body = "|".join(re.escape(p) for p in sorted(originals, key=len, reverse=True))
    return re.compile(rf"(?<!\w)({body})(?!\w)"), originals


def phrase_problems(phrase: str) -> list[str]:
    """Why a programme's phrase cannot be used (empty when it can)."""
    form = normalise(phrase)
    if len(form.replace(" ", "")) < MIN_PHRASE_CHARS:
        return [f"needs at least {MIN_PHRASE_CHARS} letters or digits; shorter would match ordinary words"]
    if len(phrase) > MAX_PHRASE_CHARS:
        return [f"is longer than {MAX_PHRASE_CHARS} characters"]
    return []


def crisis_line_text(language: str | None, own: Mapping[str, str], general: str, default: str) -> str:
    """The crisis-line text for a reader of `language`: the programme's text for that language, else
    its general text (the right number before the right language), else `default` (the reader's
    catalogue's, which names the US 988 line)."""
    for tag in (language or "", primary(language)):
        if own.get(tag.lower()):
            return own[tag.lower()]
    return general or default
