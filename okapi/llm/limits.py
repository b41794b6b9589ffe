"""Client-side rate limits.

Configured limits (requests and tokens per minute) are smooth token buckets. Without a
configured request rate, each endpoint learns one from its answers (AdaptiveLimiter).
"""

from __future__ import annotations

import asyncio
import math
import random
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


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


def jittered(wait: float) -> float:
    """`wait` plus up to a quarter more and a little: clients that were told the same wait, or
    requests that waited for the same endpoint, do not all come back at the same instant."""
    return wait + random.uniform(0.0, 0.25 * wait) + random.uniform(0.0, 0.05)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str | None) -> float | None:
    """Seconds in an OpenAI-style reset header: "1s", "6m0s", "20ms", "1h2m3.5s", or a number."""
    if not text:
        return None
    text = text.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _UNIT_S[u] for n, u in parts)


def _number(headers: Any, name: str) -> float | None:
    try:
        return float(headers.get(name))
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Ticket:
    """A sent request, as the limiter saw it go."""

    sent_at: float  # monotonic
    requests_before: int  # requests sent to the endpoint before this one
    tokens_before: int  # their estimated tokens
    tokens: int  # this request's estimated tokens


class AdaptiveLimiter:
    """What an endpoint's own answers say about how fast it may be sent requests.

    * Held: STREAK 429s in a row (no request sent after the first of them answered) mean the
      endpoint's quota is spent, so nothing goes to it until the Retry-After has passed (a lone
      429 only delays its own request). `x-ratelimit-remaining-*` / `x-ratelimit-reset-*`
      headers hold it before any 429, when the remaining budget cannot cover the requests
      already on their way.
    * Paced (`learn`, i.e. no requests_per_minute configured): AIMD on the request rate.
      Unlimited until the server pushes back; then a 429 cuts the rate to BETA times itself (the
      first time: BETA times what was sent over the last second) when a hold begins or when EPOCH
      answers and 429s have come since the last cut (a cut needs that long to show). Each answer,
      while the rate is what holds requests back, adds a step that climbs back to the rate before
      the cut in RECOVERY answers, so the rate saws gently just under the server's limit.
    """

    STREAK = 3
    BETA = 0.85
    EPOCH = 20
    RECOVERY = 200
    MIN_RATE = 1.0 / 60.0  # requests per second: one a minute
    BURST_S = 1.0

    def __init__(self, learn: bool, clock: Callable[[], float] = time.monotonic):
        self.learn = learn
        self._clock = clock
        self.rate: float | None = None  # requests per second; None: unlimited
        self.hold_until = 0.0  # monotonic time before which nothing is sent
        self.cuts = 0
        self._step = 0.0
        self._next_slot = 0.0
        self._waited = False  # the request about to go waited for its slot
        self._paced = False  # the last one sent did: the rate is what limits
        self._outcomes = 0  # answers and 429s since the last cut
        self._streak = 0  # 429s since an answer to a request sent after the first of them
        self._streak_since = math.inf  # when the first of them was sent
        self._recent: deque[float] = deque()  # send times within the last second
        self._requests = 0
        self._tokens = 0
        self._lock = asyncio.Lock()

    async def acquire(self, tokens: int) -> Ticket | None:
        """Wait for the request's turn; None when the endpoint is held (send it elsewhere, or later)."""
        # One request at a time, in turn, so that a cut or a hold applies at once to all waiting.
        async with self._lock:
            while not self.held() and (wait := self.delay()) > 0:
                await asyncio.sleep(wait)
            return None if self.held() else self.sent(tokens)

    def held(self) -> bool:
        return self._clock() < self.hold_until

    def delay(self) -> float:
        """Seconds before the next request may go at the learned rate (0: now)."""
        now = self._clock()
        # GCRA: after a quiet second, a second's worth may go at once; else one per 1/rate.
        slot = self._next_slot - self.BURST_S if self.rate else now
        if slot > now:
            self._waited = True  # the rate is what holds requests back
        return max(0.0, slot - now)

    def sent(self, tokens: int) -> Ticket:
        """Count a request that goes now; its answer or 429 comes back with the ticket."""
        now = self._clock()
        if self.rate:
            self._next_slot = max(self._next_slot, now) + 1.0 / self.rate
        self._paced, self._waited = self._waited, False
        self._recent.append(now)
        while self._recent[0] < now - 1.0:
            self._recent.popleft()
        ticket = Ticket(now, self._requests, self._tokens, tokens)
        self._requests += 1
        self._tokens += tokens
        return ticket

    def answered(self, ticket: Ticket, headers: Any) -> None:
        if ticket.sent_at > self._streak_since:  # admitted after a 429: the quota is not spent
            self._streak, self._streak_since = 0, math.inf
        self._outcomes += 1
        if self.learn and self.rate and self._paced:
            self.rate += self._step
        self._honour_headers(ticket, headers)

    def rate_limited(self, ticket: Ticket, wait: float, headers: Any) -> None:
        """A 429 that asked to come back after `wait` seconds."""
        now = self._clock()
        self._streak += 1
        self._streak_since = min(self._streak_since, ticket.sent_at)
        if self._streak >= self.STREAK:
            self.hold_until = max(self.hold_until, now + wait)
        self._outcomes += 1
        if self.learn and (self._streak == self.STREAK or self._outcomes >= self.EPOCH):
            self._cut(now)
        self._honour_headers(ticket, headers)

    def _cut(self, now: float) -> None:
        before = self.rate or max(len(self._recent), 1.0)  # first cut: what was sent in the last second
        self.rate = max(self.MIN_RATE, self.BETA * before)
        self._step = (before - self.rate) / self.RECOVERY
        self._outcomes = 0
        self._next_slot = max(self._next_slot, now + self.BURST_S)  # no burst right after a cut
        self.cuts += 1

    def _honour_headers(self, ticket: Ticket, headers: Any) -> None:
        if headers is None:
            return
        sent_since = (
            self._requests - ticket.requests_before - 1,
            self._tokens - ticket.tokens_before - ticket.tokens,
        )
        for kind, already, need in zip(("requests", "tokens"), sent_since, (1, ticket.tokens), strict=True):
            remaining = _number(headers, f"x-ratelimit-remaining-{kind}")
            reset = parse_duration(headers.get(f"x-ratelimit-reset-{kind}"))
            if remaining is None or reset is None:
                continue
            # What was sent after this request is probably not counted in `remaining` yet.
            short = already + need - remaining
            if short <= 0:
                continue
            limit = _number(headers, f"x-ratelimit-limit-{kind}")
            # The budget refills at (limit - remaining) per `reset` (a token bucket, as OpenAI's).
            refill = (limit - remaining) / reset if limit and limit > remaining and reset > 0 else None
            wait = min(reset, short / refill) if refill else reset
            self.hold_until = max(self.hold_until, self._clock() + wait)
