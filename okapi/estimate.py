"""What a build will cost before anything is sent: requests, tokens and dollars per language."""

from __future__ import annotations

from dataclasses import dataclass, replace

from okapi.builder import Builder
from okapi.languages import Language
from okapi.llm import ChatRequest, LLMClient, RunConfig, estimate_tokens
from okapi.records import Example
from okapi.steps.backtranslate import backtranslate_requests
from okapi.steps.translate import translate_requests


@dataclass
class EstimateRow:
    lang: str
    role: str
    requests: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


def planned_requests(
    builder: Builder,
    examples: list[Example],
    lang: Language,
    config: RunConfig,
    backtranslate_role: str | None = None,
) -> list[tuple[str, ChatRequest]]:
    """(role, request) for every first attempt of a build; English text stands in for translations."""
    fields = builder.source.fields
    planned = [
        (builder.translate.role, r) for r in translate_requests(examples, lang, fields, builder.translate)
    ]
    if backtranslate_role:
        settings = replace(builder.translate, role=backtranslate_role)
        stand_ins = [replace(e, lang=lang.code) for e in examples]
        planned += [
            (backtranslate_role, r) for r in backtranslate_requests(stand_ins, lang, fields, settings)
        ]
    for step in builder.steps:
        planned += step.planned_requests(examples, lang, config)
    return planned


def estimate(
    builder: Builder,
    examples: list[Example],
    langs: list[Language],
    client: LLMClient,
    backtranslate_role: str | None = None,
) -> list[EstimateRow]:
    """First-attempt requests per language and role; cached ones cost nothing. No retries."""
    rows = []
    for lang in langs:
        by_role: dict[str, EstimateRow] = {}
        for role, request in planned_requests(builder, examples, lang, client.config, backtranslate_role):
            row = by_role.setdefault(role, EstimateRow(lang.code, role))
            row.requests += 1
            if client.is_cached(role, request):
                row.cached += 1
                continue
            prompt = estimate_tokens("".join(content for _, content in request.messages))
            # max_tokens is a ceiling at about twice the expected output
            completion = (request.max_tokens or 2 * prompt) // 2
            row.prompt_tokens += prompt
            row.completion_tokens += completion
            row.cost_usd += client.config.role(role).cost(prompt, completion)
        rows.extend(by_role.values())
    return rows


def format_estimate(rows: list[EstimateRow], models: dict[str, str], unpriced: set[str] = frozenset()) -> str:
    """A table per language and role; roles in `unpriced` (no price configured) cost `?`, not $0."""
    header = f"{'lang':<6}{'role':<12}{'requests':>10}{'cached':>8}{'prompt tok':>12}{'output tok':>12}{'cost USD':>11}"
    lines = [header]
    total = EstimateRow("total", "")
    for r in rows:
        cost = "?" if r.role in unpriced else f"{r.cost_usd:.4f}"
        lines.append(
            f"{r.lang:<6}{r.role:<12}{r.requests:>10}{r.cached:>8}{r.prompt_tokens:>12}"
            f"{r.completion_tokens:>12}{cost:>11}"
        )
        for name in ("requests", "cached", "prompt_tokens", "completion_tokens", "cost_usd"):
            setattr(total, name, getattr(total, name) + getattr(r, name))
    cost = "unknown" if unpriced & {r.role for r in rows} else f"{total.cost_usd:.4f}"
    lines.append(
        f"{total.lang:<18}{total.requests:>10}{total.cached:>8}{total.prompt_tokens:>12}"
        f"{total.completion_tokens:>12}{cost:>11}"
    )
    lines.append(
        "models: "
        + ", ".join(f"{role}={model}" for role, model in sorted(models.items()))
        + "; tokens estimated at ~4 UTF-8 bytes per token, English text standing in for translations"
        " and generated responses; retries not included; prices come from the run config"
        " ([default] price_input_per_mtok, price_output_per_mtok)"
    )
    missing = sorted(unpriced & {r.role for r in rows})
    if missing:
        lines.append(
            f"price unknown for {', '.join(missing)}: no price is configured, so the cost is not $0 but "
            "unknown; set price_input_per_mtok and price_output_per_mtok (USD per million tokens) in "
            "the run config's [default] or [roles.<role>] table"
        )
    return "\n".join(lines)
