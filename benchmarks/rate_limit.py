"""Benchmark: does okapi's client use a requests-per-minute budget fully, without 429s?

Measures, against a local offline server that enforces a sliding-window limit of R requests per
minute (and answers each request after a fixed latency):

* okapi: `okapi.steps.translate.translate` of N one-sentence English records into one language,
  one record per request, with the translator role configured to `requests_per_minute=R` and
  enough concurrency to cover the latency. Figures: achieved request rate (answered requests /
  wall time of the translate call; server and client start-up excluded) as a fraction of R,
  failed records, and the number of 429 answers the server gave.
* plain: a sequential loop with the synchronous `openai` client over the first K of the same
  request payloads, against a fresh server with the same latency and limit. Its rate is
  extrapolated from K requests.

Goals: okapi's achieved rate >= 0.95 x R, 0 failed records; 429s are reported (0 is ideal, a few
are tolerated only if every record still succeeds).

    python benchmarks/rate_limit.py                 # R=600/min, N=300 (about 30 s), K=50
    python benchmarks/rate_limit.py --rpm 1200 --records 1400 --plain 10   # past one full minute

The default run stays inside one minute, so the server's sliding window never fills. The longer
run shows what happens when it does: the client's token bucket starts full (one second's worth of
requests), so it admits about R + R/60 requests in the first 60 s and the server answers a few
429s near the end of that minute; okapi retries them after Retry-After and loses no record.

Only 127.0.0.1 is contacted; the response cache lives in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from dataclasses import replace
from importlib import resources
from pathlib import Path

import openai

from okapi.languages import get_language
from okapi.llm import LLMClient, ResponseCache, load_run_config
from okapi.offline.server import OfflineServer, ServerConfig
from okapi.records import Example
from okapi.steps.translate import TranslateSettings, translate, translate_requests

FIELDS = ("text",)


def make_records(n: int) -> list[Example]:
    """N English records from the offline corpus; a numbered suffix makes every payload unique."""
    corpus = resources.files("okapi.offline") / "corpus" / "en.txt"
    sentences = [s.strip() for s in corpus.read_text(encoding="utf-8").splitlines() if s.strip()]
    return [
        Example(id=f"rate-{i:05d}", fields={"text": f"{sentences[i % len(sentences)]} (record {i})"})
        for i in range(n)
    ]


def okapi_config(base_url: str, rpm: float, concurrency: int):
    config = load_run_config(None, model="offline", base_url=base_url, environ={})
    roles = {
        name: replace(role, requests_per_minute=rpm, concurrency=concurrency)
        for name, role in config.roles.items()
    }
    return replace(config, roles=roles)


def run_okapi(records: list[Example], lang, args, cache_dir: Path) -> dict:
    server = OfflineServer(
        ServerConfig(latency_s=args.latency, requests_per_minute=args.rpm)
    ).start_in_thread()
    try:
        config = okapi_config(server.base_url, args.rpm, args.concurrency)
        client = LLMClient(config, ResponseCache(cache_dir / "okapi.sqlite"))
        settings = TranslateSettings(max_records_per_request=1)
        done_at: list[float] = []

        async def go():
            try:
                return await translate(
                    client,
                    records,
                    lang,
                    FIELDS,
                    settings,
                    on_item_done=lambda: done_at.append(time.perf_counter()),
                )
            finally:
                await client.aclose()

        start = time.perf_counter()
        kept, rejects = asyncio.run(go())
        wall = time.perf_counter() - start
        usage = client.usage.role(settings.role)
        client.cache.close()
        # Steady state: skip the first second (the limiter's initial burst), rate of the rest.
        steady = [t for t in done_at if t - start >= 1.0]
        steady_rate = (len(steady) - 1) / (steady[-1] - steady[0]) if len(steady) > 2 else float("nan")
        return {
            "answered": server.stats.answered,
            "posted": server.stats.requests,
            "status_429": server.stats.statuses.get(429, 0),
            "statuses": dict(server.stats.statuses),
            "wall_s": wall,
            "rate": server.stats.answered / wall,
            "steady_rate": steady_rate,
            "kept": len(kept),
            "failed": len(rejects),
            "fail_reasons": sorted({r.reason for r in rejects}),
            "client_requests": usage.requests,
            "client_retries": usage.retries,
            "client_cache_hits": usage.cache_hits,
        }
    finally:
        server.stop()


def run_plain(records: list[Example], lang, args) -> dict:
    server = OfflineServer(
        ServerConfig(latency_s=args.latency, requests_per_minute=args.rpm)
    ).start_in_thread()
    try:
        config = load_run_config(None, model="offline", base_url=server.base_url, environ={})
        role = config.role("translator")
        settings = TranslateSettings(max_records_per_request=1)
        payloads = [r.payload(role) for r in translate_requests(records, lang, FIELDS, settings)]
        client = openai.OpenAI(base_url=server.base_url, api_key="x")
        start = time.perf_counter()
        ok = 0
        for payload in payloads:
            response = client.chat.completions.create(**payload)
            ok += bool(response.choices)
        wall = time.perf_counter() - start
        client.close()
        return {
            "requests": len(payloads),
            "ok": ok,
            "answered": server.stats.answered,
            "status_429": server.stats.statuses.get(429, 0),
            "wall_s": wall,
            "rate": server.stats.answered / wall,
        }
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rpm", type=float, default=600.0, help="limit R, requests per minute (600)")
    parser.add_argument(
        "--records", type=int, help="records N, one request each (default: R/2, about 30 s at rate R)"
    )
    parser.add_argument("--latency", type=float, default=0.2, help="server latency per answer, s (0.2)")
    parser.add_argument(
        "--concurrency",
        type=int,
        help="okapi concurrency (default: 2 x rate x latency + 4, enough to hide the latency)",
    )
    parser.add_argument("--plain", type=int, default=50, help="requests K for the plain loop (50)")
    parser.add_argument("--lang", default="vi", help="target language code (vi)")
    args = parser.parse_args(argv)
    if args.records is None:
        args.records = max(1, round(args.rpm / 2))
    if args.concurrency is None:
        args.concurrency = math.ceil(2 * args.rpm / 60 * args.latency) + 4
    lang = get_language(args.lang)
    records = make_records(args.records)
    expected_s = args.records / (args.rpm / 60)

    print(
        f"rate_limit: R={args.rpm:g}/min, N={args.records} records (≈{expected_s:.0f} s at R), "
        f"latency={args.latency}s, okapi concurrency={args.concurrency}, plain K={args.plain}, "
        f"lang={lang.code}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="okapi-bench-rate-") as tmp:
        okapi_run = run_okapi(records, lang, args, Path(tmp))
        plain_run = run_plain(records[: args.plain], lang, args)

    limit_rps = args.rpm / 60
    fraction = okapi_run["rate"] / limit_rps
    steady_fraction = okapi_run["steady_rate"] / limit_rps
    ratio = okapi_run["rate"] / plain_run["rate"]
    goal_rate = fraction >= 0.95
    goal_failed = okapi_run["failed"] == 0

    print()
    print("== okapi (translate, max_records_per_request=1) ==")
    print(
        f"  answered requests:    {okapi_run['answered']} (posted {okapi_run['posted']}, "
        f"statuses {okapi_run['statuses']})"
    )
    print(
        f"  client usage:         requests={okapi_run['client_requests']} "
        f"retries={okapi_run['client_retries']} cache_hits={okapi_run['client_cache_hits']}"
    )
    print(f"  wall time:            {okapi_run['wall_s']:.2f} s")
    print(
        f"  achieved rate:        {okapi_run['rate'] * 60:.1f}/min = {fraction:.3f} x R "
        f"(goal >= 0.95: {'PASS' if goal_rate else 'FAIL'})"
    )
    print(f"  steady rate (>1 s):   {okapi_run['steady_rate'] * 60:.1f}/min = {steady_fraction:.3f} x R")
    print(
        f"  failed records:       {okapi_run['failed']} of {args.records}"
        f"{' ' + str(okapi_run['fail_reasons']) if okapi_run['fail_reasons'] else ''} "
        f"(goal 0: {'PASS' if goal_failed else 'FAIL'})"
    )
    print(f"  429s from server:     {okapi_run['status_429']}")
    print("== plain sequential openai.OpenAI loop ==")
    print(
        f"  answered requests:    {plain_run['answered']} of {plain_run['requests']} "
        f"(429s: {plain_run['status_429']})"
    )
    print(f"  wall time:            {plain_run['wall_s']:.2f} s")
    print(
        f"  rate:                 {plain_run['rate'] * 60:.1f}/min = {plain_run['rate'] / limit_rps:.3f} x R"
        f"  (N={args.records} would take ≈{args.records / plain_run['rate']:.0f} s)"
    )
    print("== summary ==")
    print(f"  okapi/plain rate ratio: {ratio:.2f}x")
    print(
        f"  goals: rate>=0.95R {'PASS' if goal_rate else 'FAIL'}, failed=0 {'PASS' if goal_failed else 'FAIL'}"
    )
    return 0 if goal_rate and goal_failed else 1


if __name__ == "__main__":
    sys.exit(main())
