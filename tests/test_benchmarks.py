"""Benchmark items: the validator catches each defect type; the English readers; task file generation."""

import bz2
import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import REPO

from okapi.benchmarks import (
    ANSWER_CHANGED,
    DUPLICATE_OPTION,
    EMPTY_OPTION,
    OPTION_COUNT_CHANGED,
    OPTION_ORDER_CHANGED,
    validate_item,
)
from okapi.builders import get_builder
from okapi.builders.m_arc import SPEC
from okapi.records import Example
from okapi.sources import SourceError

ARC = get_builder("m_arc")
HELLASWAG = get_builder("m_hellaswag")
MMLU = get_builder("m_mmlu")

SOURCE = Example(
    "q1",
    {
        "instruction": "How far is 5 kilometers?",
        "option_a": "5000 meters",
        "option_b": "500 meters",
        "option_c": "Paris",
        "option_d": "London",
        "option_e": "",
    },
    meta={"answer": "A"},
)
GOOD = {
    "instruction": "5 km là bao xa?",
    "option_a": "5000 mét",
    "option_b": "500 mét",
    "option_c": "Pa-ri",
    "option_d": "Luân Đôn",
    "option_e": "",
}


def translated(**fields: str | None) -> Example:
    values = {**GOOD, **fields}
    return Example("q1", {k: v for k, v in values.items() if v is not None}, "vi", meta=dict(SOURCE.meta))


def test_a_faithful_translation_passes():
    assert validate_item(SPEC, SOURCE, translated()) is None
    # untranslated options (numbers, names kept as they are) are not defects
    assert validate_item(SPEC, SOURCE, translated(option_c="Paris", option_d="London")) is None
    assert validate_item(SPEC, SOURCE, translated(option_e=None)) is None  # no option E in English either


@pytest.mark.parametrize(
    ("item", "reason", "detail"),
    [
        (translated(option_d=None), OPTION_COUNT_CHANGED, "missing ['option_d']"),
        (translated(option_e="Berlin"), OPTION_COUNT_CHANGED, "added ['option_e']"),
        (replace(translated(), meta={"answer": "B"}), ANSWER_CHANGED, "'A' became 'B'"),
        (replace(translated(), meta={}), ANSWER_CHANGED, "'A' became None"),
        (translated(option_b="  "), EMPTY_OPTION, "option_b"),
        (translated(option_c="Luân Đôn "), DUPLICATE_OPTION, "option_c and option_d"),
        (translated(option_c="Luân Đôn."), DUPLICATE_OPTION, "option_c and option_d"),
        (translated(option_c="London", option_d="Paris"), OPTION_ORDER_CHANGED, "option_c holds the text"),
        (translated(option_a="500 mét", option_b="5000 mét"), OPTION_ORDER_CHANGED, "numbers of option_b"),
    ],
)
def test_each_defect_is_named(item, reason, detail):
    failure = validate_item(SPEC, SOURCE, item)
    assert failure is not None and failure.reason == reason
    assert detail in failure.detail


def test_duplicates_already_in_english_and_case_differences_are_allowed():
    # Real MMLU has two identical options; real ARC has 'Rr', 'rr' and 'RR' (different answers).
    source = replace(SOURCE, fields={**SOURCE.fields, "option_c": "Rr", "option_d": "rr", "option_e": "RR"})
    ok = translated(option_c="Rr", option_d="rr", option_e="RR")
    assert validate_item(SPEC, source, ok) is None
    same = replace(SOURCE, fields={**SOURCE.fields, "option_d": "Paris"})
    assert validate_item(SPEC, same, translated(option_d="Pa-ri")) is None


def test_digits_of_other_scripts_count_as_numbers():
    swapped = translated(option_a="५०० मीटर", option_b="५००० मीटर")  # Devanagari 500 / 5000
    assert validate_item(SPEC, SOURCE, swapped).reason == OPTION_ORDER_CHANGED
    assert validate_item(SPEC, SOURCE, translated(option_a="५००० मीटर", option_b="५०० मीटर")) is None


# -- readers


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def arc_row(i: int, labels: str = "ABCD", key: str = "B") -> dict:
    texts = [f"Answer {i}.{j}" for j in range(len(labels))]
    return {
        "id": f"arc-{i}",
        "question": f"Question {i}?",
        "choices": {"text": texts, "label": list(labels)},
        "answerKey": key,
    }


def test_arc_reader_maps_numeric_labels_and_3_to_5_options(tmp_path):
    path = write_jsonl(
        tmp_path / "ARC-test.jsonl",
        [
            arc_row(0),
            arc_row(1, "1234", "3"),
            arc_row(2, "ABC", "C"),
            arc_row(3, "ABCDE", "E"),
            arc_row(4, "ABC", "D"),
        ],
    )
    loaded = ARC.load(str(path), split="test")
    assert loaded.split == "test" and loaded.rows_read == 5
    items = {e.id: e for e in loaded.examples}
    assert items["arc-1"].meta == {"answer": "C"}  # label '3' is the third option
    assert items["arc-2"].fields["option_d"] == "" and items["arc-3"].fields["option_e"] == "Answer 3.4"
    assert [(r.id, r.reason) for r in loaded.rejects] == [("arc-4", "invalid_item")]
    assert "answer is 'D'; with 3 options it must be one of ['A', 'B', 'C']" in loaded.rejects[0].detail
    assert ARC.load(str(path), split="val").split == "validation"  # an alias


def test_reader_errors_name_file_line_and_field(tmp_path):
    bad = arc_row(1)
    bad["choices"]["text"] = "not a list"
    path = write_jsonl(tmp_path / "arc.jsonl", [arc_row(0), bad])
    with pytest.raises(SourceError, match=rf"{path}:2: field 'choices.text' must be a list of 1-5 strings"):
        ARC.load(str(path), split="test")
    path = write_jsonl(tmp_path / "dup.jsonl", [arc_row(0), arc_row(0)])
    with pytest.raises(SourceError, match=rf"{path}:2: id 'arc-0' was already used at {path}:1"):
        ARC.load(str(path), split="test")
    with pytest.raises(
        ValueError, match=r"m_arc builds one split at a time .* --split train \| validation \| test"
    ):
        ARC.load(str(path))
    with pytest.raises(SourceError, match="does not exist"):
        ARC.load(str(tmp_path / "missing.jsonl"), split="test")


def test_hellaswag_reads_jsonl_and_the_six_line_text_format(tmp_path):
    row = {
        "ind": 7,
        "activity_label": "Cooking",
        "ctx_a": "A man cuts onions.",
        "ctx_b": "he",
        "endings": ["a", "b", "c", "d"],
        "label": 2,
    }
    loaded = HELLASWAG.load(str(write_jsonl(tmp_path / "hs.jsonl", [row])))
    assert loaded.split == "val"  # its one split needs no --split
    item = loaded.examples[0]
    assert item.id == "7" and item.meta == {"ind": 7, "label": "2"} and item.fields["ctx_b"] == "he"
    text = "Cooking: A man cuts onions. he\n2\nslices.\neats.\nsleeps.\nsings.\n" * 2
    path = tmp_path / "hellaswag_val.txt.bz2"
    path.write_bytes(bz2.compress(text.encode()))
    items = HELLASWAG.load(str(path), split="validation").examples
    assert [i.id for i in items] == ["0", "1"]
    assert items[1].fields["ctx_a"] == "A man cuts onions. he" and items[1].fields["ending_3"] == "sings."
    (tmp_path / "short.txt").write_text("Cooking: ctx\n2\na\n")
    with pytest.raises(SourceError, match="3 lines; the text format has 6 per item"):
        HELLASWAG.load(str(tmp_path / "short.txt"))


def test_mmlu_reads_a_folder_of_split_folders_and_hub_style_rows(tmp_path):
    for split in ("dev", "test"):
        (tmp_path / "mmlu" / split).mkdir(parents=True)
        (tmp_path / "mmlu" / split / f"astronomy_{split}.csv").write_text(
            'What is the Sun?,A star,A planet,A moon,"A comet, icy",A\nHow many moons has Mars?,0,1,2,3,C\n'
        )
    loaded = MMLU.load(str(tmp_path / "mmlu"), split="dev")
    assert [e.id for e in loaded.examples] == ["astronomy-dev-0000", "astronomy-dev-0001"]
    assert loaded.examples[0].fields["option_d"] == "A comet, icy"
    assert loaded.examples[1].meta == {"answer": "C", "subject": "astronomy"}
    hub_rows = write_jsonl(
        tmp_path / "cais.jsonl",
        [{"question": "2+2?", "choices": ["3", "4", "5", "6"], "answer": 1, "subject": "math"}],
    )
    assert MMLU.load(str(hub_rows), split="validation").examples[0].meta == {"answer": "B", "subject": "math"}
    (tmp_path / "bad.csv").write_text("Only,four,columns,here\n")
    with pytest.raises(SourceError, match=rf"{tmp_path / 'bad.csv'}:1: expected 6 columns"):
        MMLU.load(str(tmp_path / "bad.csv"), split="test")


def test_benchmark_builders_are_registered_with_checks_and_one_item_per_request():
    for builder in (ARC, HELLASWAG, MMLU):
        assert builder.translate.max_records_per_request == 1 and builder.translate.validate_item
        names = [check.name for check in builder.checks]
        assert "lang_id_v3" in names and "backtranslation_v2" in names and "item_valid_v1" in names
        assert set(builder.checks_by_tier) == {"high", "medium", "low"}


# -- lm-eval task files


def test_committed_task_files_are_what_the_generator_writes(tmp_path):
    sys.path.insert(0, str(REPO / "scripts" / "lm_eval_tasks"))
    from generate import LANGUAGES, write_tasks

    tasks = write_tasks(tmp_path)
    assert len(tasks) == 78 and len(LANGUAGES) == 26
    committed = REPO / "scripts" / "lm_eval_tasks"
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    for relative in written:
        assert (committed / relative).read_text() == (tmp_path / relative).read_text(), (
            f"{relative} is stale: run python scripts/lm_eval_tasks/generate.py"
        )
    assert (tmp_path / "okapi_arc" / "okapi_arc_vi.yaml").read_text() == (
        "include: _okapi_arc_yaml\ntask: okapi_arc_vi\ndataset_name: vi\n"
    )
    with pytest.raises(ValueError, match="m_hellaswag has only its eval split"):
        write_tasks(tmp_path, {"m_hellaswag": "x"}, {"m_hellaswag": 10})
