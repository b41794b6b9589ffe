"""Write a build's output folder in Hub layout.

    <out>/<lang>/<split>-0000i-of-0000N.parquet   one config per language
    <out>/rejects/<lang>.jsonl                    every dropped record with its reason
    <out>/stats.json                              counts per language and reason, run facts
    <out>/README.md                               card with the `configs:` block

Each language is written to a temporary folder and swapped in, so a crash never leaves a
half-written config, and rebuilding one language leaves every other language's files untouched.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from okapi.languages import Language
from okapi.quality import Checked, CorpusPass
from okapi.records import Reject
from okapi.workdir import UnitFiles, read_json

if TYPE_CHECKING:
    from okapi.builder import Builder

_SCORE_TYPES = {float: pa.float64(), int: pa.int64(), str: pa.string(), bool: pa.bool_()}


def schema_for(columns: dict[str, pa.DataType], checks: Sequence) -> pa.Schema:
    fields = list(columns.items())
    for check in checks:
        fields.extend((name, _SCORE_TYPES[kind]) for name, kind in check.columns.items())
    return pa.schema(fields)


def _write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


class ConfigWriter:
    """Streams one config's rows into `<split>-0000i-of-0000N.parquet` files of at most
    `max_rows_per_shard` rows, in a temporary folder that `commit` swaps in whole.

    With `keep_other_splits`, the config's files of splits this writer did not get stay (a
    benchmark built one split at a time); otherwise the config is replaced whole.
    """

    _BATCH = 1000  # rows per parquet row group write

    def __init__(
        self,
        out_dir: Path,
        config: str,
        schema: pa.Schema,
        max_rows_per_shard: int,
        *,
        writing: Sequence[str] = (),
        keep_other_splits: bool = False,
    ):
        self.out_dir, self.config, self.schema = out_dir, config, schema
        self.max_rows = max_rows_per_shard
        self.writing = set(writing)  # splits replaced even when they get no rows
        self.keep_other_splits = keep_other_splits
        self.tmp = out_dir / f".{config}.{os.getpid()}.tmp"
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir(parents=True)
        self.rows: dict[str, int] = {}  # split → rows written
        self.parts: dict[str, int] = {}  # split → part files
        self._buffers: dict[str, list[dict[str, Any]]] = {}
        self._writers: dict[str, pq.ParquetWriter] = {}

    def add(self, split: str, row: dict[str, Any]) -> None:
        self.writing.add(split)
        buffer = self._buffers.setdefault(split, [])
        buffer.append(row)
        self.rows[split] = self.rows.get(split, 0) + 1
        if len(buffer) >= self._BATCH or self.rows[split] % self.max_rows == 0:
            self._flush(split)

    def _flush(self, split: str) -> None:
        buffer = self._buffers.get(split)
        if not buffer:
            return  # `datasets` cannot read a 0-row parquet file (ArrowInvalid: BatchSize ... got 0)
        if split not in self._writers:
            self.parts[split] = self.parts.get(split, 0) + 1
            path = self.tmp / f"{split}-{self.parts[split] - 1:05d}.part"
            self._writers[split] = pq.ParquetWriter(path, self.schema)
        self._writers[split].write_table(pa.Table.from_pylist(buffer, schema=self.schema))
        buffer.clear()
        if self.rows[split] % self.max_rows == 0:  # this file is full
            self._writers.pop(split).close()

    def commit(self) -> list[str]:
        """Swap the config in; returns its files (paths relative to out_dir)."""
        for split in list(self._buffers):
            self._flush(split)
        for writer in self._writers.values():
            writer.close()
        written = []
        for split, count in self.parts.items():
            for i in range(count):
                name = f"{split}-{i:05d}-of-{count:05d}.parquet"
                os.replace(self.tmp / f"{split}-{i:05d}.part", self.tmp / name)
                written.append(f"{self.config}/{name}")
        if self.keep_other_splits:
            for split, paths in config_files(self.out_dir, self.config).items():
                if split not in self.writing:
                    for path in paths:
                        shutil.copy2(self.out_dir / path, self.tmp / Path(path).name)
                        written.append(path)
        final, old = self.out_dir / self.config, self.out_dir / f".{self.config}.{os.getpid()}.old"
        if final.exists():
            os.replace(final, old)
        os.replace(self.tmp, final)
        shutil.rmtree(old, ignore_errors=True)
        return sorted(written)


def write_config(
    out_dir: Path,
    config: str,
    rows_by_split: dict[str, list[dict[str, Any]]],
    schema: pa.Schema,
    max_rows_per_shard: int,
    *,
    keep_other_splits: bool = False,
) -> list[str]:
    """Write one config's parquet shards from rows in memory; see `ConfigWriter`."""
    writer = ConfigWriter(
        out_dir,
        config,
        schema,
        max_rows_per_shard,
        writing=list(rows_by_split),
        keep_other_splits=keep_other_splits,
    )
    for split, rows in rows_by_split.items():
        for row in rows:
            writer.add(split, row)
    return writer.commit()


class RejectsWriter:
    """Streams `rejects/<name>.jsonl`; with `split`, rows carry it and other splits' rows stay."""

    def __init__(self, out_dir: Path, name: str, split: str | None = None):
        folder = out_dir / "rejects"
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{name}.jsonl"
        self.split = split
        self.tmp = folder / f".{name}.jsonl.{os.getpid()}.tmp"
        self.handle = self.tmp.open("w", encoding="utf-8")
        if split is not None and self.path.exists():
            with self.path.open(encoding="utf-8") as old:
                for line in old:
                    if json.loads(line).get("split") != split:
                        self.handle.write(line)

    def add(self, row: dict[str, Any]) -> None:
        if self.split is not None:
            row = {**row, "split": self.split}
        self.handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")

    def commit(self) -> None:
        self.handle.close()
        os.replace(self.tmp, self.path)


def write_rejects(out_dir: Path, name: str, rejects: Sequence[Reject], split: str | None = None) -> None:
    """Write `rejects/<name>.jsonl`. With `split`, rows carry it and other splits' rows stay."""
    writer = RejectsWriter(out_dir, name, split)
    for reject in rejects:
        writer.add(reject.as_row())
    writer.commit()


def read_stats(out_dir: Path) -> dict[str, Any]:
    path = out_dir / "stats.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def write_stats(out_dir: Path, stats: dict[str, Any]) -> None:
    _write_json_atomic(out_dir / "stats.json", stats)


def config_files(out_dir: Path, config: str) -> dict[str, list[str]]:
    """Split name → parquet paths (relative) for one config, from what is on disk."""
    splits: dict[str, list[str]] = {}
    for path in sorted((out_dir / config).glob("*-of-*.parquet")):
        split = path.name.split("-", 1)[0]
        splits.setdefault(split, []).append(f"{config}/{path.name}")
    return splits


def merge_split_stats(previous: dict[str, Any] | None, split: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Stats over the splits built so far, after `split` was (re)built; `by_split` keeps each one."""
    parts = dict(sorted({**(previous or {}).get("by_split", {}), split: entry}.items()))
    return {**_merge_values(parts, split), "by_split": parts}


def _merge_values(values: dict[str, Any], latest: str) -> Any:
    """One stat's value per split → one value: counts summed, objects merged key by key, texts
    that differ listed per split (local paths by file name), anything else as `latest` has it."""
    current = values.get(latest, next(reversed(values.values())))
    if isinstance(current, dict):
        keys = sorted({key for value in values.values() if isinstance(value, dict) for key in value})
        return {
            key: _merge_values(
                {s: v[key] for s, v in values.items() if isinstance(v, dict) and key in v}, latest
            )
            for key in keys
        }
    if isinstance(current, int) and not isinstance(current, bool):
        return sum(v for v in values.values() if isinstance(v, int) and not isinstance(v, bool))
    if isinstance(current, str) and len({str(v) for v in values.values()}) > 1:
        return "; ".join(f"{s}: {Path(v).name if Path(v).is_absolute() else v}" for s, v in values.items())
    return current


def assemble_language(
    out_dir: Path, builder: Builder, lang: Language, units: Iterable[UnitFiles], split: str | None
) -> dict[str, Any]:
    """Write one language's config and rejects from its finished units, streaming, in source order
    (`units` may yield each unit as it finishes, so a language assembles while its last units run).

    The checks over the whole language (duplicates) run here, over every unit's records in order,
    so the rows are those an unsharded build keeps. Returns the language's stats entry.
    """
    checks = builder.checks_for(lang)
    corpus = CorpusPass(checks, lang)
    splits = [split] if split else list(builder.splits)
    writer = ConfigWriter(
        out_dir, lang.code, schema_for(builder.columns, checks), builder.max_rows_per_shard,
        writing=splits, keep_other_splits=bool(split),
    )  # fmt: skip
    rejects = RejectsWriter(out_dir, lang.code, split)
    rejected: Counter[str] = Counter()
    reasons_all: Counter[str] = Counter()
    judged: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    steps: dict[str, dict[str, int]] = {}
    step_rejected: dict[str, Counter[str]] = {}
    served: dict[str, set[str]] = {}
    records_in = backtranslated = kept = 0

    def reject(row: dict[str, Any]) -> None:
        rejects.add(row)
        rejected[row["reason"]] += 1
        reasons_all.update(row["scores"].get("reject_reasons") or [row["reason"]])

    for files in units:
        done = read_json(files.path("done.json")) or {}
        records_in += done["records_in"]
        backtranslated += done["backtranslated"]
        judged.update(done["judged"])
        failed.update(done["failed"])
        for name, counts in done["steps"].items():
            totals = steps.setdefault(name, {"in": 0, "out": 0})
            totals["in"] += counts["in"]
            totals["out"] += counts["out"]
        for name, counts in done["step_rejected"].items():
            step_rejected.setdefault(name, Counter()).update(counts)
        for role, names in done.get("served_models", {}).items():
            served.setdefault(role, set()).update(names)
        for row in files.rejects():
            reject(row)
        checked = Checked()
        for record in files.records():
            corpus.judge(record, checked)
        for record in checked.kept:
            kept += 1
            rows = builder.to_row(record)  # one row, or several (e.g. preference pairs)
            for row in rows if isinstance(rows, list) else [rows]:
                writer.add(split or builder.split_of(record.id), {**row, **record.scores})
        for record, reason, detail in checked.rejected:
            reject(Reject(record.id, lang.code, reason, detail, record.fields, record.scores).as_row())
        judged.update(checked.judged)
        failed.update(checked.failed)
    corpus.close()
    writer.commit()
    rejects.commit()
    entry: dict[str, Any] = {
        "source_rows": records_in,
        "kept": kept,
        "splits": {s: writer.rows.get(s, 0) for s in splits},
        "rejected": dict(sorted(rejected.items())),
        # every reason of every reject: a record failing two checks counts under both
        "reasons_all": dict(sorted(reasons_all.items())),
        "check_pass_rates": {name: round(1 - failed[name] / n, 4) for name, n in sorted(judged.items()) if n},
        "backtranslated": backtranslated,
        "steps": steps,
        "checks": [repr(c) for c in checks],
        # per role, the models the servers said answered (not only the one asked for)
        "served_models": {role: sorted(names) for role, names in sorted(served.items())},
    }
    for step in builder.steps:
        entry |= step.summary(steps[step.name]["out"], dict(step_rejected.get(step.name, {})))
    return entry
