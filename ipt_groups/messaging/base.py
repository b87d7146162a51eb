"""The SMS sender contract: result and error types, Twilio error classification, adapter choice, a fake.

Nothing here imports `twilio` or Flask, so the outbox, the scheduler and tests can use it freely.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, Protocol

PermanentKind = Literal["invalid_number", "not_mobile", "unsubscribed", "config", "rejected"]


class SendResult(NamedTuple):
    """What the provider said about an accepted message."""

    provider_id: str | None
    status: str


class Sender(Protocol):
    """Anything that can send one SMS; chosen by `SMS_BACKEND` through `make_sender`."""

    def send(self, to: str, body: str, *, status_callback: str | None = None) -> SendResult:
        """Send `body` to the E.164 number `to`, or raise a `SendError`."""
        ...


def for_safety(sender: Sender) -> Sender:
    """The sender for safety texts: an adapter that waits between attempts offers one that waits
    less (`for_safety()`); any other sends them as it sends everything."""
    tuned = getattr(sender, "for_safety", None)
    return tuned() if callable(tuned) else sender


class SendError(Exception):
    """Base of every error a `Sender` raises. A provider's reason often names the number ("The 'To'
    number +1... is not a valid phone number."), and reasons are logged and kept on outbox rows and
    alerts: every reason is masked (`mask_phones`) when the error is made."""


class RetryableSendError(SendError):
    """The message was certainly not accepted and may be sent again later (throttling, 5xx, no connection)."""

    retry_after_s: float | None = None  # how long the provider asked us to wait (Retry-After), if it did

    def __init__(self, code: int | None, reason: str) -> None:
        self.code, self.reason = code, mask_phones(reason)
        super().__init__(f"retryable ({code}): {self.reason}")


class PermanentSendError(SendError):
    """The message was refused and resending the same request will not help."""

    def __init__(self, code: int | None, reason: str, kind: PermanentKind) -> None:
        self.code, self.reason, self.kind = code, mask_phones(reason), kind
        super().__init__(f"{kind} ({code}): {self.reason}")


class UnknownOutcomeError(SendError):
    """The request may have reached the provider; resending could deliver the message twice."""

    def __init__(self, reason: str) -> None:
        self.reason = mask_phones(reason)
        super().__init__(f"unknown outcome: {self.reason}")


class SmsConfigError(ValueError):
    """The SMS backend is missing settings or has ill-formed ones."""


# Twilio error codes (https://www.twilio.com/docs/api/errors) that say something about the recipient.
_RECIPIENT_CODES: dict[int, PermanentKind] = {
    21211: "invalid_number",  # invalid 'To' number
    21614: "not_mobile",  # 'To' is not a mobile number
    21610: "unsubscribed",  # the recipient replied STOP
}

# Codes that mean our account or settings are wrong: every message would fail, so alert the operator.
_CONFIG_CODES = frozenset(
    {
        20003,  # authentication failed
        20404,  # resource not found: wrong account SID or messaging service
        21212,  # invalid 'From' number
        21408,  # sending to this region is not enabled
        21603,  # 'From' or messaging service is required
        21606,  # 'From' number cannot send SMS
        21608,  # trial account: 'To' is not verified
        21659,  # 'From' is not a Twilio number
    }
)
_CONFIG_STATUSES = frozenset({401, 403, 404, 405})


def classify_twilio_error(status: int, code: int | None, reason: str = "") -> SendError:
    """Map a Twilio error response (HTTP status, Twilio code) to the error a `Sender` raises."""
    reason = reason or f"HTTP {status}"
    if status == 429 or code == 20429 or status >= 500:
        return RetryableSendError(code, reason)
    if code in _RECIPIENT_CODES:
        return PermanentSendError(code, reason, _RECIPIENT_CODES[code])
    if code in _CONFIG_CODES or status in _CONFIG_STATUSES or status < 400:
        # A redirect (status < 400) means the API URL points somewhere other than Twilio.
        return PermanentSendError(code, reason, "config")
    return PermanentSendError(code, reason, "rejected")


_PHONE_LIKE = re.compile(r"\+?\d(?:[ ().-]{0,2}\d){6,}")


def mask_phones(text: str) -> str:
    """`text` with every phone-like run (7 digits or more, spaces and dashes between them allowed)
    masked as `mask_phone` masks a number: for a provider's message, kept or logged."""
    return _PHONE_LIKE.sub(lambda found: mask_phone(re.sub(r"[^\d+]", "", found.group())), text or "")


def mask_phone(e164: str | None) -> str:
    """Hide the middle of a phone number for logs and consoles: '+15551232345' -> '+1******2345'."""
    if not e164:
        return ""
    if len(e164) <= 6:
        return "*" * len(e164)
    head = 2 if e164.startswith("+") else 0
    return e164[:head] + "*" * (len(e164) - head - 4) + e164[-4:]


@dataclass(frozen=True)
class SentMessage:
    """One call recorded by `RecordingSender`."""

    to: str
    body: str
    status_callback: str | None = None


@dataclass
class RecordingSender:
    """A fake `Sender` for tests: records every call and raises errors it was scripted with."""

    sent: list[SentMessage] = field(default_factory=list)
    attempts: list[SentMessage] = field(default_factory=list)
    _queued: list[SendError] = field(default_factory=list)
    _by_number: dict[str, SendError] = field(default_factory=dict)

    def fail_next(self, *errors: SendError) -> None:
        """Make the next calls raise these errors, one per call, before sends succeed again."""
        self._queued.extend(errors)

    def fail_always(self, to: str, error: SendError) -> None:
        """Make every send to `to` raise `error` (e.g. an unsubscribed member)."""
        self._by_number[to] = error

    def send(self, to: str, body: str, *, status_callback: str | None = None) -> SendResult:
        """Record the call; raise a scripted error or return a fake provider id."""
        message = SentMessage(to, body, status_callback)
        self.attempts.append(message)
        if to in self._by_number:
            raise self._by_number[to]
        if self._queued:
            raise self._queued.pop(0)
        self.sent.append(message)
        return SendResult(f"rec-{uuid.uuid4().hex}", "sent")  # unique, as a provider's ids are

    @property
    def bodies(self) -> list[str]:
        """The bodies of the messages sent successfully, in order."""
        return [message.body for message in self.sent]
