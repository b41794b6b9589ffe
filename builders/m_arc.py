"""`m_arc`: ARC-Challenge translated item by item, in the fields lm-eval's okapi `arc_<lang>` tasks read."""

from functools import partial

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
from okapi.builders.m_sources import ARC_OPTIONS, arc_item, read_items
from okapi.records import Example
from okapi.sources import SourceSpec

SPEC = ItemSpec(
    text_fields=("instruction",), option_fields=ARC_OPTIONS, answer_key="answer", answer_labels=tuple("ABCDE")
)

KINDS = field_kinds(SPEC)


def arc_row(item: Example) -> dict:
    options = {name: item.fields[name] or None for name in ARC_OPTIONS}  # None: the item has fewer
    return {
        "id": item.id,
        "instruction": item.fields["instruction"],
        **options,
        "answer": item.meta["answer"],
    }


BUILDER = Builder(
    name="m_arc",
    pretty_name="Okapi multilingual ARC-Challenge",
    summary=(
        "ARC-Challenge science questions translated from English, each question with all its options "
        "in one request and validated as a unit."
    ),
    source=SourceSpec(fields=SPEC.translated, required=("instruction",), id_prefix="arc"),
    columns={
        "id": pa.string(),
        "instruction": pa.string(),
        **dict.fromkeys(ARC_OPTIONS, pa.string()),
        "answer": pa.string(),
    },
    to_row=arc_row,
    checks=quality_checks(SPEC, KINDS, min_bt_chrf=35.0),
    checks_by_tier=checks_by_tier(SPEC, KINDS),
    translate=translate_settings(SPEC),
    license=BENCHMARK_LICENSE,
    task_categories=("multiple-choice", "question-answering"),
    card_template="m_arc.md.j2",
    source_splits=("train", "validation", "test"),
    split_aliases={"val": "validation"},
    read_source=partial(read_items, spec=SPEC, suffixes=(".jsonl", ".json", ".parquet"), to_item=arc_item),
)
