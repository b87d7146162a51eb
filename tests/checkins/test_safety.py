"""A crisis text reaches a human, whoever sends it and in whatever language: members (enrolled,
waitlisted, opted out) and strangers; Spanish and English; the crisis line alone in reply; PHQ-9
item 9 (above 0, words that mean yes, unreadable, late); the programme's own phrases."""

from datetime import timedelta

import pytest

from ipt_groups.checkins.conversations import expire_checkins
from ipt_groups.checkins.crisis import BUILT_IN_PHRASES
from ipt_groups.extensions import db as _db
from ipt_groups.groups.operations import enrol_member
from ipt_groups.messaging.catalogue import shipped
from ipt_groups.models import Alert, AuditEntry, Checkin, InboundMessage, Member, Message
from tests.checkins.test_webhooks import NOON_CHICAGO, _send_checkin, reply, sms, twilio_config  # noqa: F401
from tests.conftest import NOW, count

EN_LINE, ES_LINE = (shipped().by_language[lang].texts["crisis_line"] for lang in ("en", "es"))
STRANGER = "+13125559999"


def message_of(response) -> str:
    """The reply's text (TwiML escapes nothing in these texts but apostrophes)."""
    text = reply(response)
    return text.split("<Message>")[1].split("</Message>")[0] if "<Message>" in text else ""


def only_alert(source="crisis_words") -> Alert:
    alert = Alert.query.filter_by(kind="safety").one()
    assert alert.detail["source"] == source
    return alert


# --- every sender ----------------------------------------------------------------------------------


def test_a_strangers_crisis_alerts_with_their_number_and_gets_the_crisis_line(client, member):
    assert message_of(sms(client, "I want to kill myself", sender=STRANGER)) == EN_LINE
    alert = only_alert()
    assert alert.member_id is None and alert.detail["from_phone"] == STRANGER
    assert alert.detail["inbound_id"] == InboundMessage.query.one().id
    assert {n["to"] for n in alert.notified} >= {"oncall"}
    assert "don't recognise" not in reply(sms(client, "hello?", sender=STRANGER))  # later texts: as before


def test_a_strangers_spanish_crisis_gets_the_spanish_crisis_line(client, member):
    assert message_of(sms(client, "ya no quiero vivir", sender=STRANGER)) == ES_LINE
    assert only_alert().detail["language"] == "es"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("This is her sister, she says she wants to kill herself", EN_LINE),
        ("my son says he wants to kill himself", EN_LINE),
        ("she told me she is going to end her life", EN_LINE),
        ("soy su hermana, dice que se quiere matar", ES_LINE),
        ("mi hija dice que se quiere morir", ES_LINE),
    ],
)
def test_a_relative_writing_from_an_unknown_phone_about_someone_in_crisis_alerts(client, member, text, line):
    """Found by trying it from outside: third-person words of crisis got 'we don't recognise this number'."""
    assert message_of(sms(client, text, sender=STRANGER)) == line
    assert only_alert().detail["from_phone"] == STRANGER


def test_a_strangers_other_texts_keep_todays_reply(client, member):
    assert "don't recognise" in reply(sms(client, "hello?", sender=STRANGER))
    assert count(Alert) == 0


def test_a_waitlisted_members_crisis_alerts(client, make_member):
    waiting = make_member(3)
    assert waiting.status == "waitlisted"
    assert message_of(sms(client, "kms", sender=waiting.phone)) == EN_LINE
    alert = only_alert()
    assert alert.member_id == waiting.id and alert.group_id is None


def test_an_opted_out_members_crisis_alerts_and_gets_the_crisis_line(client, member):
    sms(client, "STOP")
    assert message_of(sms(client, "I want to die")) == EN_LINE
    assert only_alert().member_id == member.id
    assert _db.session.get(Member, member.id).opted_out_at is not None  # still opted out


# --- languages -------------------------------------------------------------------------------------


def test_a_spanish_crisis_from_a_spanish_speaker(client, db, make_member, make_facilitator, make_group):
    rosa = make_member(1, language="es")
    group = make_group(make_facilitator(0).id, language="es")
    enrol_member(group, rosa, {}, "test", NOW)
    db.session.commit()
    assert message_of(sms(client, "ya no quiero vivir, me quiero matar", sender=rosa.phone)) == ES_LINE
    alert = only_alert()
    assert (alert.member_id, alert.detail["language"], alert.detail["phrase"]) == (
        rosa.id,
        "es",
        "no quiero vivir",
    )


def test_a_spanish_crisis_from_a_member_registered_as_english(client, member):
    # Every list is tried; the reply is in the member's language.
    assert message_of(sms(client, "me quiero morir")) == EN_LINE
    assert only_alert().detail["language"] == "es"


def test_an_english_crisis_from_a_spanish_speaker_gets_the_spanish_line(client, make_member):
    rosa = make_member(1, language="es-MX")
    assert message_of(sms(client, "I want to die", sender=rosa.phone)) == ES_LINE


@pytest.mark.parametrize(
    "text",
    [
        "ｉ ｗａｎｔ ｔｏ ｄｉｅ",
        "estaria mejor muerta",
        "QUIERO MATARME",
        "i want to diieee",
        "unalive",
        "sucide",
    ],
)
def test_variants_reach_a_human_through_the_webhook(client, member, text):
    assert message_of(sms(client, text)) == EN_LINE
    only_alert()


def test_the_crisis_line_can_be_the_programmes_own(app, client, make_member, monkeypatch):
    monkeypatch.setitem(app.config, "CRISIS_LINE_TEXT", "Call Samaritans on 116 123.")
    rosa, ana = make_member(1, language="es"), make_member(2, language="en")
    assert message_of(sms(client, "me quiero morir", sender=rosa.phone)) == "Call Samaritans on 116 123."
    monkeypatch.setitem(app.config, "CRISIS_LINE_TEXTS", {"es": "Llame al 024."})
    assert message_of(sms(client, "me quiero morir", sender=rosa.phone)) == "Llame al 024."
    assert message_of(sms(client, "kms", sender=ana.phone)) == "Call Samaritans on 116 123."


# --- the reply to a crisis text --------------------------------------------------------------------


def test_a_crisis_text_during_a_checkin_gets_only_the_crisis_line_and_leaves_it_unchanged(client, member):
    _send_checkin(member, "phq9")
    sms(client, "1")
    before = Checkin.query.one()
    state = (list(before.answers), before.position, before.reprompted, before.status)
    text = message_of(sms(client, "I can't do this, I want to end my life"))
    assert text == EN_LINE  # never "Sorry, I didn't understand" nor "Text STOP to opt out"
    after = _db.session.get(Checkin, before.id)
    assert (after.answers, after.position, after.reprompted, after.status) == state
    only_alert()
    assert "Q3/9" in reply(sms(client, "2"))  # the next answer is read as before


# --- item 9 ----------------------------------------------------------------------------------------


def _to_item_9(client, member):
    _send_checkin(member, "phq9")
    for _ in range(8):
        sms(client, "0")


@pytest.mark.parametrize("answer", ["1", "3", "nearly every day"])
def test_item_9_above_zero_alerts_and_the_reply_carries_the_crisis_line(client, member, answer):
    _to_item_9(client, member)
    text = message_of(sms(client, answer))
    assert text.startswith(EN_LINE) and "end of this check-in" in text
    assert only_alert("phq9_item9").detail["value"] == (3 if answer != "1" else 1)
    assert Checkin.query.one().complete is True


def test_item_9_zero_does_not_alert(client, member):
    _to_item_9(client, member)
    assert EN_LINE not in reply(sms(client, "0"))
    assert count(Alert) == 0


def test_words_that_mean_yes_alert_at_once_then_the_number_joins_the_alert(client, member, auth):
    _to_item_9(client, member)
    text = message_of(sms(client, "yes sometimes"))
    assert text.startswith(EN_LINE) and "Q9/9" in text and "understand" not in text
    alert = only_alert("phq9_item9")
    assert alert.detail["value"] is None and alert.detail["answer"] == "yes sometimes"
    assert message_of(sms(client, "2")).startswith(EN_LINE)
    alert = only_alert("phq9_item9")  # one alert for the check-in, the number added to it
    assert alert.detail["later"][0]["value"] == 2
    checkin = Checkin.query.one()
    assert (checkin.answers[-1], checkin.complete, checkin.score) == (2, True, 2)


def test_an_unreadable_item_9_is_reprompted_then_reviewed_and_never_scored(client, member, auth):
    _to_item_9(client, member)
    assert "didn't understand" in reply(sms(client, "hmm not sure"))
    assert count(Alert) == 0
    text = message_of(sms(client, "dunno"))
    assert text.startswith(EN_LINE) and "end of this check-in" in text
    alert = only_alert("phq9_item9_unknown")
    assert alert.detail["checkin_id"] == Checkin.query.one().id and alert.detail["answer"] == "dunno"
    checkin = Checkin.query.one()
    assert (checkin.status, checkin.complete, checkin.answers[-1]) == ("complete", False, None)
    listed = client.get(f"/api/v1/checkins?member_id={member.id}", headers=auth).json[0]
    assert (listed["score"], listed["partial_score"], listed["missing_items"]) == (None, 0, [9])
    point = client.get(f"/api/v1/members/{member.id}/scores", headers=auth).json
    assert (point["points"][0]["score"], point["points"][0]["missing_items"]) == (None, [9])
    assert point["phq9_latest"] is None


def test_a_checkin_that_expires_after_an_unreadable_item_9_is_reviewed(client, member):
    _to_item_9(client, member)
    sms(client, "hmm")
    assert expire_checkins(NOON_CHICAGO + timedelta(hours=48)) == 1
    assert only_alert("phq9_item9_unknown").detail["reason"] == "closed after an unreadable answer"
    assert Checkin.query.one().complete is False


@pytest.mark.parametrize(("late", "alerts"), [("3", True), ("yes", True), ("0", False), ("ok thanks", False)])
def test_a_reply_to_item_9_after_expiry_still_counts(client, member, late, alerts):
    _to_item_9(client, member)
    expire_checkins(NOON_CHICAGO + timedelta(hours=48))
    review = only_alert("phq9_item9_unanswered")  # silent at item 9 until it closed: reviewed
    text = message_of(sms(client, late))
    _db.session.refresh(review)
    if alerts:  # the late answer joins the open review alert
        assert text == EN_LINE and [e["source"] for e in review.detail["later"]] == ["phq9_item9"]
        assert review.detail["later"][0]["late"] is True
        assert (
            InboundMessage.query.filter_by(body=late).one().handled["late_checkin_id"]
            == Checkin.query.one().id
        )
    else:
        assert text.startswith("Thanks, your message was received") and "later" not in review.detail
    assert count(Alert) == 1
    assert Checkin.query.one().answers == [0] * 8  # the closed check-in records nothing


@pytest.mark.parametrize("close", ["expiry", "STOP", "a newer check-in"])
def test_silence_at_item_9_until_the_checkin_closes_is_reviewed(client, member, close):
    _to_item_9(client, member)
    if close == "expiry":
        assert expire_checkins(NOON_CHICAGO + timedelta(hours=48)) == 1
    elif close == "STOP":
        sms(client, "STOP")
    else:
        _send_checkin(member, "phq2", at=NOON_CHICAGO + timedelta(days=7))
    alert = only_alert("phq9_item9_unanswered")
    assert alert.detail["reason"] == "closed with item 9 unanswered" and alert.member_id == member.id
    assert {n["to"] for n in alert.notified} == {"facilitator", "oncall"}
    first = Checkin.query.order_by(Checkin.id).first()
    assert first.complete is False and first.band is None


def test_a_checkin_closed_before_item_9_raises_nothing(client, member):
    _send_checkin(member, "phq9")
    for _ in range(7):
        sms(client, "0")
    assert expire_checkins(NOON_CHICAGO + timedelta(hours=48)) == 1
    assert count(Alert) == 0


def test_a_late_item_9_answer_before_the_expiry_job_ran(app, client, member, monkeypatch):
    _to_item_9(client, member)
    monkeypatch.setitem(app.config, "FIXED_NOW", NOON_CHICAGO + timedelta(hours=49))
    assert message_of(sms(client, "3")) == EN_LINE
    assert only_alert("phq9_item9").detail["value"] == 3
    assert Checkin.query.one().status == "expired"


# --- the programme's own phrases -------------------------------------------------------------------


def test_crisis_phrases_from_the_environment_are_added(app, client, member, monkeypatch):
    monkeypatch.setitem(app.config, "CRISIS_PHRASES", ["hopeless", "es:no aguanto más"])
    assert message_of(sms(client, "feeling hopeless")) == EN_LINE
    assert message_of(sms(client, "ya no aguanto mas")) == EN_LINE
    assert message_of(sms(client, "I want to die")) == EN_LINE  # the built-in list still counts
    alert = Alert.query.one()  # one member's texts while the alert is open: one alert
    assert [alert.detail["phrase"]] + [e["phrase"] for e in alert.detail["later"]] == [
        "hopeless",
        "no aguanto más",
        "want to die",
    ]


def test_a_coordinator_adds_phrases_per_language(client, member, auth):
    url = "/api/v1/settings/crisis-phrases"
    before = client.get(url, headers=auth).json
    assert before["built_in"] == {k: list(v) for k, v in BUILT_IN_PHRASES.items()} and before["added"] == {}
    r = client.put(
        url,
        json={"added": {"es-MX": ["No aguanto más", "no aguanto mas"], "pt": ["quero morrer"]}},
        headers=auth,
    )
    assert r.status_code == 200 and r.json["added"] == {"es": ["No aguanto más"], "pt": ["quero morrer"]}
    assert AuditEntry.query.filter_by(action="settings.crisis_phrases").one().after == r.json["added"]
    assert message_of(sms(client, "ya no aguanto mas")) == EN_LINE
    assert only_alert().detail == only_alert().detail | {"phrase": "No aguanto más", "language": "es"}


def test_built_in_phrases_cannot_be_removed(client, member, auth):
    r = client.put("/api/v1/settings/crisis-phrases", json={"added": {}}, headers=auth)
    assert r.status_code == 200 and r.json["built_in"]["en"]
    r = client.put("/api/v1/settings/crisis-phrases", json={"added": {}, "built_in": {}}, headers=auth)
    assert r.status_code == 422 and "built_in" in r.json["errors"]["json"]
    assert message_of(sms(client, "kms")) == EN_LINE


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"added": {"es": ["no"]}}, ["added", "es", "0"]),
        ({"added": {"es": ["ok", "no aguanto"]}}, ["added", "es", "0"]),
        ({"added": {"Spanish!": ["no aguanto"]}}, ["added", "Spanish!", "key"]),
        ({"added": {"es": "no aguanto"}}, ["added", "es", "value"]),
        ({}, ["added"]),
    ],
)
def test_bad_phrases_are_refused_naming_the_field(client, member, auth, body, where):
    audited = count(AuditEntry)
    r = client.put("/api/v1/settings/crisis-phrases", json=body, headers=auth)
    assert r.status_code == 422
    errors = r.json["errors"]["json"]
    for key in where:
        errors = errors[key]
    assert errors
    assert (
        count(AuditEntry) == audited
        and client.get("/api/v1/settings/crisis-phrases", headers=auth).json["added"] == {}
    )


def test_one_settings_read_per_inbound_text(app, client, member, monkeypatch):
    from ipt_groups.settings import programme

    reads = []
    real = programme.crisis_phrases
    monkeypatch.setattr(programme, "crisis_phrases", lambda: reads.append(1) or real())
    sms(client, "hello")
    assert reads == [1]


def test_safety_alert_messages_are_planned_for_a_crisis(client, member):
    sms(client, "I want to die")
    told = Message.query.filter_by(kind="safety_alert").all()
    assert len(told) == 2 and all(m.due_at == NOW for m in told)
