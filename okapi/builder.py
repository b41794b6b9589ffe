"""What a builder declares: source fields, steps' settings, checks and thresholds, published columns."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow as pa

from okapi.languages import Language
from okapi.records import Example
from okapi.sources import LoadedSource, SourceSpec, SourceStream, load_source
from okapi.steps.translate import TranslateSettings

MESSAGES = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))


class Step(Protocol):
    """A step after translation (responses, ranking, ...): records in, records and rejects out."""

    name: str

    def planned_requests(self, records: list[Example], lang: Language, config: Any) -> list[tuple[str, Any]]:
        """(role, request) of every first attempt under the run config, for `okapi estimate`."""
        ...

    async def run(
        self, client: Any, records: list[Example], lang: Language, item_done: Callable[[], None]
    ) -> tuple[list[Example], list[Any]]: ...

    def summary(self, kept: int, rejected: dict[str, int]) -> dict[str, Any]:
        """Figures for the language's stats.json entry (e.g. judge agreement) from the records the
        step kept and its rejects per reason, over the whole language; {} when none."""
        ...


@dataclass(frozen=True)
class Builder:
    name: str
    pretty_name: str
    summary: str
    source: SourceSpec
    columns: dict[str, pa.DataType]  # published columns before the score columns
    to_row: Callable[[Example], dict[str, Any] | list[dict[str, Any]]]
    checks: tuple = ()  # quality checks with their thresholds
    checks_by_tier: dict[str, tuple] = field(default_factory=dict)  # overrides per language tier
    translate: TranslateSettings = TranslateSettings()
    steps: tuple[Step, ...] = ()  # run in order after translation, per language
    splits: dict[str, float] = field(default_factory=lambda: {"train": 1.0})
    license: str = "cc-by-nc-4.0"
    task_categories: tuple[str, ...] = ("text-generation",)
    card_template: str = "instructions.md.j2"
    max_rows_per_shard: int = 100_000  # rows per published parquet file
    # Benchmarks keep their source's splits: a build reads one split and adds it to every config.
    source_splits: tuple[str, ...] = ()  # when set, records go to the split the source holds
    split_aliases: dict[str, str] = field(default_factory=dict)  # e.g. validation → val
    read_source: Callable[[str, str, int | None], LoadedSource] | None = None  # None: okapi.sources rows
    options: dict[str, Any] = field(default_factory=dict)  # what `--set` chose; recorded in stats and card

    def load(self, source: str, *, split: str | None = None, limit: int | None = None) -> LoadedSource:
        """Read `source`: generic rows (split only picks a Hub split), or one split of a benchmark."""
        if self.read_source is None:
            return load_source(source, self.source, limit=limit, split=split or "train")
        name = self.source_split(split)
        loaded = self.read_source(source, name, limit)
        loaded.split = name
        return loaded

    def stream(
        self, source: str, *, split: str | None = None, limit: int | None = None
    ) -> SourceStream | LoadedSource:
        """Like `load`, but generic rows are read lazily, as a build consumes them."""
        if self.read_source is None:
            return SourceStream(source, self.source, limit, split or "train")
        return self.load(source, split=split, limit=limit)

    def source_split(self, split: str | None) -> str:
        """The published split for `--split` (an alias is accepted; one split needs no name)."""
        if split is None and len(self.source_splits) == 1:
            return self.source_splits[0]
        name = self.split_aliases.get(split or "", split)
        if name not in self.source_splits:
            raise ValueError(
                f"{self.name} builds one split at a time from a source that holds it: pass --split "
                f"{' | '.join(self.source_splits)} (given: {split!r})"
            )
        return name

    def checks_for(self, lang: Language) -> tuple:
        return self.checks_by_tier.get(lang.tier, self.checks)

    def split_of(self, record_id: str) -> str:
        """Deterministic split from a hash of the id: the same record always lands in the same split."""
        point = int.from_bytes(hashlib.sha256(record_id.encode()).digest()[:8], "big") / 2**64
        cumulative = 0.0
        for name, share in self.splits.items():
            cumulative += share
            if point < cumulative:
                return name
        return next(reversed(self.splits))
