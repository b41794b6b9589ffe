"""Render a build folder's README: YAML metadata with one config per language, and prose."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import yaml

from okapi.assemble import config_files
from okapi.languages import get_language


def _size_category(rows: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if rows < limit:
            return name
    return "100K<n<1M" if rows < 1_000_000 else "1M<n<10M"


def render_card(out_dir: Path, builder: Any, stats: dict[str, Any]) -> str:
    langs = sorted(stats.get("languages", {}))
    configs = []
    for i, code in enumerate(langs):
        files = config_files(out_dir, code)
        if not files:
            continue
        entry: dict[str, Any] = {
            "config_name": code,
            "data_files": [{"split": s, "path": f"{code}/{s}-*.parquet"} for s in files],
        }
        if i == 0:
            entry["default"] = True
        configs.append(entry)
    total = sum(stats["languages"][c]["kept"] for c in langs)
    metadata = {
        "pretty_name": builder.pretty_name,
        "language": langs,
        "license": builder.license,
        "task_categories": list(builder.task_categories),
        "size_categories": [_size_category(total)],
        "configs": configs,
    }
    rows = []
    for code in langs:
        lang, numbers = get_language(code), stats["languages"][code]
        reasons = sorted(numbers["rejected"].items(), key=lambda kv: -kv[1])[:3]
        rows.append(
            {
                "code": code,
                "name": lang.name,
                "tier": lang.tier,
                "source_rows": numbers["source_rows"],
                "kept": numbers["kept"],
                "kept_rate": numbers["kept"] / max(1, numbers["source_rows"]),
                "reasons": ", ".join(f"{r} ({n})" for r, n in reasons) or "—",
            }
        )
    template = (resources.files("okapi.dataset_cards") / builder.card_template).read_text("utf-8")
    env = jinja2.Environment(autoescape=False, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    return env.from_string(template).render(
        card_data=yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True).strip(),
        pretty_name=builder.pretty_name,
        summary=builder.summary,
        okapi_version=stats["okapi_version"],
        okapi_commit=stats.get("okapi_commit"),
        languages=rows,
        source=stats["source"]["location"],
        models=stats["models"],
        prompt_hashes=stats["prompt_hashes"],
        checks=sorted({c for code in langs for c in stats["languages"][code]["checks"]}),
        repo_hint=f"<org>/okapi-{builder.name}",
        first_config=langs[0] if langs else "vi",
    )
