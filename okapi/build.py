"""The build driver: source → translate per language → checks → Hub-layout folder.

Every answered request is in the persistent cache, so a build that crashed or was killed
resumes by running again: answered requests are read back, only the rest are sent.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tqdm import tqdm

import okapi
from okapi import assemble
from okapi.builder import Builder
from okapi.card import render_card
from okapi.languages import Language
from okapi.llm import LLMClient
from okapi.prompts.translate import PROMPT_HASH
from okapi.quality import apply_checks
from okapi.records import Example, Reject
from okapi.sources import LoadedSource
from okapi.steps.translate import translate


def okapi_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=Path(okapi.__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


async def _run_language(
    client: LLMClient, builder: Builder, examples: list[Example], lang: Language, item_done
) -> tuple[list[Example], list[Reject]]:
    """Translate, then the builder's later steps; a record rejected by a step stops there."""
    kept, rejects = await translate(
        client, examples, lang, builder.source.fields, builder.translate, item_done
    )
    for step in builder.steps:
        kept, dropped = await step.run(client, kept, lang, item_done)
        rejects += dropped
        for _ in range(len(dropped) * (len(builder.steps) - builder.steps.index(step) - 1)):
            item_done()  # the bar counts (record, step) pairs; skipped pairs count as done
    return kept, rejects


async def _run_all(
    client: LLMClient, builder: Builder, examples: list[Example], langs: list[Language], bar: tqdm
) -> list[tuple[list[Example], list[Reject]]]:
    def item_done() -> None:
        bar.update()
        bar.set_postfix_str(client.usage.postfix(), refresh=False)

    try:
        return await asyncio.gather(
            *(_run_language(client, builder, examples, lang, item_done) for lang in langs)
        )
    finally:
        await client.aclose()


def build(
    builder: Builder,
    loaded: LoadedSource,
    langs: list[Language],
    out_dir: str | Path,
    client: LLMClient,
    *,
    progress: bool = True,
) -> dict[str, Any]:
    """Build `langs` into `out_dir` (other languages already there are kept). Returns stats."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    examples = loaded.examples
    sources = {e.id: e for e in examples}
    with tqdm(
        total=len(examples) * len(langs) * (1 + len(builder.steps)),
        desc=f"{builder.name}: {' → '.join(['translate', *(step.name for step in builder.steps)])}",
        unit="rec",
        disable=not progress,
        dynamic_ncols=True,
    ) as bar:
        translated = asyncio.run(_run_all(client, builder, examples, langs, bar))

    stats = assemble.read_stats(out_dir)
    if stats.get("builder") not in (None, builder.name):
        raise ValueError(f"{out_dir} holds a {stats['builder']!r} build; use another --out")
    languages = stats.get("languages", {})
    for lang, (kept, rejects) in zip(langs, translated, strict=True):
        checks = builder.checks_for(lang)
        checked = apply_checks(kept, sources, lang, checks)
        rejects = rejects + [
            Reject(rec.id, lang.code, reason, detail, rec.fields, rec.scores)
            for rec, reason, detail in checked.rejected
        ]
        rows_by_split: dict[str, list[dict[str, Any]]] = {s: [] for s in builder.splits}
        for record in checked.kept:
            rows_by_split[builder.split_of(record.id)].append({**builder.to_row(record), **record.scores})
        schema = assemble.schema_for(builder.columns, checks)
        assemble.write_config(out_dir, lang.code, rows_by_split, schema, builder.max_rows_per_shard)
        assemble.write_rejects(out_dir, lang.code, rejects)
        languages[lang.code] = {
            "source_rows": len(examples),
            "kept": len(checked.kept),
            "splits": {s: len(rows) for s, rows in rows_by_split.items()},
            "rejected": dict(sorted(Counter(r.reason for r in rejects).items())),
            "checks": [repr(c) for c in checks],
        }
    assemble.write_rejects(out_dir, "source", loaded.rejects)
    role = builder.translate.role
    stats.update(
        {
            "builder": builder.name,
            "okapi_version": okapi.__version__,
            "okapi_commit": okapi_commit(),
            "source": {
                "location": loaded.location,
                "rows_read": loaded.rows_read,
                "records": len(examples),
                "rejected": dict(Counter(r.reason for r in loaded.rejects)),
                "blank_markers_emptied": loaded.blanked,
            },
            "models": {role: client.config.role(role).model},
            "prompt_hashes": {"translate": PROMPT_HASH},
            "languages": dict(sorted(languages.items())),
            "last_run_usage": {name: asdict(u) for name, u in client.usage.roles.items()},
        }
    )
    assemble.write_stats(out_dir, stats)
    (out_dir / "README.md").write_text(render_card(out_dir, builder, stats), encoding="utf-8")
    return stats
