"""Benchmark: a re-run of an identical build sends no requests (everything comes from the cache).

Runs a full `okapi.build.build` of the `instructions` dataset (N alpaca records, default 300
from /work/shared/data/alpaca/alpaca_5000.json when present, else the packaged
okapi/offline/sample_en.jsonl) into a few languages against a fresh local OfflineServer, then
runs the identical build again with the same cache directory, a new ResponseCache and a new
LLMClient (as a second process would). Printed per run: requests the server answered (delta of
server.stats.answered), requests and cache hits in client.usage, wall time, and records kept.

Goal: the second run sends 0 requests (and produces the same per-language figures).

    python benchmarks/rerun.py                        # 300 alpaca records into vi,fr,hi
    python benchmarks/rerun.py --sample --langs vi,zh
    python benchmarks/rerun.py --records 1000 --latency 0.02

Only 127.0.0.1 is contacted; the cache and both output folders live in a temporary directory.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

from okapi.build import build
from okapi.builders.instructions import BUILDER
from okapi.languages import parse_languages
from okapi.llm import LLMClient, ResponseCache, load_run_config
from okapi.offline.server import OfflineServer, ServerConfig
from okapi.sources import load_source

REPO = Path(__file__).resolve().parent.parent
ALPACA = REPO.parent / "shared" / "data" / "alpaca" / "alpaca_5000.json"


def one_run(server: OfflineServer, loaded, langs, out_dir: Path, cache_dir: Path) -> dict:
    config = load_run_config(None, model="offline", base_url=server.base_url, environ={})
    cache = ResponseCache(cache_dir / "responses.sqlite")
    client = LLMClient(config, cache)
    before = server.stats.answered
    posted_before = server.stats.requests
    start = time.perf_counter()
    stats = build(BUILDER, loaded, langs, out_dir, client, progress=False)
    wall = time.perf_counter() - start
    usage = client.usage.total()
    result = {
        "answered": server.stats.answered - before,
        "posted": server.stats.requests - posted_before,
        "client_requests": usage.requests,
        "cache_hits": usage.cache_hits,
        "retries": usage.retries,
        "failures": usage.failures,
        "prompt_tokens": usage.prompt_tokens,
        "wall_s": wall,
        "cache_rows": len(cache),
        "languages": {
            code: (v["kept"], v["source_rows"], v["rejected"]) for code, v in stats["languages"].items()
        },
    }
    cache.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=300, help="alpaca records to build (300)")
    parser.add_argument("--sample", action="store_true", help="build the packaged 18-record sample instead")
    parser.add_argument("--langs", default="vi,fr,hi", help="target languages (vi,fr,hi)")
    parser.add_argument("--latency", type=float, default=0.05, help="server latency per answer, s (0.05)")
    args = parser.parse_args(argv)

    sample = str(resources.files("okapi.offline") / "sample_en.jsonl")
    if args.sample:
        source, limit = sample, None
    elif ALPACA.exists():
        source, limit = str(ALPACA), args.records
    else:
        source, limit = sample, None
        print(f"NOTE: {ALPACA} not found; building the packaged sample {sample} instead")
    langs = parse_languages(args.langs)

    with tempfile.TemporaryDirectory(prefix="okapi-bench-rerun-") as tmp:
        tmp = Path(tmp)
        loaded = load_source(source, BUILDER.source, limit=limit)
        print(
            f"rerun: {len(loaded.examples)} records from {source} into {','.join(lang.code for lang in langs)}; "
            f"server latency {args.latency}s",
            flush=True,
        )
        server = OfflineServer(ServerConfig(latency_s=args.latency)).start_in_thread()
        try:
            first = one_run(server, loaded, langs, tmp / "out", tmp / "cache")
            second = one_run(server, loaded, langs, tmp / "out", tmp / "cache")
        finally:
            server.stop()

    print()
    print(
        f"{'':<8}{'answered':>10}{'posted':>8}{'client req':>12}{'cache hits':>12}{'retries':>9}{'wall s':>9}"
    )
    for name, run in (("run 1", first), ("run 2", second)):
        print(
            f"{name:<8}{run['answered']:>10}{run['posted']:>8}{run['client_requests']:>12}"
            f"{run['cache_hits']:>12}{run['retries']:>9}{run['wall_s']:>9.2f}"
        )
    print()
    for code, (kept, total, rejected) in first["languages"].items():
        again = second["languages"].get(code)
        same = "same in run 2" if again == (kept, total, rejected) else f"run 2: {again}"
        print(f"  {code}: kept {kept}/{total}, rejected {rejected or 'none'} ({same})")
    print(f"  cache rows after run 1: {first['cache_rows']}, after run 2: {second['cache_rows']}")
    print(f"  speed-up of run 2: {first['wall_s'] / second['wall_s']:.1f}x")
    sent = second["answered"] + second["client_requests"] + second["posted"]
    goal = sent == 0 and second["languages"] == first["languages"]
    print(
        f"goal: run 2 sends 0 requests -> sent {second['posted']} (server) / "
        f"{second['client_requests']} (client): {'PASS' if goal else 'FAIL'}"
    )
    return 0 if goal else 1


if __name__ == "__main__":
    sys.exit(main())
