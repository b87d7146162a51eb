"""The Twilio SMS adapter: the only module in the project that imports `twilio`."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential_jitter
from twilio.base.exceptions import TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from .base import (
    PermanentSendError,
    RetryableSendError,
    SendError,
    SendResult,
    SmsConfigError,
    UnknownOutcomeError,
    classify_twilio_error,
    mask_phone,
)

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.twilio.com"
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_RETRIES = 3
DEFAULT_RETRY_BASE_S = 1.0
MAX_BACKOFF_S = 30.0  # the longest wait between two attempts, a provider's Retry-After included
# A safety text waits far less between attempts: while one thread sleeps on a failed send, the alerts
# committed meanwhile wait for that thread. A text still refused after its attempts goes back to the
# safety lane, which tries it again shortly (outbox.safety_retry_delay), so nothing is lost by it.
SAFETY_RETRY_BASE_S = 0.1
SAFETY_MAX_BACKOFF_S = 1.0

_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


# --- configuration -----------------------------------------------------------------------------


def check_twilio_config(config: Mapping) -> list[str]:
    """List what is missing or ill-formed in the Twilio settings; empty when the adapter can start."""
    problems = _check_credentials(config) + _check_sender_id(config)
    if not _valid_api_url(config.get("TWILIO_API_URL") or DEFAULT_API_URL):
        problems.append("TWILIO_API_URL must be an http(s) URL such as https://api.twilio.com")
    for key, minimum in (("TWILIO_TIMEOUT_S", 0.001), ("SMS_MAX_RETRIES", 0), ("SMS_RETRY_BASE_S", 0)):
        if not _number_at_least(config.get(key), minimum):
            problems.append(f"{key} must be a number >= {minimum}")
    return problems


def _check_credentials(config: Mapping) -> list[str]:
    problems = []
    if not _ACCOUNT_SID.fullmatch(str(config.get("TWILIO_ACCOUNT_SID") or "")):
        problems.append("TWILIO_ACCOUNT_SID must be 'AC' followed by 32 hex digits")
    if not config.get("TWILIO_AUTH_TOKEN"):
        problems.append("TWILIO_AUTH_TOKEN is missing")
    return problems


def _check_sender_id(config: Mapping) -> list[str]:
    service, number = config.get("TWILIO_MESSAGING_SERVICE_SID"), config.get("TWILIO_FROM_NUMBER")
    if service:
        ok = _SERVICE_SID.fullmatch(str(service))
        return [] if ok else ["TWILIO_MESSAGING_SERVICE_SID must be 'MG' followed by 32 hex digits"]
    if number:
        ok = _E164.fullmatch(str(number))
        return [] if ok else ["TWILIO_FROM_NUMBER must be an E.164 number such as +15551234567"]
    return ["set TWILIO_MESSAGING_SERVICE_SID (preferred) or TWILIO_FROM_NUMBER"]


def _valid_api_url(url: Any) -> bool:
    parts = urlsplit(str(url))
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _number_at_least(value: Any, minimum: float) -> bool:
    if value is None or value == "":
        return True  # unset: the default applies
    try:
        return float(value) >= minimum
    except (TypeError, ValueError):
        return False


def _setting(config: Mapping, key: str, default: float) -> float:
    value = config.get(key)
    return default if value is None or value == "" else float(value)


# --- HTTP ----------------------------------------------------------------------------------------


def swap_base_url(url: str, base: SplitResult | None) -> str:
    """Point a `*.twilio.com` URL at `base` (scheme, host and path prefix), keeping path and query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if base is None or not (host == "twilio.com" or host.endswith(".twilio.com")):
        return url
    path = base.path.rstrip("/") + parts.path
    return urlunsplit((base.scheme, base.netloc, path, parts.query, parts.fragment))


class BaseUrlHttpClient(TwilioHttpClient):
    """The library's HTTP client, sending to a configured base URL with a timeout on every request."""

    def __init__(self, base_url: str | None = None, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        # No `max_retries`: requests then never retries on its own, so the adapter knows every attempt.
        super().__init__(timeout=timeout)
        is_default = base_url is None or base_url.rstrip("/") == DEFAULT_API_URL
        # Left alone by default so that a region or edge host chosen on the Client keeps working.
        self.base = None if is_default else urlsplit(base_url)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        """Send the request to the configured base URL; keep the answer's Retry-After, in seconds."""
        response = super().request(method, swap_base_url(url, self.base), *args, **kwargs)
        # The library's errors carry no headers; this client is its thread's own (TwilioSender.client).
        self.retry_after_s = retry_after_s(response.headers or {})
        return response


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """A Retry-After header in seconds (delta-seconds, or an HTTP date against the answer's Date)."""
    value = str(headers.get("Retry-After") or "").strip()
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        later, sent = parsedate_to_datetime(value), parsedate_to_datetime(headers.get("Date") or "")
    except (TypeError, ValueError):
        return None
    return max(0.0, (later - sent).total_seconds())


def classify_transport_error(exc: requests.RequestException) -> SendError:
    """Tell a failure before the request left (retryable) from one after it may have arrived (unknown)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return RetryableSendError(None, f"connect timeout: {exc}")
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.InvalidSchema):
        return PermanentSendError(None, f"bad API URL: {exc}", "config")
    if isinstance(exc, requests.exceptions.ConnectionError) and _never_connected(exc):
        return RetryableSendError(None, f"cannot connect: {exc}")
    # Read timeouts, resets and aborted connections can happen after Twilio accepted the message.
    return UnknownOutcomeError(f"{type(exc).__name__}: {exc}")


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    # requests wraps urllib3's MaxRetryError, whose `reason` is NewConnectionError (refused, DNS failure)
    # when no connection was made; a ProtocolError or OSError instead means the connection broke mid-way.
    cause = exc.args[0] if exc.args else None
    return isinstance(getattr(cause, "reason", None), NewConnectionError)


# --- the adapter ---------------------------------------------------------------------------------


class TwilioSender:
    """Send SMS through Twilio's Messages API, retrying retryable failures (tenacity): the provider's
    Retry-After when it gives one, else exponential backoff with jitter; never above MAX_BACKOFF_S."""

    def __init__(
        self,
        config: Mapping,
        *,
        http_client: HttpClient | None = None,
        sleep: Callable[[float], None] = time.sleep,
        safety: bool = False,
    ) -> None:
        problems = check_twilio_config(config)
        if problems:
            raise SmsConfigError("Twilio is not configured: " + "; ".join(problems))
        self._sender_id = _sender_id_fields(config)
        self._max_retries = int(_setting(config, "SMS_MAX_RETRIES", DEFAULT_MAX_RETRIES))
        base = SAFETY_RETRY_BASE_S if safety else _setting(config, "SMS_RETRY_BASE_S", DEFAULT_RETRY_BASE_S)
        self._max_wait_s = SAFETY_MAX_BACKOFF_S if safety else MAX_BACKOFF_S
        # base * 2^attempt plus up to `base` at random, so senders that failed together spread out.
        self._backoff = wait_exponential_jitter(multiplier=base, max=self._max_wait_s, jitter=base)
        self._sleep = sleep
        self._config, self._http_client, self._local = config, http_client, threading.local()
        self._safety = self if safety else None

    def for_safety(self) -> TwilioSender:
        """The same account with short waits between attempts, for safety texts (SAFETY_MAX_BACKOFF_S)."""
        if self._safety is None:
            self._safety = TwilioSender(
                self._config, http_client=self._http_client, sleep=self._sleep, safety=True
            )
        return self._safety

    @property
    def client(self) -> Client:
        """This thread's Twilio client: the library's HTTP client keeps the last response on itself
        and returns that attribute, so two threads sharing one could swap responses (and SIDs)."""
        if not hasattr(self._local, "client"):
            http_client = self._http_client or _http_client_from(self._config)
            self._local.client = Client(
                self._config["TWILIO_ACCOUNT_SID"], self._config["TWILIO_AUTH_TOKEN"], http_client=http_client
            )
        return self._local.client

    def send(self, to: str, body: str, *, status_callback: str | None = None) -> SendResult:
        """Send one SMS; raise `RetryableSendError` once retries are exhausted, or another `SendError`."""
        retrying = Retrying(
            retry=retry_if_exception_type(RetryableSendError),
            stop=stop_after_attempt(self._max_retries + 1),
            wait=self.wait_s,
            sleep=self._sleep,
            before_sleep=lambda state: log.warning(
                "SMS to %s failed (%s); retry in %.1fs",
                mask_phone(to),
                state.outcome.exception(),
                state.upcoming_sleep,
            ),
            reraise=True,
        )
        return retrying(self._send_once, to, body, status_callback)

    def wait_s(self, state: RetryCallState) -> float:
        """Seconds to wait before the next attempt: Retry-After if the provider said, else backoff."""
        retry_after = state.outcome.exception().retry_after_s
        if retry_after is not None:
            return min(self._max_wait_s, retry_after)
        return self._backoff(state)

    def _send_once(self, to: str, body: str, status_callback: str | None) -> SendResult:
        fields = {"to": to, "body": body, **self._sender_id}
        if status_callback:
            fields["status_callback"] = status_callback
        try:
            message = self.client.messages.create(**fields)
        except TwilioRestException as exc:
            error = classify_twilio_error(exc.status, _int_or_none(exc.code), exc.msg)
            if isinstance(error, RetryableSendError):
                error.retry_after_s = getattr(self.client.http_client, "retry_after_s", None)
            raise error from exc
        except requests.RequestException as exc:
            raise classify_transport_error(exc) from exc
        except ValueError as exc:
            # An unparseable success body (e.g. HTML from a proxy): the message may well have gone out.
            raise UnknownOutcomeError(f"unreadable response: {exc}") from exc
        log.info("SMS to %s accepted as %s", mask_phone(to), message.sid)
        return SendResult(message.sid, str(message.status or "queued"))


def _sender_id_fields(config: Mapping) -> dict[str, str]:
    # A messaging service is preferred: it pools numbers, handles STOP and queues to the sending rate.
    if config.get("TWILIO_MESSAGING_SERVICE_SID"):
        return {"messaging_service_sid": config["TWILIO_MESSAGING_SERVICE_SID"]}
    return {"from_": config["TWILIO_FROM_NUMBER"]}


def _http_client_from(config: Mapping) -> BaseUrlHttpClient:
    timeout = _setting(config, "TWILIO_TIMEOUT_S", DEFAULT_TIMEOUT_S)
    return BaseUrlHttpClient(config.get("TWILIO_API_URL") or None, timeout=timeout)


def _int_or_none(code: Any) -> int | None:
    try:
        return int(code)
    except (TypeError, ValueError):
        return None


# --- webhooks ------------------------------------------------------------------------------------


def validate_twilio_signature(auth_token: str, url: str, params: Mapping[str, str], signature: str) -> bool:
    """Check the `X-Twilio-Signature` of an inbound webhook (the full public URL plus the form fields)."""
    return RequestValidator(auth_token).validate(url, dict(params), signature or "")


def compute_twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The signature Twilio would send for this request; for tests that post signed webhooks."""
    return RequestValidator(auth_token).compute_signature(url, dict(params))
