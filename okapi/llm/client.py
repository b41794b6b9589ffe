"""Async client for any OpenAI-compatible chat endpoint, with cache, limits and retries.

Only this package talks to models. A request is answered from the persistent cache when its
exact payload was answered before; otherwise it is sent under the role's concurrency and rate
limits, retried with exponential backoff and jitter (honouring Retry-After) on 429, 5xx,
timeouts and connection errors, and its answer is committed to the cache at once.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

import openai

from okapi.llm.cache import ResponseCache, payload_key
from okapi.llm.config import RoleConfig, RunConfig
from okapi.llm.limits import RateLimiter
from okapi.llm.usage import UsageLedger

log = logging.getLogger(__name__)


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


class _Endpoint:
    def __init__(self, config: RoleConfig):
        self.config = config
        self.client = openai.AsyncOpenAI(
            base_url=config.base_url,
            api_key=config.api_key(),
            max_retries=0,  # retries are ours: they honour Retry-After and are counted
            timeout=config.timeout_s,
            http_client=openai.DefaultAioHttpClient(timeout=config.timeout_s),
        )
        self.semaphore = asyncio.Semaphore(config.concurrency)
        self.limiter = RateLimiter(config.requests_per_minute, config.tokens_per_minute)


class LLMClient:
    def __init__(self, config: RunConfig, cache: ResponseCache):
        self.config = config
        self.cache = cache
        self.usage = UsageLedger()
        self._endpoints: dict[tuple, _Endpoint] = {}

    def _endpoint(self, role: RoleConfig) -> _Endpoint:
        key = (role.base_url, role.model, role.api_key_env)
        if key not in self._endpoints:
            self._endpoints[key] = _Endpoint(role)
        return self._endpoints[key]

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
            return Completion(**hit, cached=True)
        endpoint = self._endpoint(config)
        answer = await self._send(endpoint, payload, usage)
        self.cache.put(key, config.model, answer)
        usage.requests += 1
        usage.prompt_tokens += answer["prompt_tokens"]
        usage.completion_tokens += answer["completion_tokens"]
        usage.cost_usd += config.cost(answer["prompt_tokens"], answer["completion_tokens"])
        return Completion(**answer, cached=False)

    async def _send(self, endpoint: _Endpoint, payload: dict[str, Any], usage) -> dict[str, Any]:
        config = endpoint.config
        prompt_text = "".join(m["content"] for m in payload["messages"])
        estimate = estimate_tokens(prompt_text) + (payload.get("max_tokens") or 0)
        reason, detail = "unknown", ""
        for attempt in range(config.max_retries + 1):
            if attempt:
                usage.retries += 1
            await endpoint.limiter.acquire(estimate)
            server_wait: float | None = None
            try:
                async with endpoint.semaphore:
                    response = await endpoint.client.chat.completions.create(**payload)
                return self._answer(response, endpoint, estimate)
            except openai.RateLimitError as exc:
                reason, detail = "http_429", _short(exc)
                server_wait = retry_after_seconds(exc.response.headers)
            except openai.InternalServerError as exc:
                reason, detail = f"http_{exc.status_code}", _short(exc)
                server_wait = retry_after_seconds(exc.response.headers)
            except openai.APITimeoutError as exc:
                reason, detail = "timeout", f"no answer within {config.timeout_s}s ({exc})"
            except openai.APIConnectionError as exc:
                reason, detail = "connection", _short(exc)
            except openai.APIStatusError as exc:
                raise EndpointError(
                    f"{config.base_url} (model {config.model!r}) answered HTTP {exc.status_code}: "
                    f"{_short(exc)}" + _hint(exc.status_code, config)
                ) from None
            if attempt < config.max_retries:
                backoff = min(config.backoff_max_s, config.backoff_base_s * 2**attempt)
                delay = server_wait if server_wait is not None else random.uniform(0, backoff)
                log.debug("retry %d after %s in %.2fs", attempt + 1, reason, delay)
                await asyncio.sleep(delay)
        usage.failures += 1
        raise RequestFailed(reason, f"gave up after {config.max_retries + 1} attempts: {detail}")

    @staticmethod
    def _answer(response: Any, endpoint: _Endpoint, estimate: int) -> dict[str, Any]:
        if not response.choices:
            raise EndpointError(f"{endpoint.config.base_url} returned no choices")
        choice = response.choices[0]
        prompt_tokens = response.usage.prompt_tokens if response.usage else 0
        completion_tokens = response.usage.completion_tokens if response.usage else 0
        endpoint.limiter.settle(estimate, prompt_tokens + completion_tokens)
        return {
            "text": choice.message.content or "",
            "finish_reason": choice.finish_reason or "stop",
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
        }

    async def aclose(self) -> None:
        for endpoint in self._endpoints.values():
            await endpoint.client.close()
        self._endpoints.clear()


def _short(exc: Exception, limit: int = 300) -> str:
    text = str(exc).replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"


def _hint(status: int, config: RoleConfig) -> str:
    if status in (401, 403):
        return f" (check the key in ${config.api_key_env})"
    if status == 404:
        return " (check --base-url and --model)"
    return ""
