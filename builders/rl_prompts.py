"""`rl-prompts`: translated prompts for the RL stage (PPO)."""

import pyarrow as pa

from okapi.builder import Builder
from okapi.prompts.respond import prompt_text
from okapi.quality import LangIdV3, Refusal, ScriptV2, UntranslatedV2
from okapi.records import Example
from okapi.sources import NO_INPUT_MARKERS, SourceSpec


def prompt_row(record: Example) -> dict:
    return {
        "id": record.id,
        "instruction": record.fields["instruction"],
        "input": record.fields["input"],
        "prompt": prompt_text(record.fields),
    }


BUILDER = Builder(
    name="rl-prompts",
    pretty_name="Okapi multilingual RL prompts",
    summary="Prompts translated from English for reinforcement learning from a reward model.",
    source=SourceSpec(
        fields=("instruction", "input"),
        required=("instruction",),
        id_prefix="rl",
        blank_values=NO_INPUT_MARKERS,
    ),
    columns={"id": pa.string(), "instruction": pa.string(), "input": pa.string(), "prompt": pa.string()},
    to_row=prompt_row,
    checks=(LangIdV3(min_letters=15), ScriptV2(min_fraction=0.5), Refusal(), UntranslatedV2(min_words=3)),
    task_categories=("text-generation", "reinforcement-learning"),
    card_template="rl-prompts.md.j2",
)
