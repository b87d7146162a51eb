"""Pacing of outbound SMS so that a burst of reminders stays under the provider's send rate."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping


class Pacer:
    """A token bucket: at most `burst` sends at once, then one every 1/`rate_per_s` seconds."""

    def __init__(
        self,
        rate_per_s: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        burst: int = 1,
    ) -> None:
        if rate_per_s is not None and rate_per_s < 0:
            raise ValueError(f"rate_per_s must be positive, not {rate_per_s}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, not {burst}")
        self._interval = 1.0 / rate_per_s if rate_per_s else 0.0
        self._clock, self._sleep, self._burst = clock, sleep, burst
        self._tokens = float(burst)
        self._updated = clock()
        # One lock for all callers: the rate limit is per account, not per thread.
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Block until one more send is allowed; return the seconds waited. The send's slot is taken
        under the lock and slept for outside it, so callers are served in the order they came and a
        sleeping caller holds up nobody who only takes (`take`)."""
        if not self._interval:
            return 0.0
        with self._lock:
            self._refill()
            self._tokens -= 1.0  # below zero: slots already promised to earlier callers
            delay = max(0.0, -self._tokens * self._interval)
        if delay:
            self._sleep(delay)
        return delay

    def take(self) -> None:
        """A send that goes at once whoever is waiting (a safety text): it takes the next slot, so the
        sends paced after it wait one interval more and the rate holds on average."""
        if not self._interval:
            return
        with self._lock:
            self._refill()
            self._tokens -= 1.0

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self._burst), self._tokens + elapsed / self._interval)
        self._updated = now


def make_pacer(config: Mapping, **kwargs) -> Pacer:
    """Build a `Pacer` from `SMS_RATE_PER_S` (unset or 0: no pacing)."""
    rate = config.get("SMS_RATE_PER_S")
    return Pacer(float(rate) if rate not in (None, "") else None, **kwargs)
