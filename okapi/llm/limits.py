"""Client-side rate limits: requests per minute and tokens per minute, as smooth token buckets."""

from __future__ import annotations

import asyncio
import time


class TokenBucket:
    """Refills at `per_minute / 60` units per second and holds at most `burst` units.

    A small burst keeps requests evenly spaced. The refill rate leaves room for one burst per
    minute, so a server that counts a sliding minute never sees more than `per_minute`. Debts (a
    request that used more tokens than estimated) are allowed and delay later requests.
    """

    def __init__(self, per_minute: float, burst_seconds: float = 1.0):
        if per_minute <= 0:
            raise ValueError("a rate limit must be positive")
        self.capacity = max(1.0, per_minute / 60.0 * burst_seconds)
        if per_minute < 2 * self.capacity:  # tiny limits: no burst at all
            self.capacity = 1.0
        self.rate = max(per_minute - self.capacity, 1.0) / 60.0
        self.level = self.capacity
        self.updated = time.monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
        self.updated = now

    async def acquire(self, amount: float = 1.0) -> None:
        # A single request larger than the bucket waits for a full bucket, then goes into debt.
        need = min(amount, self.capacity)
        async with self._lock:
            self._refill()
            if self.level < need:
                await asyncio.sleep((need - self.level) / self.rate)
                self._refill()
            self.level -= amount

    def settle(self, extra: float) -> None:
        """Charge (or refund) the difference between actual and estimated use."""
        self._refill()
        self.level = min(self.capacity, self.level - extra)


class RateLimiter:
    def __init__(self, requests_per_minute: float | None, tokens_per_minute: float | None):
        self.requests = TokenBucket(requests_per_minute) if requests_per_minute else None
        self.tokens = TokenBucket(tokens_per_minute, burst_seconds=6.0) if tokens_per_minute else None

    async def acquire(self, estimated_tokens: int) -> None:
        if self.requests:
            await self.requests.acquire(1)
        if self.tokens:
            await self.tokens.acquire(estimated_tokens)

    def settle(self, estimated_tokens: int, actual_tokens: int) -> None:
        if self.tokens:
            self.tokens.settle(actual_tokens - estimated_tokens)
