"""A programme's own texts, per language, through /settings/message-texts: used when texts are sent,
refused (with the field, the placeholder or the count) when a placeholder the text needs is missing,
when a text would go over its segment budget, when a lock screen would show a word of therapy in any
language, or when the language has no catalogue."""

import pytest

from ipt_groups.models import AuditEntry, Setting
from tests.checkins.test_languages import ROSA, first_reminder, message_of, send_due
from tests.checkins.test_webhooks import _send_checkin, sms, twilio_config  # noqa: F401

URL = "/api/v1/settings/message-texts"


def put(client, auth, texts, **extra):
    return client.put(URL, json={"texts": texts, **extra}, headers=auth)


def errors(response) -> dict:
    assert response.status_code == 422, response.json
    return response.json["errors"]["json"]["texts"]


def test_every_catalogues_texts_and_the_programmes_own_by_language(client, auth):
    got = client.get(URL, headers=auth).json
    assert got["languages"] == {"en": "English", "es": "Español"}
    assert got["defaults"]["es"]["day_tomorrow"] == "mañana" and got["texts"] == {}


def test_a_spanish_override_is_what_a_spanish_member_gets(client, auth, rosa):
    text = "Hola {first_name}: hoy a las {time} nos vemos."
    r = put(client, auth, {"es-MX": {"session_reminder_2h": text}})
    assert r.status_code == 200 and r.json["texts"] == {"es": {"session_reminder_2h": text}}  # es-MX is es
    reminder = first_reminder("reminder_2h")
    send_due(reminder)
    assert reminder.body == "Hola Rosa: hoy a las 18:00 nos vemos."
    entry = AuditEntry.query.filter_by(action="settings.message_texts").one()
    assert entry.after == {"es": {"session_reminder_2h": text}}


def test_an_override_missing_a_placeholder_the_text_needs_is_refused_naming_it(client, auth):
    found = errors(
        put(client, auth, {"es": {"session_reminder_24h": "Hola {first_name}, su grupo se reúne pronto."}})
    )
    assert found == {"es": {"session_reminder_24h": ["missing placeholder {when}: this text needs it"]}}
    assert Setting.query.count() == 0  # nothing changed
    # a courtesy ({first_name}, {programme}, {day}) may go
    assert (
        put(client, auth, {"es": {"session_reminder_24h": "Su grupo: {when}. Responda C o X."}}).status_code
        == 200
    )


def test_an_override_that_would_make_a_reminder_exceed_three_segments_is_refused_with_the_count(client, auth):
    long = (
        "Hola {first_name}, " + "le recordamos con mucho cariño que " * 4 + "su grupo se reúne {day}, {when}."
    )
    found = errors(put(client, auth, {"es": {"session_reminder_24h": long}}))["es"]["session_reminder_24h"]
    assert len(found) == 1 and found[0].startswith("session_reminder_24h would take 4 segments (UCS-2, ")
    assert found[0].endswith("characters) with realistic values; at most 3")
    # a word other texts show counts where they show it
    day = errors(put(client, auth, {"en": {"day_tomorrow": "on the day after today, as planned, " * 3}}))[
        "en"
    ]
    assert "session_reminder_24h would take 4 segments" in " ".join(day["day_tomorrow"])


def test_an_override_with_a_word_of_therapy_in_any_language_is_refused(client, auth):
    found = errors(
        put(client, auth, {"es": {"missed_you": "Le echamos de menos en la terapia, {first_name}."}})
    )
    assert found["es"]["missed_you"] == [
        "lock screens would show terapia; set allow_topic_words to choose this"
    ]
    english = errors(put(client, auth, {"en": {"missed_you": "We missed you at el grupo de duelo."}}))
    assert "duelo" in english["en"]["missed_you"][0]
    chosen = put(
        client, auth, {"es": {"missed_you": "Le echamos de menos en la terapia."}}, allow_topic_words=True
    )
    assert chosen.status_code == 200


def test_a_programme_replaces_an_instruments_wording_per_language(client, auth, rosa):
    item = "Se ha sentido triste, deprimido(a) o sin esperanza"  # validated wording may name depression
    assert put(client, auth, {"es": {"phq_item2": item}}).status_code == 200
    _send_checkin(rosa, "phq2")
    assert message_of(sms(client, "1", sender=ROSA)).endswith(item)
    too_long = errors(put(client, auth, {"es": {"phq_item2": "¿" + "muy " * 120 + "?"}}))["es"]["phq_item2"]
    assert any(p.startswith("phq9 prompt 2 would take ") and p.endswith("at most 6") for p in too_long)


@pytest.mark.parametrize(
    ("texts", "where", "problem"),
    [
        ({"pt": {"ack": "Obrigado."}}, "pt", "no catalogue for 'pt' (known: en, es); add one first (README)"),
        ({"es": {"nope": "x"}}, "es", "not a message text (known: "),
        ({"es": {"ack": "Gracias {0}"}}, "es", "not a valid template: placeholders must be names"),
        ({"es": {"ack": "Gracias {when}"}}, "es", "unknown placeholders: {when} (this text can use: none)"),
    ],
)
def test_overrides_that_cannot_be_used_are_refused(client, auth, texts, where, problem):
    found = errors(put(client, auth, texts))[where]
    assert problem in str(found)


@pytest.mark.parametrize("texts", [{"spanish!": {"ack": "x"}}, {"es": ["x"]}, {"es": {"ack": 3}}, "x"])
def test_a_malformed_texts_field_is_a_422_naming_it(client, auth, texts):
    r = put(client, auth, texts)
    assert r.status_code == 422 and "texts" in r.json["errors"]["json"]


def test_an_override_of_the_crisis_line_wins_for_its_language(app, client, auth, rosa, monkeypatch):
    monkeypatch.setitem(app.config, "CRISIS_LINE_TEXT", "Call 116 123.")  # the general text
    assert message_of(sms(client, "me quiero morir", sender=ROSA)) == "Call 116 123."
    assert put(client, auth, {"es": {"crisis_line": "Llame al 024 ahora."}}).status_code == 200
    assert message_of(sms(client, "quiero matarme", sender=ROSA)) == "Llame al 024 ahora."
