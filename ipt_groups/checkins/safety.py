"""Words of crisis applied: the lists in force (built in, CRISIS_PHRASES, the programme's own), the
alert for a crisis text from anyone, and the crisis-line text in the reader's language."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from flask import current_app

from ipt_groups.checkins import crisis
from ipt_groups.checkins.alerts import add_to_alert, open_safety_alert, raise_safety_alert
from ipt_groups.messaging.languages import catalogues
from ipt_groups.models import Alert, InboundMessage, Member
from ipt_groups.settings import programme


def crisis_lists() -> dict[str, tuple[str, ...]]:
    """Every language's phrases in force now (one read of the programme's setting)."""
    added = programme.crisis_phrases()
    frozen = tuple(sorted((lang, tuple(phrases)) for lang, phrases in added.items()))
    return _lists(tuple(current_app.config.get("CRISIS_PHRASES") or ()), frozen)


@lru_cache(maxsize=16)
def _lists(env: tuple[str, ...], added: tuple[tuple[str, tuple[str, ...]], ...]) -> dict:
    return crisis.phrase_lists(crisis.phrases_by_language(env), dict(added))


def detect_without_database(text: str) -> crisis.CrisisMatch | None:
    """Words of crisis in `text` by the lists that need no database (built in and CRISIS_PHRASES):
    for a text that arrives while the database is unreachable."""
    return crisis.detect_crisis(text, _lists(tuple(current_app.config.get("CRISIS_PHRASES") or ()), ()))


def detect(text: str, language: str | None) -> crisis.CrisisMatch | None:
    """Words of crisis in `text`, the reader's language tried first and then every list."""
    return crisis.detect_crisis(text, crisis_lists(), language)


def crisis_line(language: str | None, database: bool = True) -> str:
    """The crisis-line text for a reader of `language`: the programme's own text for their catalogue's
    language (/settings/message-texts; not with `database` False, when it cannot be read), else
    CRISIS_LINE_TEXT_<LANG>, else CRISIS_LINE_TEXT, else their catalogue's (English when their
    language has none)."""
    config = current_app.config
    catalogue = catalogues().for_language(language)
    own = programme.message_texts().get(catalogue.language, {}).get("crisis_line") if database else None
    return own or crisis.crisis_line_text(
        language,
        config.get("CRISIS_LINE_TEXTS") or {},
        config["CRISIS_LINE_TEXT"],
        catalogue.texts["crisis_line"],
    )


def raise_crisis_alert(
    record: InboundMessage,
    member: Member | None,
    match: crisis.CrisisMatch,
    now: datetime,
    earlier: list[int] | None = None,
) -> Alert:
    """The safety alert for a text with words of crisis (with `earlier`, the ids of the sender's
    texts the phrase began in); a stranger is named by their number. While the sender has an open
    alert, the text joins it: forty texts in a minute page on-call once, not forty times."""
    detail = {"phrase": match.phrase, "language": match.language, "inbound_id": record.id}
    detail |= {"split_over": [*earlier, record.id]} if earlier else {}
    alert = open_safety_alert(member, record.from_phone)
    if alert is not None:
        return add_to_alert(alert, {"source": "crisis_words", **detail}, now)
    return raise_safety_alert(member, "crisis_words", detail, now, from_phone=record.from_phone)
