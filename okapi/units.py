"""One unit of a build: one shard of the source in one language, from requests to a shard file.

The LLM part (translate → the builder's steps → back-translation) runs on the event loop with
the other units; the per-record checks run in a worker process (`check_and_write`), which also
writes the unit's files, so the loop keeps sending requests while records are checked.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing import get_context
from typing import Any

from okapi.builder import Builder
from okapi.languages import Language
from okapi.llm import LLMClient
from okapi.llm.usage import served_scope
from okapi.quality import check_records
from okapi.records import Example, Reject
from okapi.steps.backtranslate import backtranslate
from okapi.steps.translate import translate
from okapi.workdir import UnitFiles


@dataclass(frozen=True)
class CheckJob:
    """What a worker process needs to check one unit and write its files (all picklable)."""

    files: UnitFiles
    fingerprint: str
    lang: Language
    checks: tuple
    records: list[Example]  # after translation and steps
    sources: dict[str, Example]
    backtranslations: dict[str, Example]
    rejects: list[Reject]  # from translation and steps
    measured: dict[str, Any]


def check_and_write(job: CheckJob) -> dict[str, Any]:
    """Per-record checks, then the unit's files (completion record last). Returns the record."""
    checked = check_records(job.records, job.sources, job.lang, job.checks, job.backtranslations)
    rejects = job.rejects + [
        Reject(rec.id, job.lang.code, reason, detail, rec.fields, rec.scores)
        for rec, reason, detail in checked.rejected
    ]
    done = {
        "fingerprint": job.fingerprint,
        "records_in": len(job.sources),
        "passed_record_checks": len(checked.kept),
        "judged": dict(checked.judged),
        "failed": dict(checked.failed),
        "backtranslated": len(job.backtranslations),
        "transport_failures": sum(r.reason.startswith("request_failed.") for r in rejects),
        **job.measured,
    }
    job.files.write(checked.kept, rejects, done)
    return done


_POOL: tuple[int, ProcessPoolExecutor] | None = None


def check_pool(workers: int) -> Executor | None:
    """The worker processes for checks, started once per process (models load once per worker);
    None for `workers=0` (checks in a thread of this process)."""
    global _POOL
    if workers <= 0:
        return None
    if _POOL is None or _POOL[0] != workers:
        if _POOL is not None:
            _POOL[1].shutdown()
        # spawn: forking a process that runs an event loop, threads and SQLite is not safe
        _POOL = (workers, ProcessPoolExecutor(workers, mp_context=get_context("spawn")))
    return _POOL[1]


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


async def request_steps(
    client: LLMClient,
    builder: Builder,
    examples: list[Example],
    lang: Language,
    item_done: Callable[[], None],
) -> tuple[list[Example], list[Reject], dict[str, Any]]:
    """Translate, then the builder's later steps; a record rejected by a step stops there.

    Also returns what was measured: records in and out of each step, and each step's rejects.
    """
    kept, rejects = await translate(
        client, examples, lang, builder.source.fields, builder.translate, item_done
    )
    steps: dict[str, Any] = {"translate": {"in": len(examples), "out": len(kept)}}
    step_rejected: dict[str, dict[str, int]] = {}
    for n, step in enumerate(builder.steps):
        given = len(kept)
        kept, dropped = await step.run(client, kept, lang, item_done)
        rejects += dropped
        steps[step.name] = {"in": given, "out": len(kept)}
        step_rejected[step.name] = dict(Counter(r.reason for r in dropped))
        for _ in range(len(dropped) * (len(builder.steps) - n - 1)):
            item_done()  # the bar counts (record, step) pairs; skipped pairs count as done
    return kept, rejects, {"steps": steps, "step_rejected": step_rejected}


async def request_unit(
    client: LLMClient,
    builder: Builder,
    lang: Language,
    examples: list[Example],
    files: UnitFiles,
    fingerprint: str,
    backtranslate_role: str | None,
    item_done: Callable[[], None],
) -> CheckJob:
    """Every request of a unit; returns what its checks need (`check_and_write`, in a worker).

    What it measured includes, per role, the models the servers said answered its requests."""
    with served_scope() as served:
        kept, rejects, measured = await request_steps(client, builder, examples, lang, item_done)
        english: dict[str, Example] = {}
        if backtranslate_role:
            settings = replace(
                builder.translate, role=backtranslate_role, validate_item=None
            )  # validators judge X
            english, _ = await backtranslate(client, kept, lang, builder.source.fields, settings, item_done)
            for _ in range(len(examples) - len(kept)):
                item_done()
    measured["served_models"] = {role: sorted(names) for role, names in sorted(served.items())}
    checks = tuple(builder.checks_for(lang))
    sources = {e.id: e for e in examples}
    return CheckJob(files, fingerprint, lang, checks, kept, sources, english, rejects, measured)


def unit_items(builder: Builder, backtranslate_role: str | None) -> int:
    """Progress-bar items per record: one per step, back-translation included."""
    return 1 + len(builder.steps) + (1 if backtranslate_role else 0)
