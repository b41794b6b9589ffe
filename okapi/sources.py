"""Load source rows from a JSON, JSONL or Parquet file, a dataset folder or a Hub id; validate them.

A malformed row (not an object, a field of the wrong type, a required field missing or null)
fails the load with file, line (and item or row) and field, so the fix is obvious. A row whose
required field is an empty string is real-data noise (Alpaca has some): it is rejected with
reason `empty_required_field` and counted, like exact duplicates (`duplicate_source`).
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from okapi.records import Example, Reject

# Values Alpaca-style data uses for "no input".
NO_INPUT_MARKERS = frozenset({"<noinput>", "<No input>", "<no input>", "N/A", "n/a", "None", "none"})


class SourceError(ValueError):
    pass


@dataclass(frozen=True)
class SourceSpec:
    fields: tuple[str, ...]  # text fields every row may have
    required: tuple[str, ...]  # fields that must be non-empty
    id_prefix: str  # ids are '<prefix>-<hash of content>' unless the row has an `id`
    blank_values: frozenset[str] = frozenset()  # values that mean "empty" (e.g. '<noinput>')


@dataclass
class LoadedSource:
    examples: list[Example]
    rejects: list[Reject]  # exact duplicates of earlier rows
    rows_read: int
    blanked: int  # fields whose value was a blank marker such as '<noinput>'
    location: str  # file path or Hub id, for cards and stats
    split: str | None = None  # the split the rows are (benchmarks keep their source's splits)

    def items(self) -> Iterator[Example | Reject]:
        yield from self.examples
        yield from self.rejects


def _json_array_rows(text: str, path: Path) -> Iterator[tuple[str, Any]]:
    """Yield (location, element) for a top-level JSON array: line and item index of each element."""
    index = 0
    newlines = [i for i, ch in enumerate(text) if ch == "\n"]
    decoder = json.JSONDecoder()
    pos = len(text) - len(text.lstrip())
    if not text.startswith("[", pos):
        raise SourceError(f"{path}: a .json source must be an array of objects (use .jsonl for one per line)")
    pos += 1
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text):
            raise SourceError(f"{path}: the JSON array is not closed")
        if text[pos] == "]":
            return
        line = bisect.bisect_left(newlines, pos) + 1
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{path}:{line}: invalid JSON: {exc.msg}") from None
        yield f"{path}:{line} (item {index})", value
        index += 1


def _not_utf8(path: Path, exc: UnicodeDecodeError, line: int) -> SourceError:
    return SourceError(
        f"{path}:{line}: not UTF-8 text (byte {exc.object[exc.start]:#04x}); a binary file, or text in "
        f"another encoding: convert it, e.g. iconv -f latin1 -t utf-8 {path.name} > utf8.{path.suffix.lstrip('.')}"
    )


def file_rows(path: Path) -> Iterator[tuple[str, Any]]:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise _not_utf8(path, exc, number) from None
                if not line.strip():
                    continue
                try:
                    yield f"{path}:{number}", json.loads(line)
                except json.JSONDecodeError as exc:
                    raise SourceError(f"{path}:{number}: invalid JSON: {exc.msg}") from None
    elif suffix == ".json":
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _not_utf8(path, exc, data.count(b"\n", 0, exc.start) + 1) from None
        yield from _json_array_rows(text, path)
    elif suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise SourceError(f"{path}: not a readable parquet file ({exc})") from None
        for number, row in enumerate(table.to_pylist()):
            yield f"{path} row {number}", row
    else:
        raise SourceError(f"{path}: unsupported source type {suffix!r}; use .json, .jsonl or .parquet")


def _hub_rows(dataset_id: str, split: str) -> Iterator[tuple[str, Any]]:
    import datasets

    try:
        data = datasets.load_dataset(dataset_id, split=split)
    except (FileNotFoundError, ValueError, ConnectionError) as exc:
        raise SourceError(
            f"{dataset_id!r} is not a file here and could not be loaded from the Hub (split {split!r}): {exc}"
        ) from None
    for number, row in enumerate(data):
        yield f"{dataset_id}[{split}] row {number}", row


def _validate(where: str, row: Any, spec: SourceSpec) -> tuple[str | None, dict[str, str], int]:
    if not isinstance(row, dict):
        raise SourceError(
            f"{where}: expected an object with fields {list(spec.fields)}, got {type(row).__name__}"
        )
    fields: dict[str, str] = {}
    blanked = 0
    for name in spec.fields:
        value = row.get(name)
        if value is None:
            if name in spec.required:
                missing = "missing" if name not in row else "null"
                raise SourceError(f"{where}: field {name!r} is required but {missing}")
            value = ""
        if not isinstance(value, str):
            raise SourceError(f"{where}: field {name!r} must be a string, got {json.dumps(value)[:60]}")
        if value.strip() in spec.blank_values:
            value, blanked = "", blanked + 1
        fields[name] = value
    row_id = row.get("id")
    if row_id is not None and not isinstance(row_id, str | int):
        raise SourceError(f"{where}: field 'id' must be a string or integer, got {json.dumps(row_id)[:60]}")
    return (None if row_id is None else str(row_id)), fields, blanked


def content_id(prefix: str, fields: dict[str, str]) -> str:
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f"{prefix}-{digest[:16]}"


def _refuse_translated_build(path: Path) -> None:
    """An okapi build's folder holds translations, not English (a Self-Instruct pool is English)."""
    try:
        stats = json.loads((path / "stats.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    builder = stats.get("builder") if isinstance(stats, dict) else None
    if builder and builder != "self-instruct":
        languages = ", ".join(sorted(stats.get("languages", {}))) or "no language yet"
        origin = (stats.get("source") or {}).get("location")
        raise SourceError(
            f"source {path} is an okapi {builder!r} build ({languages}), not English rows: give the English "
            "source" + (f" it was built from ({origin})" if origin else "")
        )


def _source_rows(source: str, split: str) -> Iterator[tuple[str, Any]]:
    path = Path(source)
    if path.is_dir():  # a dataset folder `datasets` can read (parquet files, Hub layout)
        _refuse_translated_build(path)
        return _hub_rows(source, split)
    if path.exists():
        return file_rows(path)
    if source.endswith((".json", ".jsonl", ".parquet")) or "/" not in source.strip("/"):
        raise SourceError(f"source {source!r} does not exist (give a file or a Hub id like 'org/name')")
    return _hub_rows(source, split)


@dataclass
class SourceStream:
    """A source read lazily, in order: `items()` yields each Example or Reject as its row is read.

    Counts (`rows_read`, `blanked`) fill in while reading; memory holds only the ids and content
    hashes that duplicate detection needs, not the rows.
    """

    source: str
    spec: SourceSpec
    limit: int | None = None
    split: str | None = None  # the Hub split read (generic sources); benchmarks: their own split
    rows_read: int = 0
    blanked: int = 0

    @property
    def location(self) -> str:
        return self.source

    def items(self) -> Iterator[Example | Reject]:
        self.rows_read = self.blanked = 0
        seen_ids: dict[str, str] = {}
        seen_content: dict[bytes, str] = {}
        examples = 0
        spec = self.spec
        for where, row in _source_rows(self.source, self.split or "train"):
            if self.limit is not None and examples >= self.limit:
                break
            self.rows_read += 1
            row_id, fields, blanked = _validate(where, row, spec)
            self.blanked += blanked
            digest = content_id(spec.id_prefix, fields)
            empty = [name for name in spec.required if not fields[name].strip()]
            if empty:
                # Real data has these (Alpaca has empty outputs): keep them out, counted, not fatal.
                detail = f"{where}: required field(s) {', '.join(empty)} empty"
                yield Reject(row_id or digest, "en", "empty_required_field", detail, fields)
                continue
            if row_id is not None and row_id in seen_ids:
                raise SourceError(f"{where}: id {row_id!r} was already used at {seen_ids[row_id]}")
            content = bytes.fromhex(digest.rsplit("-", 1)[1])
            if content in seen_content:
                detail = f"same text as {seen_content[content]}"
                yield Reject(row_id or digest, "en", "duplicate_source", detail, fields)
                continue
            example_id = row_id or digest
            seen_ids[example_id] = seen_content[content] = where
            examples += 1
            yield Example(example_id, fields)
        if not examples:
            raise SourceError(f"{self.source}: no rows to build from")


def load_source(
    source: str, spec: SourceSpec, *, limit: int | None = None, split: str = "train"
) -> LoadedSource:
    """The whole source in memory (estimates, small sources); builds stream it (`SourceStream`)."""
    stream = SourceStream(source, spec, limit, split)
    loaded = LoadedSource([], [], 0, 0, source)
    for item in stream.items():
        (loaded.examples if isinstance(item, Example) else loaded.rejects).append(item)
    loaded.rows_read, loaded.blanked = stream.rows_read, stream.blanked
    return loaded
