"""Words of crisis per language, and which crisis-line text a reader gets (pure functions, no I/O).
The crisis-line texts themselves are in the catalogues; item9.py reads the answers to PHQ-9 item 9.

Every inbound SMS is read against every language's list, the sender's own language first (a Spanish
speaker registered as `en`, a stranger, a member who switches language mid-sentence). Text and phrases
are normalised alike: Unicode NFKC, case-folded, accents dropped, apostrophes dropped, every other
character that is not a letter or digit made a space, runs of one letter folded to one ("diieee",
"suiiicide", "kill" -> "kil" on both sides), digits inside a word read as the letters they stand for
("k1ll"), and "qu" read as "k" (the SMS spelling of Spanish: "kiero" is "quiero"). A phrase matches
whole words only, so "skill myself" is not "kill myself", however the words are spaced ("killmyself",
"sui-cide"), and a long one also run into the word before it ("iwanttodie"). A false alert costs a
human a minute; a missed one can cost a life: when in doubt a phrase goes in, and a programme can add
its own (docs/crisis-phrases.md) but never remove a built-in one.
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
        # what members in distress write (the outside review of issue 11); "end it" alerts on "at the
        # end it was fine" too, a false alert we accept
        "end it",
        "ending it",
        "take my life",
        "taking my life",
        "end my own life",
        "don't wanna live",
        "don't wanna be alive",
        "don't want to be here anymore",
        "should just die",
        "i should die",
        "wish i could die",
        "wish i would die",
        "wish i wasn't alive",
        "not worth living",
        "isn't worth living",
        "hanging myself",
        "shooting myself",
        "drown myself",
        "drowning myself",
        "jump off a bridge",
        "bottle of pills",
        "whole bottle",
        "take all the pills",
        "took all the pills",
        # what the outside tries of this session found missing: a relative writing about someone
        # (third person), letters swapped, "dye" for "die" ("want to dye my hair" is a false alert we
        # accept), saying they cannot go on, gathering the means
        "kill himself",
        "kill herself",
        "kill themselves",
        "killing himself",
        "killing herself",
        "end his life",
        "end her life",
        "end their life",
        "take his life",
        "take her life",
        "take his own life",
        "take her own life",
        "hurt himself",
        "hurt herself",
        "wants to die",
        "kill myslef",
        "kill mysef",
        "hurt myslef",
        "want to dye",
        "wanna dye",
        "can't do this anymore",
        "cannot do this anymore",
        "pills saved",
        "saving my pills",
        "saving up pills",
        "saved up pills",
        "saved up my pills",
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
        "quitar la vida",
        "quiero estar muerto",
        "quiero estar muerta",
        "quisiera estar muerto",
        "quisiera estar muerta",
        "ojalá estuviera muerto",
        "ojalá estuviera muerta",
        "mejor me muero",
        "ojalá me muera",
        "ya no quiero estar aquí",
        "no vale la pena seguir",
        "todas las pastillas",
        "todas mis pastillas",
        "frasco de pastillas",
        # misspellings (the SMS spelling k for qu is read as qu: "kiero morir" is "quiero morir")
        "suisidio",
        "suisidarme",
        # a relative writing about someone (third person), b for v, wanting to disappear
        "se quiere matar",
        "quiere matarse",
        "se va a matar",
        "va a matarse",
        "se quiere morir",
        "quiere morirse",
        "se quiere suicidar",
        "suicidarse",
        "quitarse la vida",
        "matarse",
        "suisidar",
        "suisida",
        "no quiero bivir",
        "quiero desaparecer",
    ),
}


_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc\u2032`\u00b4]")
_NOT_WORD = re.compile(r"[\W_]+")
_REPEATS = re.compile(r"([^\W\d_])\1+")
# Digits written for letters, read as letters only inside a word that has letters ("k1ll", "su1c1de");
# a number alone ("2", "1122") stays a number.
_LEET_WORD = re.compile(r"\w*(?:[^\W\d_]\d|\d[^\W\d_])\w*")
_LEET = str.maketrans("013457", "oieast")
# A phrase of several words this long is also found run together at the end of a word ("iwanttodie");
# shorter ones would be found inside ordinary words.
RUN_TOGETHER_MIN = 8
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
    text = _LEET_WORD.sub(lambda word: word.group().translate(_LEET), text)
    text = _REPEATS.sub(r"\1", _NOT_WORD.sub(" ", text))
    return text.replace("qu", "k").strip()


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
    other list (English first); None when there is none. A phrase is also found with its words run
    together or split ("killmyself", "kill my self", "sui-cide"), and, when long, run into the word
    before it ("iwanttodie")."""
    lists = BUILT_IN_PHRASES if lists is None else lists
    form = normalise(text)
    for lang in _order(lists, language) if form else ():
        if phrase := _find(form, lists[lang]):
            return CrisisMatch(phrase, lang)
    return None


def _find(form: str, phrases: tuple[str, ...]) -> str | None:
    pattern, originals = _compiled(phrases)
    found = pattern.search(form) if pattern else None
    return originals[_key(found.group())] if found else None


def _order(lists: Mapping[str, tuple[str, ...]], language: str | None) -> list[str]:
    first = [primary(language)] if primary(language) in lists else []
    rest = sorted(lists, key=lambda lang: (lang != DEFAULT_LANGUAGE, lang))
    return first + [lang for lang in rest if lang not in first]


@lru_cache(maxsize=64)
def _compiled(phrases: tuple[str, ...]) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """One alternation per list, longest phrase first, compiled once per distinct list; each phrase
    is keyed by its normalised form without spaces (the first listed wins). A space may or may not
    separate any two letters, and a long phrase of several words may end a longer word."""
    forms: dict[str, str] = {}
    for phrase in phrases:
        forms.setdefault(normalise(phrase), phrase)
    forms.pop("", None)
    originals: dict[str, str] = {}
    for form, phrase in forms.items():
        originals.setdefault(_key(form), phrase)
    if not originals:
        return None, originals
    keys = sorted(originals, key=len, reverse=True)
    split = "|".join(" ?".join(_letter(c) for c in key) for key in keys)
    run = [re.escape(key) for key in keys if len(key) >= RUN_TOGETHER_MIN and _words(originals[key]) > 1]
    return re.compile(rf"(?:(?<!\w)(?:{split})|(?:{'|'.join(run) or '(?!)'}))(?!\w)"), originals


def _key(form: str) -> str:
    """A normalised form without its spaces, letters run together folded again ("want to" -> "wanto")."""
    return _REPEATS.sub(r"\1", form.replace(" ", ""))


def _letter(char: str) -> str:
    # The same letter on both sides of a space was two letters before the key was folded.
    return re.escape(char) + (f"(?: {re.escape(char)})?" if char.isalpha() else "")


def _words(phrase: str) -> int:
    return len(normalise(phrase).split())


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
