"""Signing in without passwords: a code texted through the outbox (the urgent lane, never held by quiet
hours, the code kept nowhere), good once and for a while, tried a few times at most; links from the
CLI; the session cookie, its idle and absolute timeouts, sign-out; CSRF and per-address limits."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from config import ProductionConfig
from ipt_groups.messaging.base import RecordingSender
from ipt_groups.messaging.dispatch import run_tick
from ipt_groups.models import Message, SignIn, WebSession
from ipt_groups.signin import MAX_CODES_PER_HOUR, MAX_FAILED_PER_CODE, Person, create_link, request_code
from ipt_groups.worker import dispatch_settings
from tests.conftest import NOW
from tests.web.conftest import csrf_token

CODE = re.compile(r"sign-in code is (\d{6})")
CSRF_VALUE = re.compile(r'name="csrf_token" value="[^"]+"')


def deliver(at=NOW) -> RecordingSender:
    """One scheduler tick with a recording sender, as the worker would run it."""
    sender = RecordingSender()
    run_tick(sender, at, dispatch_settings("test-worker"))
    return sender


def ask_code(client, phone: str):
    return client.post("/app/signin", data={"csrf_token": csrf_token(client), "phone": phone})


def type_code(client, code: str):
    token = csrf_token(client, "/app/signin/code")
    return client.post("/app/signin/code", data={"csrf_token": token, "code": code})


def texted_code(sender: RecordingSender, phone: str) -> str:
    bodies = [m.body for m in sender.sent if m.to == phone]
    assert len(bodies) == 1, bodies
    return CODE.search(bodies[0]).group(1)


def test_a_facilitator_signs_in_with_the_code_texted_to_them(app, programme):
    client = app.test_client()
    lead = programme["lead"]
    r = ask_code(client, lead.phone)
    assert r.status_code == 303 and r.headers["Location"] == "/app/signin/code"
    code = texted_code(deliver(), lead.phone)
    r = type_code(client, code)
    assert r.status_code == 303 and r.headers["Location"] == "/app/"
    home = client.get("/app/")
    assert home.status_code == 200 and b"Hello, Facilitator" in home.data


def test_a_coordinator_signs_in_to_the_console(app, programme):
    client = app.test_client()
    ask_code(client, "(202) 555-0777")  # written as people write it
    type_code(client, texted_code(deliver(), "+12025550777"))
    assert client.get("/app/").headers["Location"] == "/app/console"
    assert client.get("/app/console").status_code == 200


def test_the_answer_is_the_same_for_a_number_nobody_has(app, programme):
    known, unknown = app.test_client(), app.test_client()
    a, b = ask_code(known, programme["lead"].phone), ask_code(unknown, "+13125550199")
    assert (a.status_code, a.headers["Location"]) == (b.status_code, b.headers["Location"])
    pages = [CSRF_VALUE.sub("", c.get("/app/signin/code").get_data(as_text=True)) for c in (known, unknown)]
    assert pages[0] == pages[1]
    assert [m.to for m in deliver().sent] == [programme["lead"].phone]
    assert type_code(unknown, "123456").status_code == 422


def test_a_member_cannot_sign_in(app, programme):
    client = app.test_client()
    ask_code(client, programme["members"][0].phone)
    assert deliver().sent == []


def test_the_code_is_stored_nowhere_and_the_outbox_keeps_no_copy(app, db, programme):
    ask_code(app.test_client(), programme["lead"].phone)
    sender = deliver()
    code = texted_code(sender, programme["lead"].phone)
    row = db.session.scalar(select(SignIn))
    message = db.session.scalar(select(Message).where(Message.kind == "signin_code"))
    stored = [row.secret_hash, row.nonce, message.body, str(message.context)]
    assert message.state == "sent" and "******" in message.body
    assert not any(code in text for text in stored)


def test_a_code_works_once(app, programme):
    client = app.test_client()
    ask_code(client, programme["lead"].phone)
    with client.session_transaction() as cookie:
        stolen = cookie["signin"]
    code = texted_code(deliver(), programme["lead"].phone)
    assert type_code(client, code).status_code == 303
    thief = app.test_client()
    thief.get("/app/signin")
    with thief.session_transaction() as cookie:
        cookie["signin"] = stolen
    assert type_code(thief, code).status_code == 422


def test_a_code_expires(app, programme):
    client = app.test_client()
    ask_code(client, programme["lead"].phone)
    code = texted_code(deliver(), programme["lead"].phone)
    app.config["FIXED_NOW"] = NOW + timedelta(minutes=10)
    try:
        r = type_code(client, code)
    finally:
        app.config["FIXED_NOW"] = NOW
    assert r.status_code == 422 and b"expired" in r.data


def test_a_code_is_tried_at_most_five_times(app, db, programme):
    client = app.test_client()
    ask_code(client, programme["lead"].phone)
    code = texted_code(deliver(), programme["lead"].phone)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(MAX_FAILED_PER_CODE):
        assert type_code(client, wrong).status_code == 422
    assert type_code(client, code).status_code == 422  # the right code, too late
    assert db.session.scalar(select(SignIn.failed_attempts)) == MAX_FAILED_PER_CODE


def test_a_person_gets_at_most_five_codes_an_hour(app, db, programme):
    for _ in range(MAX_CODES_PER_HOUR + 2):
        request_code(programme["lead"].phone, "test", NOW)
    db.session.commit()
    assert db.session.query(SignIn).count() == MAX_CODES_PER_HOUR
    later = NOW + timedelta(hours=1, minutes=1)
    assert request_code(programme["lead"].phone, "test", later) is not None


def test_a_code_goes_in_quiet_hours(app, db, programme):
    late = datetime(2026, 11, 26, 5, 30, tzinfo=UTC)  # 23:30 in Chicago
    request_code(programme["lead"].phone, "test", late)
    db.session.commit()
    assert texted_code(deliver(late), programme["lead"].phone)


def test_a_code_goes_before_a_backlog(app, db, programme):
    """10:00 in Chicago, 300 reminders due for an hour, a batch of 100: the code is the first text sent."""
    at = NOW + timedelta(hours=4)
    backlog = [
        Message(
            dedupe_key=f"backlog{i}",
            kind="reminder_24h",
            member_id=programme["members"][0].id,
            due_at=at - timedelta(hours=1),
            state="pending",
            attempts=0,
            context={"body": "hi"},
        )
        for i in range(300)
    ]
    db.session.add_all(backlog)
    request_code(programme["lead"].phone, "test", at)
    db.session.commit()
    sender = RecordingSender()
    settings = dispatch_settings("test-worker")
    run_tick(sender, at, type(settings)(**{**settings.__dict__, "batch": 100}))
    assert (
        len(sender.attempts) == 301
        and sender.attempts[0].to == programme["lead"].phone
        and CODE.search(sender.attempts[0].body)
    )


def test_a_link_signs_in_once_and_opening_it_uses_nothing(app, db, programme):
    person = Person("facilitator", programme["lead"].id, programme["lead"].name)
    _row, token = create_link(person, 24, "cli:test", NOW)
    db.session.commit()
    page = f"/app/signin/link/{token}"
    client = app.test_client()
    for _ in range(3):  # a link preview fetching it does not use it up
        assert client.get(page).status_code == 200
    assert client.post(page, data={"csrf_token": csrf_token(client, page)}).headers["Location"] == "/app/"
    again = app.test_client()
    r = again.post(page, data={"csrf_token": csrf_token(again, page)})
    assert r.headers["Location"] == "/app/signin"


def test_a_link_expires(app, db, programme):
    person = Person("coordinator", programme["coordinator"].id, "Cora")
    _row, token = create_link(person, 1, "cli:test", NOW - timedelta(hours=2))
    db.session.commit()
    client = app.test_client()
    page = f"/app/signin/link/{token}"
    assert (
        client.post(page, data={"csrf_token": csrf_token(client, page)}).headers["Location"] == "/app/signin"
    )


def test_the_cli_prints_a_link_that_signs_in(app, runner, programme):
    result = runner.invoke(args=["ipt", "signin-link", "--coordinator", str(programme["coordinator"].id)])
    assert result.exit_code == 0, result.output
    path = "/app/signin/link/" + result.output.strip().rsplit("/app/signin/link/", 1)[1]
    client = app.test_client()
    assert client.post(path, data={"csrf_token": csrf_token(client, path)}).headers["Location"] == "/app/"
    refused = runner.invoke(args=["ipt", "signin-link", "--facilitator", "999"])
    assert refused.exit_code != 0 and "no facilitator 999" in refused.output


def test_the_cookie_is_http_only_and_same_site(app, programme):
    client = app.test_client()
    page = csrf_token(client)
    ask = client.post("/app/signin", data={"csrf_token": page, "phone": programme["lead"].phone})
    cookie = ask.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "ipt_session=" in cookie


def test_production_cookies_are_secure():
    assert ProductionConfig.SESSION_COOKIE_SECURE is True


def test_sign_out_ends_the_session_at_once(app, db, lead_client):
    stolen = lead_client.get_cookie("ipt_session").value
    r = lead_client.post("/app/signout", data={"csrf_token": csrf_token(lead_client, "/app/")})
    assert r.headers["Location"] == "/app/signin"
    replay = app.test_client()
    replay.set_cookie("ipt_session", stolen)
    assert replay.get("/app/").status_code == 303  # the old cookie no longer signs anyone in
    assert db.session.scalar(select(WebSession.ended_at)) == NOW


@pytest.mark.parametrize(
    ("after", "signed_in"), [(timedelta(minutes=59), True), (timedelta(minutes=61), False)]
)
def test_an_idle_session_times_out(app, lead_client, after, signed_in):
    app.config["FIXED_NOW"] = NOW + after
    try:
        r = lead_client.get("/app/")
    finally:
        app.config["FIXED_NOW"] = NOW
    assert (r.status_code == 200) is signed_in


def test_a_session_in_use_still_ends_after_twelve_hours(app, lead_client):
    try:
        for minutes in range(0, 12 * 60, 50):  # never idle for an hour
            app.config["FIXED_NOW"] = NOW + timedelta(minutes=minutes)
            assert lead_client.get("/app/calendar").status_code == 200
        app.config["FIXED_NOW"] = NOW + timedelta(hours=12)
        assert lead_client.get("/app/calendar").status_code == 303
    finally:
        app.config["FIXED_NOW"] = NOW


def test_a_coordinator_made_inactive_is_signed_out(app, db, programme, coordinator_client):
    assert coordinator_client.get("/app/console").status_code == 200
    programme["coordinator"].active = False
    db.session.commit()
    assert coordinator_client.get("/app/console").status_code == 303


def test_the_sign_in_forms_are_limited_per_address(app, programme):
    app.config["SIGNIN_RATE_LIMIT"] = "3 per minute"
    try:
        client = app.test_client()
        codes = [ask_code(client, "+13125550199").status_code for _ in range(4)]
    finally:
        app.config["SIGNIN_RATE_LIMIT"] = "100000 per minute"
    assert codes == [303, 303, 303, 429]


def test_over_https_a_form_from_this_site_passes_and_one_from_elsewhere_does_not(app, programme):
    """Behind TLS the CSRF check also wants the referrer to be this site (Flask-WTF's strict mode):
    the pages keep sending it to themselves (Referrer-Policy same-origin)."""
    client = app.test_client()
    https = {"base_url": "https://groups.example.org"}
    page = client.get("/app/signin", **https)
    assert page.headers["Referrer-Policy"] == "same-origin"
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    form = {"csrf_token": token, "phone": programme["lead"].phone}
    ours = client.post(
        "/app/signin", data=form, headers={"Referer": "https://groups.example.org/app/signin"}, **https
    )
    assert ours.status_code == 303
    theirs = client.post("/app/signin", data=form, headers={"Referer": "https://evil.example.com/"}, **https)
    assert theirs.status_code == 400


@pytest.mark.postgres
def test_on_postgresql_a_code_wakes_the_scheduler_when_it_is_committed(db, programme):
    """The safety lane's wake-up serves the urgent lane too: the code need not wait for the next tick."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; on SQLite the tick is the mechanism")
    import threading

    from ipt_groups.messaging.wakeup import SafetyListener

    payloads, woken = [], threading.Event()

    def on_wake(payload):
        if payload is not None:
            payloads.append(payload)
            woken.set()

    listener = SafetyListener(db.engine.url, on_wake, poll_s=0.2)
    listener.start()
    try:
        assert listener.listening.wait(10)
        request_code(programme["lead"].phone, "test", NOW)
        db.session.commit()
        assert woken.wait(10)
        message = db.session.scalar(select(Message).where(Message.kind == "signin_code"))
        assert payloads == [str(message.id)]
    finally:
        listener.stop()
        listener.join(10)


def test_the_cookie_does_not_say_whether_a_number_is_known(app, programme):
    """Found by trying it as an attacker: the signed (readable) cookie held the sign-in's id, or 0 for
    an unknown number. Now it holds a nonce, or random bytes of the same shape."""
    values = []
    for phone in (programme["lead"].phone, "+12025550777"):
        client = app.test_client()
        ask_code(client, phone)
        with client.session_transaction() as cookie:
            values.append(cookie["signin"])
    assert [len(v) for v in values] == [32, 32] and all(int(v, 16) >= 0 for v in values)
    assert values[0] != values[1]
