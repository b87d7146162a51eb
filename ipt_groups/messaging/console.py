"""A sender for development: prints each SMS instead of sending it."""

from __future__ import annotations

import sys
import uuid
from typing import TextIO

from .base import SendResult, mask_phone


class ConsoleSender:
    """Print each message, with the phone number masked, and pretend it was sent."""

    def __init__(self, stream: TextIO | None = None) -> None:
        # Resolved per call by default so that pytest's capsys and redirected stdout see the output.
        self._stream = stream

    def send(self, to: str, body: str, *, status_callback: str | None = None) -> SendResult:
        """Print the message and return a `console-<hex>` provider id."""
        provider_id = f"console-{uuid.uuid4().hex}"
        stream = self._stream or sys.stdout
        print(f"[sms {provider_id}] to {mask_phone(to)}: {body}", file=stream, flush=True)
        return SendResult(provider_id, "sent")
