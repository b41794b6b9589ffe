"""`instructions`: Alpaca-style instructions translated per language (the paper's SFT data)."""

import pyarrow as pa

from okapi.builder import MESSAGES, Builder
from okapi.quality import (
    BackTranslationScoreV2,
    Chatter,
    Duplicates,
    EndingV2,
    LangIdV3,
    LengthRatioV2,
    NumbersV3,
    Preserved,
    Refusal,
    ScriptV2,
    UntranslatedV2,
)
from okapi.records import Example
from okapi.sources import NO_INPUT_MARKERS, SourceSpec
from okapi.steps.translate import TranslateSettings

FIELDS = ("instruction", "input", "output")
# Kinds of field for the length and ending rules (calibrated per kind: quality/calibration.py).
KINDS = (("instruction", "instruction"), ("input", "sentence"), ("output", "answer"))


def quality_checks(*, min_length_z: float, max_length_z: float, min_bt_chrf: float) -> tuple:
    """The checks of one tier. Thresholds measured on NTREX-128: benchmarks/quality_filter.py."""
    return (
        LangIdV3(min_letters=15),
        ScriptV2(min_fraction=0.5),
        Refusal(),
        Chatter(),
        UntranslatedV2(min_words=3, max_copied_share=0.8),
        NumbersV3(min_fraction=1.0, min_digits=2, may_spell_out=99),
        Preserved(min_fraction=1.0),
        EndingV2(kinds=KINDS, max_z_open=-1.0),
        LengthRatioV2(kinds=KINDS, min_z=min_length_z, max_z=max_length_z),
        # scored when the build back-translates; each field of 20+ characters on its own too
        BackTranslationScoreV2(FIELDS, min_chrf=min_bt_chrf, min_field_chrf=min_bt_chrf - 10),
        Duplicates(max_similarity=0.9),
    )


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
        fields=FIELDS,
        required=("instruction", "output"),
        id_prefix="alpaca",
        blank_values=NO_INPUT_MARKERS,
    ),
    columns={
        "id": pa.string(),
        "instruction": pa.string(),
        "input": pa.string(),
        "output": pa.string(),
        "messages": MESSAGES,
    },
    to_row=sft_row,
    checks=quality_checks(min_length_z=-3.25, max_length_z=3.5, min_bt_chrf=35.0),
    checks_by_tier={
        "high": quality_checks(min_length_z=-3.25, max_length_z=3.5, min_bt_chrf=40.0),
        "medium": quality_checks(min_length_z=-3.25, max_length_z=3.5, min_bt_chrf=35.0),
        "low": quality_checks(min_length_z=-3.25, max_length_z=3.5, min_bt_chrf=30.0),
    },
    translate=TranslateSettings(max_records_per_request=8, max_chars_per_request=2000, max_attempts=3),
)
