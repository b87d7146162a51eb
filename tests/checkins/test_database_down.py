"""The database unreachable while texts arrive: a crisis text still gets the crisis line; every text is
kept in the inbound spool (a file) and replayed into the database once it answers, by the scheduler's
tick; the spool loses nothing to a replay that fails or to a text appended while it is taken."""

import json
import logging
import os
from contextlib import contextmanager

import pytest
from flask import current_app
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from ipt_groups.checkins import spool
from ipt_groups.checkins.spool import replay_spooled
from ipt_groups.extensions import db as _db
from ipt_groups.messaging.base import RecordingSender
from ipt_groups.messaging.catalogue import shipped
from ipt_groups.models import Alert, InboundMessage, Message, Rsvp
from ipt_groups.worker import tick
from tests.checkins.test_webhooks import reply, sms, twilio_config  # noqa: F401 (autouse fixture)
from tests.conftest import NOW, count

CRISIS_LINE_TEXTS = {lang: c.texts["crisis_line"] for lang, c in shipped().by_language.items()}

MEMBER = "+13125551000"  # the `member` fixture's phone


@pytest.fixture
def spool_path(app):
    path = app.config["INBOUND_SPOOL_PATH"]
    yield path
    if os.path.exists(path):
        os.unlink(path)


def _refuse(*_args, **_kwargs):
    raise OperationalError("SELECT", {}, ConnectionRefusedError("the database system is starting up"))


@contextmanager
def outage(monkeypatch):
    """Every statement fails, as while PostgreSQL restarts; a real server answers a 500 for a raise."""
    monkeypatch.setitem(current_app.config, "PROPAGATE_EXCEPTIONS", False)
    event.listen(_db.engine, "before_cursor_execute", _refuse)
    try:
        yield
    finally:
        event.remove(_db.engine, "before_cursor_execute", _refuse)


def _spooled(path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_a_crisis_text_gets_the_crisis_line_and_is_kept(client, member, spool_path, caplog, monkeypatch):
    with caplog.at_level(logging.ERROR), outage(monkeypatch):
        text = reply(sms(client, "me quiero morir"))
    assert CRISIS_LINE_TEXTS["es"] in text  # the language of the list that matched: the member is unknown
    assert [(s["from"], s["body"], s["crisis_line"]) for s in _spooled(spool_path)] == [
        (MEMBER, "me quiero morir", True)
    ]
    assert "not stored (database unreachable)" in caplog.text and MEMBER not in caplog.text
    assert oct(os.stat(spool_path).st_mode & 0o777) == "0o600"
    assert replay_spooled(NOW) == 1
    stored = InboundMessage.query.one()
    assert stored.handled["replayed"] and stored.handled["crisis_line_sent"] and stored.received_at == NOW
    alert = Alert.query.filter_by(kind="safety").one()
    assert alert.member_id == member.id and alert.detail["inbound_id"] == stored.id
    assert not os.path.exists(spool_path)


def test_other_texts_are_kept_unanswered_and_act_when_replayed(client, member, spool_path, monkeypatch):
    with outage(monkeypatch):
        assert "<Message>" not in reply(sms(client, "X"))
    assert count(Rsvp) == 0
    assert replay_spooled(NOW) == 1
    assert Rsvp.query.one().response == "decline"
    assert InboundMessage.query.one().handled["reply_not_sent"].startswith("Thanks for letting us know")


def test_a_spool_that_cannot_be_written_is_a_500_except_for_a_crisis(app, client, member, monkeypatch):
    monkeypatch.setitem(app.config, "INBOUND_SPOOL_PATH", "/nonexistent/dir/spool.jsonl")
    with outage(monkeypatch):
        assert sms(client, "see you tuesday").status_code == 500  # Twilio then tries the Fallback URL
        assert CRISIS_LINE_TEXTS["en"] in reply(sms(client, "kms"))


def test_a_replay_that_fails_keeps_the_texts_spooled(client, member, spool_path, monkeypatch):
    with outage(monkeypatch):
        sms(client, "kms")
        sms(client, "hello")
        assert replay_spooled(NOW) == 0
    assert [s["body"] for s in _spooled(spool_path)] == ["kms", "hello"]
    assert replay_spooled(NOW) == 2 and count(InboundMessage) == 2


def test_a_text_already_stored_is_not_replayed_twice(client, member, spool_path):
    sms(client, "kms", sid="SMtwice")
    spool.keep(spool_path, "SMtwice", MEMBER, "kms", NOW, True)
    assert replay_spooled(NOW) == 1
    assert count(InboundMessage) == 1 and "replayed" not in InboundMessage.query.one().handled
    assert count(Alert) == 1


def test_the_schedulers_tick_replays_and_sends_the_alerts_texts(client, member, spool_path, monkeypatch):
    with outage(monkeypatch):
        sms(client, "I want to kill myself")
    sender = RecordingSender()
    tick(current_app._get_current_object(), sender, None, "w1", now=NOW)
    alert = Alert.query.filter_by(kind="safety").one()
    assert {m.state for m in Message.query.filter_by(alert_id=alert.id)} == {"sent"}
    assert "+12025550999" in {m.to for m in sender.sent}  # on-call, in the same tick


def test_a_text_appended_while_the_spool_is_taken_goes_to_a_new_file(tmp_path):
    path = str(tmp_path / "spool.jsonl")
    spool.keep(path, "SM1", MEMBER, "one", NOW, False)
    with open(path, "a", encoding="utf-8") as opened_before:  # a writer that opened it before the take
        assert [t["sid"] for t in spool.take(path)] == ["SM1"]
        assert not spool._same_file(opened_before, path)  # so it reopens instead of writing to the taken one
    spool.keep(path, "SM2", MEMBER, "two", NOW, False)
    assert [t["sid"] for t in spool.take(path)] == ["SM2"] and spool.take(path) == []


def test_a_line_cut_short_is_dropped_and_the_rest_replayed(tmp_path):
    path = str(tmp_path / "spool.jsonl")
    spool.keep(path, "SM1", MEMBER, "one", NOW, False)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('{"sid": "SM2", "fr')
    assert [t["sid"] for t in spool.take(path)] == ["SM1"]


def test_the_cli_replays_the_spool(runner, member, spool_path):
    spool.keep(spool_path, "SMcli", MEMBER, "kms", NOW, True)
    result = runner.invoke(args=["ipt", "replay-inbound"])
    assert result.exit_code == 0 and "replayed 1 inbound texts" in result.output
    assert count(Alert) == 1
