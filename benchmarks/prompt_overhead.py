"""Benchmark: prompt tokens okapi spends per translated record beyond the text itself.

For every source record, the text to translate costs what it costs; everything else in the
prompt (system prompt with the rules, JSON keys and punctuation) is overhead. This script counts,
without sending anything, the prompt tokens of the first-attempt requests for:

  (a) okapi's batched requests: the `instructions` builder's TranslateSettings (several records'
      fields in one JSON object, one system prompt per request);
  (b) a naive baseline: one request per non-empty field (TranslateSettings(max_records_per_request=1)
      with fields=(field,) for each field separately).

Tokens are `okapi.llm.estimate_tokens` (about UTF-8 bytes / 4) summed over every message of every
request; text tokens are the same estimate over the source field texts. Printed: requests,
prompt tokens, overhead tokens per record for (a) and (b), and the ratio (a)/(b).
Goal: (a)'s overhead per record is a small fraction of (b)'s (ratio well below 1).

Source: /work/shared/data/alpaca/alpaca_5000.json (../shared/data/alpaca/alpaca_5000.json from
the repo root) when present, else the packaged okapi/offline/sample_en.jsonl (a note is printed).

    python benchmarks/prompt_overhead.py                    # all 5000 records, vi
    python benchmarks/prompt_overhead.py --langs vi,hi,zh --limit 1000
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

from okapi.builders.instructions import BUILDER
from okapi.languages import parse_languages
from okapi.llm import estimate_tokens
from okapi.sources import load_source
from okapi.steps.translate import TranslateSettings, translate_requests

REPO = Path(__file__).resolve().parent.parent
ALPACA = REPO.parent / "shared" / "data" / "alpaca" / "alpaca_5000.json"


def prompt_tokens(requests) -> int:
    return sum(estimate_tokens(content) for r in requests for _, content in r.messages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", help=f"source file (default {ALPACA} if present, else the sample)")
    parser.add_argument("--limit", type=int, help="use only the first N records (default: all)")
    parser.add_argument("--langs", default="vi", help="target languages, e.g. vi,fr,hi (default vi)")
    args = parser.parse_args(argv)

    if args.source:
        source = args.source
    elif ALPACA.exists():
        source = str(ALPACA)
    else:
        source = str(resources.files("okapi.offline") / "sample_en.jsonl")
        print(f"NOTE: {ALPACA} not found; using the packaged sample {source}")
    loaded = load_source(source, BUILDER.source, limit=args.limit)
    examples = loaded.examples
    fields = BUILDER.source.fields
    langs = parse_languages(args.langs)
    batched = BUILDER.translate
    single = TranslateSettings(
        max_records_per_request=1,
        max_chars_per_request=batched.max_chars_per_request,
        max_attempts=batched.max_attempts,
        role=batched.role,
    )

    n = len(examples)
    text_tokens = sum(estimate_tokens(e.fields[f]) for e in examples for f in fields if e.fields[f].strip())
    non_empty = {f: [e for e in examples if e.fields[f].strip()] for f in fields}
    print(
        f"prompt_overhead: {n} records from {source}; fields {', '.join(fields)} "
        f"(non-empty: {', '.join(f'{f}={len(v)}' for f, v in non_empty.items())}); "
        f"text tokens {text_tokens} ({text_tokens / n:.1f}/record)"
    )
    print(
        f"(a) batched: max_records_per_request={batched.max_records_per_request}, "
        f"max_chars_per_request={batched.max_chars_per_request}; (b) one request per non-empty field"
    )
    print()
    header = f"{'lang':<5}{'req (a)':>9}{'req (b)':>9}{'prompt (a)':>12}{'prompt (b)':>12}"
    header += f"{'ovh/rec (a)':>13}{'ovh/rec (b)':>13}{'(a)/(b)':>9}"
    print(header)
    totals = {"ra": 0, "rb": 0, "pa": 0, "pb": 0}
    for lang in langs:
        req_a = translate_requests(examples, lang, fields, batched)
        req_b = [
            request
            for field in fields
            for request in translate_requests(non_empty[field], lang, (field,), single)
        ]
        pa, pb = prompt_tokens(req_a), prompt_tokens(req_b)
        over_a, over_b = (pa - text_tokens) / n, (pb - text_tokens) / n
        print(
            f"{lang.code:<5}{len(req_a):>9}{len(req_b):>9}{pa:>12}{pb:>12}"
            f"{over_a:>13.1f}{over_b:>13.1f}{over_a / over_b:>9.3f}"
        )
        totals["ra"] += len(req_a)
        totals["rb"] += len(req_b)
        totals["pa"] += pa
        totals["pb"] += pb

    k = len(langs)
    over_a = (totals["pa"] - k * text_tokens) / (n * k)
    over_b = (totals["pb"] - k * text_tokens) / (n * k)
    print()
    print(f"requests:                       (a) {totals['ra']}   (b) {totals['rb']}")
    print(f"prompt tokens:                  (a) {totals['pa']}   (b) {totals['pb']}")
    print(f"text tokens per record:         {text_tokens / n:.1f}")
    print(f"overhead tokens per record:     (a) {over_a:.1f}   (b) {over_b:.1f}   (per record per language)")
    print(f"overhead ratio (a)/(b):         {over_a / over_b:.3f}")
    print(f"prompt tokens ratio (a)/(b):    {totals['pa'] / totals['pb']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
