"""Audit translations made elsewhere: join them to their English source by id, check, report.

    okapi audit --source alpaca_en.json --translations okapi_vi.json --lang vi --out audit/vi

No model is asked for the forward translation: the translations are read as they are, scored by
the same checks and thresholds as a build (the builder's, for the language's tier) and written
in the same layout (`<lang>/train-*.parquet` with every score as a column, `rejects/<lang>.jsonl`
with reason codes, `stats.json`), so `okapi report` reads both. Back-translation is optional and
goes through the LLM layer like in a build.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

import okapi
from okapi import assemble
from okapi.languages import Language
from okapi.quality import BackTranslationScore, apply_checks
from okapi.records import Example, Reject


class AuditError(ValueError):
    pass


def _file_rows(path: Path) -> Iterator[dict[str, Any]]:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise AuditError(f"{path}:{number}: invalid JSON: {exc.msg}") from None
    elif suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, list):
            raise AuditError(f"{path}: expected a JSON array of objects")
        yield from data
    elif suffix == ".parquet":
        yield from pq.read_table(path).to_pylist()
    else:
        raise AuditError(f"{path}: unsupported file type {suffix!r}; use .json, .jsonl or .parquet")


def _files_of(folder: Path, files: list[Path], lang: str) -> list[Path]:
    """The files of one language in a folder holding several (`<lang>/` folders or `<lang>.jsonl`):
    reading them all would judge 25 languages' text as `lang` and reject everything silently."""
    from okapi.languages import LANGUAGES

    by_lang = {
        p: next((part for part in (*p.relative_to(folder).parent.parts, p.stem) if part in LANGUAGES), None)
        for p in files
    }
    found = sorted({code for code in by_lang.values() if code})
    if not found or found == [lang]:
        return files
    if lang not in found:
        raise AuditError(
            f"{folder} holds translations in {', '.join(found)}, not in {lang!r}; name one of them with --lang"
        )
    return [p for p, code in by_lang.items() if code == lang]


def read_rows(location: str, lang: str | None = None, split: str = "train") -> list[dict[str, Any]]:
    """Rows of a file, a folder (Hub layout `<lang>/*.parquet`, or data files) or a Hub dataset id."""
    path = Path(location)
    if path.is_file():
        return list(_file_rows(path))
    if path.is_dir():
        folder = path / lang if lang and (path / lang).is_dir() else path
        files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".parquet", ".jsonl", ".json"))
        files = [p for p in files if "rejects" not in p.parts and p.name not in ("stats.json", "report.json")]
        if lang and folder == path:
            files = _files_of(path, files, lang)
        if not files:
            raise AuditError(f"{folder}: no .parquet, .jsonl or .json files")
        return [row for p in files for row in _file_rows(p)]
    if "/" not in location.strip("/"):
        raise AuditError(f"{location!r} does not exist (give a file, a folder or a Hub id like 'org/name')")
    import datasets

    try:
        data = datasets.load_dataset(location, lang, split=split)
    except (FileNotFoundError, ValueError, ConnectionError) as exc:
        raise AuditError(f"could not load {location!r} (config {lang!r}, split {split!r}): {exc}") from None
    return list(data)


def _shared_text_fields(
    english: list[dict[str, Any]], translations: list[dict[str, Any]], id_field: str
) -> tuple[str, ...]:
    """String fields of any English row that the translations have too, in first-seen order.

    All rows count (an ARC item's `option_e` exists only on 5-option items); a field whose values
    are all labels of one or two characters (an answer letter) is not text to check.
    """
    names: dict[str, bool] = {}
    for row in english:
        for key, value in row.items():
            if key != id_field and isinstance(value, str):
                names[key] = names.get(key, False) or len(value.strip()) > 2
    translated = {k for row in translations for k in row}
    return tuple(k for k, is_text in names.items() if is_text and k in translated)


@dataclass(frozen=True)
class Joined:
    sources: dict[str, Example]
    translated: list[Example]
    rejects: list[Reject]  # translations without a source, sources without a translation
    fields: tuple[str, ...]


def join_by_id(
    english: list[dict[str, Any]],
    translations: list[dict[str, Any]],
    lang: str,
    *,
    id_field: str = "id",
    fields: tuple[str, ...] | None = None,
    by_order: bool = False,
    blank_values: frozenset[str] = frozenset(),
) -> Joined:
    """Pair rows by `id_field` (or by position with `by_order`); text fields default to the shared ones.

    Values in `blank_values` (the builder's '<noinput>', 'N/A'…) count as empty, as in a build.
    """
    if fields is None:
        fields = _shared_text_fields(english, translations, id_field)
        if not fields:
            raise AuditError("the source and translations share no text field; name them with --fields")
    for side, rows in (("English source", english), ("translations", translations)):
        absent = [name for name in fields if not any(name in row for row in rows)]
        if absent:
            have = sorted({k for row in rows[:100] for k in row})
            raise AuditError(
                f"the {side} rows have no field {', '.join(map(repr, absent))} (they have: {', '.join(have)}); "
                "nothing would be checked"
            )

    def key(row: dict[str, Any], n: int, where: str) -> str:
        if by_order:
            return str(n)
        if id_field not in row:
            raise AuditError(f"{where} row {n} has no {id_field!r} field (use --id-field, or --join order)")
        return str(row[id_field])

    def example(row: dict[str, Any], n: int, where: str, code: str) -> Example:
        values = {}
        for name in fields:
            value = row.get(name)
            if value is not None and not isinstance(value, str):
                raise AuditError(f"{where} row {n}: field {name!r} must be a string")
            values[name] = "" if not value or value.strip() in blank_values else value
        return Example(key(row, n, where), values, code)

    sources = {}
    for n, row in enumerate(english):
        record = example(row, n, "source", "en")
        sources.setdefault(record.id, record)
    translated, rejects, seen = [], [], set()
    for n, row in enumerate(translations):
        record = example(row, n, "translations", lang)
        if record.id in seen:
            rejects.append(
                Reject(record.id, lang, "duplicate_id", "id already seen in the translations", record.fields)
            )
        elif record.id not in sources:
            rejects.append(Reject(record.id, lang, "no_source", "no English row with this id", record.fields))
        else:
            translated.append(record)
        seen.add(record.id)
    for record_id, source in sources.items():
        if record_id not in seen:
            rejects.append(
                Reject(record_id, lang, "missing_translation", "no translation with this id", source.fields)
            )
    return Joined(sources, translated, rejects, fields)


def _audited(check: Any, fields: tuple[str, ...]) -> Any:
    """Back-translation scores the fields the audit reads (the builder names its own)."""
    if not isinstance(check, BackTranslationScore):
        return check
    options = tuple(name for name in getattr(check, "options", ()) if name in fields)
    return replace(check, fields=fields, **({"options": options} if hasattr(check, "options") else {}))


def audit(
    joined: Joined,
    lang: Language,
    checks: tuple,
    out_dir: str | Path,
    *,
    client: Any = None,
    backtranslate_role: str | None = None,
    location: str = "",
) -> dict[str, Any]:
    """Score the joined translations with `checks`; write data, rejects and stats. Returns stats."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    checks = tuple(_audited(c, joined.fields) for c in checks)
    english: dict[str, Example] = {}
    failed: list[Reject] = []
    if backtranslate_role:
        from okapi.steps.backtranslate import backtranslate
        from okapi.steps.translate import TranslateSettings

        async def run() -> tuple[dict[str, Example], list[Reject]]:
            try:
                return await backtranslate(
                    client, joined.translated, lang, joined.fields, TranslateSettings(role=backtranslate_role)
                )
            finally:
                await client.aclose()

        english, failed = asyncio.run(run())
    checked = apply_checks(joined.translated, joined.sources, lang, checks, english)
    rejects = joined.rejects + [
        Reject(rec.id, lang.code, reason, detail, rec.fields, rec.scores)
        for rec, reason, detail in checked.rejected
    ]
    rows = [{"id": r.id, **r.fields, **r.scores} for r in checked.kept]
    folder = out_dir / lang.code
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.parquet"):
        old.unlink()
    if rows:
        pq.write_table(pa.Table.from_pylist(rows), folder / "train-00000-of-00001.parquet")
    assemble.write_rejects(out_dir, lang.code, rejects)
    reasons_all = Counter(x for r in rejects for x in (r.scores.get("reject_reasons") or [r.reason]))
    stats = assemble.read_stats(out_dir)
    stats.setdefault("languages", {})[lang.code] = {
        "source_rows": len(joined.sources),
        "translations": len(joined.translated)
        + sum(r.reason in ("no_source", "duplicate_id") for r in joined.rejects),
        "kept": len(checked.kept),
        "rejected": dict(sorted(Counter(r.reason for r in rejects).items())),
        "reasons_all": dict(sorted(reasons_all.items())),
        "check_pass_rates": checked.pass_rates(),
        "backtranslated": len(english),
        "backtranslation_failed": len(failed),
        "checks": [repr(c) for c in checks],
        "translations_location": location,
    }
    stats.update({"builder": "audit", "okapi_version": okapi.__version__, "fields": list(joined.fields)})
    assemble.write_stats(out_dir, stats)
    return stats
