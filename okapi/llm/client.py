"""Async client for OpenAI-compatible chat endpoints, with cache, routing, limits and retries.

Only this package talks to models. A request is answered from the persistent cache when its
exact payload was answered before; otherwise it goes to one of its role's endpoints (the least
loaded one that is up), under that endpoint's concurrency and rate limits, and its answer is
committed to the cache at once.

Failures and what they cost a request:

* 429: never final. The request waits Retry-After (plus jitter) or goes to another endpoint; the
  endpoint's limiter learns from it. Only OpenAI's `insufficient_quota` 429 is final.
* 5xx, timeouts, connection errors: retried, preferring another endpoint, up to `max_retries`
  times; then RequestFailed. An endpoint that fails FAILURES_TO_REST times in a row rests (10 s,
  doubling up to 2 min, scaled by backoff_base_s/backoff_max_s), then takes one request at a time
  until one is answered.
* Other 4xx: EndpointError at once (auth, model, payload), since retrying cannot fix them.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import math
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from okapi.llm.cache import ResponseCache, payload_key
from okapi.llm.config import RoleConfig, RunConfig
from okapi.llm.limits import AdaptiveLimiter, RateLimiter, jittered
from okapi.llm.usage import RoleUsage, UsageLedger

log = logging.getLogger(__name__)

FAILURES_TO_REST = 3  # consecutive 5xx/timeouts/connection errors that take an endpoint out
REST_BACKOFFS = 10  # first rest: 10 x backoff_base_s (10 s); doubling up to 2 x backoff_max_s
PREFLIGHT_TIMEOUT_S = 10.0  # an endpoint that cannot list its models in this long is not there


@dataclass(frozen=True)
class ChatRequest:
    """What to ask; the role's model is added when the payload is built."""

    messages: tuple[tuple[str, str], ...]  # (role, content) pairs
    temperature: float = 0.0
    max_tokens: int | None = None
    json_output: bool = False
    extra: tuple[tuple[str, Any], ...] = field(default=())  # other sampling parameters
    model: str | None = None  # one of the role's `models`; None: the role's model

    def payload(self, role: RoleConfig) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model or role.model,
            "messages": [{"role": r, "content": c} for r, c in self.messages],
            "temperature": self.temperature,
        }
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        if self.json_output and role.json_mode:
            body["response_format"] = {"type": "json_object"}
        body.update(dict(self.extra))
        return body


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    cached: bool
    served_model: str | None = None  # the model the server said answered; None in old cache rows


class RequestFailed(Exception):
    """Transient errors persisted through every retry. The request is not cached: a re-run retries."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class EndpointError(RuntimeError):
    """The endpoint refused the request for a reason retrying cannot fix (auth, model, payload)."""


def estimate_tokens(text: str) -> int:
    """Rough token count: about 4 UTF-8 bytes per token across scripts (no tokenizer download)."""
    return max(1, len(text.encode("utf-8")) // 4)


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date)."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


@dataclass(frozen=True)
class _Problem:
    """A transient failure of one attempt."""

    reason: str  # http_429, http_5xx, timeout, connection
    detail: str
    wait: float  # seconds before this request may try the same endpoint again


class _HTTPStatus(Exception):
    """A non-2xx answer, with what a retry or an error message needs."""

    def __init__(self, status: int, headers: Any, body: bytes):
        super().__init__(status)
        self.status, self.headers, self.body = status, headers, body

    def error(self) -> dict[str, Any]:
        """The OpenAI-style `{"error": {...}}` object, or {}."""
        try:
            error = json.loads(self.body).get("error")
        except (ValueError, AttributeError):
            return {}
        return error if isinstance(error, dict) else {}

    def detail(self, limit: int = 300) -> str:
        message = self.error().get("message") or self.body.decode("utf-8", "replace")
        return _clip(f"HTTP {self.status}: {message}", limit)


class _Endpoint:
    """One server of a role: its HTTP session, concurrency, limits and health.

    Requests go out as the exact payload over aiohttp, without openai's SDK: its typed parameter
    transform and answer models cost about 4 times our CPU per request (hundreds per second).
    """

    def __init__(self, config: RoleConfig):
        self.config = config
        self.url = config.base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None
        self.semaphore = asyncio.Semaphore(config.concurrency)
        self.limiter = RateLimiter(config.requests_per_minute, config.tokens_per_minute)
        self.adaptive = AdaptiveLimiter(learn=config.requests_per_minute is None)
        self.outstanding = 0  # requests routed here and not finished (queued ones included)
        self.failures = 0  # consecutive transient failures
        self.rest_s = REST_BACKOFFS * config.backoff_base_s
        self.resting_until = 0.0

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:  # created in the running loop, on first use
            self._session = aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {self.config.api_key()}"},
                timeout=aiohttp.ClientTimeout(total=self.config.timeout_s),
                connector=aiohttp.TCPConnector(limit=0),  # the semaphore bounds requests in flight
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def load(self) -> float:
        if self.failures >= FAILURES_TO_REST and self.outstanding:
            return math.inf  # back from a rest: one request probes it until one is answered
        return self.outstanding / self.config.concurrency

    def ready_at(self) -> float:
        return max(self.resting_until, self.adaptive.hold_until)

    async def _call(self, method: str, path: str, **kwargs: Any) -> tuple[Any, bytes]:
        """(headers, body) of a 2xx answer; raises _HTTPStatus for any other status."""
        async with self.session.request(method, self.url + path, **kwargs) as response:
            body = await response.read()
            if not 200 <= response.status < 300:
                raise _HTTPStatus(response.status, response.headers, body)
            return response.headers, body

    async def attempt(self, payload: dict[str, Any], estimate: int, previous: int) -> dict[str, Any]:
        """Send once (`previous` attempts came before). Returns the answer's JSON; raises _Transient
        for what a retry may fix, EndpointError for what it cannot."""
        self.outstanding += 1
        try:
            async with self.semaphore:
                if self.ready_at() > time.monotonic():  # taken out or held while this one queued
                    raise _Reroute
                await self.limiter.acquire(estimate)
                ticket = await self.adaptive.acquire(estimate)
                if ticket is None:
                    raise _Reroute
                try:
                    headers, raw = await self._call("POST", "/chat/completions", json=payload)
                except _HTTPStatus as answer:
                    if answer.status == 429:
                        problem = self._rate_limited(answer, previous)
                        self.adaptive.rate_limited(ticket, problem.wait, answer.headers)
                        raise _Transient(problem) from None
                    if answer.status >= 500 or answer.status in (408, 409):  # as openai's SDK retries
                        raise _Transient(self._failed(answer, previous)) from None
                    raise EndpointError(self._refusal(answer)) from None
                except (TimeoutError, aiohttp.ClientError) as exc:
                    raise _Transient(self._failed(exc, previous)) from None
                self.adaptive.answered(ticket, headers)
                self.failures = 0
                self.rest_s = REST_BACKOFFS * self.config.backoff_base_s
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                if not isinstance(body, dict):  # HTML from a proxy, plain text: not an OpenAI API
                    raise EndpointError(
                        f"{self.config.base_url} answered 200 with a body that is not a chat completion "
                        f"(starts {raw[:120].decode('utf-8', 'replace')!r}); is base_url the "
                        "OpenAI-compatible API, ending in /v1?"
                    )
                return body
        finally:
            self.outstanding -= 1

    async def preflight(self) -> str | None:
        """One cheap `GET /models` before this endpoint's first request: what makes it unusable
        (unreachable, refused key, broken server), or None. A server without /models passes."""
        config = self.config
        limit = min(PREFLIGHT_TIMEOUT_S, config.timeout_s)
        try:
            _, raw = await self._call("GET", "/models", timeout=aiohttp.ClientTimeout(total=limit))
        except _HTTPStatus as answer:
            if answer.status in (401, 403, 500, 502, 503, 504):  # 404, 405, 501: no /models here
                return answer.detail(160) + _hint(answer.status, config)
            return None  # 429: busy, but there
        except TimeoutError:
            return f"no answer to GET /models within {limit:g}s"
        except aiohttp.ClientError as exc:
            return f"cannot connect ({_clip(str(exc) or type(exc).__name__, 160)})"
        try:
            served = [m.get("id") for m in json.loads(raw).get("data", [])]
        except (ValueError, AttributeError, TypeError):
            return None  # not a model list: the chat answers will tell
        if served and config.model not in served:
            log.warning(
                "%s does not list model %r (it lists %s): requests may fail with 404",
                config.base_url, config.model, ", ".join(map(str, served[:5])),
            )  # fmt: skip
        return None

    def take_out(self) -> None:
        """Failed its preflight: rests as after repeated failures, then is tried again."""
        self.failures = FAILURES_TO_REST
        self.resting_until = time.monotonic() + self.rest_s

    def _wait(self, server_wait: float | None, previous: int) -> float:
        """The server's wait if it gave one, else exponential backoff with full jitter."""
        if server_wait is not None:
            return server_wait
        config = self.config
        return random.uniform(0, min(config.backoff_max_s, config.backoff_base_s * 2 ** min(previous, 30)))

    def _rate_limited(self, answer: _HTTPStatus, previous: int) -> _Problem:
        if answer.error().get("code") == "insufficient_quota":  # OpenAI: out of credit, not busy
            raise EndpointError(
                f"{self.config.base_url} (model {self.config.model!r}): insufficient_quota, the "
                f"account behind ${self.config.api_key_env} has no credit left: {answer.detail()}"
            )
        return _Problem(
            "http_429", answer.detail(), self._wait(retry_after_seconds(answer.headers), previous)
        )

    def _failed(self, failure: _HTTPStatus | aiohttp.ClientError | TimeoutError, previous: int) -> _Problem:
        config = self.config
        if isinstance(failure, _HTTPStatus):
            server_wait = retry_after_seconds(failure.headers)
            problem = _Problem(f"http_{failure.status}", failure.detail(), self._wait(server_wait, previous))
        elif isinstance(failure, TimeoutError):
            problem = _Problem("timeout", f"no answer within {config.timeout_s}s", self._wait(None, previous))
        else:  # refused, reset, unreachable: name the cause
            cause = str(failure) or type(failure).__name__
            problem = _Problem("connection", f"{config.base_url}: {_clip(cause)}", self._wait(None, previous))
        self._count_failure(problem.reason)
        return problem

    def _count_failure(self, reason: str) -> None:
        self.failures += 1
        now = time.monotonic()
        if self.failures >= FAILURES_TO_REST and now >= self.resting_until:
            self.resting_until = now + self.rest_s
            log.warning(
                "%s failed %d times in a row (%s): resting %.0fs", self.config.base_url, self.failures,
                reason, self.rest_s,
            )  # fmt: skip
            self.rest_s = min(2 * self.config.backoff_max_s, 2 * self.rest_s)

    def _refusal(self, answer: _HTTPStatus) -> str:
        config = self.config
        return f"{config.base_url} (model {config.model!r}) answered {answer.detail()}" + _hint(
            answer.status, config
        )


class _Reroute(Exception):
    """The endpoint went out or was held while the request waited for it: route it again."""


class _Transient(Exception):
    def __init__(self, problem: _Problem):
        super().__init__(problem.reason)
        self.problem = problem


class _Route:
    """Where one request may go next: every endpoint, each when it is up and its own wait is over."""

    def __init__(self, endpoints: list[_Endpoint]):
        self.endpoints = endpoints
        self.not_before: dict[_Endpoint, float] = {}
        self.tries: Counter[_Endpoint] = Counter()

    def _key(self, endpoint: _Endpoint, now: float) -> tuple:
        ready = max(endpoint.ready_at(), self.not_before.get(endpoint, 0.0))
        # Up before busy; an endpoint this request has not tried before one it has; then the
        # fewest outstanding requests for its concurrency; ties at random, so equals share.
        return max(0.0, ready - now), self.tries[endpoint], endpoint.load, random.random()

    async def next(self) -> _Endpoint:
        while True:
            now = time.monotonic()
            best = min(self.endpoints, key=lambda e: self._key(e, now))
            wait = self._key(best, now)[0]
            if wait <= 0:
                self.tries[best] += 1
                return best
            await asyncio.sleep(jittered(wait))  # all out: wait for the first to come back

    def delay(self, endpoint: _Endpoint, wait: float) -> None:
        self.not_before[endpoint] = time.monotonic() + wait

    def untry(self, endpoint: _Endpoint) -> None:
        self.tries[endpoint] -= 1


class LLMClient:
    def __init__(self, config: RunConfig, cache: ResponseCache):
        self.config = config
        self.cache = cache
        self.usage = UsageLedger()
        self._endpoints: dict[tuple, _Endpoint] = {}
        self._pools: dict[RoleConfig, list[_Endpoint]] = {}
        self._preflights: dict[RoleConfig, asyncio.Future] = {}

    def _pool(self, role: RoleConfig) -> list[_Endpoint]:
        if role not in self._pools:
            self._pools[role] = [self._endpoint(c) for c in role.endpoint_configs()]
        return self._pools[role]

    async def _checked_pool(self, role: str, config: RoleConfig) -> list[_Endpoint]:
        """The role's endpoints, checked once before the first request that is not cached: a role
        whose every endpoint is unusable fails now, in seconds, not after all retries."""
        check = self._preflights.get(config)
        if check is None:
            check = self._preflights[config] = asyncio.ensure_future(
                self._preflight(role, self._pool(config))
            )
        if check.done():
            check.result()  # raises the EndpointError of a role with no usable endpoint
        else:  # shielded: one waiter cancelled must not cancel the check the others wait for
            await asyncio.shield(check)
        return self._pool(config)

    @staticmethod
    async def _preflight(role: str, endpoints: list[_Endpoint]) -> None:
        problems = await asyncio.gather(*(e.preflight() for e in endpoints))
        bad = [(e, p) for e, p in zip(endpoints, problems, strict=True) if p]
        if len(bad) == len(endpoints):
            where = "; ".join(f"{e.config.base_url} (model {e.config.model!r}): {p}" for e, p in bad)
            unset = sorted(
                {e.config.api_key_env for e in endpoints if not os.environ.get(e.config.api_key_env)}
            )
            raise EndpointError(
                f"role {role!r} has no usable endpoint: {where}"
                + (f" (${', $'.join(unset)} not set)" if unset else "")
                + ". Start the server, or point the role elsewhere with --base-url, $OPENAI_BASE_URL or "
                f"[roles.{role}] base_url in --config"
            )
        for endpoint, problem in bad:
            log.warning(
                "%s is not usable (%s): its requests go to the others", endpoint.config.base_url, problem
            )
            endpoint.take_out()

    def _endpoint(self, config: RoleConfig) -> _Endpoint:
        key = (config.base_url, config.model, config.api_key_env)
        if key not in self._endpoints:
            self._endpoints[key] = _Endpoint(config)
        return self._endpoints[key]

    def concurrency(self, role: str) -> int:
        """Requests the role's endpoints take at once, all together: size workers by this."""
        return sum(c.concurrency for c in self.config.role(role).endpoint_configs())

    def request_key(self, role: str, request: ChatRequest) -> str:
        return payload_key(request.payload(self.config.role(role)))

    def is_cached(self, role: str, request: ChatRequest) -> bool:
        return self.request_key(role, request) in self.cache

    async def complete(self, role: str, request: ChatRequest) -> Completion:
        config = self.config.role(role)
        payload = request.payload(config)
        key = payload_key(payload)
        usage = self.usage.role(role)
        hit = self.cache.get(key)
        if hit is not None:
            usage.cache_hits += 1
            self.usage.served(role, hit.get("served_model"))
            return Completion(**hit, cached=True)
        answer, endpoint = await self._send(config, payload, usage, await self._checked_pool(role, config))
        self.cache.put(key, config.model, answer)
        usage.requests += 1
        usage.prompt_tokens += answer["prompt_tokens"]
        usage.completion_tokens += answer["completion_tokens"]
        usage.cost_usd += config.cost(answer["prompt_tokens"], answer["completion_tokens"])
        self.usage.served(role, answer["served_model"])
        usage.endpoints[endpoint.config.base_url] = usage.endpoints.get(endpoint.config.base_url, 0) + 1
        return Completion(**answer, cached=False)

    async def _send(
        self, config: RoleConfig, payload: dict[str, Any], usage: RoleUsage, endpoints: list[_Endpoint]
    ) -> tuple[dict[str, Any], _Endpoint]:
        prompt_text = "".join(m["content"] for m in payload["messages"])
        estimate = estimate_tokens(prompt_text) + (payload.get("max_tokens") or 0)
        route = _Route(endpoints)
        attempts = failed = 0
        while True:
            if attempts:
                usage.retries += 1
            endpoint = await route.next()
            try:
                response = await endpoint.attempt(payload, estimate, attempts)
                return self._answer(response, endpoint, estimate), endpoint
            except _Reroute:
                route.untry(endpoint)  # not sent: no retry, and no reason to avoid it later
                continue
            except _Transient as exc:
                problem = exc.problem
            attempts += 1
            if problem.reason == "http_429":
                usage.rate_limited += 1  # never final, and not counted against max_retries
            else:
                failed += 1
                if failed > config.max_retries:
                    usage.failures += 1
                    raise RequestFailed(problem.reason, f"gave up after {failed} attempts: {problem.detail}")
            route.delay(endpoint, problem.wait)
            log.debug("retry after %s from %s: %s", problem.reason, endpoint.config.base_url, problem.detail)

    @staticmethod
    def _answer(body: dict[str, Any], endpoint: _Endpoint, estimate: int) -> dict[str, Any]:
        choices = body.get("choices") or []
        if not choices:
            raise EndpointError(f"{endpoint.config.base_url} returned no choices")
        choice = choices[0]
        usage = body.get("usage") or {}
        prompt_tokens = usage.get("prompt_tokens") or 0
        completion_tokens = usage.get("completion_tokens") or 0
        endpoint.limiter.settle(estimate, prompt_tokens + completion_tokens)
        return {
            "text": (choice.get("message") or {}).get("content") or "",
            "finish_reason": choice.get("finish_reason") or "stop",
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "served_model": body.get("model") or None,
        }

    async def aclose(self) -> None:
        for endpoint in self._endpoints.values():
            await endpoint.close()
        self._endpoints.clear()
        self._pools.clear()
        self._preflights.clear()


def _clip(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _hint(status: int, config: RoleConfig) -> str:
    if status in (401, 403):
        if not os.environ.get(config.api_key_env):
            return f" (${config.api_key_env} is not set: export the key, or name another variable with api_key_env)"
        return f" (check the key in ${config.api_key_env})"
    if status == 404:
        return " (check --base-url and --model)"
    return ""
