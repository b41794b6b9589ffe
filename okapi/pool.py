"""The English pool: Self-Instruct generation from seed tasks, and its split into sft/rank/rl."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyarrow as pa
from tqdm import tqdm

import okapi
from okapi import assemble
from okapi.llm import LLMClient
from okapi.prompts.selfinstruct import Task, generation_prompt_hash
from okapi.records import Example
from okapi.sources import SourceError, SourceSpec, load_source
from okapi.split import split_by_hash
from okapi.steps.selfinstruct import SelfInstructSettings, generate
from okapi.workdir import check_out_dir

POOL_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("instruction", pa.string()),
        ("input", pa.string()),
        ("output", pa.string()),
        ("rouge_l_max", pa.float64()),
    ]
)
POOL_SPEC = SourceSpec(
    fields=("instruction", "input", "output"), required=("instruction", "output"), id_prefix="pool"
)


def load_seed_tasks(path: str) -> list[Task]:
    """Alpaca's seed file (JSONL with `instruction` and `instances[0].input/output`) or flat rows."""
    tasks = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                instance = row["instances"][0] if "instances" in row else row
                tasks.append(Task(row["instruction"], instance.get("input", ""), instance["output"]))
            except (json.JSONDecodeError, KeyError, IndexError, TypeError) as exc:
                raise SourceError(
                    f"{path}:{number}: not a seed task ({exc!r}); need instruction and output"
                ) from None
    return tasks


def generate_pool(
    client: LLMClient,
    seeds: list[Task],
    settings: SelfInstructSettings,
    out_dir: Path,
    *,
    prompt: str,
    progress: bool = True,
) -> dict[str, Any]:
    check_out_dir(out_dir, ["en"])

    async def run():
        with tqdm(
            total=settings.target, desc="self-instruct: kept", unit="inst", disable=not progress
        ) as bar:
            try:
                return await generate(
                    client, seeds, settings, prompt=prompt,
                    on_kept=lambda n: (bar.update(n), bar.set_postfix_str(client.usage.postfix(), refresh=False)),
                )  # fmt: skip
            finally:
                await client.aclose()

    result = asyncio.run(run())
    rows = [{**e.fields, "id": e.id, **e.scores} for e in result.kept]
    assemble.write_config(out_dir, "en", {"train": rows}, POOL_SCHEMA, 100_000)
    assemble.write_rejects(out_dir, "en", result.rejects)
    stats = {
        "builder": "self-instruct",
        "okapi_version": okapi.__version__,
        "seed_tasks": len(seeds),
        "kept": len(result.kept),
        "rounds": result.rounds,
        "requests": result.requests,
        "stopped": result.stopped,
        "rejected": dict(sorted(Counter(r.reason for r in result.rejects).items())),
        "settings": asdict(settings),
        "models": {settings.role: client.config.role(settings.role).model},
        "prompt_hashes": {"self-instruct": generation_prompt_hash(prompt)},
        "last_run_usage": client.usage.as_dict(),
    }
    assemble.write_stats(out_dir, stats)
    return stats


def split_pool(source: str, sizes: dict[str, int | None], out_dir: Path) -> dict[str, int]:
    """Write <out>/<split>.jsonl for each split, and split.json recording how."""
    loaded = load_source(source, POOL_SPEC)
    parts = split_by_hash(loaded.examples, sizes)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, examples in parts.items():
        _write_jsonl(out_dir / f"{name}.jsonl", examples)
    counts = {name: len(examples) for name, examples in parts.items()}
    record = {
        "source": source,
        "sizes": sizes,
        "counts": counts,
        "method": "records ordered by sha256(id), cut at sizes",
    }
    (out_dir / "split.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return counts


def _write_jsonl(path: Path, examples: list[Example]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for example in examples:
            handle.write(json.dumps({"id": example.id, **example.fields}, ensure_ascii=False) + "\n")
