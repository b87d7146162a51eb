"""SMS adapters: error classification, the Twilio adapter over a fake HTTP client, console, pacing."""

from __future__ import annotations

import ast
import io
import json
import logging
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from twilio.http import HttpClient
from twilio.http.response import Response
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from ipt_groups.messaging import RecordingSender, make_sender, mask_phone
from ipt_groups.messaging.base import (
    PermanentSendError,
    RetryableSendError,
    SendResult,
    SmsConfigError,
    UnknownOutcomeError,
    classify_twilio_error,
    mask_phones,
)
from ipt_groups.messaging.console import ConsoleSender
from ipt_groups.messaging.pacing import Pacer, make_pacer
from ipt_groups.messaging.twilio import (
    BaseUrlHttpClient,
    TwilioSender,
    check_twilio_config,
    compute_twilio_signature,
    validate_twilio_signature,
)

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
SERVICE_SID = "MG" + "fedcba9876543210" * 2
TO = "+15551232345"
CONFIG = {
    "SMS_BACKEND": "twilio",
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "TWILIO_AUTH_TOKEN": "secret",
    "TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID,
    "SMS_RETRY_BASE_S": 0.5,
}
REPO = Path(__file__).resolve().parents[2]


# --- fakes ---------------------------------------------------------------------------------------


def created(sid: str = "SM" + "1" * 32, status: str = "queued") -> Response:
    return Response(201, json.dumps({"sid": sid, "status": status, "account_sid": ACCOUNT_SID}))


def error(status: int, code: int | None) -> Response:
    payload = {
        "status": status,
        "message": f"error {code}",
        "more_info": "https://www.twilio.com/docs/errors",
    }
    if code is not None:
        payload["code"] = code
    return Response(status, json.dumps(payload))


class FakeHttpClient(HttpClient):
    """Answers the library's requests from a script of responses and exceptions, recording each one."""

    def __init__(self, *script: Response | Exception) -> None:
        super().__init__(logging.getLogger("fake-twilio"), False, None)
        self.script = list(script)
        self.requests: list[dict] = []

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None, **kw):
        self.requests.append({"method": method, "url": url, "data": data, "auth": auth})
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


class FakeAdapter(requests.adapters.BaseAdapter):
    """A requests transport that records the prepared request instead of opening a connection."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[requests.PreparedRequest, dict]] = []

    def send(self, request, **kwargs):
        self.sent.append((request, kwargs))
        response = requests.Response()
        response.status_code, response.url, response.encoding = 201, request.url, "utf-8"
        response._content = created().text.encode()
        return response

    def close(self) -> None:
        pass


def backoff(sleeps: list[float], base: float = 0.5) -> list[float]:
    """The backoff each wait stood for: base * 2^n, the jitter (up to `base`) taken off; each wait
    must lie in [base * 2^n, base * 2^n + base]."""
    floors = [base * 2**n for n in range(len(sleeps))]
    assert all(floor <= s <= floor + base for floor, s in zip(floors, sleeps, strict=True)), sleeps
    return floors


def sender_with(*script, config=None) -> tuple[TwilioSender, FakeHttpClient, list[float]]:
    http, sleeps = FakeHttpClient(*script), []
    sender = TwilioSender(config or CONFIG, http_client=http, sleep=sleeps.append)
    return sender, http, sleeps


def refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- classification ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "expected", "kind"),
    [
        (400, 21211, PermanentSendError, "invalid_number"),
        (400, 21614, PermanentSendError, "not_mobile"),
        (400, 21610, PermanentSendError, "unsubscribed"),
        (400, 21408, PermanentSendError, "config"),
        (400, 21606, PermanentSendError, "config"),
        (400, 21608, PermanentSendError, "config"),
        (401, 20003, PermanentSendError, "config"),
        (404, 20404, PermanentSendError, "config"),
        (401, None, PermanentSendError, "config"),
        (302, None, PermanentSendError, "config"),
        (400, 21602, PermanentSendError, "rejected"),
        (400, 21604, PermanentSendError, "rejected"),
        (400, None, PermanentSendError, "rejected"),
        (429, 20429, RetryableSendError, None),
        (429, None, RetryableSendError, None),
        (500, 20500, RetryableSendError, None),
        (503, None, RetryableSendError, None),
    ],
)
def test_classify_twilio_error(status, code, expected, kind):
    err = classify_twilio_error(status, code, "why")
    assert type(err) is expected
    assert err.code == code and err.reason == "why"
    assert getattr(err, "kind", None) == kind


# --- the Twilio adapter --------------------------------------------------------------------------


def test_send_posts_the_form_fields_and_returns_the_sid():
    sender, http, _ = sender_with(created("SM" + "a" * 32, "queued"))
    result = sender.send(TO, "Group meets Tuesday 18:00", status_callback="https://app.example/sms/status")
    assert result == SendResult("SM" + "a" * 32, "queued")
    [req] = http.requests
    assert req["method"] == "POST"
    assert req["url"] == f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert req["data"] == {
        "To": TO,
        "Body": "Group meets Tuesday 18:00",
        "MessagingServiceSid": SERVICE_SID,
        "StatusCallback": "https://app.example/sms/status",
    }
    assert req["auth"] == (ACCOUNT_SID, "secret")


def test_send_uses_from_number_without_a_messaging_service():
    config = {**CONFIG, "TWILIO_MESSAGING_SERVICE_SID": "", "TWILIO_FROM_NUMBER": "+15550001111"}
    sender, http, _ = sender_with(created(), config=config)
    sender.send(TO, "hi")
    assert http.requests[0]["data"] == {"To": TO, "Body": "hi", "From": "+15550001111"}


@pytest.mark.parametrize(
    ("code", "kind"),
    [(21211, "invalid_number"), (21614, "not_mobile"), (21610, "unsubscribed"), (21606, "config")],
)
def test_permanent_errors_are_raised_without_retry(code, kind):
    sender, http, sleeps = sender_with(error(400, code))
    with pytest.raises(PermanentSendError) as info:
        sender.send(TO, "hi")
    assert (info.value.kind, info.value.code) == (kind, code)
    assert len(http.requests) == 1 and sleeps == []


def test_twilios_reason_is_kept_with_the_number_masked():
    refusal = {"status": 400, "code": 21211, "message": f"The 'To' number {TO} is not a valid phone number."}
    sender, _, _ = sender_with(Response(400, json.dumps(refusal)))
    with pytest.raises(PermanentSendError) as info:
        sender.send(TO, "hi")
    assert TO not in str(info.value) and TO not in info.value.reason
    assert mask_phone(TO) in info.value.reason and "is not a valid phone number" in info.value.reason


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("The 'To' number +15558675310 is invalid", "The 'To' number +1******5310 is invalid"),
        ("to +1 (312) 555-0101.", "to +1******0101."),
        ("to 312 555 0101", "to ******0101"),
        ("HTTP 503, code 21211", "HTTP 503, code 21211"),  # codes and statuses are not numbers to hide
        ("", ""),
    ],
)
def test_mask_phones_in_a_providers_message(text, masked):
    assert mask_phones(text) == masked
    assert RetryableSendError(503, text).reason == masked == UnknownOutcomeError(text).reason


def test_auth_failure_is_a_config_error():
    sender, _, _ = sender_with(error(401, 20003))
    with pytest.raises(PermanentSendError) as info:
        sender.send(TO, "hi")
    assert info.value.kind == "config"


def test_retryable_error_then_success():
    sender, http, sleeps = sender_with(error(429, 20429), error(500, 20500), created())
    assert sender.send(TO, "hi").provider_id.startswith("SM")
    assert len(http.requests) == 3
    assert backoff(sleeps) == [0.5, 1.0]


def test_retries_exhausted_raise_retryable():
    sender, http, sleeps = sender_with(*[error(503, None)] * 4)
    with pytest.raises(RetryableSendError) as info:
        sender.send(TO, "hi")
    assert info.value.code == 503
    assert len(http.requests) == 4
    assert backoff(sleeps) == [0.5, 1.0, 2.0]


def test_max_retries_and_backoff_are_configurable():
    config = {**CONFIG, "SMS_MAX_RETRIES": "1", "SMS_RETRY_BASE_S": "2"}
    sender, http, sleeps = sender_with(error(429, 20429), error(429, 20429), config=config)
    with pytest.raises(RetryableSendError):
        sender.send(TO, "hi")
    assert len(http.requests) == 2 and backoff(sleeps, base=2.0) == [2.0]


def test_backoff_is_capped():
    config = {**CONFIG, "SMS_MAX_RETRIES": "3", "SMS_RETRY_BASE_S": "20"}
    sender, _, sleeps = sender_with(*[error(503, None)] * 4, config=config)
    with pytest.raises(RetryableSendError):
        sender.send(TO, "hi")
    assert 20 <= sleeps[0] <= 30 and sleeps[1:] == [30.0, 30.0]


def test_backoff_has_jitter_so_senders_that_failed_together_spread_out():
    sleeps = []
    for _ in range(20):
        sender, _, own = sender_with(error(429, 20429), created())
        sender.send(TO, "hi")
        sleeps += own
    assert backoff(sleeps[:1]) == [0.5] and all(0.5 <= s <= 1.0 for s in sleeps)
    assert len(set(sleeps)) > 10


def test_read_timeout_is_an_unknown_outcome_and_is_not_retried():
    sender, http, sleeps = sender_with(requests.exceptions.ReadTimeout("read timed out"), created())
    with pytest.raises(UnknownOutcomeError):
        sender.send(TO, "hi")
    assert len(http.requests) == 1 and sleeps == []


def test_connection_dropped_after_sending_is_an_unknown_outcome():
    aborted = requests.exceptions.ConnectionError(
        ProtocolError("Connection aborted.", ConnectionResetError())
    )
    sender, http, _ = sender_with(aborted, created())
    with pytest.raises(UnknownOutcomeError):
        sender.send(TO, "hi")
    assert len(http.requests) == 1


@pytest.mark.parametrize(
    "exc",
    [
        requests.exceptions.ConnectTimeout("connect timed out"),
        requests.exceptions.ConnectionError(
            MaxRetryError(None, "/", NewConnectionError(None, "Connection refused"))
        ),
    ],
)
def test_failure_to_connect_is_retried(exc):
    sender, http, sleeps = sender_with(exc, created())
    assert sender.send(TO, "hi").status == "queued"
    assert len(http.requests) == 2 and backoff(sleeps) == [0.5]


def test_unreadable_success_body_is_an_unknown_outcome():
    sender, _, _ = sender_with(Response(201, "<html>proxy</html>"))
    with pytest.raises(UnknownOutcomeError):
        sender.send(TO, "hi")


# --- the real HTTP client: base URL, timeout, real socket errors ---------------------------------


def test_base_url_is_swapped_keeping_path_and_query():
    http = BaseUrlHttpClient("http://127.0.0.1:4010/stand-in/", timeout=2.5)
    transport = FakeAdapter()
    http.session.mount("http://", transport)
    http.session.mount("https://", transport)
    sender = TwilioSender(CONFIG, http_client=http, sleep=lambda s: None)
    sender.send(TO, "hi")
    http.request(
        "GET", "https://api.sydney.us1.twilio.com/2010-04-01/Messages.json?PageSize=1", params={"To": TO}
    )
    http.request("GET", "https://example.org/media/1.png")
    posted, post_kwargs = transport.sent[0]
    assert posted.url == f"http://127.0.0.1:4010/stand-in/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert post_kwargs["timeout"] == 2.5
    assert transport.sent[1][0].url == (
        "http://127.0.0.1:4010/stand-in/2010-04-01/Messages.json?PageSize=1&To=%2B15551232345"
    )
    assert transport.sent[2][0].url == "https://example.org/media/1.png"


def test_default_base_url_leaves_urls_alone():
    http = BaseUrlHttpClient(None)
    assert http.base is None
    assert BaseUrlHttpClient("https://api.twilio.com/").base is None


def test_config_builds_the_base_url_client():
    config = {**CONFIG, "TWILIO_API_URL": "http://127.0.0.1:9", "TWILIO_TIMEOUT_S": "3"}
    http = TwilioSender(config).client.http_client
    assert isinstance(http, BaseUrlHttpClient)
    assert (http.base.netloc, http.timeout) == ("127.0.0.1:9", 3.0)


def test_connection_refused_is_retryable():
    config = {**CONFIG, "TWILIO_API_URL": f"http://127.0.0.1:{refused_port()}", "SMS_MAX_RETRIES": 1}
    sleeps: list[float] = []
    with pytest.raises(RetryableSendError, match="cannot connect"):
        TwilioSender(config, sleep=sleeps.append).send(TO, "hi")
    assert backoff(sleeps) == [0.5]


class ScriptedAdapter(requests.adapters.BaseAdapter):
    """A requests transport answering from a script of (status, headers) pairs, then 201 Created."""

    def __init__(self, *script: tuple[int, dict]) -> None:
        super().__init__()
        self.script, self.sent = list(script), 0

    def send(self, request, **kwargs):
        self.sent += 1
        status, headers = self.script.pop(0) if self.script else (201, {})
        response = requests.Response()
        response.status_code, response.url, response.encoding = status, request.url, "utf-8"
        response.headers.update(headers)
        body = created() if status == 201 else error(status, 20429 if status == 429 else None)
        response._content = body.text.encode()
        return response

    def close(self) -> None:
        pass


def sender_over(*script: tuple[int, dict]) -> tuple[TwilioSender, ScriptedAdapter, list[float]]:
    """A sender whose real HTTP client (BaseUrlHttpClient) talks to a scripted transport."""
    http, transport, sleeps = BaseUrlHttpClient("http://127.0.0.1:9"), ScriptedAdapter(*script), []
    http.session.mount("http://", transport)
    return TwilioSender(CONFIG, http_client=http, sleep=sleeps.append), transport, sleeps


@pytest.mark.parametrize(
    ("headers", "waited"),
    [
        ({"Retry-After": "7"}, [7.0]),
        ({"Retry-After": "0"}, [0.0]),
        ({"Retry-After": "3600"}, [30.0]),  # capped at MAX_BACKOFF_S
        ({"Retry-After": "Wed, 25 Nov 2026 12:00:12 GMT", "Date": "Wed, 25 Nov 2026 12:00:00 GMT"}, [12.0]),
    ],
)
def test_retry_after_is_honoured_and_capped(headers, waited):
    sender, transport, sleeps = sender_over((429, headers))
    assert sender.send(TO, "hi").status == "queued"
    assert transport.sent == 2 and sleeps == waited


def test_without_a_readable_retry_after_the_backoff_applies():
    sender, transport, sleeps = sender_over((503, {"Retry-After": "soon"}), (503, {}))
    assert sender.send(TO, "hi").status == "queued"
    assert transport.sent == 3 and backoff(sleeps) == [0.5, 1.0]


def test_retry_after_does_not_make_a_permanent_refusal_retryable():
    sender, transport, sleeps = sender_over((400, {"Retry-After": "1"}))
    with pytest.raises(PermanentSendError):
        sender.send(TO, "hi")
    assert transport.sent == 1 and sleeps == []


def test_no_answer_within_the_timeout_is_an_unknown_outcome():
    # The kernel accepts the connection into the backlog, so the request is written and never answered.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        url = f"http://127.0.0.1:{server.getsockname()[1]}"
        sender = TwilioSender({**CONFIG, "TWILIO_API_URL": url, "TWILIO_TIMEOUT_S": 0.05})
        with pytest.raises(UnknownOutcomeError, match="ReadTimeout"):
            sender.send(TO, "hi")


def test_webhook_signature_round_trip():
    url, params = "https://app.example/sms/status", {"MessageSid": "SM1", "MessageStatus": "delivered"}
    signature = compute_twilio_signature("secret", url, params)
    assert validate_twilio_signature("secret", url, params, signature)
    assert not validate_twilio_signature("other", url, params, signature)
    assert not validate_twilio_signature("secret", url, {**params, "MessageStatus": "failed"}, signature)


# --- configuration -------------------------------------------------------------------------------


def test_complete_config_has_no_problems():
    assert check_twilio_config(CONFIG) == []
    assert check_twilio_config(
        {**CONFIG, "TWILIO_MESSAGING_SERVICE_SID": None, "TWILIO_FROM_NUMBER": "+4477"}
    ) == ["TWILIO_FROM_NUMBER must be an E.164 number such as +15551234567"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"TWILIO_ACCOUNT_SID": "AC123"}, "TWILIO_ACCOUNT_SID"),
        ({"TWILIO_ACCOUNT_SID": None}, "TWILIO_ACCOUNT_SID"),
        ({"TWILIO_AUTH_TOKEN": ""}, "TWILIO_AUTH_TOKEN"),
        ({"TWILIO_MESSAGING_SERVICE_SID": None}, "(preferred) or TWILIO_FROM_NUMBER"),
        ({"TWILIO_MESSAGING_SERVICE_SID": "MGxyz"}, "TWILIO_MESSAGING_SERVICE_SID must be"),
        ({"TWILIO_API_URL": "localhost:4010"}, "TWILIO_API_URL"),
        ({"TWILIO_TIMEOUT_S": "0"}, "TWILIO_TIMEOUT_S"),
        ({"SMS_MAX_RETRIES": "many"}, "SMS_MAX_RETRIES"),
    ],
)
def test_config_problems_are_reported(change, problem):
    problems = check_twilio_config({**CONFIG, **change})
    assert len(problems) == 1 and problem in problems[0]


def test_half_configured_twilio_refuses_to_start():
    with pytest.raises(SmsConfigError, match="TWILIO_AUTH_TOKEN"):
        make_sender({**CONFIG, "TWILIO_AUTH_TOKEN": None})


def test_make_sender_chooses_by_config():
    assert isinstance(make_sender({"SMS_BACKEND": "console"}), ConsoleSender)
    assert isinstance(make_sender({}), ConsoleSender)
    assert isinstance(make_sender(CONFIG), TwilioSender)
    sleeps: list[float] = []
    http = FakeHttpClient(error(429, 20429), created())
    assert make_sender(CONFIG, sleep=sleeps.append, http_client=http).send(TO, "hi").status == "queued"
    assert backoff(sleeps) == [0.5]
    with pytest.raises(SmsConfigError, match="SMS_BACKEND"):
        make_sender({"SMS_BACKEND": "carrier-pigeon"})


def test_console_backend_does_not_import_twilio():
    code = (
        "import sys, ipt_groups.messaging as m; m.make_sender({'SMS_BACKEND': 'console'}); "
        "assert 'twilio' not in sys.modules, 'twilio imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def test_only_the_twilio_adapter_imports_twilio():
    offenders = []
    for path in (REPO / "ipt_groups").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            if any(n == "twilio" or n.startswith("twilio.") for n in names):
                offenders.append(str(path.relative_to(REPO)))
    assert sorted(set(offenders)) == ["ipt_groups/messaging/twilio.py"]


# --- console, masking, the recording fake --------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "masked"),
    [("+15551232345", "+1******2345"), ("+447700900123", "+4*******0123"), ("5551232345", "******2345"),
     ("+1234", "*****"), ("", ""), (None, "")],
)  # fmt: skip
def test_mask_phone(number, masked):
    assert mask_phone(number) == masked


def test_console_sender_prints_masked_number():
    stream = io.StringIO()
    result = ConsoleSender(stream).send(TO, "See you Tuesday")
    assert result.status == "sent"
    assert result.provider_id.startswith("console-") and len(result.provider_id) == len("console-") + 32
    output = stream.getvalue()
    assert "+1******2345" in output and "See you Tuesday" in output and TO not in output


def test_console_sender_defaults_to_stdout(capsys):
    ConsoleSender().send(TO, "hello")
    assert "+1******2345: hello" in capsys.readouterr().out


def test_recording_sender_records_and_raises_scripted_errors():
    fake = RecordingSender()
    fake.fail_next(RetryableSendError(20429, "slow down"))
    fake.fail_always("+15550000000", PermanentSendError(21610, "STOP", "unsubscribed"))
    with pytest.raises(RetryableSendError):
        fake.send(TO, "first")
    first_id = fake.send(TO, "second", status_callback="https://cb").provider_id
    assert first_id.startswith("rec-") and first_id != fake.send(TO, "again").provider_id
    with pytest.raises(PermanentSendError):
        fake.send("+15550000000", "third")
    assert fake.bodies == ["second", "again"]
    assert [m.body for m in fake.attempts] == ["first", "second", "again", "third"]
    assert fake.sent[0].status_callback == "https://cb"


# --- pacing --------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now, self.sleeps = 1000.0, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_pacer_spaces_sends_at_the_rate():
    clock = FakeClock()
    pacer = Pacer(2, clock=clock, sleep=clock.sleep)
    waits = [pacer.wait() for _ in range(3)]
    assert waits == [0.0, 0.5, 0.5] and clock.sleeps == [0.5, 0.5]
    clock.now += 0.3
    assert pacer.wait() == pytest.approx(0.2)
    clock.now += 60
    assert pacer.wait() == 0.0


def test_pacer_allows_a_burst_then_paces():
    clock = FakeClock()
    pacer = Pacer(10, clock=clock, sleep=clock.sleep, burst=3)
    assert [pacer.wait() for _ in range(4)] == pytest.approx([0, 0, 0, 0.1])


def test_pacer_without_rate_never_waits():
    clock = FakeClock()
    pacer = make_pacer({"SMS_RATE_PER_S": ""}, clock=clock, sleep=clock.sleep)
    assert [pacer.wait() for _ in range(5)] == [0.0] * 5 and clock.sleeps == []
    assert make_pacer({"SMS_RATE_PER_S": "4"}, clock=clock, sleep=clock.sleep)._interval == 0.25


def test_each_sending_thread_gets_its_own_twilio_client():
    """twilio's HTTP client returns the last response it stored on itself, so a client shared by the
    dispatcher's parallel lanes could hand one message another's SID (seen in the fault run)."""
    import threading

    sender = TwilioSender({**CONFIG, "TWILIO_API_URL": "http://127.0.0.1:9"})
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(sender.client)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen[0] is not seen[1] and seen[0].http_client is not seen[1].http_client
    assert sender.client is sender.client  # one per thread, kept


def test_safety_texts_wait_at_most_a_second_between_attempts_retry_after_included():
    """While a thread sleeps on a failed safety text, later alerts wait for it: the safety sender's
    waits are short (0.1 s base) and a provider's Retry-After is capped at 1 s; the same account."""
    sender, transport, sleeps = sender_over((429, {"Retry-After": "20"}), (503, {}), (503, {}))
    safety = sender.for_safety()
    assert safety is sender.for_safety() and safety.for_safety() is safety
    assert safety.send(TO, "hi").status == "queued"
    assert transport.sent == 4 and sleeps[0] == 1.0
    assert 0.2 <= sleeps[1] <= 0.3 and 0.4 <= sleeps[2] <= 0.5  # 0.1 * 2^n, jitter up to 0.1
    plain, _, plain_sleeps = sender_with(error(503, None), created())
    plain.send(TO, "hi")
    assert backoff(plain_sleeps) == [0.5]  # other texts keep the configured backoff
