"""Export a build folder to the original Okapi release's JSON files, for its training scripts."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

FORMATS = ("okapi-json",)


class ExportError(ValueError):
    pass


def export_okapi_json(build_dir: Path, out_dir: Path, langs: list[str] | None = None) -> dict[str, int]:
    """instructions → <lang>.json [{instruction, input, output}];
    rankings → <lang>.json [{instruction, input, prefered_output, rejected_output}] (Okapi's spelling)."""
    stats_path = build_dir / "stats.json"
    if not stats_path.exists():
        raise ExportError(f"{build_dir} is not an okapi build folder (no stats.json)")
    stats = json.loads(stats_path.read_text(encoding="utf-8"))
    builder = stats.get("builder")
    if builder not in ("instructions", "rankings"):
        raise ExportError(f"okapi-json covers instructions and rankings builds, not {builder!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for lang in langs or sorted(stats["languages"]):
        shards = sorted((build_dir / lang).glob("*.parquet"))
        if not shards:
            raise ExportError(f"no data for language {lang!r} in {build_dir}")
        rows = [row for shard in shards for row in pq.read_table(shard).to_pylist()]
        if builder == "instructions":
            items = [
                {"instruction": r["instruction"], "input": r["input"], "output": r["output"]} for r in rows
            ]
        else:
            items = [
                {"instruction": r["instruction"], "input": r["input"],
                 "prefered_output": r["chosen"], "rejected_output": r["rejected"]}
                for r in rows
            ]  # fmt: skip
        (out_dir / f"{lang}.json").write_text(
            json.dumps(items, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        counts[lang] = len(items)
    return counts
