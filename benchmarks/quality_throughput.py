"""Benchmark: throughput of the check suite without the LLM step, on one core, against langdetect alone.

Records are NTREX-128 pairs in all 26 Okapi languages, genuine and corrupted (as in
quality_filter.py). Timed in the same process pinned to one CPU:

- our suite: every check of the instructions builder for the language's tier, through
  `apply_checks` (per-record checks, then duplicates over the language); back-translation
  scores are null as no back-translation was produced
- the same with back-translation scoring (chrF + BLEU of an English text per record, as when a
  build back-translates; the English is the source sentence of another record)
- langdetect alone (seeded), one `detect` per record

    python benchmarks/quality_throughput.py            # 100 sentences × 6 variants × 26 languages
    python benchmarks/quality_throughput.py --n 50 --repeat 1
"""

from __future__ import annotations

import argparse
import os
import time

from quality_filter import make_cases
from quality_ntrex import FILE_CODES

from okapi.builders import get_builder
from okapi.languages import get_language
from okapi.quality import apply_checks
from okapi.records import Example


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100, help="sentences per language")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the fastest of each is kept")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    builder = get_builder("instructions")
    data = {code: make_cases(code, args.n) for code in sorted(FILE_CODES)}
    total = sum(len(cases) for cases in data.values())
    # warm up: load the identifiers' models once, outside the timings
    for code in data:
        apply_checks([data[code][0].translated], {data[code][0].translated.id: data[code][0].source},
                     get_language(code), builder.checks_for(get_language(code)))  # fmt: skip

    def suite(with_backtranslation: bool) -> float:
        start = time.perf_counter()
        for code, cases in data.items():
            lang = get_language(code)
            sources = {c.translated.id: c.source for c in cases}
            back = (
                {c.translated.id: Example(c.translated.id, {"text": c.oracle_back}) for c in cases}
                if with_backtranslation
                else None
            )
            apply_checks([c.translated for c in cases], sources, lang, builder.checks_for(lang), back)
        return time.perf_counter() - start

    def langdetect_alone() -> float:
        from langdetect import DetectorFactory, LangDetectException, detect

        DetectorFactory.seed = 0
        start = time.perf_counter()
        for cases in data.values():
            for case in cases:
                try:
                    detect(case.translated.fields["text"])
                except LangDetectException:
                    pass
        return time.perf_counter() - start

    print(f"{total:,} records (NTREX-128, {args.n} sentences × 6 variants × {len(data)} languages), one core")
    measures = {
        "our check suite (no back-translation)": lambda: suite(False),
        "our check suite + back-translation chrF/BLEU scoring": lambda: suite(True),
        "langdetect alone": langdetect_alone,
    }
    best = dict.fromkeys(measures, float("inf"))
    for _ in range(args.repeat):  # interleaved rounds, so a busy moment does not favour one method
        for name, measure in measures.items():
            best[name] = min(best[name], measure())
    for name, seconds in best.items():
        print(f"  {name:<55} {seconds:7.2f} s  {total / seconds:9,.0f} records/s  (fastest of {args.repeat})")


if __name__ == "__main__":
    main()
