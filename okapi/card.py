"""Dataset cards: YAML metadata (configs, dataset_info, ...) and prose from a Jinja template.

A card is rendered from stats alone: each language's entry carries a `config` block (data
files, features, split sizes, median scores) measured from its parquet files by
`describe_config`. A publish can therefore re-render the card for languages it knows only from
the Hub's stats.json, and one template per dataset plus the shared macros in
`dataset_cards/_shared.md.j2` write the prose.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from okapi.assemble import config_files
from okapi.languages import LANGUAGES

# The Hub's accepted values (huggingface_hub.DatasetCardData documents the same list).
SIZE_CATEGORIES = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
)
REQUIRED_KEYS = ("pretty_name", "language", "license", "task_categories", "size_categories", "configs")
# Keys okapi writes; any other top-level key found in a Hub card is kept when it is re-rendered.
GENERATED_KEYS = (*REQUIRED_KEYS, "multilinguality", "language_creators", "tags", "dataset_info")
KEPT_RATE_WARNING = 0.8  # below this, a language is named under "Limitations"


class CardError(ValueError):
    pass


def size_category(rows: int) -> str:
    for limit, name in SIZE_CATEGORIES:
        if rows < limit:
            return name
    return "100M<n<1B"


def _numeric(kind: pa.DataType) -> bool:
    return (pa.types.is_integer(kind) or pa.types.is_floating(kind)) and not pa.types.is_boolean(kind)


def describe_config(folder: Path, code: str, base_columns: Iterable[str]) -> dict[str, Any] | None:
    """Data files, features, split sizes and median scores of one config, from its parquet files."""
    from datasets import DatasetInfo, Features, SplitDict, SplitInfo

    files = config_files(Path(folder), code)
    if not files:
        return None
    first = Path(folder) / next(iter(files.values()))[0]
    schema = pq.read_schema(first)
    scores = [f.name for f in schema if f.name not in set(base_columns) and _numeric(f.type)]
    splits, values = SplitDict(), {name: [] for name in scores}
    download_size = 0
    for split, paths in files.items():
        rows = size = 0
        for path in paths:
            meta = pq.read_metadata(Path(folder) / path)
            rows += meta.num_rows
            # Uncompressed size from the footer: what `datasets` calls num_bytes, without reading data.
            size += sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
            download_size += (Path(folder) / path).stat().st_size
            table = pq.read_table(Path(folder) / path, columns=scores)
            for name in scores:
                values[name] += [v for v in table.column(name).to_pylist() if v is not None]
        splits.add(SplitInfo(split, num_bytes=size, num_examples=rows))
    info = DatasetInfo(
        features=Features.from_arrow_schema(schema),
        splits=splits,
        download_size=download_size,
        dataset_size=sum(s.num_bytes for s in splits.values()),
    )
    return {
        "data_files": files,
        "dataset_info": info._to_yaml_dict(),  # datasets' own YAML form, as load_dataset reads it back
        "medians": {name: round(statistics.median(v), 4) for name, v in values.items() if v},
    }


def _canonical_info(info: dict[str, Any]) -> dict[str, Any]:
    """datasets' own key order, whatever order stats.json stored the keys in (stable cards)."""
    from datasets import DatasetInfo

    return DatasetInfo._from_yaml_dict(info)._to_yaml_dict()


def with_configs(folder: Path, builder: Any, stats: dict[str, Any]) -> dict[str, Any]:
    """A copy of stats where every language with files in `folder` has its `config` block."""
    languages = {}
    for code, numbers in stats.get("languages", {}).items():
        described = describe_config(folder, code, builder.columns)
        languages[code] = {**numbers, "config": described} if described else numbers
    return {**stats, "languages": languages}


def render_card(out_dir: Path, builder: Any, stats: dict[str, Any], repo_id: str | None = None) -> str:
    """The README of a build folder (configs measured from the files on disk)."""
    return render(builder, with_configs(out_dir, builder, stats), repo_id)


def published(stats: dict[str, Any]) -> list[str]:
    """Languages that have files (a `config` block), sorted."""
    return sorted(code for code, numbers in stats.get("languages", {}).items() if numbers.get("config"))


def card_metadata(builder: Any, stats: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    langs = published(stats)
    configs, infos = [], []
    for i, code in enumerate(langs):
        config = stats["languages"][code]["config"]
        entry: dict[str, Any] = {
            "config_name": code,
            "data_files": [{"split": s, "path": f"{code}/{s}-*.parquet"} for s in config["data_files"]],
        }
        if i == 0:
            entry["default"] = True
        configs.append(entry)
        infos.append({"config_name": code, **_canonical_info(config["dataset_info"])})
    total = sum(stats["languages"][code]["kept"] for code in langs)
    metadata = {key: value for key, value in (extra or {}).items() if key not in GENERATED_KEYS}
    metadata.update(
        {
            "pretty_name": builder.pretty_name,
            "language": langs,
            "license": builder.license,
            "task_categories": list(builder.task_categories),
            "size_categories": [size_category(total)],
            "multilinguality": ["multilingual" if len(langs) > 1 else "monolingual"],
            "language_creators": ["machine-generated"],
            "tags": ["okapi", "machine-translated", builder.name],
            "configs": configs,
            "dataset_info": infos,
        }
    )
    check_metadata(metadata)
    return metadata


def check_metadata(metadata: dict[str, Any]) -> None:
    """Offline checks of what the Hub validates: required keys, enums, one config per language."""
    from huggingface_hub import DatasetCardData

    missing = [key for key in REQUIRED_KEYS if not metadata.get(key)]
    if missing:
        raise CardError(f"card metadata lacks {', '.join(missing)}; the builder must declare them")
    allowed = {name for _, name in SIZE_CATEGORIES} | {"100M<n<1B"}
    if not set(metadata["size_categories"]) <= allowed:
        raise CardError(f"size_categories {metadata['size_categories']} not in {sorted(allowed)}")
    bad = [code for code in metadata["language"] if not (code.isalpha() and 2 <= len(code) <= 3)]
    if bad:
        raise CardError(f"language codes must be ISO 639 (2-3 letters), not {bad}")
    names = [c["config_name"] for c in metadata["configs"]]
    if sorted(names) != sorted(metadata["language"]) or len(set(names)) != len(names):
        raise CardError(f"configs {names} must be one per language {metadata['language']}")
    if [i["config_name"] for i in metadata.get("dataset_info", [])] != names:
        raise CardError("dataset_info must have one entry per config, in the same order")
    DatasetCardData(**metadata)  # huggingface_hub's own parse of the metadata


def source_name(location: str) -> str:
    """A local path shows as its file name (no home folders in public cards); a Hub id as is."""
    path = Path(location)
    return path.name if path.is_absolute() or location.startswith((".", "~")) else location


def _runs(stats: dict[str, Any], langs: list[str]) -> list[dict[str, Any]]:
    """Languages grouped by what built them (a rebuilt language may differ from the others)."""
    groups: dict[str, dict[str, Any]] = {}
    for code in langs:
        numbers = stats["languages"][code]
        run = numbers.get("run") or {  # stats written before per-language run facts existed
            "okapi_version": stats.get("okapi_version"),
            "okapi_commit": stats.get("okapi_commit"),
            "source": stats.get("source", {}).get("location", "unknown"),
            "models": stats.get("models", {}),
            "prompt_hashes": stats.get("prompt_hashes", {}),
        }
        facts = {**run, "source": source_name(run.get("source", "unknown")), "checks": numbers["checks"]}
        key = json.dumps(facts, sort_keys=True)
        groups.setdefault(key, {**facts, "languages": []})["languages"].append(code)
    return list(groups.values())


def _rows(stats: dict[str, Any], langs: list[str]) -> list[dict[str, Any]]:
    rows = []
    for code in langs:
        numbers = stats["languages"][code]
        lang = LANGUAGES.get(code)
        reasons = sorted(numbers["rejected"].items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        rows.append(
            {
                "code": code,
                "name": lang.name if lang else code,
                "tier": lang.tier if lang else "other",
                "source_rows": numbers["source_rows"],
                "kept": numbers["kept"],
                "splits": numbers["splits"],
                "kept_rate": numbers["kept"] / max(1, numbers["source_rows"]),
                "medians": numbers["config"].get("medians", {}),
                "reasons": ", ".join(f"`{r}` ({n})" for r, n in reasons) or "—",
            }
        )
    return rows


def _score_docs(builder: Any) -> dict[str, str]:
    """Score column → "`check_name`, the first paragraph of the check's docstring"."""
    checks = list(builder.checks) + [c for group in builder.checks_by_tier.values() for c in group]
    docs = {}
    for check in checks:
        # The whole first paragraph, joined: its first line alone may stop mid-sentence.
        doc = " ".join((type(check).__doc__ or "").strip().split("\n\n")[0].split())
        name = f"`{getattr(check, 'name', type(check).__name__)}`"
        for column in getattr(check, "columns", {}):
            docs.setdefault(column, name + (f", {doc}" if doc else ""))
    return docs


def _environment() -> jinja2.Environment:
    folder = resources.files("okapi.dataset_cards")
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: (folder / name).read_text("utf-8")),
        autoescape=False,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def render(
    builder: Any,
    stats: dict[str, Any],
    repo_id: str | None = None,
    extra_metadata: dict[str, Any] | None = None,
) -> str:
    """The card for every language of `stats` that has a `config` block."""
    langs = published(stats)
    metadata = card_metadata(builder, stats, extra_metadata)
    rows = _rows(stats, langs)
    score_columns = sorted({name for row in rows for name in row["medians"]})
    return (
        _environment()
        .get_template(builder.card_template)
        .render(
            card_data=yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True).strip(),
            pretty_name=builder.pretty_name,
            summary=builder.summary,
            builder_name=builder.name,
            languages=rows,
            score_columns=score_columns,
            score_docs=_score_docs(builder),
            runs=_runs(stats, langs),
            low_kept=[row["code"] for row in rows if row["kept_rate"] < KEPT_RATE_WARNING],
            low_tier=[row["code"] for row in rows if row["tier"] == "low"],
            kept_rate_warning=KEPT_RATE_WARNING,
            repo=repo_id or f"<org>/okapi-{builder.name}",
            first_config=langs[0] if langs else "vi",
            splits=sorted({s for row in rows for s in row["splits"]}),
        )
    )


def read_metadata(readme: str) -> dict[str, Any]:
    """The YAML front matter of a card ({} when it has none)."""
    if not readme.startswith("---"):
        return {}
    end = readme.find("\n---", 3)
    if end < 0:
        raise CardError("README.md starts a YAML block with '---' but never closes it")
    return yaml.safe_load(readme[3:end]) or {}
