"""Benchmark: does a role with several endpoints go as many times faster as it has endpoints?

Local offline servers, each in its own process, answer after a fixed latency and take at most C
requests at once (more wait in line, like vLLM's max-num-seqs). okapi's LLMClient sends N
distinct requests (a fresh temporary cache: no hits) with as many workers as
`client.concurrency(role)`, the sum of the endpoints' concurrency, as the build driver does,
after an untimed warm-up round (connections opened):

* one: one server (the baseline, measured in the same run);
* four: four such servers in the role's `endpoints` list;
* four, one failing: the same, but one of them answers every request with HTTP 500.

Figures: answered requests per second and the ratio to one server, failed requests, answers per
endpoint. Goal: four/one >= 3.5; with one failing, every request answered.

    python benchmarks/endpoints.py              # N=1500, latency 0.2 s, C=16
    python benchmarks/endpoints.py --quick      # N=400

Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from okapi.llm import ChatRequest, EndpointConfig, LLMClient, RequestFailed, ResponseCache, load_run_config
from okapi.offline.server import OfflineServer, ServerConfig

ROLE = "translator"


@dataclass
class Result:
    name: str
    answered: int
    failed: int
    wall_s: float
    per_endpoint: dict[str, int]

    @property
    def rate(self) -> float:
        return self.answered / self.wall_s


def _serve(config: ServerConfig, ports: multiprocessing.Queue) -> None:
    server = OfflineServer(config)

    async def main() -> None:
        await server.start(0)
        ports.put(server.port)
        await asyncio.Event().wait()

    asyncio.run(main())


def start_servers(configs: list[ServerConfig]) -> tuple[list[str], list[multiprocessing.Process]]:
    """Each server in its own process, so that none of them shares the client's interpreter."""
    context = multiprocessing.get_context("spawn")
    processes, urls = [], []
    for config in configs:
        ports = context.Queue()
        process = context.Process(target=_serve, args=(config, ports), daemon=True)
        process.start()
        processes.append(process)
        urls.append(f"http://127.0.0.1:{ports.get(timeout=30)}/v1")
    return urls, processes


async def send_all(client: LLMClient, n: int, tag: str) -> tuple[int, int]:
    queue: asyncio.Queue[ChatRequest] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(ChatRequest(messages=(("user", f"endpoint benchmark {tag} {i}"),)))
    answered = failed = 0

    async def worker() -> None:
        nonlocal answered, failed
        while not queue.empty():
            request = queue.get_nowait()
            try:
                await client.complete(ROLE, request)
                answered += 1
            except RequestFailed:
                failed += 1

    await asyncio.gather(*(worker() for _ in range(client.concurrency(ROLE))))
    return answered, failed


def run(name: str, configs: list[ServerConfig], args: argparse.Namespace, tmp: Path) -> Result:
    urls, processes = start_servers(configs)
    try:
        config = load_run_config(None, model="offline", environ={})
        endpoints = tuple(EndpointConfig(base_url=u, concurrency=args.concurrency) for u in urls)
        config.roles["default"] = replace(config.roles["default"], endpoints=endpoints, backoff_base_s=0.1)
        client = LLMClient(config, ResponseCache(tmp / f"{name}.sqlite"))

        async def go() -> tuple[int, int, float]:
            try:
                # Untimed: one round per endpoint opens its connections (and finds the failing one).
                await send_all(client, client.concurrency(ROLE), "warm-up")
                start = time.perf_counter()
                answered, failed = await send_all(client, args.requests, "request")
                return answered, failed, time.perf_counter() - start
            finally:
                await client.aclose()

        answered, failed, wall = asyncio.run(go())
        client.cache.close()
        per_endpoint = client.usage.role(ROLE).endpoints  # the warm-up's answers included
        return Result(name, answered, failed, wall, {u: per_endpoint.get(u, 0) for u in urls})
    finally:
        for process in processes:
            process.terminate()
            process.join(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, help="distinct requests N (1500; --quick: 400)")
    parser.add_argument("--quick", action="store_true", help="fewer requests")
    parser.add_argument("--latency", type=float, default=0.2, help="server latency per answer, s (0.2)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests a server takes at once (16)")
    args = parser.parse_args(argv)
    if args.requests is None:
        args.requests = 400 if args.quick else 1500
    good = ServerConfig(latency_s=args.latency, max_concurrent=args.concurrency)
    failing = replace(good, faults={"500": 1.0})
    print(
        f"endpoints: N={args.requests} requests, latency {args.latency}s, at most {args.concurrency} "
        f"at once per server (ideal: {args.concurrency / args.latency:.0f}/s per server)",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="okapi-bench-endpoints-") as tmp:
        one = run("one", [good], args, Path(tmp))
        four = run("four", [good] * 4, args, Path(tmp))
        broken = run("four, one failing", [good, good, failing, good], args, Path(tmp))

    print()
    print(
        f"{'endpoints':<20}{'answered':>9}{'failed':>8}{'wall s':>8}{'req/s':>8}{'vs one':>8}  per endpoint"
    )
    for result in (one, four, broken):
        print(
            f"{result.name:<20}{result.answered:>9}{result.failed:>8}{result.wall_s:>8.1f}"
            f"{result.rate:>8.1f}{result.rate / one.rate:>7.2f}x  {list(result.per_endpoint.values())}"
        )
    ratio = four.rate / one.rate
    goal_ratio = ratio >= 3.5
    goal_failing = broken.failed == 0 and broken.answered == args.requests
    print(
        f"goals: four/one >= 3.5 {'PASS' if goal_ratio else 'FAIL'} ({ratio:.2f}x); "
        f"one failing of four, every request answered {'PASS' if goal_failing else 'FAIL'} "
        f"({broken.rate / one.rate:.2f}x one server)"
    )
    return 0 if goal_ratio and goal_failing else 1


if __name__ == "__main__":
    sys.exit(main())
