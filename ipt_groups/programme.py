"""Programme settings a coordinator can change through the API: the message texts."""

from __future__ import annotations

import string
from datetime import datetime

from ipt_groups.audit import record_change
from ipt_groups.errors import InvalidInput
from ipt_groups.extensions import db
from ipt_groups.messaging.texts import DEFAULT_TEXTS
from ipt_groups.models import Setting
from ipt_groups.surveys import reveals_therapy

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
