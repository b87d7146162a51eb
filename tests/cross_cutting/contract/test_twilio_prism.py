"""The real `twilio` client, through our adapter, against Prism serving Twilio's own OpenAPI description.

Prism validates each request against the spec (a malformed one gets 422), so a success here also means
the form we send conforms. It is stateless: every create answers with the same example message.
"""

from __future__ import annotations

from typing import Any

import pytest

from ipt_groups.messaging.base import PermanentSendError, RetryableSendError, SendResult
from ipt_groups.messaging.twilio import BaseUrlHttpClient, TwilioSender

pytestmark = pytest.mark.contract

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
SERVICE_SID = "MG" + "fedcba9876543210" * 2
TO = "+15551232345"
EXAMPLE_SID = "SM" + "a" * 32  # the sid of every example message in the spec


class SteeringHttpClient(BaseUrlHttpClient):
    """Our HTTP client plus a test-only `Prefer` header per request, which picks Prism's response."""

    def __init__(self, base_url: str, prefer: list[str | None]) -> None:
        super().__init__(base_url, timeout=5)
        self.prefer = list(prefer)
        self.sent: list[dict[str, Any]] = []
        # Ignore HTTP(S)_PROXY from the environment: Prism is local.
        self.session.trust_env = False

    def request(self, method, url, params=None, data=None, headers=None, *args, **kwargs):
        prefer = self.prefer.pop(0) if self.prefer else None
        headers = {**(headers or {}), **({"Prefer": prefer} if prefer else {})}
        self.sent.append({"url": url, "data": data, "prefer": prefer})
        return super().request(method, url, params, data, headers, *args, **kwargs)


@pytest.fixture
def make_sender(prism_url):
    """Build a TwilioSender whose successive requests carry the given `Prefer` headers."""

    def make(*prefer: str | None, **config: Any) -> tuple[TwilioSender, SteeringHttpClient, list[float]]:
        settings = {
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": "token",
            "TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID,
            "TWILIO_API_URL": prism_url,
            **config,
        }
        http, sleeps = SteeringHttpClient(prism_url, list(prefer)), []
        return TwilioSender(settings, http_client=http, sleep=sleeps.append), http, sleeps

    return make


def test_send_with_messaging_service(make_sender):
    sender, http, _ = make_sender()
    result = sender.send(TO, "Session 3 is on Tuesday", status_callback="https://app.example/sms/status")
    assert isinstance(result, SendResult) and result.provider_id == EXAMPLE_SID and result.status
    assert http.sent[0]["url"] == f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert http.sent[0]["data"] == {
        "To": TO,
        "Body": "Session 3 is on Tuesday",
        "MessagingServiceSid": SERVICE_SID,
        "StatusCallback": "https://app.example/sms/status",
    }


def test_send_with_from_number(make_sender):
    sender, http, _ = make_sender(TWILIO_MESSAGING_SERVICE_SID="", TWILIO_FROM_NUMBER="+15550001111")
    assert sender.send(TO, "hello").provider_id == EXAMPLE_SID
    assert http.sent[0]["data"] == {"To": TO, "Body": "hello", "From": "+15550001111"}


@pytest.mark.parametrize(
    ("prefer", "code", "kind"),
    [
        ("code=400, example=invalid_to", 21211, "invalid_number"),
        ("code=400, example=unsubscribed", 21610, "unsubscribed"),
        ("code=400, example=unverified_to", 21608, "config"),
        ("code=400, example=missing_body", 21602, "rejected"),
        ("code=401", 20003, "config"),
    ],
)
def test_permanent_errors(make_sender, prefer, code, kind):
    sender, http, sleeps = make_sender(prefer)
    with pytest.raises(PermanentSendError) as info:
        sender.send(TO, "hello")
    assert (info.value.code, info.value.kind) == (code, kind)
    assert len(http.sent) == 1 and sleeps == []


@pytest.mark.parametrize(("prefer", "code"), [("code=429", 20429), ("code=500", 20500)])
def test_retryable_errors_are_retried_then_raised(make_sender, prefer, code):
    sender, http, sleeps = make_sender(*[prefer] * 3, SMS_MAX_RETRIES=2, SMS_RETRY_BASE_S=0.25)
    with pytest.raises(RetryableSendError) as info:
        sender.send(TO, "hello")
    assert info.value.code == code
    # base * 2^n plus up to `base` of jitter
    assert len(http.sent) == 3 and 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 0.75


def test_server_error_then_success(make_sender):
    sender, http, sleeps = make_sender("code=500", "code=429")
    assert sender.send(TO, "hello").provider_id == EXAMPLE_SID
    assert [r["prefer"] for r in http.sent] == ["code=500", "code=429", None]
    assert len(sleeps) == 2
