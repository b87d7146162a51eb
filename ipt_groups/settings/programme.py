"""Programme settings a coordinator can change through the API: the message texts and the phrases of
crisis the programme adds to the built-in lists."""

from __future__ import annotations

import string
from datetime import datetime

from ipt_groups.audit import record_change
from ipt_groups.checkins.crisis import normalise, phrase_problems, primary
from ipt_groups.checkins.instruments import reveals_therapy
from ipt_groups.errors import InvalidInput
from ipt_groups.extensions import db
from ipt_groups.messaging.texts import DEFAULT_TEXTS
from ipt_groups.models import Setting

PLACEHOLDERS = {"first_name", "programme", "when", "time", "date", "group", "count", "roster", "old_when"}


def message_texts() -> dict:
    """The programme's own texts (only those it changed)."""
    row = db.session.get(Setting, "message_texts")
    return dict(row.value) if row else {}


def set_message_texts(texts: dict, allow_topic_words: bool, actor: str, now: datetime) -> dict:
    """Replace the programme's texts after checking keys, placeholders and privacy."""
    errors = {
        key: problems for key, text in texts.items() if (problems := _problems(key, text, allow_topic_words))
    }
    if errors:
        raise InvalidInput("some texts cannot be used", errors)
    row = db.session.get(Setting, "message_texts") or Setting(key="message_texts", value={})
    before = dict(row.value or {})
    row.value, row.updated_at = dict(texts), now
    db.session.add(row)
    db.session.flush()
    record_change(actor, "settings.message_texts", row, before, dict(texts))
    return row.value


def _problems(key: str, text: str, allow_topic_words: bool) -> list[str]:
    if key not in DEFAULT_TEXTS:
        return [f"not a message text (known: {', '.join(sorted(DEFAULT_TEXTS))})"]
    problems = []
    try:
        names = {field for _, field, _, _ in string.Formatter().parse(text) if field}
    except ValueError as exc:
        return [f"not a valid template: {exc}"]
    if unknown := sorted(names - PLACEHOLDERS):
        problems.append(
            f"unknown placeholders: {', '.join(unknown)} (known: {', '.join(sorted(PLACEHOLDERS))})"
        )
    if (words := reveals_therapy(text)) and not allow_topic_words:
        problems.append(f"lock screens would show {', '.join(words)}; set allow_topic_words to choose this")
    return problems


def crisis_phrases() -> dict[str, list[str]]:
    """The phrases of crisis the programme added, by language (the built-in ones are never here)."""
    row = db.session.get(Setting, "crisis_phrases")
    return dict(row.value) if row else {}


def set_crisis_phrases(added: dict[str, list[str]], actor: str, now: datetime) -> dict:
    """Replace the programme's own phrases (built-in phrases stay whatever is sent), audited."""
    errors = {
        lang: {str(i): problems for i, phrase in enumerate(phrases) if (problems := phrase_problems(phrase))}
        for lang, phrases in added.items()
    }
    if errors := {lang: found for lang, found in errors.items() if found}:
        raise InvalidInput("some phrases cannot be used", {"added": errors})
    cleaned = _merged_by_language(added)
    row = db.session.get(Setting, "crisis_phrases") or Setting(key="crisis_phrases", value={})
    before = dict(row.value or {})
    row.value, row.updated_at = cleaned, now
    db.session.add(row)
    db.session.flush()
    record_change(actor, "settings.crisis_phrases", row, before, cleaned)
    return row.value


def _merged_by_language(added: dict[str, list[str]]) -> dict[str, list[str]]:
    """Phrases by primary language subtag ("es-MX" joins "es"), each once in normalised form."""
    merged: dict[str, dict[str, str]] = {}
    for lang, phrases in added.items():
        for phrase in phrases:
            merged.setdefault(primary(lang), {}).setdefault(normalise(phrase), " ".join(phrase.split()))
    return {lang: list(found.values()) for lang, found in merged.items() if found}
