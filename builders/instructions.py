"""`instructions`: Alpaca-style instructions translated per language (the paper's SFT data)."""

import pyarrow as pa

from okapi.builder import MESSAGES, Builder
from okapi.quality import LangId, Numbers, Refusal, Script, Untranslated
from okapi.records import Example
from okapi.sources import SourceSpec
from okapi.steps.translate import TranslateSettings


def sft_row(example: Example) -> dict:
    instruction, given, output = (example.fields[k] for k in ("instruction", "input", "output"))
    prompt = f"{instruction}\n\n{given}" if given.strip() else instruction
    return {
        "id": example.id,
        "instruction": instruction,
        "input": given,
        "output": output,
        "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": output}],
    }


BUILDER = Builder(
    name="instructions",
    pretty_name="Okapi multilingual instructions",
    summary="Alpaca-style instructions (instruction, input, output) translated from English.",
    source=SourceSpec(
        fields=("instruction", "input", "output"),
        required=("instruction", "output"),
        id_prefix="alpaca",
        blank_values=frozenset({"<noinput>", "<No input>", "<no input>", "N/A", "n/a", "None", "none"}),
    ),
    columns={
        "id": pa.string(),
        "instruction": pa.string(),
        "input": pa.string(),
        "output": pa.string(),
        "messages": MESSAGES,
    },
    to_row=sft_row,
    checks=(
        LangId(min_letters=15),
        Script(min_fraction=0.5),
        Refusal(),
        Untranslated(min_words=3),
        Numbers(min_fraction=1.0),
    ),
    translate=TranslateSettings(max_records_per_request=8, max_chars_per_request=2000, max_attempts=3),
)
