"""ROUGE-L novelty filter (Self-Instruct dedup): fast filter vs Alpaca's all-pairs loop.

Candidates: the 5,000 real Alpaca instructions (../shared/data/alpaca/alpaca_5000.json, or the
bundled sample and seed tasks when absent) plus synthetic near-duplicates (a word swapped,
dropped or added), 20,000 in all by default. The naive loop runs on a subset in the same run;
the kept sets must be identical there.

    python benchmarks/rouge_dedup.py [--candidates 20000] [--subset 2000]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from okapi.selfinstruct.rouge import RougeNoveltyFilter, naive_novelty_filter

REPO = Path(__file__).resolve().parent.parent
ALPACA = REPO.parent / "shared" / "data" / "alpaca" / "alpaca_5000.json"
FILLERS = "briefly clearly new short detailed simple quickly own two three famous common".split()


def candidates(n: int, seed: int = 0) -> list[str]:
    if ALPACA.exists():
        base = [row["instruction"] for row in json.loads(ALPACA.read_text(encoding="utf-8"))]
    else:
        print(f"NOTE: {ALPACA} not found; using okapi's bundled sample and seed tasks")
        lines = (REPO / "okapi" / "offline" / "sample_en.jsonl").read_text().splitlines()
        base = [json.loads(line)["instruction"] for line in lines]
    rng = random.Random(seed)
    out = list(base)
    while len(out) < n:
        words = rng.choice(base).split()
        i = rng.randrange(len(words))
        action = rng.randrange(3)
        if action == 0:
            words[i] = rng.choice(FILLERS)
        elif action == 1 and len(words) > 3:
            del words[i]
        else:
            words.insert(i, rng.choice(FILLERS))
        out.append(" ".join(words))
    rng.shuffle(out)
    return out[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=20_000)
    parser.add_argument("--subset", type=int, default=2_000, help="size for the naive loop")
    parser.add_argument("--threshold", type=float, default=0.7)
    args = parser.parse_args()
    texts = candidates(args.candidates)
    subset = texts[: args.subset]

    start = time.perf_counter()
    naive = naive_novelty_filter(subset, args.threshold)
    naive_s = time.perf_counter() - start
    start = time.perf_counter()
    fast_subset = RougeNoveltyFilter(args.threshold).extend(subset)
    fast_subset_s = time.perf_counter() - start
    start = time.perf_counter()
    full = RougeNoveltyFilter(args.threshold)
    kept = sum(full.extend(texts))
    full_s = time.perf_counter() - start

    print(f"candidates {len(texts)}, threshold {args.threshold}")
    print(f"subset {len(subset)}: naive all-pairs {naive_s:.2f} s, fast {fast_subset_s:.3f} s, "
          f"ratio {naive_s / fast_subset_s:.1f}x, kept sets identical: {naive == fast_subset} "
          f"({sum(naive)} kept)")  # fmt: skip
    pairs = kept * len(texts) / 2
    print(f"full {len(texts)}: fast {full_s:.2f} s ({len(texts) / full_s:.0f} candidates/s), kept {kept}, "
          f"exact LCS computed for {full.comparisons} pairs (all-pairs would be ~{pairs:.0f})")  # fmt: skip
    print(f"naive at full size (quadratic extrapolation): ~{naive_s * (len(texts) / len(subset)) ** 2:.0f} s")


if __name__ == "__main__":
    main()
