"""Benchmark: does okapi use a server's rate limit fully, unattended, without losing a record?

Against local offline servers that allow R requests per minute and answer each request after a
fixed latency, in both of the server's limiting modes:

* window: at most R requests in any sliding minute (a 429 says when the oldest one expires);
* bucket: a token bucket refilling R/60 per second that holds one second's worth.

three clients translate the same N one-sentence English records, one record per request,
with the same concurrency, each against its own server, all at the same time:

* okapi (learned): `okapi.steps.translate.translate` with NO client limit configured (the
  default): the client learns the rate from the server's 429s and Retry-After;
* okapi (configured): the same with `requests_per_minute = R` (a client-side token bucket);
* plain: the baseline, a concurrent `openai.AsyncOpenAI` loop (asyncio.gather over the same
  payloads, a semaphore of the same concurrency) with openai's own default retries (2,
  honouring Retry-After).

Figures per run: achieved rate (answered requests / wall time: flattering under a window limit,
whose first window is free), steady-state rate (answers completed during the whole windows after
the first one, when the server's window has filled, per second), the 429 share (429 answers / all
requests the server saw), failed records.

Goals for okapi (learned), in both modes: steady-state rate >= 0.9 x R, 429s <= 2% of requests,
0 failed records.

    python benchmarks/rate_limit.py            # R=600/min, N=1500: about 2.5 min, 2 full windows
    python benchmarks/rate_limit.py --quick    # a 6-s window (the same R): about 15 s
    python benchmarks/rate_limit.py --headers  # the servers also send x-ratelimit-* headers

Only 127.0.0.1 is contacted; the response caches live in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import openai

from okapi.languages import Language, get_language
from okapi.llm import LLMClient, ResponseCache, load_run_config
from okapi.offline.server import RATE_LIMIT_MODES, OfflineServer, ServerConfig
from okapi.records import Example
from okapi.steps.translate import TranslateSettings, translate, translate_requests

FIELDS = ("text",)
SETTINGS = TranslateSettings(max_records_per_request=1)
MODES = RATE_LIMIT_MODES
CLIENTS = ("okapi (learned)", "okapi (configured)", "plain AsyncOpenAI")


@dataclass
class Run:
    mode: str
    client: str
    wall_s: float = 0.0
    done_at: list[float] = field(default_factory=list)  # seconds from start, one per record
    failed: int = 0
    fail_reasons: set[str] = field(default_factory=set)
    answered: int = 0  # 200s from the server
    posted: int = 0  # every request the server saw
    status_429: int = 0

    def steady_rate(self, window_s: float) -> float:
        """Answers per second in the whole windows after the first (nan: the run was too short)."""
        end = max(self.done_at, default=0.0)
        windows = math.floor((end - window_s) / window_s)
        if windows < 1:
            return float("nan")
        stop = window_s * (1 + windows)
        return sum(window_s <= t < stop for t in self.done_at) / (windows * window_s)


def make_records(n: int) -> list[Example]:
    """N English records from the offline corpus; a numbered suffix makes every payload unique."""
    corpus = resources.files("okapi.offline") / "corpus" / "en.txt"
    sentences = [s.strip() for s in corpus.read_text(encoding="utf-8").splitlines() if s.strip()]
    return [
        Example(id=f"rate-{i:05d}", fields={"text": f"{sentences[i % len(sentences)]} (record {i})"})
        for i in range(n)
    ]


def start_server(mode: str, args: argparse.Namespace) -> OfflineServer:
    config = ServerConfig(
        latency_s=args.latency,
        requests_per_minute=args.rpm,
        rate_limit_mode=mode,
        window_s=args.window,
        ratelimit_headers=args.headers,
    )
    return OfflineServer(config).start_in_thread()


def okapi_client(base_url: str, args: argparse.Namespace, configured: bool, cache: Path) -> LLMClient:
    config = load_run_config(None, model="offline", base_url=base_url, environ={})
    rpm = args.rpm if configured else None
    roles = {
        name: replace(role, requests_per_minute=rpm, concurrency=args.concurrency)
        for name, role in config.roles.items()
    }
    return LLMClient(replace(config, roles=roles), ResponseCache(cache))


async def run_okapi(run: Run, records: list[Example], lang: Language, args, cache: Path) -> None:
    server = await asyncio.to_thread(start_server, run.mode, args)
    client = okapi_client(server.base_url, args, run.client == "okapi (configured)", cache)
    start = time.perf_counter()
    try:
        _, rejects = await translate(
            client,
            records,
            lang,
            FIELDS,
            SETTINGS,
            on_item_done=lambda: run.done_at.append(time.perf_counter() - start),
        )
    finally:
        await client.aclose()
        client.cache.close()
        run.wall_s = time.perf_counter() - start
        await asyncio.to_thread(server.stop)
    run.failed = len(rejects)
    run.fail_reasons = {r.reason for r in rejects}
    _server_figures(run, server)


async def run_plain(run: Run, records: list[Example], lang: Language, args) -> None:
    server = await asyncio.to_thread(start_server, run.mode, args)
    role = load_run_config(None, model="offline", base_url=server.base_url, environ={}).role("translator")
    payloads = [r.payload(role) for r in translate_requests(records, lang, FIELDS, SETTINGS)]
    client = openai.AsyncOpenAI(base_url=server.base_url, api_key="not-needed")  # default retries
    semaphore = asyncio.Semaphore(args.concurrency)
    start = time.perf_counter()

    async def one(payload: dict) -> None:
        async with semaphore:
            try:
                await client.chat.completions.create(**payload)
            except openai.APIError as exc:
                run.failed += 1
                run.fail_reasons.add(type(exc).__name__)
                return
            run.done_at.append(time.perf_counter() - start)

    try:
        await asyncio.gather(*(one(p) for p in payloads))
    finally:
        await client.close()
        run.wall_s = time.perf_counter() - start
        await asyncio.to_thread(server.stop)
    _server_figures(run, server)


def _server_figures(run: Run, server: OfflineServer) -> None:
    run.answered = server.stats.answered
    run.posted = server.stats.requests
    run.status_429 = server.stats.statuses.get(429, 0)


async def run_all(records: list[Example], lang: Language, args, tmp: Path) -> list[Run]:
    runs = [Run(mode, client) for mode in MODES for client in CLIENTS]
    jobs = []
    for i, run in enumerate(runs):
        if run.client == "plain AsyncOpenAI":
            jobs.append(run_plain(run, records, lang, args))
        else:
            jobs.append(run_okapi(run, records, lang, args, tmp / f"cache-{i}.sqlite"))
    await asyncio.gather(*jobs)
    return runs


def report(runs: list[Run], args: argparse.Namespace) -> bool:
    limit = args.rpm / 60.0
    print(
        f"{'server':<8}{'client':<20}{'answered':>9}{'wall s':>8}{'achieved':>10}{'steady':>8}"
        f"{'429s':>7}{'429 share':>11}{'failed':>8}"
    )
    passed = True
    for run in runs:
        achieved = len(run.done_at) / run.wall_s / limit
        steady = run.steady_rate(args.window) / limit
        share = run.status_429 / max(1, run.posted)
        print(
            f"{run.mode:<8}{run.client:<20}{len(run.done_at):>9}{run.wall_s:>8.1f}{achieved:>9.3f}R"
            f"{steady:>7.3f}R{run.status_429:>7}{share:>10.2%}{run.failed:>8}"
            + (f"  {sorted(run.fail_reasons)}" if run.fail_reasons else "")
        )
        if run.client == "okapi (learned)":
            goals = steady >= 0.9, share <= 0.02, run.failed == 0
            passed = passed and all(goals)
            verdicts = ", ".join(
                f"{name} {'PASS' if ok else 'FAIL'}"
                for name, ok in zip(("steady>=0.9R", "429s<=2%", "failed=0"), goals, strict=True)
            )
            print(f"{'':<28}goals: {verdicts}")
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rpm", type=float, default=600.0, help="limit R, requests per minute (600)")
    parser.add_argument("--quick", action="store_true", help="a 6-s server window instead of 60 s")
    parser.add_argument("--window", type=float, help="server window, s (60; --quick: 6)")
    parser.add_argument(
        "--records", type=int, help="records N, one request each (default: 2.5 windows' worth at R)"
    )
    parser.add_argument("--latency", type=float, default=0.2, help="server latency per answer, s (0.2)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests at once, every client (16)")
    parser.add_argument("--headers", action="store_true", help="servers send x-ratelimit-* headers")
    parser.add_argument("--lang", default="vi", help="target language code (vi)")
    args = parser.parse_args(argv)
    if args.window is None:
        args.window = 6.0 if args.quick else 60.0
    if args.records is None:
        args.records = round(2.5 * args.window * args.rpm / 60.0)
    lang = get_language(args.lang)
    records = make_records(args.records)
    print(
        f"rate_limit: R={args.rpm:g}/min, server window {args.window:g}s, N={args.records} records "
        f"(≈{args.records / (args.rpm / 60):.0f} s at R), latency {args.latency}s, concurrency "
        f"{args.concurrency}, x-ratelimit headers {'on' if args.headers else 'off'}, lang={lang.code}; "
        f"{len(MODES) * len(CLIENTS)} runs at once, each against its own server",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="okapi-bench-rate-") as tmp:
        runs = asyncio.run(run_all(records, lang, args, Path(tmp)))
    print()
    passed = report(runs, args)
    print(
        "achieved: answered/wall; steady: answers during the whole windows after the first, per "
        "second; 429 share: of all requests the server saw"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
