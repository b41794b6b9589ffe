"""`rankings`: K responses per translated prompt, ranked by the two-turn method (reward data)."""

from functools import partial
from itertools import combinations

import pyarrow as pa

from okapi.builder import Builder
from okapi.prompts.respond import prompt_text
from okapi.quality import LangId, Refusal, Script, Untranslated
from okapi.records import Example
from okapi.sources import NO_INPUT_MARKERS, SourceSpec
from okapi.steps.rank import JudgeStep, RespondStep, response_fields
from okapi.steps.translate import TranslateSettings

K = 4
PAIRS = "all"  # "all": every ordered pair (K·(K-1)/2 rows per prompt); "adjacent": rank r vs r+1


def preference_rows(record: Example, pairs: str) -> list[dict]:
    responses = [record.fields[name] for name in response_fields(K)]
    ranks = record.meta["ranks"]
    by_rank = sorted(range(K), key=lambda i: ranks[i])  # response indices, best first
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


BUILDER = Builder(
    name="rankings",
    pretty_name="Okapi multilingual response rankings",
    summary=(
        f"Prompts translated from English, {K} sampled responses each in the target language, "
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
    to_row=partial(preference_rows, pairs=PAIRS),
    checks=(LangId(min_letters=15), Script(min_fraction=0.5), Refusal(), Untranslated(min_words=3)),
    translate=TranslateSettings(max_records_per_request=8, max_chars_per_request=2000, max_attempts=3),
    steps=(RespondStep(k=K, temperature=0.7, top_p=0.95), JudgeStep(k=K, both_orders=False)),
    task_categories=("text-generation", "reinforcement-learning"),
    card_template="rankings.md.j2",
)
