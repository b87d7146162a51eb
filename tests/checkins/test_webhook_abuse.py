"""The Twilio webhooks under abuse: wrong, missing and replayed signatures, oversized and non-UTF-8
bodies, wrong content types, and thousands of random requests. Never a 5xx; an unsigned request
stores nothing and changes no member."""

from collections import Counter
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ipt_groups.cycles.operations import start_cycle
from ipt_groups.extensions import db as _db
from ipt_groups.groups.operations import create_group, enrol_member
from ipt_groups.messaging.twilio import compute_twilio_signature
from ipt_groups.models import Alert, AttendanceRecord, Checkin, InboundMessage, Member, Message, Rsvp
from tests.conftest import NOW, count

pytestmark = pytest.mark.fuzz

TOKEN = "abuse-auth-token"
BASE = "http://localhost"
PATHS = ["/twilio/sms", "/twilio/status"]
PHONE = "+13125551000"
FUZZ = settings(
    max_examples=2000,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def twilio_config(app, monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setitem(app.config, "ONCALL_PHONE", "+12025550999")


@pytest.fixture
def member(db, make_member, make_facilitator):
    """A member (phone PHONE) of a group whose cycle has started, so every SMS path is live."""
    facilitator = make_facilitator(0)
    data = {"name": "Tuesday", "problem_area": "grief", "language": "en", "day": "tue", "start_time": "18:00"}
    group = create_group(data | {"facilitator_id": facilitator.id}, "test", NOW)
    m = make_member(0)
    enrol_member(group, m, {}, "test", NOW)
    start_cycle(group, {"first_date": date(2026, 12, 1)}, "test", NOW)
    db.session.scalars(select(Message).filter_by(member_id=m.id)).first().provider_id = "SMknown"
    db.session.commit()
    return m


def world() -> tuple:
    """Everything an inbound SMS could store or change."""
    _db.session.expire_all()
    members = _db.session.execute(
        select(Member.id, Member.opted_out_at, Member.sms_consent, Member.status, Member.updated_at)
    ).all()
    states = _db.session.execute(select(Message.id, Message.state, Message.delivery_status)).all()
    counts = [count(m) for m in (InboundMessage, Alert, AttendanceRecord, Checkin, Rsvp)]
    return sorted(members), sorted(states), counts


def signed_post(client, path, params, token=TOKEN, url=None, **kwargs):
    sig = compute_twilio_signature(token, url or BASE + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": sig}, **kwargs)


def sms_params(body="STOP", sid="SMabuse0001", sender=PHONE) -> dict:
    return {"MessageSid": sid, "From": sender, "To": "+12025550100", "Body": body}


def status_params() -> dict:
    return {"MessageSid": "SMstatus", "MessageStatus": "failed", "ErrorCode": "30003"}


PARAMS = {"/twilio/sms": sms_params, "/twilio/status": status_params}
WRONG = {
    "missing": None,
    "empty": "",
    "garbage": "bm90IGEgc2lnbmF0dXJl",
    "not base64": "%%%\x7f",
    "another token": compute_twilio_signature("someone-else", BASE + "/twilio/sms", sms_params()),
    "another url": compute_twilio_signature(TOKEN, "https://evil.example/twilio/sms", sms_params()),
    "other params": compute_twilio_signature(TOKEN, BASE + "/twilio/sms", sms_params("HELP")),
    "no params": compute_twilio_signature(TOKEN, BASE + "/twilio/sms", {}),
    "very long": "A" * 100_000,
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("signature", list(WRONG.values()), ids=list(WRONG))
def test_a_wrong_or_missing_signature_is_403_and_stores_nothing(client, member, path, signature):
    before = world()
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    r = client.post(path, data=PARAMS[path](), headers=headers)
    assert r.status_code == 403 and r.mimetype == "text/xml"
    assert world() == before


def test_a_signature_for_one_hook_does_not_open_the_other(client, member):
    before = world()
    sig = compute_twilio_signature(TOKEN, BASE + "/twilio/sms", status_params())
    r = client.post("/twilio/status", data=status_params(), headers={"X-Twilio-Signature": sig})
    assert r.status_code == 403 and world() == before


def test_a_signed_request_with_an_extra_query_string_is_refused(client, member):
    before = world()
    sig = compute_twilio_signature(TOKEN, BASE + "/twilio/sms", sms_params())
    r = client.post("/twilio/sms?Body=STOP", data=sms_params(), headers={"X-Twilio-Signature": sig})
    assert r.status_code == 403 and world() == before


def test_a_replay_is_handled_once_even_with_another_body(client, member):
    first = signed_post(client, "/twilio/sms", sms_params("STOP", sid="SMreplay"))
    assert first.status_code == 200
    after_first = world()
    for body in ("STOP", "START", "I want to end my life"):
        again = signed_post(client, "/twilio/sms", sms_params(body, sid="SMreplay"))
        assert again.status_code == 200 and again.data == first.data
    assert world() == after_first and count(InboundMessage) == 1


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_a_body_over_max_content_length_is_413(app, client, member, path, signed):
    before = world()
    params = PARAMS[path]() | {"Body": "x" * app.config["MAX_CONTENT_LENGTH"]}
    headers = {"X-Twilio-Signature": compute_twilio_signature(TOKEN, BASE + path, params) if signed else ""}
    r = client.post(path, data=params, headers=headers)
    assert r.status_code == 413
    assert world() == before


NOT_UTF8 = [
    b"MessageSid=SM1&From=%2B13125551000&Body=%FF%FE%FD",
    b"MessageSid=SM1&From=%2B13125551000&Body=\xff\xfe\xc3\x28",
    b"\xff\xfe\x00S\x00T\x00O\x00P",
    b"MessageSid=SM%ED%A0%80&From=%2B13125551000&Body=%C0%AF",
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("raw", NOT_UTF8)
def test_a_body_that_is_not_utf8_is_refused_unsigned(client, member, path, raw):
    before = world()
    r = client.post(
        path,
        data=raw,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": compute_twilio_signature(TOKEN, BASE + path, sms_params())},
    )
    assert r.status_code == 403 and world() == before


@pytest.mark.parametrize("raw", NOT_UTF8)
def test_a_body_that_is_not_utf8_but_signed_is_not_a_server_error(app, client, member, raw):
    """Signed over the form as it decodes (bad bytes replaced), as a proxy might relay it."""
    with app.test_request_context(
        "/twilio/sms", method="POST", data=raw, content_type="application/x-www-form-urlencoded"
    ) as ctx:
        params = ctx.request.form.to_dict()
    sig = compute_twilio_signature(TOKEN, BASE + "/twilio/sms", params)
    r = client.post(
        "/twilio/sms",
        data=raw,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": sig},
    )
    assert r.status_code < 500


CONTENT_TYPES = [
    ("application/json", b'{"MessageSid": "SM1", "From": "+13125551000", "Body": "STOP"}'),
    ("text/plain", b"MessageSid=SM1&From=%2B13125551000&Body=STOP"),
    ("text/xml", b"<Body>STOP</Body>"),
    ("multipart/form-data", b"--x\r\nContent-Disposition: form-data; name=Body\r\n\r\nSTOP\r\n--x--"),
    ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data; name=Body\r\n\r\nSTOP"),
    ("application/x-www-form-urlencoded; charset=utf-16", "Body=STOP".encode("utf-16")),
    ("", b"MessageSid=SM1&From=%2B13125551000&Body=STOP"),
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("content_type", "raw"), CONTENT_TYPES, ids=[c or "none" for c, _ in CONTENT_TYPES])
def test_a_wrong_content_type_is_never_a_server_error_and_stores_nothing(
    client, member, path, content_type, raw
):
    """Signed over no form fields (what the hook reads from such a body), and unsigned."""
    before = world()
    sig = compute_twilio_signature(TOKEN, BASE + path, {})
    for headers in ({}, {"X-Twilio-Signature": sig}):
        r = client.post(path, data=raw, headers={"Content-Type": content_type, **headers})
        assert r.status_code in (400, 403, 204), r.status_code
    assert world() == before


def test_signed_fields_with_nul_or_too_long_are_stored_cleaned(client, member):
    nul = "SM\x00nul"
    assert signed_post(client, "/twilio/sms", sms_params("ST\x00OP", sid=nul)).status_code == 200
    assert _db.session.scalar(select(InboundMessage.body)) == "STOP"
    status = {"MessageSid": "SMknown", "MessageStatus": "failed", "ErrorCode": "3\x00" * 500}
    assert signed_post(client, "/twilio/status", status).status_code == 204
    reason = _db.session.scalar(select(Message.reason).filter_by(provider_id="SMknown"))
    assert reason.startswith("carrier reported failed (error 333") and "\x00" not in reason


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_other_methods_store_nothing(client, member, method):
    before = world()
    r = client.open("/twilio/sms", method=method, data=sms_params())
    assert r.status_code in (403, 405) and world() == before


texts = st.text(st.characters(codec="utf-8"), max_size=200)
forms = st.dictionaries(
    st.sampled_from(["MessageSid", "From", "To", "Body", "MessageStatus", "ErrorCode"]) | texts,
    texts,
    max_size=8,
)
raw_bodies = st.binary(max_size=2000)
content_types = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json",
        "text/plain",
        "",
    ]
)
signatures = st.none() | st.text(st.characters(codec="ascii", exclude_characters="\r\n"), max_size=60)


def test_thousands_of_unsigned_forms(client, member):
    before = world()

    @FUZZ
    @given(path=st.sampled_from(PATHS), form=forms, signature=signatures)
    def attempt(path, form, signature):
        headers = {} if signature is None else {"X-Twilio-Signature": signature}
        assert client.post(path, data=form, headers=headers).status_code == 403

    attempt()
    assert world() == before


def test_thousands_of_unsigned_raw_bodies(client, member):
    before = world()

    @FUZZ
    @given(path=st.sampled_from(PATHS), raw=raw_bodies, content_type=content_types)
    def attempt(path, raw, content_type):
        headers = {"Content-Type": content_type, "X-Twilio-Signature": "x"}
        assert client.post(path, data=raw, headers=headers).status_code == 403

    attempt()
    assert world() == before


sms_forms = st.fixed_dictionaries(
    {"MessageSid": texts, "From": st.just(PHONE) | texts, "Body": texts},
    optional={"To": texts, "NumMedia": texts, "Extra": texts},
)
status_forms = st.fixed_dictionaries(
    {
        "MessageSid": st.just("SMknown") | texts,
        "MessageStatus": st.sampled_from(["queued", "sent", "delivered", "failed"]) | texts,
    },
    optional={"ErrorCode": texts},
)


def test_signed_random_forms_are_never_a_server_error(client, member):
    seen = Counter()

    @settings(FUZZ, max_examples=1000)
    @given(data=st.data())
    def attempt(data):
        path = data.draw(st.sampled_from(PATHS))
        form = data.draw(sms_forms if path == "/twilio/sms" else status_forms)
        r = signed_post(client, path, form)
        seen[r.status_code] += 1
        assert r.status_code < 500, r.data

    attempt()
    print(seen)
    assert seen[200] > 100  # most reached the handler, not the 400 for a missing field
