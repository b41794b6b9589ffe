"""Benchmark: okapi's translation prompts vs a short per-record prompt, in tokens per record.

Nothing is sent. For the same records and target languages this builds the first-attempt requests of

  okapi     what okapi sends (the `instructions` builder's settings: up to 8 records' fields in one
            JSON object, its full system prompt with the rules, protected spans masked as ⟦i⟧,
            fields with nothing to translate left out);
  baseline  what a competent user would write instead: one request per record, its non-empty fields
            as one compact JSON object, under the short system prompt BASELINE_SYSTEM.

Printed per language and overall, per record: requests, prompt tokens (all messages), overhead
(prompt tokens minus the tokens of the source texts themselves) and the completion budget
(max_tokens: a cap, not what is billed; the baseline gets okapi's own rule, user-message tokens x
script expansion + 64 per request). Retries are not counted. Tokens are `okapi.llm.estimate_tokens`
(UTF-8 bytes / 4) on both sides, since no real tokenizer is available offline: read the ratios
rather than the absolute counts.

    python benchmarks/prompt_overhead.py                  # packaged sample, vi,hi,zh
    python benchmarks/prompt_overhead.py --source ../shared/data/alpaca/alpaca_5000.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from okapi.builders.instructions import BUILDER
from okapi.languages import Language, parse_languages
from okapi.llm import ChatRequest, estimate_tokens
from okapi.records import Example
from okapi.sources import load_source
from okapi.steps.translate import _DEFAULT_EXPANSION, _EXPANSION, translate_requests

SAMPLE = str(resources.files("okapi.offline") / "sample_en.jsonl")
BASELINE_SYSTEM = "Translate the user's JSON values into {name}. Reply with JSON with the same keys."


@dataclass
class Cost:
    requests: int = 0
    prompt: int = 0  # prompt tokens, every message
    budget: int = 0  # max_tokens

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.requests + other.requests, self.prompt + other.prompt, self.budget + other.budget)


def cost(requests: Sequence[ChatRequest]) -> Cost:
    prompt = sum(estimate_tokens(content) for r in requests for _, content in r.messages)
    return Cost(len(requests), prompt, sum(r.max_tokens or 0 for r in requests))


def baseline_requests(
    examples: Sequence[Example], lang: Language, fields: Sequence[str]
) -> list[ChatRequest]:
    """One request per record: its non-empty fields as compact JSON under a one-line system prompt."""
    system = BASELINE_SYSTEM.format(name=lang.name)
    expansion = _EXPANSION.get(lang.script, _DEFAULT_EXPANSION)
    requests = []
    for example in examples:
        user = json.dumps(
            {f: example.fields[f] for f in fields if example.fields[f].strip()}, ensure_ascii=False
        )
        max_tokens = int(estimate_tokens(user) * expansion) + 64
        requests.append(
            ChatRequest((("system", system), ("user", user)), max_tokens=max_tokens, json_output=True)
        )
    return requests


def row(label: str, okapi: Cost, base: Cost, records: int, text: int) -> str:
    def pair(a: float, b: float, ratio: bool = True) -> str:
        digits = 1 if ratio else 3
        return f"{a / records:>8.{digits}f}{b / records:>8.{digits}f}" + (f"{a / b:>7.2f}" if ratio else "")

    return (
        f"{label:<5}{pair(okapi.requests, base.requests, False)} |{pair(okapi.prompt, base.prompt)} |"
        f"{pair(okapi.prompt - text, base.prompt - text)} |{pair(okapi.budget, base.budget)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=SAMPLE, help="source file (default: the packaged sample)")
    parser.add_argument("--limit", type=int, help="use only the first N records (default: all)")
    parser.add_argument("--langs", default="vi,hi,zh", help="target languages (default vi,hi,zh)")
    args = parser.parse_args(argv)

    examples = load_source(args.source, BUILDER.source, limit=args.limit).examples
    fields = BUILDER.source.fields
    langs = parse_languages(args.langs)
    n = len(examples)
    text = sum(estimate_tokens(e.fields[f]) for e in examples for f in fields if e.fields[f].strip())
    settings = BUILDER.translate
    print(f"prompt_overhead: {n} records from {args.source}; fields {', '.join(fields)}")
    print(f"source text: {text / n:.1f} tokens/record; tokens = okapi.llm.estimate_tokens (UTF-8 bytes/4)")
    print(
        f"okapi: max {settings.max_records_per_request} records / {settings.max_chars_per_request} chars "
        "per request, its system prompt, masking"
    )
    print(f'baseline: one request per record, system "{BASELINE_SYSTEM}"')
    print()
    print(
        f"{'':<5}{'requests/rec':>16} |{'prompt tokens/rec':>23} |{'overhead/rec':>23} |{'max_tokens/rec':>23}"
    )
    columns = f"{'okapi':>8}{'base':>8}{'ratio':>7}"
    print(f"{'lang':<5}{'okapi':>8}{'base':>8} |{columns} |{columns} |{columns}")
    total_okapi, total_base = Cost(), Cost()
    for lang in langs:
        okapi = cost(translate_requests(examples, lang, fields, settings))
        base = cost(baseline_requests(examples, lang, fields))
        print(row(lang.code, okapi, base, n, text))
        total_okapi, total_base = total_okapi + okapi, total_base + base
    k = len(langs)
    print(row("all", total_okapi, total_base, n * k, text * k))

    prompt_ratio = total_okapi.prompt / total_base.prompt
    overhead_ratio = (total_okapi.prompt - text * k) / (total_base.prompt - text * k)
    budget_ratio = total_okapi.budget / total_base.budget
    more_or_less = "MORE" if prompt_ratio > 1 else "LESS"
    print()
    print(
        f"verdict: okapi's prompts cost {more_or_less} than the baseline: {prompt_ratio:.2f}x its prompt "
        f"tokens per record ({abs(prompt_ratio - 1):.0%} {more_or_less.lower()}), {overhead_ratio:.2f}x its "
        f"overhead beyond the text, {budget_ratio:.2f}x its completion budget, "
        f"{total_okapi.requests / total_base.requests:.2f}x its requests."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
