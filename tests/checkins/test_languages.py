"""Every member in their own language, over SMS: a Spanish member's reminders, notices, check-ins
(the validated PHQ-9, answered in Spanish number words) and keyword replies; opt-out and opt-in
keywords of every language for everyone; a mixed group, where each person gets their own language;
the outbox's segment counts; the preview of a whole cycle."""

from datetime import UTC, datetime

import pytest

from ipt_groups.extensions import db as _db
from ipt_groups.messaging.base import RecordingSender
from ipt_groups.messaging.dispatch import run_tick
from ipt_groups.messaging.outbox import plan_messages
from ipt_groups.messaging.segments import UCS2, measure
from ipt_groups.models import Alert, Checkin, Facilitator, GroupSession, Member, Message, Rsvp
from ipt_groups.worker import dispatch_settings
from tests.checkins.test_webhooks import _send_checkin, reply, sms, twilio_config  # noqa: F401
from tests.conftest import NOW

ROSA = "+13125551000"  # make_member(0)
ANA = "+13125551001"  # make_member(1)
ENGLISH_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def message_of(response) -> str:
    text = reply(response)
    return text.split("<Message>")[1].split("</Message>")[0] if "<Message>" in text else ""


@pytest.fixture
def mixed(make_member, group_in):
    """A Spanish group: Rosa and Ana, led by a facilitator who reads English."""
    rosa = make_member(0, name="Rosa Díaz", language="es")
    ana = make_member(1, name="Ana María Smith", language="es")
    return group_in("es", [rosa, ana]), rosa, ana


def send_due(*messages: Message, at: datetime | None = None) -> RecordingSender:
    """Run one tick at the latest due time of these messages (or `at`), as the scheduler would."""
    sender = RecordingSender()
    run_tick(sender, at or max(m.due_at for m in messages), dispatch_settings("test"))
    return sender


def first_reminder(kind: str, **who) -> Message:
    session = GroupSession.query.filter_by(number=1).one()
    return Message.query.filter_by(session_id=session.id, kind=kind, **who).one()


def body_of(message: Message) -> str:
    return _db.session.get(Message, message.id).body


# --- reminders, notices, dates -----------------------------------------------------------------------


def test_a_spanish_member_gets_spanish_reminders_with_spanish_dates(rosa):
    day_before, same_day = first_reminder("reminder_24h"), first_reminder("reminder_2h")
    send_due(day_before)
    send_due(same_day)
    assert body_of(day_before) == (
        "Hola Rosa, le recuerda Wellbeing Groups: su grupo se reúne mañana, mar 1 de dic, 18:00. "
        "Responda C si viene o X si no puede."
    )
    assert body_of(same_day) == "Hola Rosa, su grupo se reúne hoy a las 18:00. Hasta pronto."


def test_the_outbox_records_each_texts_segments(client, auth, rosa):
    reminder = first_reminder("reminder_24h")
    assert reminder.segments is None  # not composed yet
    send_due(reminder)
    row = _db.session.get(Message, reminder.id)
    assert row.segments == measure(row.body).count == 2
    assert measure(row.body).encoding == UCS2  # "reúne": accented Spanish goes as UCS-2
    listed = client.get(f"/api/v1/messages?member_id={rosa.id}&state=sent", headers=auth).json
    assert [(m["id"], m["segments"]) for m in listed] == [(reminder.id, 2)]


def test_a_moved_session_is_announced_in_spanish_with_both_dates(client, auth, rosa):
    session = GroupSession.query.filter_by(number=3).one()
    r = client.patch(f"/api/v1/sessions/{session.id}", json={"local_date": "2026-12-17"}, headers=auth)
    assert r.status_code == 200, r.json
    notice = Message.query.filter_by(kind="change_notice").one()
    send_due(notice, at=datetime(2026, 11, 25, 16, 0, tzinfo=UTC))  # 10:00 in Chicago: not quiet hours
    assert body_of(notice) == (
        "Hola Rosa, Wellbeing Groups: la reunión de su grupo del mar 15 de dic, 18:00 "
        "pasa al jue 17 de dic, 18:00."
    )


def test_a_mixed_group_gets_each_persons_own_language(mixed):
    group, rosa, ana = mixed
    texts = [
        first_reminder("reminder_24h", member_id=rosa.id),
        first_reminder("reminder_24h", member_id=ana.id),
        first_reminder("facilitator_24h"),
    ]
    send_due(*texts)
    rosas, anas, facilitator = (body_of(m) for m in texts)
    assert rosas.startswith("Hola Rosa") and "mar 1 de dic, 18:00" in rosas
    assert anas.startswith("Hola Ana") and "mar 1 de dic, 18:00" in anas
    # the facilitator's roster: first names and initials, never a whole name
    assert facilitator == (
        f"Wellbeing Groups: group {group.id} meets tomorrow, Tue 01 Dec at 18:00. 2 members: Ana S, Rosa D."
    )
    assert "Díaz" not in facilitator and "Smith" not in facilitator


def test_a_spanish_speaking_facilitator_gets_spanish_texts(mixed):
    group, rosa, _ = mixed
    _db.session.get(Facilitator, group.facilitator_id).language = "es"
    _db.session.commit()
    reminder = first_reminder("facilitator_24h")
    send_due(reminder)
    assert body_of(reminder) == (
        f"Wellbeing Groups: grupo {group.id}, mañana, mar 1 de dic, 18:00. 2 participantes: Ana S, Rosa D."
    )


def test_a_decline_tells_the_facilitator_in_their_language(client, mixed):
    group, rosa, _ = mixed
    assert (
        message_of(sms(client, "X", sender=ROSA))
        == "Gracias por avisarnos. Se lo hemos dicho a quien facilita su grupo."
    )
    notice = Message.query.filter_by(kind="rsvp_notice").one()
    assert (
        notice.context["body"]
        == f"Rosa D (member {rosa.id}) can't come to group {group.id} on Tue 01 Dec at 18:00."
    )


def test_safety_texts_to_staff_go_in_each_readers_language(app, client, mixed, monkeypatch):
    group, rosa, _ = mixed
    _db.session.get(Facilitator, group.facilitator_id).language = "es"
    _db.session.commit()
    monkeypatch.setitem(app.config, "ONCALL_PHONE", "+12025550999")
    assert "988" in message_of(sms(client, "me quiero morir", sender=ROSA))
    told = {
        ("facilitator" if m.facilitator_id else "oncall"): m.context["body"]
        for m in Message.query.filter_by(kind="safety_alert")
    }
    assert told["facilitator"].startswith("URGENTE de Wellbeing Groups: Rosa (participante")
    assert told["oncall"].startswith("URGENT from Wellbeing Groups: member")  # ONCALL_LANGUAGE: en


# --- check-ins -----------------------------------------------------------------------------------------


def test_a_spanish_member_completes_the_phq9_in_spanish_number_words_and_is_scored(client, rosa):
    invitation = _send_checkin(rosa, "phq9", begin=False).bodies[0]
    assert invitation == (
        "Hola, le escribe Wellbeing Groups: tenemos 9 preguntas breves para usted. "
        "Responda OK cuando pueda empezar."
    )
    first = message_of(sms(client, "vale", sender=ROSA))
    assert first.startswith("P1/9 Responda 0, 1, 2 o 3: 0 ningún día, 1 varios días,")
    assert first.endswith("Poco interés o placer en hacer cosas")
    answers = ["uno", "dos", "mas de la mitad de los dias", "TRES", "cero", "Varios días", "2", "ningún día"]
    replies = [message_of(sms(client, a, sender=ROSA)) for a in answers]
    assert replies[0].startswith("P2/9") and replies[-1].startswith("P9/9")
    assert replies[-1].endswith(
        "Pensamientos de que estaría mejor muerto(a) o de lastimarse de alguna manera"
    )
    assert message_of(sms(client, "nunca", sender=ROSA)) == "Gracias, esas eran todas las preguntas."
    checkin = Checkin.query.one()
    assert checkin.answers == [1, 2, 2, 3, 0, 1, 2, 0, 0]
    assert (checkin.status, checkin.score, checkin.band, checkin.complete) == (
        "complete",
        11,
        "moderate",
        True,
    )
    assert Alert.query.count() == 0


def test_a_spanish_yes_to_item_9_alerts_and_gets_the_spanish_crisis_line(client, rosa):
    _send_checkin(rosa, "phq9")
    for answer in ["0"] * 8:
        sms(client, answer, sender=ROSA)
    text = message_of(sms(client, "sí", sender=ROSA))
    assert text.startswith("Si está en peligro") and "Gracias por decírnoslo. Si puede, para la P9/9" in text
    assert Alert.query.filter_by(kind="safety").one().detail["source"] == "phq9_item9"


def test_an_unreadable_spanish_answer_is_reprompted_in_spanish(client, rosa):
    _send_checkin(rosa, "phq2")
    assert message_of(sms(client, "quizás", sender=ROSA)).startswith("Perdone, no le entendí. Para la P1/2:")


def test_a_programme_may_open_check_ins_with_the_first_item(app, rosa, monkeypatch):
    monkeypatch.setitem(app.config, "CHECKIN_OPENING", "first_item")
    first = _send_checkin(rosa, "phq2", begin=False).bodies[0]
    assert first.startswith(
        "Hola, le escribe Wellbeing Groups: 2 preguntas breves, una a la vez. P1/2 Responda 0, 1, 2 o 3"
    )
    assert Checkin.query.one().begun is True


def test_the_invitation_shows_no_item_and_any_reply_begins(client, member):
    invitation = _send_checkin(member, "phq9", begin=False).bodies[0]
    assert invitation == (
        "Hi, it's Wellbeing Groups: time for your check-in, 9 short questions. "
        "Reply OK when you're ready to start."
    )
    assert Checkin.query.one().begun is False
    assert message_of(sms(client, "sure")).startswith("Q1/9 Reply 0, 1, 2 or 3: 0 not at all")
    checkin = Checkin.query.one()
    assert checkin.begun is True and checkin.answers == []  # "sure" began it; it answered nothing


# --- keywords --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "word",
    [
        "ALTO",
        "alto",
        "¡Alto!",
        "PARAR",
        "Baja",
        "cancelar",
        "NO MÁS",
        "no mas",
        "ＳＴＯＰ",
        "OPTOUT",
        "revoke",
    ],
)
@pytest.mark.parametrize("language", ["es", "en"])
def test_every_opt_out_keyword_stops_anyone_and_the_next_send_is_refused(
    client, make_member, group_in, word, language
):
    member = make_member(0, language=language)
    group_in(language, [member])
    assert message_of(sms(client, word)) == ""  # the carrier confirms an opt-out itself
    assert _db.session.get(Member, member.id).opted_out_at == NOW
    assert Message.query.filter_by(member_id=member.id, state="pending").count() == 0
    later = {"dedupe_key": "later", "kind": "missed_you", "member_id": member.id, "due_at": NOW}
    plan_messages([{**later, "context": {"text": "missed_you"}}])
    _db.session.commit()
    sender = RecordingSender()
    run_tick(sender, NOW, dispatch_settings("test"))
    assert sender.sent == [] and Message.query.filter_by(dedupe_key="later").one().state == "suppressed"


@pytest.mark.parametrize(
    ("language", "word", "answer"),
    [
        ("en", "YES", "You will get messages from Wellbeing Groups again. Reply STOP to stop."),
        ("en", "unstop", "You will get messages from Wellbeing Groups again. Reply STOP to stop."),
        (
            "es",
            "Comenzar",
            "Volverá a recibir mensajes de Wellbeing Groups. Responda ALTO para dejar de recibirlos.",
        ),
        (
            "es",
            "START",
            "Volverá a recibir mensajes de Wellbeing Groups. Responda ALTO para dejar de recibirlos.",
        ),
    ],
)
def test_an_opted_out_member_is_opted_back_in_by_a_carrier_opt_in_keyword(
    client, make_member, group_in, language, word, answer
):
    group_in(language, [make_member(0, language=language)])
    sms(client, "STOP")
    assert message_of(sms(client, word)) == answer
    assert Member.query.one().opted_out_at is None and Member.query.one().sms_consent_source == "SMS START"


def test_yes_from_a_subscribed_member_is_a_reply_not_an_opt_in(client, member):
    assert message_of(sms(client, "YES")).startswith("Thanks, your message was received")
    assert Member.query.one().sms_consent_source == "intake form"


def test_help_and_rsvp_keywords_in_spanish(client, rosa):
    assert message_of(sms(client, "AYUDA", sender=ROSA)).startswith(
        "Responda ALTO para no recibir más mensajes."
    )
    assert message_of(sms(client, "help", sender=ROSA)).startswith("Responda ALTO")  # any language's HELP
    assert message_of(sms(client, "Confirmo", sender=ROSA)) == "Gracias, le esperamos."
    assert Rsvp.query.one().response == "confirm"


def test_spanish_rsvp_words_are_not_keywords_for_an_english_reader(client, member):
    assert message_of(sms(client, "confirmo")).startswith("Thanks, your message was received")
    assert Rsvp.query.count() == 0


def test_help_text_replaces_the_english_reply_only(app, client, make_member, monkeypatch):
    """HELP_TEXT, if set, is English readers' reply; a Spanish reader still gets the catalogue's."""
    monkeypatch.setitem(app.config, "HELP_TEXT", "Call Ana on 312 555 0100.")
    make_member(0), make_member(1, language="en-GB"), make_member(2, language="es")
    assert message_of(sms(client, "HELP")) == "Call Ana on 312 555 0100."
    assert message_of(sms(client, "HELP", sender=ANA)) == "Call Ana on 312 555 0100."
    assert message_of(sms(client, "HELP", sender="+13125551002")).startswith("Responda ALTO")


# --- the whole cycle, previewed ------------------------------------------------------------------------


def test_a_spanish_members_whole_cycle_reads_in_spanish(runner, rosa):
    group_id = Member.query.one().current_enrolment.group_id
    result = runner.invoke(args=["ipt", "preview-cycle", str(group_id)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "Rosa Díaz" in line]
    assert len(lines) == Message.query.filter_by(member_id=rosa.id, state="pending").count() > 30
    for line in lines:
        text = line.split("]  ", 1)[1]
        assert text.startswith("Hola"), line
        assert not any(f"{day} " in text for day in ENGLISH_DAYS), line
    assert any("mar 1 de dic, 18:00" in line for line in lines)
    assert any("[checkin]  Hola, le escribe Wellbeing Groups: tenemos 9 preguntas" in line for line in lines)
    facilitator = [line for line in result.output.splitlines() if "[facilitator_24h]" in line]
    assert facilitator and all(f"group {group_id} meets" in line for line in facilitator)


def test_dates_use_the_readers_zone_and_name_it_when_it_is_not_the_groups(make_member, group_in):
    away = make_member(0, language="es", timezone="America/New_York")
    group_in("es", [away])
    reminder = first_reminder("reminder_24h")
    send_due(reminder)
    assert "mar 1 de dic, 19:00 (hora de Nueva York)" in body_of(reminder)
    assert reminder.due_at.astimezone(UTC) <= datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
