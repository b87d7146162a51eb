"""Message catalogues: one TOML file per language (`catalogues/en.toml`, `es.toml`, and any a programme
adds in CATALOGUE_DIRS) holds every text we send, under keys rather than English sentences, with named
placeholders; the CLDR patterns Babel writes dates with; the keywords members text; the number words of
answers; and the words a lock screen must not show. English is the reference: every other catalogue
must have each of its keys and placeholders. Pure: the standard library (tomllib) only."""

from __future__ import annotations

import re
import string
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

SHIPPED_DIR = Path(__file__).with_name("catalogues")
REFERENCE = "en"
KEYWORD_KINDS = (
    "opt_out",
    "opt_in",
    "resubscribe",
    "help",
    "rsvp_confirm",
    "rsvp_decline",
    "offer_accept",
    "offer_decline",
)
# Answers to an invitation to a group (YES, SÍ, NO): read only from a member holding an offer and no
# open check-in, never as keywords, since "no" and "sí" answer PHQ-9 item 9.
OFFER_KINDS = ("offer_accept", "offer_decline")
# The carrier applies its opt-out, opt-in and help lists to every sender, whatever their language.
FOR_EVERYONE = ("resubscribe", "help", "opt_in", "opt_out")  # later wins a clash: opting out last
FORMATS = ("date", "time", "time_zone", "when", "when_zone")
_TAG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")


class CatalogueError(ValueError):
    """Catalogue files that cannot be used; `problems` names each, with its file."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def render(template: str, context: Mapping) -> str:
    """A template with its placeholders filled (unknown ones empty) and its spaces collapsed."""
    return " ".join(template.format_map(_Blank(context)).split())


def placeholders(template: str) -> set[str]:
    """The named placeholders of a template; ValueError for a broken one ("{" alone, "{0}", "{a.b}")."""
    names = {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
    if bad := sorted(n for n in names if not n.isidentifier()):
        raise ValueError(f"placeholders must be names such as {{first_name}}, not {{{bad[0]}}}")
    return names


def fold(text: str) -> str:
    """Text as keywords and answers are compared: NFKC, accents dropped, case-folded, one space."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return " ".join(text.casefold().split())


def fold_keyword(text: str) -> str:
    """A whole text as a keyword: folded, surrounding punctuation dropped, in capitals ("¡Alto!" is ALTO)."""
    return _EDGES.sub("", fold(text)).upper()


def primary(language: str | None) -> str:
    """The primary subtag of a language tag: "es" for "es-MX"."""
    return (language or "").split("-")[0].lower()


@dataclass(frozen=True)
class Catalogue:
    """One language's texts, date patterns, keywords, number words and forbidden words."""

    language: str  # the file's tag, lower case: "es", "pt-br"
    name: str
    locale: str  # Babel's locale: "es", "pt_BR"
    texts: Mapping[str, str]
    formats: Mapping[str, str]
    keywords: Mapping[str, tuple[str, ...]]
    numbers: Mapping[str, int]
    none_words: tuple[str, ...]
    forbidden: tuple[str, ...]
    source: str = ""

    def render(self, key: str, context: Mapping) -> str:
        """The text for `key` with its placeholders filled."""
        return render(self.texts[key], context)

    def with_texts(self, texts: Mapping[str, str] | None) -> Catalogue:
        """This catalogue with some texts replaced (a programme's own)."""
        return replace(self, texts={**self.texts, **texts}) if texts else self


@dataclass(frozen=True)
class Catalogues:
    """Every catalogue in force, by language tag, and the keyword tables they make."""

    by_language: Mapping[str, Catalogue]
    everyone: Mapping[str, str]  # folded keyword -> kind, for every sender
    by_reader: Mapping[str, Mapping[str, str]]  # language -> its RSVP keywords

    @property
    def reference(self) -> Catalogue:
        return self.by_language[REFERENCE]

    def get(self, language: str | None) -> Catalogue | None:
        """The catalogue for a tag: the exact tag, else its primary subtag; None if there is none."""
        tag = (language or "").lower()
        return self.by_language.get(tag) or self.by_language.get(primary(tag))

    def for_language(self, language: str | None) -> Catalogue:
        """The reader's catalogue, or the reference (English) when their language has none."""
        return self.get(language) or self.reference

    def localised(self, language: str | None, overrides: Mapping[str, Mapping[str, str]] | None) -> Catalogue:
        """The reader's catalogue with the programme's own texts for that language."""
        catalogue = self.for_language(language)
        return catalogue.with_texts((overrides or {}).get(catalogue.language))

    def keyword(self, text: str, language: str | None) -> tuple[str, str] | None:
        """(kind, keyword) when the whole text is a keyword for this reader, else None."""
        word = fold_keyword(text)
        own = self.by_reader.get(self.for_language(language).language, {})
        kind = self.everyone.get(word) or own.get(word) or self.by_reader[REFERENCE].get(word)
        return (kind, word) if kind else None

    def offer_answer(self, text: str, language: str | None) -> str | None:
        """ "offer_accept" or "offer_decline" when the whole text is one of those words in the reader's
        language or English, else None."""
        word = fold_keyword(text)
        for catalogue in (self.for_language(language), self.reference):
            for kind in OFFER_KINDS:
                if word in map(fold_keyword, catalogue.keywords.get(kind, ())):
                    return kind
        return None

    def keywords(self, kind: str) -> dict[str, list[str]]:
        """One kind's keywords by language, as each catalogue writes them."""
        return {lang: list(c.keywords.get(kind, ())) for lang, c in sorted(self.by_language.items())}


def language_of(path: Path) -> str:
    """A catalogue file's language: its name ("pt_BR.toml" and "pt-BR.toml" are "pt-br")."""
    return path.stem.lower().replace("_", "-")


def read_catalogue(path: Path) -> Catalogue:
    """One catalogue file, its shape checked (tables and value types); CatalogueError otherwise."""
    language = language_of(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CatalogueError([f"{path.name}: cannot be read ({exc})"]) from exc
    problems = [] if _TAG.match(language) else ["the file name is not a language tag such as es.toml"]
    tables = {name: _table(data, name, kind, problems) for name, kind in _SHAPE.items()}
    if problems:
        raise CatalogueError([f"{path.name}: {problem}" for problem in problems])
    meta = tables["meta"]
    return Catalogue(
        language=language,
        name=meta.get("name", language),
        locale=meta.get("locale", language.replace("-", "_")),
        texts=tables["texts"],
        formats=tables["formats"],
        keywords={k: tuple(v) for k, v in tables["keywords"].items()},
        numbers={fold(k): v for k, v in tables["numbers"].items()},
        none_words=tuple(tables["answers"].get("none", ())),
        forbidden=tuple(tables["privacy"].get("forbidden", ())),
        source=str(path),
    )


_SHAPE = {
    "meta": str,
    "formats": str,
    "texts": str,
    "keywords": list,
    "numbers": int,
    "answers": list,
    "privacy": list,
}


def _table(data: dict, name: str, kind: type, problems: list[str]) -> dict:
    table = data.get(name, {})
    if not isinstance(table, dict):
        problems.append(f"[{name}] must be a table")
        return {}
    for key, value in table.items():
        if not _fits(value, kind):
            problems.append(
                f"[{name}] {key} must be {'a list of strings' if kind is list else kind.__name__}"
            )
    return table


def _fits(value, kind: type) -> bool:
    if kind is list:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, kind) and not isinstance(value, bool)


@lru_cache(maxsize=8)
def load_catalogues(dirs: tuple[str, ...] = ()) -> Catalogues:
    """The shipped catalogues, then each directory's in order (a language's file in a later directory
    replaces an earlier one); CatalogueError names every file that cannot be read."""
    found: dict[str, Catalogue] = {}
    problems: list[str] = []
    for directory in (str(SHIPPED_DIR), *dirs):
        if not Path(directory).is_dir():
            problems.append(f"{directory}: not a directory (CATALOGUE_DIRS)")
            continue
        for path in sorted(Path(directory).glob("*.toml")):
            try:
                found[language_of(path)] = read_catalogue(path)
            except CatalogueError as exc:
                problems += exc.problems
    if problems:
        raise CatalogueError(problems)
    return assemble(found)


def assemble(by_language: Mapping[str, Catalogue]) -> Catalogues:
    """Catalogues and their keyword tables."""
    everyone: dict[str, str] = {}
    for kind in FOR_EVERYONE:
        for catalogue in by_language.values():
            everyone.update(dict.fromkeys(map(fold_keyword, catalogue.keywords.get(kind, ())), kind))
    by_reader = {lang: _rsvp_words(c) for lang, c in by_language.items()}
    return Catalogues(dict(by_language), everyone, by_reader)


def _rsvp_words(catalogue: Catalogue) -> dict[str, str]:
    words: dict[str, str] = {}
    for kind in ("rsvp_decline", "rsvp_confirm"):
        words.update(dict.fromkeys(map(fold_keyword, catalogue.keywords.get(kind, ())), kind))
    return words


def shipped() -> Catalogues:
    """The catalogues that ship with the product (English and Spanish)."""
    return load_catalogues(())
