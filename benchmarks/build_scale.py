"""Builds at scale against a zero-latency local server: peak memory and wall time.

    python benchmarks/build_scale.py memory [--small 20000 --large 200000]
    python benchmarks/build_scale.py walltime [--records 50000 --baseline 2c6cd07]
    python benchmarks/build_scale.py dedup [--small 20000 --large 200000]

`memory` runs `okapi build instructions` (one language) on N synthetic records for two sizes and
prints the peak memory of the whole build (the okapi process and its check workers, sampled from
/proc) and the ratio large/small. `walltime` builds the same records with this checkout and with
the baseline commit (a git worktree, run in the same benchmark) and prints both times.

Synthetic records are random English words, so every source row is distinct and every record
passes through every check; the offline server answers unknown sentences with sentences of its
small corpus, so translations repeat and the duplicates check mostly takes its exact-match path.
`dedup` feeds that many distinct random records (3 sentences each) through the duplicates
check's index, which lives on disk, and prints this process's memory growth and records/s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
WORDS = sorted(
    {w.strip(".,;:!?\"'()").lower() for w in (REPO / "okapi/offline/corpus/en.txt").read_text().split()}
    - {""}
)


def synthetic(path: Path, n: int, seed: int = 0) -> Path:
    rng = random.Random(seed)

    def sentence() -> str:  # as long as the corpus's sentences, so most translations pass the checks
        return " ".join(rng.choices(WORDS, k=rng.randint(5, 9))).capitalize() + "."

    with path.open("w") as handle:
        for i in range(n):
            row = {
                "id": f"syn-{i:07d}",
                "instruction": sentence(),
                "input": "",
                "output": sentence(),
            }
            handle.write(json.dumps(row) + "\n")
    return path


class Server:
    """`okapi offline-server` in its own process, so it does not share the build's memory or GIL."""

    def __init__(self, port: int):
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "okapi.cli", "offline-server", "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.proc.stdout.readline()  # "offline server on ..." once it listens

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def peak_rss(proc: subprocess.Popen) -> float:
    """Peak of the summed RSS (MB) of a process and its children, sampled every 50 ms until it exits."""
    peak = 0
    parent = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            total = sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])
        except psutil.Error:  # a child ended between listing and reading
            continue
        peak = max(peak, total)
        time.sleep(0.05)
    return peak / 2**20


def run_build(
    source: Path, out: Path, base_url: str, *, cwd: Path = REPO, env: dict | None = None
) -> tuple[float, float]:
    """(seconds, peak MB) of one `okapi build instructions --langs vi` with a fresh cache."""
    config = out.parent / f"{out.name}.toml"
    config.write_text("[default]\nconcurrency = 64\n")
    cmd = [
        sys.executable, "-m", "okapi.cli", "build", "instructions", "--source", str(source), "--langs", "vi",
        "--out", str(out), "--cache-dir", str(out.parent / f"{out.name}-cache"), "--config", str(config),
        "--base-url", base_url, "--model", "offline", "--no-progress",
    ]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.append(proc.stderr.read()))
    reader.start()
    peak = peak_rss(proc)
    reader.join()
    if proc.returncode != 0:
        raise SystemExit(f"build failed: {b''.join(errors).decode()[-2000:]}")
    return time.perf_counter() - start, peak


def kept(out: Path) -> int:
    return json.loads((out / "stats.json").read_text())["languages"]["vi"]["kept"]


def memory(args: argparse.Namespace, tmp: Path, server: Server) -> None:
    print(f"peak memory of `okapi build instructions --langs vi` (okapi + check workers), {args.note}")
    peaks = {}
    for n in (args.small, args.large):
        source = synthetic(tmp / f"src-{n}.jsonl", n)
        seconds, peaks[n] = run_build(source, tmp / f"out-{n}", server.base_url)
        print(f"  {n:>8,} records: peak {peaks[n]:7.0f} MB, {seconds:6.1f} s, kept {kept(tmp / f'out-{n}'):,}",
              flush=True)  # fmt: skip
    ratio = peaks[args.large] / peaks[args.small]
    print(f"ratio {args.large:,}/{args.small:,} records: {ratio:.2f}x (goal <= 1.3x)")


def walltime(args: argparse.Namespace, tmp: Path, server: Server) -> None:
    baseline = tmp / "baseline"
    subprocess.run(["git", "worktree", "add", "--detach", str(baseline), args.baseline], cwd=REPO, check=True,
                   capture_output=True)  # fmt: skip
    try:
        # The installed okapi maps okapi.quality etc. to this checkout's folders: give the worktree its own.
        for name in ("quality", "builders", "dataset_cards"):
            (baseline / "okapi" / name).symlink_to(baseline / name)
        env = {**os.environ, "PYTHONPATH": str(baseline)}
        source = synthetic(tmp / "src.jsonl", args.records)
        print(f"wall time of `okapi build instructions --langs vi`, {args.records:,} records, {args.note}")
        old, old_peak = run_build(source, tmp / "out-baseline", server.base_url, cwd=baseline, env=env)
        print(f"  baseline {args.baseline}: {old:6.1f} s, peak {old_peak:5.0f} MB, kept {kept(tmp / 'out-baseline'):,}",
              flush=True)  # fmt: skip
        new, new_peak = run_build(source, tmp / "out-new", server.base_url)
        print(f"  this checkout:    {new:6.1f} s, peak {new_peak:5.0f} MB, kept {kept(tmp / 'out-new'):,}")
        print(f"ratio this/baseline: {new / old:.2f}x (goal <= 0.5x)")
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(baseline)], cwd=REPO, capture_output=True)


def dedup(args: argparse.Namespace, tmp: Path, server: Server | None) -> None:
    from okapi.languages import get_language
    from okapi.quality import Duplicates
    from okapi.records import Example

    rng = random.Random(1)
    print("duplicates index (duplicates_v1) over distinct records, memory of this process")
    growth = {}
    for n in (args.small, args.large):
        index = Duplicates().start(get_language("vi"))
        before, start = psutil.Process().memory_info().rss, time.perf_counter()
        for i in range(n):
            text = " ".join(" ".join(rng.choices(WORDS, k=10)) + "." for _ in range(3))
            index.judge(Example(f"r{i}", {"instruction": text}))
        seconds = time.perf_counter() - start
        growth[n] = (psutil.Process().memory_info().rss - before) / 2**20
        index.close()
        print(f"  {n:>8,} records: +{growth[n]:5.1f} MB, {n / seconds:6.0f} records/s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["memory", "walltime", "dedup"])
    parser.add_argument("--small", type=int, default=20_000)
    parser.add_argument("--large", type=int, default=200_000)
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument(
        "--baseline", default="2c6cd07", help="commit to compare with (before sharded builds)"
    )
    parser.add_argument("--port", type=int, default=18931)
    args = parser.parse_args()
    args.note = f"zero-latency offline server, {os.cpu_count()} cores"
    if args.what == "dedup":
        return dedup(args, Path("."), None)
    with tempfile.TemporaryDirectory(prefix="okapi-scale-") as tmp:
        server = Server(args.port)
        try:
            (memory if args.what == "memory" else walltime)(args, Path(tmp), server)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
