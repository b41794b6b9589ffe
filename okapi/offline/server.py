"""A local OpenAI-compatible server for offline builds, tests and benchmarks.

It answers okapi's translation requests deterministically from the shipped parallel corpus
(sentence by sentence; an unknown sentence becomes a corpus sentence of the target language
picked by hash) and injects faults on demand. Content faults (truncation, malformed output,
wrong language, refusal) depend only on the payload, so the same request always gets the same
answer; transient faults (429, 500, timeout) depend on how often the payload was seen, so a
retry can succeed.

    okapi offline-server --port 8089 --fault 429=0.1 --fault truncate=0.05 --latency 0.2

Like a hosted API it can limit requests per minute (a sliding window, or a smooth token bucket),
answer OpenAI's `x-ratelimit-*` headers, and queue what exceeds a number of requests at once
(like vLLM's max-num-seqs), so clients' rate limiting and routing can be measured offline.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import threading
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from functools import cache

from aiohttp import web

from okapi.offline import tasks
from okapi.offline.corpus import corpus_languages, normalize, sentences, table

FAULTS = (
    "429",
    "quota",  # OpenAI's 429 insufficient_quota: the account is out of credit
    "500",
    "timeout",
    "truncate",
    "malformed",
    "wrong_language",
    "refusal",
    "invalid_ranking",
    "position_bias",
)
REFUSAL_TEXT = "I'm sorry, but I can't help with that request."
_LANG_CODE = re.compile(r"language code ([a-z]{2,3})\)")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?。])\s+")
_ANY_SENTENCE_SPLIT = re.compile(r"(?<=[.!?。！？।؟])\s+")  # corpus translations, joined by spaces
_MARKER_OR_NEWLINE = re.compile(r"(⟦\d+⟧|\n)")
_LIST_MARKER = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


RATE_LIMIT_MODES = ("window", "bucket")


@dataclass
class ServerConfig:
    faults: dict[str, float] = field(default_factory=dict)  # fault name → probability
    latency_s: float = 0.0
    requests_per_minute: float | None = None  # server-side limit, answered with 429
    timeout_sleep_s: float = 30.0  # how long a "timeout" fault stalls
    # "window": at most rpm x window_s / 60 requests in any sliding window_s seconds (60: a minute;
    # shorter windows let tests see a full window quickly). "bucket": a token bucket refilling
    # rpm/60 per second that holds one second's worth (burst_s).
    rate_limit_mode: str = "window"
    window_s: float = 60.0
    burst_s: float = 1.0
    ratelimit_headers: bool = False  # send x-ratelimit-limit/remaining/reset-requests, as OpenAI
    max_concurrent: int | None = None  # requests answered at once; more wait in line (vLLM-like)
    served_model: str | None = None  # the model named in answers; None: the one asked for


@dataclass
class ServerStats:
    requests: int = 0  # every POST to /chat/completions
    answered: int = 0  # 200 answers
    statuses: Counter = field(default_factory=Counter)
    answered_keys: list[str] = field(default_factory=list)  # sha256 of each answered payload
    models: Counter = field(default_factory=Counter)  # answered requests per model asked for


def format_duration(seconds: float) -> str:
    """OpenAI's reset format: "20ms", "1.5s", "6m0s"."""
    if seconds < 1.0:
        return f"{max(0, math.ceil(seconds * 1000))}ms"
    minutes, rest = divmod(seconds, 60.0)
    return f"{int(minutes)}m{rest:.3g}s" if minutes else f"{rest:.3g}s"


def _draw(*parts: object) -> float:
    digest = hashlib.sha256("\x00".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def payload_hash(body: dict) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@cache
def _english_of() -> dict[str, str]:
    """Any corpus translation → its English sentence: back-translation is a reverse lookup."""
    english = sentences("en")
    reverse: dict[str, str] = {}
    for code in corpus_languages():
        for source, translation in zip(english, sentences(code), strict=True):
            reverse.setdefault(normalize(translation), source)
    return reverse


def translate_text(text: str, lang: str) -> str:
    """Sentence-by-sentence lookup; markers and line breaks are kept where they stand.

    Into English (back-translation) the lookup runs in reverse over every corpus language.
    """
    lookup = _english_of() if lang == "en" else table(lang)
    split = _ANY_SENTENCE_SPLIT if lang == "en" else _SENTENCE_SPLIT
    fallback = sentences(lang)
    out = []
    for chunk in _MARKER_OR_NEWLINE.split(text):
        if not chunk or _MARKER_OR_NEWLINE.fullmatch(chunk) or not chunk.strip():
            out.append(chunk)
            continue
        bullet = _LIST_MARKER.match(chunk)
        lead = bullet.group(0) if bullet else chunk[: len(chunk) - len(chunk.lstrip())]
        trail = chunk[len(chunk.rstrip()) :]
        parts = []
        for sentence in split.split(chunk[len(lead) :].strip()):
            key = normalize(sentence)
            parts.append(lookup.get(key) or fallback[int(_draw(key) * len(fallback))])
        out.append(lead + " ".join(parts) + trail)
    return "".join(out)


class OfflineServer:
    def __init__(self, config: ServerConfig | None = None):
        self.config = config or ServerConfig()
        unknown = set(self.config.faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown fault(s) {sorted(unknown)}; valid: {', '.join(FAULTS)}")
        if self.config.rate_limit_mode not in RATE_LIMIT_MODES:
            raise ValueError(
                f"rate_limit_mode {self.config.rate_limit_mode!r}; valid: {', '.join(RATE_LIMIT_MODES)}"
            )
        self.stats = ServerStats()
        self._seen: Counter[str] = Counter()
        self._window: deque[float] = deque()
        self._bucket_level = self._bucket_capacity()
        self._bucket_updated = time.monotonic()
        self._slots = asyncio.Semaphore(self.config.max_concurrent) if self.config.max_concurrent else None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 2**20)
        app.add_routes(
            [
                web.post("/v1/chat/completions", self._chat),
                web.get("/v1/models", self._models),
                web.get("/_stats", self._stats),
            ]
        )
        return app

    def _fault(self, name: str, *key: object) -> bool:
        rate = self.config.faults.get(name, 0.0)
        return rate > 0 and _draw(name, *key) < rate

    def _rate_limited(self) -> float | None:
        """Seconds until a request is allowed, or None when it is allowed (and counted) now."""
        if not self.config.requests_per_minute:
            return None
        if self.config.rate_limit_mode == "bucket":
            return self._bucket_take()
        return self._window_take()

    def _window_limit(self) -> float:
        return self.config.requests_per_minute * self.config.window_s / 60.0

    def _window_expire(self, now: float) -> None:
        while self._window and now - self._window[0] >= self.config.window_s:
            self._window.popleft()

    def _window_take(self) -> float | None:
        now = time.monotonic()
        self._window_expire(now)
        if len(self._window) >= self._window_limit():
            return self.config.window_s - (now - self._window[0])
        self._window.append(now)
        return None

    def _bucket_capacity(self) -> float:
        rpm = self.config.requests_per_minute or 0.0
        return max(1.0, rpm / 60.0 * self.config.burst_s)

    def _bucket_refill(self) -> float:
        now = time.monotonic()
        rate = self.config.requests_per_minute / 60.0
        self._bucket_level = min(
            self._bucket_capacity(), self._bucket_level + (now - self._bucket_updated) * rate
        )
        self._bucket_updated = now
        return rate

    def _bucket_take(self) -> float | None:
        rate = self._bucket_refill()
        if self._bucket_level < 1.0:
            return (1.0 - self._bucket_level) / rate
        self._bucket_level -= 1.0
        return None

    def _ratelimit_headers(self) -> dict[str, str]:
        """OpenAI's: the limit, what remains of it, and the time until it is whole again."""
        if not (self.config.ratelimit_headers and self.config.requests_per_minute):
            return {}
        now = time.monotonic()
        if self.config.rate_limit_mode == "bucket":
            rate = self._bucket_refill()
            limit, remaining = self._bucket_capacity(), self._bucket_level
            reset = (limit - remaining) / rate
        else:
            self._window_expire(now)
            limit, remaining = self._window_limit(), self._window_limit() - len(self._window)
            reset = self.config.window_s - (now - self._window[-1]) if self._window else 0.0
        return {
            "x-ratelimit-limit-requests": str(int(limit)),
            "x-ratelimit-remaining-requests": str(max(0, int(remaining))),
            "x-ratelimit-reset-requests": format_duration(reset),
        }

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        self.stats.requests += 1
        try:
            body = await request.json()
            messages = body["messages"]
        except (json.JSONDecodeError, KeyError, TypeError):
            return self._error(400, "body must be JSON with messages")
        key = payload_hash(body)
        self._seen[key] += 1
        seen = self._seen[key]
        wait = self._rate_limited()
        if wait is not None:
            return self._error(
                429,
                "rate limit reached",
                {
                    "Retry-After": str(max(1, math.ceil(wait))),
                    "retry-after-ms": str(math.ceil(wait * 1000)),
                    **self._ratelimit_headers(),
                },
            )
        if self._fault("429", key, seen):
            return self._error(429, "rate limit reached", {"Retry-After": "1"})
        if self._fault("quota", key, seen):
            return self._error(429, "You exceeded your current quota", code="insufficient_quota")
        if self._fault("500", key, seen):
            return self._error(500, "injected server error")
        headers = self._ratelimit_headers()  # as the request was admitted
        if self._fault("timeout", key, seen):
            await asyncio.sleep(self.config.timeout_sleep_s)
        if self._slots:
            async with self._slots:
                await asyncio.sleep(self.config.latency_s)
        elif self.config.latency_s:
            await asyncio.sleep(self.config.latency_s)
        text, finish = self._answer(messages, key)
        max_tokens = body.get("max_tokens")
        if finish == "stop" and max_tokens and len(text) // 4 > max_tokens:
            text, finish = text[: max_tokens * 4], "length"
        prompt = "".join(m.get("content") or "" for m in messages)
        self.stats.answered += 1
        self.stats.statuses[200] += 1
        self.stats.answered_keys.append(key)
        self.stats.models[body.get("model")] += 1
        return web.json_response(
            {
                "id": "chatcmpl-" + key[:16],
                "object": "chat.completion",
                "created": 0,
                "model": self.config.served_model or body.get("model", "offline"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": finish,
                    }
                ],
                "usage": {
                    "prompt_tokens": len(prompt) // 4,
                    "completion_tokens": len(text) // 4,
                    "total_tokens": len(prompt) // 4 + len(text) // 4,
                },
            },
            headers=headers,
        )

    def _answer(self, messages: list[dict], key: str) -> tuple[str, str]:
        other = tasks.answer(messages, key, lambda name: self._fault(name, key))
        if other is not None:
            return other, "stop"
        system = next((m["content"] for m in messages if m["role"] == "system"), "")
        user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        match = _LANG_CODE.search(system)
        if not match or match.group(1) not in corpus_languages():
            return f"offline server: no corpus for this request ({user[:40]!r})", "stop"
        lang = match.group(1)
        try:
            items = json.loads(user)
        except json.JSONDecodeError:
            return "offline server: expected a JSON object", "stop"
        if self._fault("refusal", key):
            return REFUSAL_TEXT, "stop"
        answer = {}
        for item_key, value in items.items():
            target = lang
            if self._fault("wrong_language", value, lang):
                others = [c for c in corpus_languages() if c not in (lang, "en")]
                target = others[int(_draw("other", value) * len(others))]
            answer[item_key] = translate_text(value, target)
        text = json.dumps(answer, ensure_ascii=False)
        if self._fault("truncate", key):
            return text[: len(text) // 2], "length"
        if self._fault("malformed", key):
            return self._malform(answer, text, key), "stop"
        return text, "stop"

    def _malform(self, answer: dict, text: str, key: str) -> str:
        kind = int(_draw("malform-kind", key) * 3)
        if kind == 0 or len(answer) < 2:
            return "Here is the translation: " + text[:-1]  # chatter and a broken object
        if kind == 1:
            first = next(iter(answer))
            return json.dumps({k: v for k, v in answer.items() if k != first}, ensure_ascii=False)
        return json.dumps({k: re.sub(r"⟦\d+⟧", "", v) for k, v in answer.items()}, ensure_ascii=False)

    def _error(
        self, status: int, message: str, headers: dict | None = None, code: str | int | None = None
    ) -> web.Response:
        self.stats.statuses[status] += 1
        return web.json_response(
            {"error": {"message": message, "type": "offline_server", "code": code or status}},
            status=status,
            headers=headers,
        )

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "offline", "object": "model"}]})

    async def _stats(self, request: web.Request) -> web.Response:
        stats = asdict(self.stats)
        stats["statuses"] = {str(k): v for k, v in self.stats.statuses.items()}
        return web.json_response(stats)

    # -- running

    async def start(self, port: int = 0) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def start_in_thread(self, port: int = 0) -> OfflineServer:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self.start(port))
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="okapi-offline-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("offline server did not start")
        return self

    def stop(self) -> None:
        if self._loop and self._runner:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = self._runner = self._thread = None

    def __enter__(self) -> OfflineServer:
        return self.start_in_thread()

    def __exit__(self, *exc: object) -> None:
        self.stop()
