"""A build's work folder, `<out>/.okapi/`: the source cut into shards, one result per unit, locks.

    .okapi/source/<part>/manifest.json            counts, records hash, one digest per shard
    .okapi/source/<part>/input-00000.jsonl        the source's records, `shard_size` per file
    .okapi/source/<part>/rejects.jsonl            source rows that could not be used
    .okapi/units/<part>/<lang>/shard-00000.*      a unit's result: records.jsonl (passed the
                                                  per-record checks), rejects.jsonl, done.json
    .okapi/locks/                                 who builds what (released when a process dies)

`<part>` is the split a benchmark build reads, or `all`. Every file is written to a temporary
name and renamed, and a unit's `done.json` is written last: a unit counts as finished only when
its completion record exists and names the same inputs and settings (its fingerprint).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from okapi.records import Example, Reject

WORK = ".okapi"
DEFAULT_SHARD_SIZE = 1000  # records per unit: a crash loses at most this much work in progress


class BusyError(RuntimeError):
    """Another okapi process holds the lock for the same language (and split) of this folder."""


class IncompleteBuild(RuntimeError):
    """Some units are not finished (another part of a distributed build, or a failed run)."""


class OutputError(ValueError):
    """`--out` cannot take this build: a file, not writable, or holding files okapi did not write."""


# What okapi writes inside a config folder: `<split>-0000i-of-0000N.parquet`.
_SHARD_FILE = re.compile(r"[A-Za-z0-9_.]+-\d{5}-of-\d{5}\.parquet")


def check_out_dir(out_dir: Path, configs: Iterable[str]) -> None:
    """Refuse, before anything is sent, a folder a build would spoil: okapi only replaces files
    it wrote, in a folder that is new, empty, or an okapi build (`stats.json` or `.okapi/`)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"--out {out_dir} is a file; give a folder (new, empty, or an earlier okapi build)")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not (out_dir / "stats.json").exists() and not (out_dir / WORK).is_dir():
            raise OutputError(
                f"--out {out_dir} is not empty and is not an okapi build (no stats.json): okapi would "
                "write its README.md, stats.json and config folders there; give a new or empty folder"
            )
        for config in configs:
            folder = out_dir / config
            if folder.exists() and not folder.is_dir():
                raise OutputError(
                    f"{folder} is a file where okapi writes the {config!r} config; move it away"
                )
            foreign = (
                sorted(p.name for p in folder.iterdir() if not _SHARD_FILE.fullmatch(p.name))
                if folder.is_dir()
                else []
            )
            if foreign:
                raise OutputError(
                    f"{folder} holds {', '.join(foreign[:5])}, which okapi did not write; rebuilding "
                    f"{config!r} replaces that folder, so move them away first"
                )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"--out {out_dir} cannot be written ({exc.strerror}); choose another folder"
        ) from None


def write_atomic(path: Path, lines: Iterable[str]) -> None:
    """Write lines to a temporary file, then rename it into place (never a half-written file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line + "\n")
    os.replace(tmp, path)


def write_json(path: Path, data: Any) -> None:
    write_atomic(path, [json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)])


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def read_lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def example_row(example: Example) -> str:
    return json.dumps(
        {"id": example.id, "fields": example.fields, "lang": example.lang, "scores": example.scores,
         "meta": example.meta},
        ensure_ascii=False, sort_keys=True,
    )  # fmt: skip


def example_from(row: dict[str, Any]) -> Example:
    return Example(
        row["id"], row["fields"], row.get("lang", "en"), row.get("scores", {}), row.get("meta", {})
    )


def reject_row(reject: Reject) -> str:
    return json.dumps(reject.as_row(), ensure_ascii=False, sort_keys=True)


class Source(Protocol):
    location: str
    rows_read: int
    blanked: int

    def items(self) -> Iterator[Example | Reject]: ...


@dataclass
class SourcePlan:
    """The source as cut into shards: what the build driver needs without holding the records."""

    location: str
    shard_size: int
    rows_read: int = 0
    blanked: int = 0
    records: int = 0
    sha256: str = ""  # over every record's id and fields, in order (16 hex)
    shards: list[dict[str, Any]] = field(default_factory=list)  # {"digest", "records"} per shard
    rejected: dict[str, int] = field(default_factory=dict)


class WorkDir:
    def __init__(self, out_dir: Path, part: str):
        self.out_dir = out_dir
        self.root = out_dir / WORK
        self.part = part
        self.source = self.root / "source" / part

    def input_path(self, shard: int) -> Path:
        return self.source / f"input-{shard:05d}.jsonl"

    @property
    def source_rejects(self) -> Path:
        return self.source / "rejects.jsonl"

    def unit(self, lang: str, shard: int) -> UnitFiles:
        return UnitFiles(self.root / "units" / self.part / lang, shard)

    def split_source(self, source: Source, shard_size: int) -> SourcePlan:
        """Stream the source into input shards; a shard whose content is unchanged is not rewritten."""
        self.source.mkdir(parents=True, exist_ok=True)
        old = read_json(self.source / "manifest.json") or {}
        old_digests = (
            [s["digest"] for s in old.get("shards", [])] if old.get("shard_size") == shard_size else []
        )
        plan = SourcePlan(source.location, shard_size)
        digest = hashlib.sha256()
        rejected: Counter[str] = Counter()
        batch: list[str] = []

        def flush() -> None:
            shard = len(plan.shards)
            text = "\n".join(batch) + "\n"
            shard_digest = hashlib.sha256(text.encode()).hexdigest()[:16]
            path = self.input_path(shard)
            if not (shard < len(old_digests) and old_digests[shard] == shard_digest and path.exists()):
                write_atomic(path, batch)
            plan.shards.append({"digest": shard_digest, "records": len(batch)})
            batch.clear()

        def rejects() -> Iterator[str]:
            for item in source.items():
                if isinstance(item, Reject):
                    rejected[item.reason] += 1
                    yield reject_row(item)
                    continue
                digest.update(json.dumps([item.id, item.fields], sort_keys=True, ensure_ascii=False).encode())
                batch.append(example_row(item))
                plan.records += 1
                if len(batch) == shard_size:
                    flush()

        write_atomic(self.source_rejects, rejects())
        if batch:
            flush()
        plan.sha256 = digest.hexdigest()[:16]
        plan.rows_read, plan.blanked, plan.rejected = source.rows_read, source.blanked, dict(rejected)
        write_json(self.source / "manifest.json", asdict(plan))
        return plan

    def read_plan(self) -> SourcePlan | None:
        data = read_json(self.source / "manifest.json")
        return SourcePlan(**data) if data else None

    def source_rows(self) -> Iterator[dict[str, Any]]:
        return read_lines(self.source_rejects)

    def read_inputs(self, shard: int) -> list[Example]:
        return [example_from(row) for row in read_lines(self.input_path(shard))]

    @contextmanager
    def lock(self, name: str, *, wait: bool, busy: str = "") -> Iterator[None]:
        """An exclusive lock between okapi processes (flock: released when the holder dies)."""
        folder = self.root / "locks"
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / f"{name}.lock").open("a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise BusyError(f"{busy} (held by {holder})") from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"okapi pid {os.getpid()}")
            handle.flush()
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class UnitFiles:
    """Where one (language, shard) unit writes: records, rejects, then its completion record."""

    folder: Path
    shard: int

    def path(self, kind: str) -> Path:
        return self.folder / f"shard-{self.shard:05d}.{kind}"

    def done(self, fingerprint: str) -> dict[str, Any] | None:
        """The completion record, if this unit finished with these inputs and settings."""
        record = read_json(self.path("done.json"))
        return record if record and record.get("fingerprint") == fingerprint else None

    def write(self, records: Iterable[Example], rejects: Iterable[Reject], done: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path("records.jsonl"), map(example_row, records))
        write_atomic(self.path("rejects.jsonl"), map(reject_row, rejects))
        write_json(self.path("done.json"), done)

    def records(self) -> Iterator[Example]:
        return map(example_from, read_lines(self.path("records.jsonl")))

    def rejects(self) -> Iterator[dict[str, Any]]:
        return read_lines(self.path("rejects.jsonl"))
