"""Token buckets that keep one worker process under each platform's sending limits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Bucket:
    """`rate` tokens a second, at most `burst` saved up."""

    rate: float
    burst: float
    tokens: float | None = None  # None: not used yet (full); below 0: paused
    stamp: float = 0.0

    def wait_time(self, now: float) -> float:
        """Seconds until a token is free (0 when one is); takes it when free."""
        if self.tokens is None:
            self.tokens, self.stamp = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


# (overall per second, overall burst, per chat per second, per chat burst)
PLATFORM_LIMITS: dict[str, tuple[float, float, float, float]] = {
    "telegram": (30.0, 30.0, 1.0, 3.0),  # ~30 messages/s overall, about 1/s per chat
    "viber": (50.0, 50.0, 5.0, 5.0),
    "messenger": (40.0, 40.0, 5.0, 5.0),
}


@dataclass
class RateLimiter:
    """Waits before each send so that no platform limit is crossed (per process)."""

    limits: dict[str, tuple[float, float, float, float]] = field(
        default_factory=lambda: dict(PLATFORM_LIMITS)
    )
    monotonic: Callable[[], float] = time.monotonic
    _buckets: dict[tuple[str, str], Bucket] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def _bucket(self, channel: str, key: str, rate: float, burst: float) -> Bucket:
        bucket = self._buckets.get((channel, key))
        if bucket is None:
            bucket = self._buckets[(channel, key)] = Bucket(rate=rate, burst=burst)
        return bucket

    async def acquire(
        self, channel: str, recipient: str, *, max_wait: float | None = None
    ) -> float:
        """Return when one more message to `recipient` on `channel` is within the limits:
        0.0. With `max_wait`, a chat that would have to wait longer for its own limit is
        not waited for: the wait it needs is returned and nothing is taken; so is a
        channel paused by flood control for longer than `max_wait`."""
        limits = self.limits.get(channel)
        if limits is None:
            return 0.0
        overall_rate, overall_burst, chat_rate, chat_burst = limits
        for key, rate, burst in (
            (recipient, chat_rate, chat_burst),
            ("*", overall_rate, overall_burst),
        ):
            while True:
                async with self._lock:
                    delay = self._bucket(channel, key, rate, burst).wait_time(self.monotonic())
                if delay <= 0:
                    break
                if max_wait is not None and delay > max_wait:
                    return delay
                await asyncio.sleep(delay)
        if len(self._buckets) > 10_000:  # forget idle chats
            self._buckets = {k: b for k, b in self._buckets.items() if k[1] == "*"}
        return 0.0

    def pause(self, channel: str, seconds: float) -> None:
        """Flood control said wait: hold the whole channel back for `seconds`."""
        limits = self.limits.get(channel)
        if limits is None:
            return
        bucket = self._bucket(channel, "*", limits[0], limits[1])
        bucket.wait_time(self.monotonic())
        bucket.tokens = min(bucket.tokens or 0.0, 1 - seconds * bucket.rate)
