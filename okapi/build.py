"""The build driver: source → translate per language → checks → Hub-layout folder.

Every answered request is in the persistent cache, so a build that crashed or was killed
resumes by running again: answered requests are read back, only the rest are sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
from collections import Counter
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

import okapi
from okapi import assemble
from okapi.builder import Builder
from okapi.card import render_card
from okapi.languages import Language
from okapi.llm import LLMClient
from okapi.prompts.translate import BACKTRANSLATE_PROMPT_HASH, PROMPT_HASH
from okapi.quality import apply_checks
from okapi.records import Example, Reject
from okapi.sources import LoadedSource
from okapi.steps.backtranslate import backtranslate
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


def records_digest(examples: list[Example]) -> str:
    """A revision of the source as read: sha256 over every record's id and fields (16 hex)."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(json.dumps([example.id, example.fields], sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


async def _run_language(
    client: LLMClient, builder: Builder, examples: list[Example], lang: Language, item_done
) -> tuple[list[Example], list[Reject], dict[str, Any]]:
    """Translate, then the builder's later steps; a record rejected by a step stops there.

    Also returns what the steps measured: records in and out of each step, and each step's summary.
    """
    kept, rejects = await translate(
        client, examples, lang, builder.source.fields, builder.translate, item_done
    )
    measured: dict[str, Any] = {"steps": {"translate": {"in": len(examples), "out": len(kept)}}}
    for step in builder.steps:
        given = len(kept)
        kept, dropped = await step.run(client, kept, lang, item_done)
        rejects += dropped
        measured["steps"][step.name] = {"in": given, "out": len(kept)}
        measured |= step.summary(kept, dropped)
        for _ in range(len(dropped) * (len(builder.steps) - builder.steps.index(step) - 1)):
            item_done()  # the bar counts (record, step) pairs; skipped pairs count as done
    return kept, rejects, measured


async def _run_all(
    client: LLMClient, builder: Builder, examples: list[Example], langs: list[Language], bar: tqdm
) -> list[tuple[list[Example], list[Reject], dict[str, Any]]]:
    def item_done() -> None:
        bar.update()
        bar.set_postfix_str(client.usage.postfix(), refresh=False)

    try:
        return await asyncio.gather(
            *(_run_language(client, builder, examples, lang, item_done) for lang in langs)
        )
    finally:
        await client.aclose()


async def _backtranslate_all(
    client: LLMClient,
    builder: Builder,
    translated: list[list[Example]],
    langs: list[Language],
    role: str,
    bar: tqdm,
) -> list[dict[str, Example]]:
    settings = replace(builder.translate, role=role, validate_item=None)  # validators judge X, not English
    try:
        results = await asyncio.gather(
            *(
                backtranslate(client, kept, lang, builder.source.fields, settings, lambda: bar.update())
                for kept, lang in zip(translated, langs, strict=True)
            )
        )
    finally:
        await client.aclose()
    return [english for english, _failures in results]


def _reasons(reject: Reject) -> list[str]:
    return reject.scores.get("reject_reasons") or [reject.reason]


def build(
    builder: Builder,
    loaded: LoadedSource,
    langs: list[Language],
    out_dir: str | Path,
    client: LLMClient,
    *,
    progress: bool = True,
    backtranslate_role: str | None = None,
) -> dict[str, Any]:
    """Build `langs` into `out_dir` (other languages already there are kept). Returns stats.

    With `backtranslate_role` (e.g. "translator"), every translated record is also translated
    back into English through that role, and the builder's back-translation check scores it.
    """
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
    backtranslations: list[dict[str, Example]] = [{} for _ in langs]
    if backtranslate_role:
        kept_by_lang = [kept for kept, _, _ in translated]
        with tqdm(
            total=sum(map(len, kept_by_lang)),
            desc=f"{builder.name}: back-translate",
            unit="rec",
            disable=not progress,
            dynamic_ncols=True,
        ) as bar:
            backtranslations = asyncio.run(
                _backtranslate_all(client, builder, kept_by_lang, langs, backtranslate_role, bar)
            )

    stats = assemble.read_stats(out_dir)
    if stats.get("builder") not in (None, builder.name):
        raise ValueError(f"{out_dir} holds a {stats['builder']!r} build; use another --out")
    languages = stats.get("languages", {})
    # A benchmark build writes the one split its source holds and keeps the config's other splits.
    split = builder.source_split(loaded.split) if builder.source_splits else None
    role = builder.translate.role
    # What built these languages, kept per language: after one is rebuilt, the card stays true.
    run = {
        "okapi_version": okapi.__version__,
        "okapi_commit": okapi_commit(),
        "source": loaded.location,
        "source_sha256": records_digest(examples),
        "models": {
            r: ", ".join(client.config.role(r).sampling_models()) for r in sorted({role, *client.usage.roles})
        },
        "options": builder.options,
        "prompt_hashes": {"translate": PROMPT_HASH}
        | ({"backtranslate": BACKTRANSLATE_PROMPT_HASH} if backtranslate_role else {}),
    }
    for lang, (kept, rejects, measured), english in zip(langs, translated, backtranslations, strict=True):
        checks = builder.checks_for(lang)
        checked = apply_checks(kept, sources, lang, checks, english)
        rejects = rejects + [
            Reject(rec.id, lang.code, reason, detail, rec.fields, rec.scores)
            for rec, reason, detail in checked.rejected
        ]
        rows_by_split: dict[str, list[dict[str, Any]]] = {
            s: [] for s in ([split] if split else builder.splits)
        }
        for record in checked.kept:
            rows = builder.to_row(record)  # one row, or several (e.g. preference pairs)
            for row in rows if isinstance(rows, list) else [rows]:
                rows_by_split[split or builder.split_of(record.id)].append({**row, **record.scores})
        schema = assemble.schema_for(builder.columns, checks)
        assemble.write_config(
            out_dir,
            lang.code,
            rows_by_split,
            schema,
            builder.max_rows_per_shard,
            keep_other_splits=bool(split),
        )
        assemble.write_rejects(out_dir, lang.code, rejects, split)
        entry = {
            "source_rows": len(examples),
            "kept": len(checked.kept),
            "splits": {s: len(rows) for s, rows in rows_by_split.items()},
            "rejected": dict(sorted(Counter(r.reason for r in rejects).items())),
            # every reason of every reject: a record failing two checks counts under both
            "reasons_all": dict(sorted(Counter(x for r in rejects for x in _reasons(r)).items())),
            "check_pass_rates": checked.pass_rates(),
            "backtranslated": len(english),
            **measured,
            "checks": [repr(c) for c in checks],
            "run": run,
        }
        languages[lang.code] = (
            assemble.merge_split_stats(languages.get(lang.code), split, entry) if split else entry
        )
    assemble.write_rejects(out_dir, "source", loaded.rejects, split)
    source = {
        "location": loaded.location,
        "rows_read": loaded.rows_read,
        "records": len(examples),
        "rejected": dict(Counter(r.reason for r in loaded.rejects)),
        "blank_markers_emptied": loaded.blanked,
    }
    if split:
        source = assemble.merge_split_stats(stats.get("source"), split, source)
    stats.update(
        {
            "builder": builder.name,
            "okapi_version": run["okapi_version"],
            "okapi_commit": run["okapi_commit"],
            "source": source,
            "models": run["models"],
            "prompt_hashes": run["prompt_hashes"],
            "languages": dict(sorted(languages.items())),
            "last_run_usage": {name: asdict(u) for name, u in client.usage.roles.items()},
        }
    )
    assemble.write_stats(out_dir, stats)
    if any(out_dir.glob("*/*.parquet")):
        (out_dir / "README.md").write_text(render_card(out_dir, builder, stats), encoding="utf-8")
    else:  # a card needs at least one config; say plainly where the records went instead
        (out_dir / "README.md").write_text(
            f"# {builder.pretty_name}\n\nNo language kept any rows: every record is in `rejects/` with its "
            "reason, counted in `stats.json`.\n",
            encoding="utf-8",
        )
    return stats
