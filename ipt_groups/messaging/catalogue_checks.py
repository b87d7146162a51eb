"""Whether catalogues can be used: every key and placeholder of the reference (English) catalogue, date
patterns Babel can write in the catalogue's locale, every keyword list, number words from 0 to 10, the
words lock screens must not show, and no keyword meaning two things. Start-up refuses catalogues with a
problem; `flask ipt check-catalogues` lists them. Pure: Babel and the standard library."""

from __future__ import annotations

from datetime import UTC, datetime

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime

from ipt_groups.messaging.catalogue import (
    FOR_EVERYONE,
    FORMATS,
    KEYWORD_KINDS,
    OFFER_KINDS,
    REFERENCE,
    Catalogue,
    Catalogues,
    fold_keyword,
    placeholders,
)

REQUIRED_KEYWORDS = ("opt_out", "help")  # a reader must always be able to stop, and to ask
NUMBERS = range(11)  # the mood scale's 0 to 10; the PHQ's 0 to 3 are among them
_SAMPLE = datetime(2027, 3, 2, 18, 0, tzinfo=UTC)


def catalogue_problems(catalogue: Catalogue, reference: Catalogue) -> list[str]:
    """Everything that keeps `catalogue` from being used, each said in a line."""
    problems = _text_problems(catalogue, reference)
    problems += _format_problems(catalogue)
    problems += _keyword_problems(catalogue)
    if missing := [n for n in NUMBERS if n not in set(catalogue.numbers.values())]:
        problems.append(f"[numbers] has no word for {', '.join(map(str, missing))}")
    if not catalogue.forbidden:
        problems.append("[privacy] forbidden lists no word (therapy, a diagnosis, the problem areas ...)")
    return problems


def _text_problems(catalogue: Catalogue, reference: Catalogue) -> list[str]:
    problems = [f"[texts] {key} is missing" for key in reference.texts if key not in catalogue.texts]
    problems += [
        f"[texts] {key} is not a text of {REFERENCE}.toml"
        for key in catalogue.texts
        if key not in reference.texts
    ]
    for key, text in catalogue.texts.items():
        if key not in reference.texts:
            continue
        try:
            names = placeholders(text)
        except ValueError as exc:
            problems.append(f"[texts] {key}: not a valid template ({exc})")
            continue
        wanted = placeholders(reference.texts[key])
        problems += [f"[texts] {key}: missing placeholder {{{n}}}" for n in sorted(wanted - names)]
        problems += [f"[texts] {key}: unknown placeholder {{{n}}}" for n in sorted(names - wanted)]
    return problems


def _format_problems(catalogue: Catalogue) -> list[str]:
    try:
        Locale.parse(catalogue.locale)
    except (UnknownLocaleError, ValueError) as exc:
        return [f"[meta] locale {catalogue.locale!r} is not a locale Babel knows ({exc})"]
    problems = [f"[formats] {name} is missing" for name in FORMATS if name not in catalogue.formats]
    for name, pattern in catalogue.formats.items():
        try:
            format_datetime(_SAMPLE, pattern, tzinfo=UTC, locale=catalogue.locale)
        except (ValueError, KeyError, AttributeError) as exc:
            problems.append(f"[formats] {name}: {pattern!r} is not a CLDR date pattern ({exc})")
    return problems


def _keyword_problems(catalogue: Catalogue) -> list[str]:
    problems = [f"[keywords] {kind} is missing" for kind in KEYWORD_KINDS if kind not in catalogue.keywords]
    problems += [
        f"[keywords] {kind} is empty" for kind in REQUIRED_KEYWORDS if not catalogue.keywords.get(kind)
    ]
    for kind, words in catalogue.keywords.items():
        if kind not in KEYWORD_KINDS:
            problems.append(f"[keywords] {kind} is not a kind of keyword ({', '.join(KEYWORD_KINDS)})")
        for word in words:
            folded = fold_keyword(word)
            if not folded or folded.replace(" ", "").isdigit():
                problems.append(f"[keywords] {kind}: {word!r} cannot be a keyword (digits are answers)")
    return problems


def clashes(catalogues: Catalogues) -> list[str]:
    """Keywords that would mean two things to one reader (an opt-out of one language that is another's
    opt-in, an RSVP word that is anyone's opt-out ...)."""
    meanings: dict[str, set[str]] = {}
    for catalogue in catalogues.by_language.values():
        for kind in FOR_EVERYONE:
            for word in catalogue.keywords.get(kind, ()):
                meanings.setdefault(fold_keyword(word), set()).add(f"{kind} ({catalogue.language})")
    for catalogue in catalogues.by_language.values():
        for kind in OFFER_KINDS:
            for word in catalogue.keywords.get(kind, ()):
                # YES is the carrier's resubscribe word and also accepts an offer: a member holding
                # an offer has not opted out, and from anyone else YES is a reply.
                found = meanings.get(fold_keyword(word), set())
                if any(not meaning.startswith("resubscribe ") for meaning in found):
                    meanings[fold_keyword(word)].add(f"{kind} ({catalogue.language})")
    english = catalogues.by_reader[REFERENCE]
    for language, rsvp in catalogues.by_reader.items():
        for word, kind in rsvp.items():
            if word in meanings or english.get(word, kind) != kind:
                meanings.setdefault(word, set()).add(f"{kind} ({language})")
    return [
        f"keyword {word!r} means {' and '.join(sorted(found))}"
        for word, found in sorted(meanings.items())
        if len({meaning.split(" ")[0] for meaning in found}) > 1
    ]


def catalogues_problems(catalogues: Catalogues) -> list[str]:
    """Every problem of every catalogue in force (named by file), and every keyword clash."""
    reference = catalogues.reference
    problems = [
        f"{catalogue.source or catalogue.language}: {problem}"
        for _, catalogue in sorted(catalogues.by_language.items())
        for problem in catalogue_problems(catalogue, reference)
    ]
    return problems + clashes(catalogues)
