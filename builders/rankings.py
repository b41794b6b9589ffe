"""`rankings`: K responses per translated prompt, ranked by the two-turn method (reward data)."""

from functools import partial
from itertools import combinations

import pyarrow as pa

from okapi.builder import Builder
from okapi.prompts.respond import prompt_text
from okapi.quality import LangIdV3, Refusal, ScriptV2, UntranslatedV2
from okapi.records import Example
from okapi.sources import NO_INPUT_MARKERS, SourceSpec
from okapi.steps.rank import JudgeStep, RespondStep, response_fields
from okapi.steps.translate import TranslateSettings

PAIRS = ("all", "adjacent")  # all: every pair (K·(K-1)/2 rows per prompt); adjacent: rank r vs r+1


def preference_rows(record: Example, k: int, pairs: str) -> list[dict]:
    responses = [record.fields[name] for name in response_fields(k)]
    ranks = record.meta["ranks"]
    by_rank = sorted(range(k), key=lambda i: ranks[i])  # response indices, best first
    if pairs == "adjacent":
        chosen_rejected = list(zip(by_rank, by_rank[1:], strict=False))
    else:
        chosen_rejected = list(combinations(by_rank, 2))
    prompt = prompt_text(record.fields)
    return [
        {
            "id": f"{record.id}-{ranks[c]}v{ranks[r]}",
            "prompt_id": record.id,
            "instruction": record.fields["instruction"],
            "input": record.fields["input"],
            "prompt": prompt,
            "chosen": responses[c],
            "rejected": responses[r],
            "chosen_rank": ranks[c],
            "rejected_rank": ranks[r],
            "responses": responses,
            "ranks": ranks,
            "responder": ", ".join(dict.fromkeys(record.meta["responder"])),
            "response_models": record.meta["responder"],
            "judge": record.meta["judge"],
            "judge_raw": record.meta["judge_raw"],
        }
        for c, r in chosen_rejected
    ]


def make(responses: int = 4, pairs: str = "all", both_orders: bool = False) -> Builder:
    """`responses`: K samples per prompt; `pairs`: all | adjacent; `both_orders`: judge twice, keep agreement."""
    if responses < 2:
        raise ValueError(f"responses must be at least 2 to rank, got {responses}")
    if pairs not in PAIRS:
        raise ValueError(f"pairs must be one of {', '.join(PAIRS)}, got {pairs!r}")
    k = responses
    return Builder(
        name="rankings",
        pretty_name="Okapi multilingual response rankings",
        summary=(
            f"Prompts translated from English, {k} sampled responses each in the target language, "
            "ranked by a judge in English (the paper's two-turn method); trl-ready chosen/rejected pairs."
        ),
        source=SourceSpec(
            fields=("instruction", "input"),
            required=("instruction",),
            id_prefix="rank",
            blank_values=NO_INPUT_MARKERS,
        ),
        columns={
            "id": pa.string(),
            "prompt_id": pa.string(),
            "instruction": pa.string(),
            "input": pa.string(),
            "prompt": pa.string(),
            "chosen": pa.string(),
            "rejected": pa.string(),
            "chosen_rank": pa.int32(),
            "rejected_rank": pa.int32(),
            "responses": pa.list_(pa.string()),
            "ranks": pa.list_(pa.int32()),
            "responder": pa.string(),
            "response_models": pa.list_(pa.string()),
            "judge": pa.string(),
            "judge_raw": pa.string(),
        },
        to_row=partial(preference_rows, k=k, pairs=pairs),
        checks=(LangIdV3(min_letters=15), ScriptV2(min_fraction=0.5), Refusal(), UntranslatedV2(min_words=3)),
        translate=TranslateSettings(max_records_per_request=8, max_chars_per_request=2000, max_attempts=3),
        steps=(RespondStep(k=k, temperature=0.7, top_p=0.95), JudgeStep(k=k, both_orders=both_orders)),
        task_categories=("text-generation", "reinforcement-learning"),
        card_template="rankings.md.j2",
        options={"responses": k, "pairs": pairs, "both_orders": both_orders},
    )


BUILDER = make()
