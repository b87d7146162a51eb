"""Outbound SMS: one adapter chosen by config (`SMS_BACKEND`), errors the outbox can act on."""

from .adapters import make_sender
from .base import (
    PermanentSendError,
    RecordingSender,
    RetryableSendError,
    Sender,
    SendError,
    SendResult,
    UnknownOutcomeError,
    mask_phone,
)

__all__ = [
    "PermanentSendError",
    "RecordingSender",
    "RetryableSendError",
    "SendError",
    "SendResult",
    "Sender",
    "UnknownOutcomeError",
    "make_sender",
    "mask_phone",
]
