"""Programme settings a coordinator can change through the API: the message texts and the phrases of
crisis the programme adds to the built-in lists."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from ipt_groups.audit import record_change
from ipt_groups.checkins.crisis import normalise, phrase_problems
from ipt_groups.errors import InvalidInput
from ipt_groups.extensions import db
from ipt_groups.messaging.catalogue import Catalogue, primary
from ipt_groups.messaging.languages import catalogues
from ipt_groups.models import Setting
from ipt_groups.settings.texts import texts_problems


def message_texts() -> dict[str, dict[str, str]]:
    """The programme's own texts by language (only those it changed)."""
    row = db.session.get(Setting, "message_texts")
    return {language: dict(texts) for language, texts in (row.value if row else {}).items()}


def catalogue_for(language: str | None) -> Catalogue:
    """The reader's catalogue (English when their language has none) with the programme's own texts."""
    return catalogues().localised(language, message_texts())


def set_message_texts(texts: dict, allow_topic_words: bool, actor: str, now: datetime) -> dict:
    """Replace the programme's texts (by language, then key) after checking languages, keys,
    placeholders, privacy and segments; stored under each catalogue's own tag ("es-MX" is "es")."""
    found = catalogues()
    errors = texts_problems(texts, found, allow_topic_words, current_app.config["PROGRAMME_NAME"])
    if errors:
        raise InvalidInput("some texts cannot be used", {"texts": errors})
    stored: dict[str, dict[str, str]] = {}
    for language, by_key in texts.items():
        stored.setdefault(found.get(language).language, {}).update(by_key)
    row = db.session.get(Setting, "message_texts") or Setting(key="message_texts", value={})
    before = dict(row.value or {})
    row.value, row.updated_at = {k: v for k, v in stored.items() if v}, now
    db.session.add(row)
    db.session.flush()
    record_change(actor, "settings.message_texts", row, before, dict(row.value))
    return row.value


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
