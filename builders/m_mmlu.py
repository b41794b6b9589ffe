"""`m_mmlu`: MMLU translated item by item, in the fields lm-eval's okapi `m_mmlu_<lang>` tasks read."""

import pyarrow as pa

from okapi.benchmarks import ItemSpec
from okapi.builder import Builder
from okapi.builders.m_common import (
    BENCHMARK_LICENSE,
    checks_by_tier,
    field_kinds,
    quality_checks,
    translate_settings,
)
from okapi.builders.m_sources import MMLU_OPTIONS, MmluItems, read_items
from okapi.records import Example
from okapi.sources import LoadedSource, SourceSpec

SPEC = ItemSpec(
    text_fields=("instruction",), option_fields=MMLU_OPTIONS, answer_key="answer", answer_labels=tuple("ABCD")
)

KINDS = field_kinds(SPEC)


def read_mmlu(source: str, split: str, limit: int | None) -> LoadedSource:
    # A fresh converter per read: ids count each subject's rows from 0.
    return read_items(source, split, limit, SPEC, (".csv", ".jsonl", ".json", ".parquet"), MmluItems())


def mmlu_row(item: Example) -> dict:
    options = {name: item.fields[name] for name in MMLU_OPTIONS}
    return {
        "id": item.id,
        "instruction": item.fields["instruction"],
        **options,
        "answer": item.meta["answer"],
        "subject": item.meta["subject"],
    }


BUILDER = Builder(
    name="m_mmlu",
    pretty_name="Okapi multilingual MMLU",
    summary=(
        "MMLU (57 subjects) translated from English, each question with its four options in one "
        "request and validated as a unit."
    ),
    source=SourceSpec(fields=SPEC.translated, required=("instruction",), id_prefix="mmlu"),
    columns={
        "id": pa.string(),
        "instruction": pa.string(),
        **dict.fromkeys(MMLU_OPTIONS, pa.string()),
        "answer": pa.string(),
        "subject": pa.string(),
    },
    to_row=mmlu_row,
    checks=quality_checks(SPEC, KINDS, min_bt_chrf=35.0),
    checks_by_tier=checks_by_tier(SPEC, KINDS),
    translate=translate_settings(SPEC),
    license=BENCHMARK_LICENSE,
    task_categories=("multiple-choice", "question-answering"),
    card_template="m_mmlu.md.j2",
    source_splits=("dev", "val", "test"),
    split_aliases={"validation": "val"},
    read_source=read_mmlu,
)
