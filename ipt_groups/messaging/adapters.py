"""The one SMS adapter the configuration names; only this module knows them all."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ipt_groups.messaging.base import Sender, SmsConfigError


def make_sender(config: Mapping, **twilio_options: Any) -> Sender:
    """Build the sender named by `config['SMS_BACKEND']` (`console`, the default, or `twilio`).

    `twilio_options` (`sleep=`, `http_client=`) go to `TwilioSender`, so tests never back off for real.
    """
    backend = str(config.get("SMS_BACKEND") or "console").strip().lower()
    if backend == "console":
        from ipt_groups.messaging.console import ConsoleSender

        return ConsoleSender()
    if backend == "twilio":
        # Imported lazily so that `twilio` is loaded only where it is used.
        from ipt_groups.messaging.twilio import TwilioSender

        return TwilioSender(config, **twilio_options)
    raise SmsConfigError(f"SMS_BACKEND must be 'console' or 'twilio', not {backend!r}")
