"""`m_hellaswag`: HellaSwag validation translated item by item, as lm-eval's okapi `hellaswag_<lang>` reads it."""

from functools import partial

import pyarrow as pa

from okapi.benchmarks import ItemSpec
from okapi.builder import Builder
from okapi.builders.m_common import BENCHMARK_LICENSE, checks_by_tier, quality_checks, translate_settings
from okapi.builders.m_sources import HELLASWAG_ENDINGS, hellaswag_item, read_items
from okapi.records import Example
from okapi.sources import SourceSpec

SPEC = ItemSpec(
    text_fields=("activity_label", "ctx_a", "ctx_b"),
    option_fields=HELLASWAG_ENDINGS,
    answer_key="label",
    answer_labels=("0", "1", "2", "3"),
)

# The activity label is a short title; endings are sentence completions judged like options
# (a lost final full stop is not a cut); the contexts are news-like sentences.
KINDS = (
    ("activity_label", "option"),
    ("ctx_a", "sentence"),
    ("ctx_b", "sentence"),
    *((name, "option") for name in HELLASWAG_ENDINGS),
)


def hellaswag_row(item: Example) -> dict:
    fields = item.fields
    # HellaSwag's own `ctx` is ctx_a and ctx_b joined by a space; lm-eval's task rebuilds it the same way.
    ctx = f"{fields['ctx_a']} {fields['ctx_b']}" if fields["ctx_b"] else fields["ctx_a"]
    return {
        "ind": item.meta["ind"],
        "activity_label": fields["activity_label"],
        "ctx_a": fields["ctx_a"],
        "ctx_b": fields["ctx_b"],
        "ctx": ctx,
        "endings": [fields[name] for name in HELLASWAG_ENDINGS],
        "label": item.meta["label"],  # a string: lm-eval's task reads it with label.lstrip()
    }


BUILDER = Builder(
    name="m_hellaswag",
    pretty_name="Okapi multilingual HellaSwag",
    summary=(
        "HellaSwag validation (commonsense sentence completion) translated from English, each context "
        "with its four endings in one request and validated as a unit."
    ),
    source=SourceSpec(fields=SPEC.translated, required=("ctx_a",), id_prefix="hellaswag"),
    columns={
        "ind": pa.int64(),
        "activity_label": pa.string(),
        "ctx_a": pa.string(),
        "ctx_b": pa.string(),
        "ctx": pa.string(),
        "endings": pa.list_(pa.string()),
        "label": pa.string(),
    },
    to_row=hellaswag_row,
    checks=quality_checks(SPEC, KINDS, min_bt_chrf=35.0),
    checks_by_tier=checks_by_tier(SPEC, KINDS),
    translate=translate_settings(SPEC),
    license=BENCHMARK_LICENSE,
    task_categories=("multiple-choice", "text-generation"),
    card_template="m_hellaswag.md.j2",
    source_splits=("val",),
    split_aliases={"validation": "val"},
    read_source=partial(
        read_items,
        spec=SPEC,
        suffixes=(".jsonl", ".json", ".parquet", ".txt", ".txt.bz2"),
        to_item=hellaswag_item,
    ),
)
