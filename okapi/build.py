"""The build driver: source → (language, shard) units → Hub-layout folder.

The source is cut into shards of `shard_size` records (`okapi.workdir`). Each unit — one shard in
one language — runs the whole chain (requests, later steps, back-translation, per-record checks)
and ends in shard files with a completion record (`okapi.units`); units of every language run
concurrently, their checks in worker processes. As soon as every unit of a language is finished,
its config is assembled from the shard files in a worker too (`okapi.assemble`) while other
languages go on; `stats.json` and the card come last.

A rerun skips finished units; inside an unfinished one, answered requests come from the response
cache. `part=(i, n)` builds only every n-th shard from the i-th, so n machines can share a build;
`assemble_only` then writes the folder once every part is done.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import subprocess
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
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
from okapi.units import check_and_write, check_pool, default_workers, request_unit, unit_items
from okapi.workdir import (
    DEFAULT_SHARD_SIZE,
    IncompleteBuild,
    Source,
    SourcePlan,
    UnitFiles,
    WorkDir,
    check_out_dir,
    read_json,
    write_json,
)


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


def _stable_repr(value: Any) -> str:
    return re.sub(r" at 0x[0-9a-f]+", "", repr(value))  # functions' addresses change per process


def _roles(builder: Builder, backtranslate_role: str | None) -> list[str]:
    roles = [
        builder.translate.role,
        *(getattr(step, "role", None) for step in builder.steps),
        backtranslate_role,
    ]
    return sorted({r for r in roles if r})


def fingerprint(
    builder: Builder, lang: Language, split: str | None, input_digest: str, models: dict, bt_role: str | None
) -> str:
    """What a unit's result depends on: when any of it changes, a finished unit is built again."""
    settings = {
        "builder": builder.name,
        "options": builder.options,
        "lang": lang.code,
        "split": split,
        "input": input_digest,
        "translate": _stable_repr(builder.translate),
        "steps": [_stable_repr(step) for step in builder.steps],
        "checks": [_stable_repr(check) for check in builder.checks_for(lang)],
        "models": models,
        "prompts": [PROMPT_HASH, BACKTRANSLATE_PROMPT_HASH],
        "backtranslate": bt_role,
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _missing_message(missing: list[tuple[str, int]], parts: dict | None) -> str:
    shown = ", ".join(f"{lang}:{shard}" for lang, shard in missing[:8])
    shown += f" and {len(missing) - 8} more" if len(missing) > 8 else ""
    if parts:
        count = parts["count"]
        names = ", ".join(str(i) for i in sorted({shard % count for _, shard in missing}))
        return (
            f"part(s) {names} of {count} not finished ({len(missing)} units: {shown}); "
            f"run them with --shard I/{count}, then --assemble again"
        )
    return f"{len(missing)} unit(s) not finished ({shown}): run the build again (it resumes), then assemble"


def build(
    builder: Builder,
    loaded: Source,
    langs: list[Language],
    out_dir: str | Path,
    client: LLMClient,
    *,
    progress: bool = True,
    backtranslate_role: str | None = None,
    shard_size: int = DEFAULT_SHARD_SIZE,
    workers: int | None = None,
    part: tuple[int, int] | None = None,
    assemble_only: bool = False,
) -> dict[str, Any]:
    """Build `langs` into `out_dir` (other languages already there are kept). Returns stats.

    With `backtranslate_role` (e.g. "translator"), every translated record is also translated
    back into English through that role, and the builder's back-translation check scores it.
    """
    if shard_size < 1:
        raise ValueError(f"shard size must be at least 1, not {shard_size}")
    if part is not None and not 0 <= part[0] < part[1]:
        raise ValueError(f"--shard I/N needs 0 <= I < N, not {part[0]}/{part[1]}")
    out_dir = Path(out_dir)
    check_out_dir(out_dir, [lang.code for lang in langs])
    previous = assemble.read_stats(out_dir).get("builder")
    if previous not in (None, builder.name):
        raise ValueError(f"{out_dir} holds a {previous!r} build; use another --out")
    # A benchmark build writes the one split its source holds and keeps the config's other splits.
    split = builder.source_split(getattr(loaded, "split", None)) if builder.source_splits else None
    work = WorkDir(out_dir, split or "all")
    part_name = f"-part{part[0]}of{part[1]}" if part else ""
    with ExitStack() as held:
        for lang in langs:
            held.enter_context(
                work.lock(
                    f"build-{work.part}-{lang.code}{part_name}",
                    wait=False,
                    busy=f"another okapi process is building {lang.code}"
                    + (f" (split {split})" if split else "")
                    + f" into {out_dir}; wait for it to finish, or build other languages",
                )
            )
        plan = work.read_plan() if assemble_only else work.split_source(loaded, shard_size)
        if plan is None:
            raise IncompleteBuild(f"{out_dir} has no shards of this source yet: build before --assemble")
        models = {r: client.config.role(r).sampling_models() for r in _roles(builder, backtranslate_role)}
        prints = {
            (lang.code, shard): fingerprint(builder, lang, split, s["digest"], models, backtranslate_role)
            for lang in langs
            for shard, s in enumerate(plan.shards)
        }
        mine = [s for s in range(len(plan.shards)) if part is None or s % part[1] == part[0]]
        done = {(lang, shard): work.unit(lang.code, shard).done(prints[lang.code, shard])
                for lang in langs for shard in mine}  # fmt: skip
        if assemble_only:
            missing = [(lang.code, shard) for (lang, shard), record in done.items() if record is None]
            if missing:
                raise IncompleteBuild(_missing_message(missing, read_json(work.source / "parts.json")))
        # A unit whose records failed in transport (endpoint down, retries spent) runs again: its
        # answered requests come from the cache, the failed ones are sent again.
        pending = [
            unit for unit, record in done.items()
            if not assemble_only and (record is None or record.get("transport_failures"))
        ]  # fmt: skip
        workers = default_workers() if workers is None else workers
        run = _Run(
            client, builder, work, plan, split, prints, backtranslate_role, workers, check_pool(workers)
        )
        # A whole build assembles each language as soon as its last unit is done; a part does not.
        entries = asyncio.run(run.units(pending, assemble=[] if part else langs, progress=progress))
        if part is not None:
            write_json(work.source / "parts.json", {"count": part[1]})
            missing = [
                (lang.code, shard)
                for lang in langs
                for shard in range(len(plan.shards))
                if not work.unit(lang.code, shard).done(prints[lang.code, shard])
            ]
            return {
                "part": list(part),
                "units": len(mine) * len(langs),
                "built": len(pending),
                "missing": missing,
            }
        return _write_stats(out_dir, builder, entries, plan, split, client, models, backtranslate_role)


@dataclass
class _Run:
    """What every unit and language assembly of one build shares."""

    client: LLMClient
    builder: Builder
    work: WorkDir
    plan: SourcePlan
    split: str | None
    prints: dict[tuple[str, int], str]
    backtranslate_role: str | None
    workers: int
    pool: Executor | None  # the check workers; None: a thread of this process

    async def offload(self, function: Callable[..., Any], *args: Any) -> Any:
        if self.pool is None:
            return await asyncio.to_thread(function, *args)
        return await asyncio.get_running_loop().run_in_executor(self.pool, function, *args)

    async def units(
        self, pending: list[tuple[Language, int]], *, assemble: list[Language], progress: bool
    ) -> dict[str, dict[str, Any]]:
        """Run the pending units; assemble each language of `assemble` once its units are done."""
        builder = self.builder
        # Units in flight: enough to keep the endpoints busy while finished ones are being checked;
        # memory follows this times the shard size, not the source.
        slots = asyncio.Semaphore(self.workers + 2)
        items = unit_items(builder, self.backtranslate_role)
        total = sum(self.plan.shards[shard]["records"] for _, shard in pending) * items
        steps = " → ".join(["translate", *(step.name for step in builder.steps)])
        entries: dict[str, dict[str, Any]] = {}
        finished = 0
        bar = tqdm(total=total, desc=f"{builder.name}: {steps}", unit="rec", disable=not progress or not pending,
                   dynamic_ncols=True)  # fmt: skip

        def item_done() -> None:
            bar.update()
            bar.set_postfix_str(
                f"units {finished}/{len(pending)} {self.client.usage.postfix()}", refresh=False
            )

        # Each language assembles in a thread of its own, in shard order, as its units finish:
        # the checks over the whole language overlap the requests of its last units.
        todo = {(lang.code, shard) for lang, shard in pending}
        finished_units = _Arrivals(
            {(lang.code, s) for lang in assemble for s in range(len(self.plan.shards))} - todo
        )
        threads = ThreadPoolExecutor(max(1, len(assemble)), thread_name_prefix="okapi-assemble")

        async def unit(lang: Language, shard: int) -> None:
            nonlocal finished
            async with slots:
                job = await request_unit(
                    self.client, builder, lang, self.work.read_inputs(shard), self.work.unit(lang.code, shard),
                    self.prints[lang.code, shard], self.backtranslate_role, item_done,
                )  # fmt: skip
                await self.offload(check_and_write, job)
                finished += 1
                finished_units.add((lang.code, shard))

        async def language(lang: Language) -> None:
            assembly = None
            if lang in assemble:
                units = (
                    self.work.unit(lang.code, shard)
                    for shard in range(len(self.plan.shards))
                    if finished_units.wait((lang.code, shard))
                )
                shards = len(self.plan.shards)
                assembly = asyncio.get_running_loop().run_in_executor(
                    threads, _assemble_language, self.work, builder, lang, units, shards, self.split
                )
                assembly.add_done_callback(lambda f: f.cancelled() or f.exception())  # read if a unit failed
            async with asyncio.TaskGroup() as group:
                for pending_lang, shard in pending:
                    if pending_lang == lang:
                        group.create_task(unit(lang, shard))
            if assembly is not None:
                entries[lang.code] = await assembly

        try:
            async with asyncio.TaskGroup() as group:
                for lang in dict.fromkeys([*(lang for lang, _ in pending), *assemble]):
                    group.create_task(language(lang))
        except BaseExceptionGroup as failed:
            raise _first(failed) from None  # e.g. EndpointError: the one error the user must fix
        finally:
            finished_units.abort()  # an assembly still waiting for a unit that will not come stops
            threads.shutdown(wait=True)
            bar.close()
            await self.client.aclose()
        return entries


class _Arrivals:
    """Units finished so far, for threads that wait for them in order (or learn the run stopped)."""

    def __init__(self, done: set[tuple[str, int]]):
        self._done = set(done)
        self._aborted = False
        self._changed = threading.Condition()

    def add(self, unit: tuple[str, int]) -> None:
        with self._changed:
            self._done.add(unit)
            self._changed.notify_all()

    def abort(self) -> None:
        with self._changed:
            self._aborted = True
            self._changed.notify_all()

    def wait(self, unit: tuple[str, int]) -> bool:
        with self._changed:
            self._changed.wait_for(lambda: unit in self._done or self._aborted)
            if unit not in self._done:
                raise _Stopped
            return True


class _Stopped(Exception):
    """The run stopped (an error elsewhere) before a unit this assembly waits for was finished."""


def _first(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


def _assemble_language(
    work: WorkDir,
    builder: Builder,
    lang: Language,
    units: Iterable[UnitFiles],
    shards: int,
    split: str | None,
) -> dict[str, Any]:
    """One language's config from its `shards` units, each taken as it finishes, in shard order."""
    with work.lock(f"assemble-{lang.code}", wait=True):
        return assemble.assemble_language(work.out_dir, builder, lang, units, split) | {"units": shards}


def _write_stats(
    out_dir: Path,
    builder: Builder,
    entries: dict[str, dict[str, Any]],
    plan: SourcePlan,
    split: str | None,
    client: LLMClient,
    models: dict[str, tuple[str, ...]],
    backtranslate_role: str | None,
) -> dict[str, Any]:
    """stats.json and the card, updated under a lock: other builds into this folder update them too."""
    run = {
        "okapi_version": okapi.__version__,
        "okapi_commit": okapi_commit(),
        "source": plan.location,
        "source_sha256": plan.sha256,
        "models": {r: ", ".join(names) for r, names in models.items()},
        "options": builder.options,
        "prompt_hashes": {"translate": PROMPT_HASH}
        | ({"backtranslate": BACKTRANSLATE_PROMPT_HASH} if backtranslate_role else {}),
    }
    work = WorkDir(out_dir, split or "all")
    source = {
        "location": plan.location,
        "rows_read": plan.rows_read,
        "records": plan.records,
        "rejected": plan.rejected,
        "blank_markers_emptied": plan.blanked,
    }
    with work.lock("stats", wait=True):
        stats = assemble.read_stats(out_dir)
        languages = stats.get("languages", {})
        for code, entry in sorted(entries.items()):
            entry = dict(entry)
            entry["run"] = run | {"served_models": entry.pop("served_models")}
            languages[code] = (
                assemble.merge_split_stats(languages.get(code), split, entry) if split else entry
            )
        rejects = assemble.RejectsWriter(out_dir, "source", split)
        for row in work.source_rows():
            rejects.add(row)
        rejects.commit()
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
                "last_run_usage": client.usage.as_dict(),
            }
        )
        assemble.write_stats(out_dir, stats)
        _write_card(out_dir, builder, stats)
    return stats


def _write_card(out_dir: Path, builder: Builder, stats: dict[str, Any]) -> None:
    if any(out_dir.glob("*/*.parquet")):
        (out_dir / "README.md").write_text(render_card(out_dir, builder, stats), encoding="utf-8")
    else:  # a card needs at least one config; say plainly where the records went instead
        (out_dir / "README.md").write_text(
            f"# {builder.pretty_name}\n\nNo language kept any rows: every record is in `rejects/` with its "
            "reason, counted in `stats.json`.\n",
            encoding="utf-8",
        )
