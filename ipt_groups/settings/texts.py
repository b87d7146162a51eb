"""Whether a programme's own text can be used, and what every text costs (pure).

A replacement text must be a known key of a language that has a catalogue, use only the placeholders
its text offers, keep every placeholder its text needs, show no word of therapy, diagnosis or problem
area in any catalogue's language (unless the programme chooses so; the instruments' validated wording is
exempt), and keep every text it changes within its segment budget, measured with realistic values: the
longest date the reader's language writes, accented names, a full roster."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from ipt_groups.checkins.wording import SHAPES, instrument_for, named_texts
from ipt_groups.messaging.catalogue import (
    Catalogue,
    CatalogueError,
    Catalogues,
    assemble,
    language_of,
    placeholders,
    read_catalogue,
    render,
)
from ipt_groups.messaging.catalogue_checks import catalogue_problems, clashes
from ipt_groups.messaging.segments import UCS2, Segments, measure
from ipt_groups.messaging.texts import (
    DAY_RELATIONS,
    day_word,
    forbidden_words,
    local_when,
    reveals_therapy,
    roster,
    sample_dates,
)

MAX_SEGMENTS = 3  # a reminder, a notice, a reply, a text to a facilitator
MAX_SAFETY_SEGMENTS = 4  # a safety alert to staff (and its repeat): clear before cheap, and few
SAFETY = re.compile(r"^safety_(alert|alert_stranger|not_acknowledged)$")
MAX_CHECKIN_SEGMENTS = 6  # one check-in SMS: an item's validated wording and its answer scale
# Placeholders a replacement may leave out: courtesies, and what the text says without them.
OPTIONAL_PLACEHOLDERS = frozenset({"first_name", "programme", "count", "day", "stem", "which"})
# The instruments' validated wording: never reworded by us, so it is not held to the lock-screen words.
INSTRUMENT_WORDING = re.compile(r"^(phq_(item\d+|label\d+|stem|guide)|mood_(item|guide))$")
CHECKIN = re.compile(r"^(phq|mood|checkin)_")
WORDS = re.compile(r"^(day_\w+|safety_no_group|safety_not_acknowledged)$")  # parts of other texts
# Realistic, long values: accented names make a text UCS-2 whatever its language.
NAMES = (
    "Concepción Ramírez",
    "Guadalupe Hernández",
    "María José Gómez",
    "Sofía Pérez",
    "Maximiliano Díaz",
    "Bartholomew Nguyen",
    "José Luis Torres",
    "Thi Lan Nguyen",
)
SAMPLE = {
    "group": "Tuesday evening group",
    "member_id": "12345",
    "alert_id": "123456",
    "phone": "+13125550142",
    "minutes": "120",
    "level": "4",
}
_FROM = datetime(2027, 1, 22, 0, 30, tzinfo=UTC)


def _worst(values) -> str:
    """The costliest of several values: any that forces UCS-2, then the longest."""
    return max(values, key=lambda v: (measure(v).encoding == UCS2, len(v)))


def sample_context(catalogue: Catalogue, programme: str) -> dict:
    """Realistic worst values for every placeholder of a standalone text, in `catalogue`'s language."""
    whens = [local_when(d, "America/New_York", catalogue, "America/Chicago") for d in sample_dates(_FROM)]
    when = _worst(w["when"] for w in whens)
    return {
        **SAMPLE,
        "programme": programme,
        "first_name": NAMES[0].split()[0],
        "member": roster((name, None) for name in NAMES[:1]),
        "roster": roster((name, None) for name in NAMES),
        "count": str(len(NAMES)),
        "when": when,
        "old_when": when,
        "deadline": when,
        "date": _worst(w["date"] for w in whens),
        "time": _worst(w["time"] for w in whens),
        "day": _worst(day_word(catalogue, r) for r in DAY_RELATIONS),
    }


def standalone_samples(catalogue: Catalogue, programme: str) -> dict[str, str]:
    """Every text sent on its own, rendered with realistic worst values (a reminder to staff includes
    the alert it repeats)."""
    context = sample_context(catalogue, programme)
    texts = {
        k: catalogue.render(k, context)
        for k in catalogue.texts
        if not CHECKIN.match(k) and not WORDS.match(k)
    }
    texts["safety_alert"] = render(
        catalogue.texts["safety_alert"], {**context, "group": _longest_group(catalogue)}
    )
    prefix = catalogue.render("safety_not_acknowledged", context)
    texts["safety_not_acknowledged"] = (
        f"{prefix} {_worst((texts['safety_alert'], texts['safety_alert_stranger']))}"
    )
    return texts


def _longest_group(catalogue: Catalogue) -> str:
    return _worst((SAMPLE["group"], catalogue.texts["safety_no_group"]))


def checkin_samples(catalogue: Catalogue, programme: str) -> dict[str, str]:
    """Every SMS of every instrument's check-in, by instrument and position."""
    return {
        f"{key} {name}": text
        for key in SHAPES
        for name, text in named_texts(instrument_for(key, catalogue, programme)).items()
    }


def costs(catalogue: Catalogue, programme: str) -> dict[str, tuple[Segments, int]]:
    """Each text's segments with realistic values, and its budget."""
    found = {
        k: (measure(t), MAX_SAFETY_SEGMENTS if SAFETY.match(k) else MAX_SEGMENTS)
        for k, t in standalone_samples(catalogue, programme).items()
    }
    found |= {k: (measure(t), MAX_CHECKIN_SEGMENTS) for k, t in checkin_samples(catalogue, programme).items()}
    return found


def over_budget(catalogue: Catalogue, programme: str) -> dict[str, str]:
    """The texts over their segment budget, each with its count."""
    return {
        key: f"{segments} with realistic values; at most {budget}"
        for key, (segments, budget) in costs(catalogue, programme).items()
        if segments.count > budget
    }


def override_problems(
    key: str, text: str, catalogue: Catalogue, catalogues: Catalogues, allow_topic_words: bool, programme: str
) -> list[str]:
    """Why `text` cannot replace `key` in `catalogue`'s language (empty when it can)."""
    reference = catalogues.reference.texts
    if key not in reference:
        return [f"not a message text (known: {', '.join(sorted(reference))})"]
    try:
        names = placeholders(text)
    except ValueError as exc:
        return [f"not a valid template: {exc}"]
    offered = placeholders(reference[key])
    problems = [
        f"missing placeholder {{{n}}}: this text needs it"
        for n in sorted(offered - OPTIONAL_PLACEHOLDERS - names)
    ]
    if unknown := sorted(names - offered):
        known = ", ".join(f"{{{n}}}" for n in sorted(offered)) or "none"
        problems.append(
            f"unknown placeholders: {', '.join(f'{{{n}}}' for n in unknown)} (this text can use: {known})"
        )
    words = reveals_therapy(text, forbidden_words(catalogues.by_language.values()))
    if words and not allow_topic_words and not INSTRUMENT_WORDING.match(key):
        problems.append(f"lock screens would show {', '.join(words)}; set allow_topic_words to choose this")
    return problems or _cost_problems(key, text, catalogue, programme)


def _cost_problems(key: str, text: str, catalogue: Catalogue, programme: str) -> list[str]:
    """The texts this replacement changes that would go over their budget, each with its count."""
    before, after = costs(catalogue, programme), costs(catalogue.with_texts({key: text}), programme)
    return [
        f"{name} would take {segments} with realistic values; at most {budget}"
        for name, (segments, budget) in after.items()
        if segments.count > budget and segments != before[name][0]
    ]


def texts_problems(
    texts: Mapping[str, Mapping[str, str]], catalogues: Catalogues, allow_topic_words: bool, programme: str
) -> dict:
    """Every problem of a programme's texts by language, then by key; empty when all can be used."""
    errors: dict = {}
    for language, by_key in texts.items():
        catalogue = catalogues.get(language)
        if catalogue is None:
            known = ", ".join(sorted(catalogues.by_language))
            errors[language] = [f"no catalogue for {language!r} (known: {known}); add one first (README)"]
            continue
        found = {
            key: problems
            for key, text in by_key.items()
            if (problems := override_problems(key, text, catalogue, catalogues, allow_topic_words, programme))
        }
        if found:
            errors[language] = found
    return errors


def check_report(found: Catalogues, files, programme: str) -> tuple[list[str], bool]:
    """What `ipt check-catalogues` prints: each catalogue checked (the FILES, or every one in force)
    with its problems (or its costliest text), then keyword clashes; and whether anything failed."""
    try:
        extra = {language_of(Path(f)): read_catalogue(Path(f)) for f in files}
    except CatalogueError as exc:
        return exc.problems, True
    lines, failed = [], False
    for _, catalogue in sorted((extra or found.by_language).items()):
        problems = catalogue_problems(catalogue, found.reference)
        problems = problems or [f"{key}: {why}" for key, why in over_budget(catalogue, programme).items()]
        failed = failed or bool(problems)
        verdict = _verdict(catalogue, problems, programme)
        lines.append(f"{catalogue.language} ({catalogue.name}, {catalogue.source}): {verdict}")
        lines += [f"  {problem}" for problem in problems]
    clashing = clashes(assemble({**found.by_language, **extra}))
    return lines + clashing, failed or bool(clashing)


def _verdict(catalogue: Catalogue, problems: list[str], programme: str) -> str:
    if problems:
        return f"{len(problems)} problems"
    key, (segments, _) = max(costs(catalogue, programme).items(), key=lambda item: item[1][0].count)
    return f"ok, {len(catalogue.texts)} texts; the costliest is {key}, {segments}"
