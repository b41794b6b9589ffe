"""Readers of the English ARC, HellaSwag and MMLU files into items (see okapi/benchmarks.py) for one split.

    ARC        .jsonl/.json/.parquet rows or a Hub id ('allenai/ai2_arc:ARC-Challenge'):
               id, question, choices {text, label}, answerKey (labels A-E or 1-5)
    HellaSwag  rows with activity_label, ctx (or ctx_a/ctx_b), endings, label, ind (or row),
               or the 6-lines-per-item text format (.txt, .txt.bz2): 'label: ctx', gold, 4 endings
    MMLU       per-subject CSVs without header (question,A,B,C,D,answer), a folder of them (or of
               <split>/ folders), or rows with question, choices, answer (index or letter), subject

A file or folder holds one split; the build names it (`--split`). A malformed row stops the read
with file, line and field; an item that is well formed but unusable (answer key not among its
options, fewer than 2 options) is rejected with reason `invalid_item` and counted.
"""

from __future__ import annotations

import bz2
import csv
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from okapi.benchmarks import ItemSpec, check_source_item
from okapi.records import Example, Reject
from okapi.sources import LoadedSource, SourceError, file_rows

LETTERS = "ABCDE"
ARC_OPTIONS = tuple(f"option_{c}" for c in "abcde")
MMLU_OPTIONS = ARC_OPTIONS[:4]
HELLASWAG_ENDINGS = tuple(f"ending_{i}" for i in range(4))
_HUB_SPLIT = {"val": "validation"}  # our split name → the name English sets use on the Hub

Row = tuple[str, Any]  # (where: 'file:line', row)
ToItem = Callable[[str, Any, str], Example]  # (where, row, split) → item


def _hub_rows(source: str, split: str) -> Iterator[Row]:
    import datasets

    repo, _, config = source.partition(":")
    hub_split = _HUB_SPLIT.get(split, split)
    try:
        data = datasets.load_dataset(repo, config or None, split=hub_split)
    except (FileNotFoundError, ValueError, ConnectionError) as exc:
        raise SourceError(
            f"{source!r} is not a file or folder here and could not be loaded from the Hub "
            f"(split {hub_split!r}; name a config as 'org/name:config'): {exc}"
        ) from None
    for number, row in enumerate(data):
        yield f"{source}[{hub_split}] row {number}", row


def _csv_rows(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        for row in reader:
            if row:
                yield f"{path}:{reader.line_num}", row


def _hellaswag_text_rows(path: Path) -> Iterator[Row]:
    """The text layout: 'activity_label: ctx', the gold index, then the 4 endings."""
    opener = bz2.open if path.suffix == ".bz2" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) % 6:
        raise SourceError(
            f"{path}: {len(lines)} lines; the text format has 6 per item (context, label, 4 endings)"
        )
    for start in range(0, len(lines), 6):
        head, label, *endings = lines[start : start + 6]
        activity, sep, ctx = head.partition(": ")
        if not sep:
            raise SourceError(f"{path}:{start + 1}: expected 'activity label: context', got {head[:60]!r}")
        where = f"{path}:{start + 1}"
        yield (
            where,
            {"ind": start // 6, "activity_label": activity, "ctx": ctx, "endings": endings, "label": label},
        )


def _path_rows(path: Path) -> Iterator[Row]:
    name = path.name.lower()
    if name.endswith(".csv"):
        yield from _csv_rows(path)
    elif name.endswith((".txt", ".txt.bz2")):
        yield from _hellaswag_text_rows(path)
    else:
        yield from file_rows(path)


_SPLIT_FOLDERS = {"train", "validation", "val", "dev", "test"}


def _folder_files(folder: Path, split: str, suffixes: tuple[str, ...]) -> list[Path]:
    """The files of one split: `<folder>/<split>/` if there is one, else the folder's own files."""
    for name in (split, _HUB_SPLIT.get(split, split)):
        if (folder / name).is_dir():
            folder = folder / name
            break
    else:
        splits = sorted(d.name for d in folder.iterdir() if d.is_dir() and d.name in _SPLIT_FOLDERS)
        if splits:  # a folder of split folders without this one: its loose files are not items
            raise SourceError(
                f"{folder}: no {split}/ folder (it has {', '.join(s + '/' for s in splits)}); give --split one of those, "
                f"or add the {split} files"
            )
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(suffixes))
    if not files:
        raise SourceError(f"{folder}: no {'/'.join(suffixes)} files (nor a {split}/ folder holding them)")
    return files


def source_rows(source: str, split: str, suffixes: tuple[str, ...]) -> Iterator[Row]:
    path = Path(source)
    if path.is_dir():
        for file in _folder_files(path, split, suffixes):
            yield from _path_rows(file)
    elif path.is_file():
        yield from _path_rows(path)
    elif "/" in source.strip("/") and not source.lower().endswith(suffixes):
        yield from _hub_rows(source, split)
    else:
        raise SourceError(
            f"source {source!r} does not exist (give a file, a folder or a Hub id like 'org/name')"
        )


def read_items(
    source: str, split: str, limit: int | None, spec: ItemSpec, suffixes: tuple[str, ...], to_item: ToItem
) -> LoadedSource:
    loaded = LoadedSource([], [], 0, 0, source, split)
    seen: dict[str, str] = {}
    for where, row in source_rows(source, split, suffixes):
        if limit is not None and len(loaded.examples) >= limit:
            break
        loaded.rows_read += 1
        item = to_item(where, row, split)
        if item.id in seen:
            raise SourceError(f"{where}: id {item.id!r} was already used at {seen[item.id]}")
        seen[item.id] = where
        problem = check_source_item(spec, item)
        if problem:
            loaded.rejects.append(Reject(item.id, "en", "invalid_item", f"{where}: {problem}", item.fields))
            continue
        loaded.examples.append(item)
    if not loaded.examples:
        raise SourceError(f"{source}: no items to build from (split {split!r})")
    return loaded


# -- field access that names the row and field when the type is wrong


def _object(where: str, row: Any, fields: str) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise SourceError(f"{where}: expected an object with {fields}, got {type(row).__name__}")
    return row


def _text(where: str, row: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = row.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        got = "missing" if name not in row else json.dumps(value, ensure_ascii=False)[:60]
        raise SourceError(f"{where}: field {name!r} must be a string, got {got}")
    return value


def _texts(where: str, value: Any, name: str, count: range) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or len(value) not in count:
        got = json.dumps(value, ensure_ascii=False)[:80]
        raise SourceError(
            f"{where}: field {name!r} must be a list of {count.start}-{count.stop - 1} strings, got {got}"
        )
    return value


# -- one converter per benchmark


def arc_item(where: str, row: Any, split: str) -> Example:
    row = _object(where, row, "id, question, choices, answerKey")
    choices = row.get("choices")
    if not isinstance(choices, dict):
        raise SourceError(f"{where}: field 'choices' must be an object with 'text' and 'label' lists")
    texts = _texts(where, choices.get("text"), "choices.text", range(1, 6))
    labels = [str(label) for label in _texts(where, choices.get("label"), "choices.label", range(1, 6))]
    if len(labels) != len(texts):
        raise SourceError(f"{where}: 'choices.text' has {len(texts)} entries, 'choices.label' {len(labels)}")
    key = str(row.get("answerKey", ""))
    # Some ARC items label their choices 1-4: the answer is the position either way.
    answer = LETTERS[labels.index(key)] if key in labels else key
    item_id = row.get("id")
    if not isinstance(item_id, str | int):
        raise SourceError(f"{where}: field 'id' must be a string or integer")
    fields = {"instruction": _text(where, row, "question")}
    fields.update({name: (texts[i] if i < len(texts) else "") for i, name in enumerate(ARC_OPTIONS)})
    return Example(str(item_id), fields, meta={"answer": answer})


def hellaswag_item(where: str, row: Any, split: str) -> Example:
    row = _object(where, row, "activity_label, ctx (or ctx_a, ctx_b), endings, label")
    ind = row.get("ind", row.get("row"))
    if not isinstance(ind, int):
        raise SourceError(f"{where}: field 'ind' (or 'row') must be an integer, got {ind!r}")
    if "ctx_a" in row:
        ctx_a, ctx_b = _text(where, row, "ctx_a"), _text(where, row, "ctx_b", required=False)
    else:  # a context not split in two: it is all ctx_a, as lm-eval joins them with a space
        ctx_a, ctx_b = _text(where, row, "ctx"), ""
    endings = _texts(where, row.get("endings"), "endings", range(4, 5))
    label = str(row.get("label", "")).strip()
    fields = {"activity_label": _text(where, row, "activity_label"), "ctx_a": ctx_a, "ctx_b": ctx_b}
    fields.update(zip(HELLASWAG_ENDINGS, endings, strict=True))
    return Example(str(ind), fields, meta={"ind": ind, "label": label})


class MmluItems:
    """MMLU rows → items; ids count the rows of each subject (CSV rows carry no id)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def __call__(self, where: str, row: Any, split: str) -> Example:
        if isinstance(row, list):
            if len(row) != 6:
                raise SourceError(f"{where}: expected 6 columns (question,A,B,C,D,answer), got {len(row)}")
            question, *options, answer = row
            subject = _subject_of(where)
        else:
            row = _object(where, row, "question, choices, answer, subject")
            question = _text(where, row, "question")
            options = _texts(where, row.get("choices"), "choices", range(4, 5))
            answer = row.get("answer")
            answer = LETTERS[answer] if isinstance(answer, int) and 0 <= answer < 4 else str(answer)
            subject = _text(where, row, "subject", required=False) or _subject_of(where)
        n = self.counts[subject] = self.counts.get(subject, -1) + 1
        fields = {"instruction": question, **dict(zip(MMLU_OPTIONS, options, strict=True))}
        meta = {"answer": answer.strip(), "subject": subject}
        return Example(f"{subject}-{split}-{n:04d}", fields, meta=meta)


def _subject_of(where: str) -> str:
    """'…/abstract_algebra_dev.csv:3' → 'abstract_algebra'."""
    stem = Path(where.rsplit(":", 1)[0]).name.removesuffix(".csv")
    for suffix in ("_dev", "_val", "_test", "_validation", "_train"):
        if stem.endswith(suffix):
            return stem[: -len(suffix)]
    return stem
