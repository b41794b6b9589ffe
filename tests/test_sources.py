import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from okapi.builders.instructions import BUILDER
from okapi.sources import SourceError, load_source

SPEC = BUILDER.source


def test_json_array_errors_name_file_line_and_field(tmp_path):
    path = tmp_path / "alpaca.json"
    path.write_text(
        '[\n  {"instruction": "A", "input": "", "output": "B"},\n'
        '  {"instruction": "C",\n   "input": "",\n   "output": null}\n]\n'
    )
    with pytest.raises(SourceError, match=rf"{path}:3 \(item 1\): field 'output' is required but null"):
        load_source(str(path), SPEC)


def test_jsonl_errors_name_the_line(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"instruction": "A", "output": "B"}\n{"instruction": 3, "output": "B"}\n')
    with pytest.raises(SourceError, match=rf"{path}:2: field 'instruction' must be a string, got 3"):
        load_source(str(path), SPEC)
    path.write_text('{"instruction": "A", "output": "B"}\n{"instruction": "A", "output": \n')
    with pytest.raises(SourceError, match=rf"{path}:2: invalid JSON"):
        load_source(str(path), SPEC)
    path.write_text('{"instruction": "A"}\n')
    with pytest.raises(SourceError, match=rf"{path}:1: field 'output' is required but missing"):
        load_source(str(path), SPEC)


def test_duplicates_are_rejected_with_a_reason_and_blank_markers_emptied(tmp_path):
    rows = [
        {"instruction": "A", "input": "<noinput>", "output": "B"},
        {"instruction": "A", "input": "", "output": "B"},
        {"instruction": "C", "input": "N/A", "output": "D"},
    ]
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(rows))
    loaded = load_source(str(path), SPEC)
    assert [e.fields["instruction"] for e in loaded.examples] == ["A", "C"]
    assert all(e.fields["input"] == "" for e in loaded.examples)
    assert loaded.blanked == 2
    assert [(r.reason, r.detail) for r in loaded.rejects] == [
        ("duplicate_source", f"same text as {path}:1 (item 0)")
    ]
    assert loaded.examples[0].id.startswith("alpaca-")  # stable content id when the row has none


def test_parquet_source_limit_and_explicit_ids(tmp_path):
    path = tmp_path / "rows.parquet"
    table = pa.Table.from_pylist(
        [{"id": f"r{i}", "instruction": f"Q{i}", "input": None, "output": "A"} for i in range(5)]
    )
    pq.write_table(table, path)
    loaded = load_source(str(path), SPEC, limit=3)
    assert [e.id for e in loaded.examples] == ["r0", "r1", "r2"]
    assert loaded.examples[0].fields == {"instruction": "Q0", "input": "", "output": "A"}


def test_missing_file_and_unsupported_type(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        load_source(str(tmp_path / "nope.jsonl"), SPEC)
    (tmp_path / "rows.csv").write_text("a,b\n")
    with pytest.raises(SourceError, match="unsupported source type '.csv'"):
        load_source(str(tmp_path / "rows.csv"), SPEC)


def test_empty_required_fields_are_rejected_not_fatal_and_one_line_json_names_the_item(tmp_path):
    rows = [
        {"instruction": "A", "output": "B"},
        {"instruction": "C", "output": ""},
        {"instruction": "D", "output": "<noinput>"},
    ]
    path = tmp_path / "one_line.json"
    path.write_text(json.dumps(rows))  # a single line, like alpaca_data.json
    loaded = load_source(str(path), SPEC)
    assert [e.fields["instruction"] for e in loaded.examples] == ["A"]
    assert [(r.reason, r.detail) for r in loaded.rejects] == [
        ("empty_required_field", f"{path}:1 (item 1): required field(s) output empty"),
        ("empty_required_field", f"{path}:1 (item 2): required field(s) output empty"),
    ]


def test_a_dataset_folder_is_a_source(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    table = pa.Table.from_pylist([{"instruction": f"Q{i}", "input": "", "output": "A"} for i in range(4)])
    pq.write_table(table, folder / "train-00000-of-00001.parquet")
    loaded = load_source(str(folder), SPEC)
    assert [e.fields["instruction"] for e in loaded.examples] == ["Q0", "Q1", "Q2", "Q3"]
    assert loaded.rejects == []
