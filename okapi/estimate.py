"""What a build will cost before anything is sent: requests, tokens and dollars per language."""

from __future__ import annotations

from dataclasses import dataclass

from okapi.builder import Builder
from okapi.languages import Language
from okapi.llm import LLMClient, estimate_tokens
from okapi.records import Example
from okapi.steps.translate import translate_requests


@dataclass
class EstimateRow:
    lang: str
    requests: int
    cached: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


def estimate(
    builder: Builder, examples: list[Example], langs: list[Language], client: LLMClient
) -> list[EstimateRow]:
    """First-attempt requests per language; cached ones cost nothing. Retries are not included."""
    role = builder.translate.role
    config = client.config.role(role)
    rows = []
    for lang in langs:
        row = EstimateRow(lang.code, 0, 0, 0, 0, 0.0)
        for request in translate_requests(examples, lang, builder.source.fields, builder.translate):
            row.requests += 1
            if client.is_cached(role, request):
                row.cached += 1
                continue
            prompt = estimate_tokens("".join(content for _, content in request.messages))
            # max_tokens is a ceiling at about twice the expected output
            completion = (request.max_tokens or 2 * prompt) // 2
            row.prompt_tokens += prompt
            row.completion_tokens += completion
            row.cost_usd += config.cost(prompt, completion)
        rows.append(row)
    return rows


def format_estimate(rows: list[EstimateRow], model: str) -> str:
    lines = [f"{'lang':<6}{'requests':>10}{'cached':>8}{'prompt tok':>12}{'output tok':>12}{'cost USD':>11}"]
    for r in rows:
        lines.append(
            f"{r.lang:<6}{r.requests:>10}{r.cached:>8}{r.prompt_tokens:>12}{r.completion_tokens:>12}{r.cost_usd:>11.4f}"
        )
    total = EstimateRow(
        "total",
        sum(r.requests for r in rows),
        sum(r.cached for r in rows),
        sum(r.prompt_tokens for r in rows),
        sum(r.completion_tokens for r in rows),
        sum(r.cost_usd for r in rows),
    )
    lines.append(
        f"{total.lang:<6}{total.requests:>10}{total.cached:>8}{total.prompt_tokens:>12}"
        f"{total.completion_tokens:>12}{total.cost_usd:>11.4f}"
    )
    lines.append(
        f"model {model}; tokens estimated at ~4 UTF-8 bytes per token; retries not included; "
        "set prices in the run config ([default] price_input_per_mtok, price_output_per_mtok)"
    )
    return "\n".join(lines)
