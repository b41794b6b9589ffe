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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from okapi.records import Reject

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


def write_config(
    out_dir: Path,
    config: str,
    rows_by_split: dict[str, list[dict[str, Any]]],
    schema: pa.Schema,
    max_rows_per_shard: int,
    *,
    keep_other_splits: bool = False,
) -> list[str]:
    """Write one config's parquet shards; returns the paths relative to out_dir.

    With `keep_other_splits`, the config's shards of splits not in `rows_by_split` stay (a benchmark
    built one split at a time); otherwise the config is replaced whole.
    """
    tmp = out_dir / f".{config}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    written = []
    if keep_other_splits:
        for split, paths in config_files(out_dir, config).items():
            if split not in rows_by_split:
                for path in paths:
                    shutil.copy2(out_dir / path, tmp / Path(path).name)
                    written.append(path)
    for split, rows in rows_by_split.items():
        if not rows:
            continue  # `datasets` cannot read a 0-row parquet file (ArrowInvalid: BatchSize ... got 0)
        shards = -(-len(rows) // max_rows_per_shard)
        for i in range(shards):
            chunk = rows[i * max_rows_per_shard : (i + 1) * max_rows_per_shard]
            name = f"{split}-{i:05d}-of-{shards:05d}.parquet"
            pq.write_table(pa.Table.from_pylist(chunk, schema=schema), tmp / name)
            written.append(f"{config}/{name}")
    final, old = out_dir / config, out_dir / f".{config}.old"
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
    return sorted(written)


def write_rejects(out_dir: Path, name: str, rejects: Sequence[Reject], split: str | None = None) -> None:
    """Write `rejects/<name>.jsonl`. With `split`, rows carry it and other splits' rows stay."""
    folder = out_dir / "rejects"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.jsonl"
    if split is not None:
        _write_split_rejects(path, rejects, split)
        return
    tmp = folder / f".{name}.jsonl.tmp"
    with tmp.open("w", encoding="utf-8") as handle:
        for reject in rejects:
            handle.write(json.dumps(reject.as_row(), ensure_ascii=False, sort_keys=True) + "\n")
    os.replace(tmp, path)


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


def _write_split_rejects(path: Path, rejects: Sequence[Reject], split: str) -> None:
    rows = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("split") != split:
                rows.append(row)
    rows += [{**reject.as_row(), "split": split} for reject in rejects]
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    os.replace(tmp, path)


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
