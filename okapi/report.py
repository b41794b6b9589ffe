"""Per-language quality report of a build (or audit) folder: one self-contained HTML page and JSON.

    okapi report out/demo [--lang vi]    →  out/demo/report.html, out/demo/report.json

It reads what the build wrote (`stats.json`, `<lang>/*.parquet`, `rejects/<lang>.jsonl`): every
record that was checked is in one or the other with its scores, so the figures cover kept and
dropped records alike. The page has a table of languages (rows in, kept, pass rate per check,
median scores), score histograms per language (inline SVG, kept and rejected stacked) and the
worst examples with their reasons. Nothing is loaded from the network.
"""

from __future__ import annotations

import html
import json
import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from okapi.languages import LANGUAGES

# Scores shown as histograms and medians, in this order, when a language has them.
HISTOGRAM_SCORES = (
    "bt_chrf",
    "bt_bleu",
    "length_z",
    "lang_id_confidence",
    "script_fraction",
    "copied_share",
    "numbers_kept",
    "near_duplicate_similarity",
)
_BINS = 20


@dataclass
class LanguageData:
    code: str
    kept: list[dict[str, Any]] = field(default_factory=list)  # parquet rows
    rejects: list[dict[str, Any]] = field(default_factory=list)  # rejects/<lang>.jsonl rows
    stats: dict[str, Any] = field(default_factory=dict)


class ReportError(ValueError):
    pass


def _numeric(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def load_folder(folder: Path, langs: list[str] | None = None) -> dict[str, LanguageData]:
    stats = (
        json.loads((folder / "stats.json").read_text(encoding="utf-8"))
        if (folder / "stats.json").exists()
        else {}
    )
    codes = sorted(stats.get("languages", {})) or sorted(
        p.name for p in folder.iterdir() if p.is_dir() and p.name in LANGUAGES
    )
    if langs:
        unknown = sorted(set(langs) - set(codes))
        if unknown:
            raise ReportError(
                f"{folder} has no data for {', '.join(unknown)}; it has: {', '.join(codes) or 'none'}"
            )
        codes = [c for c in codes if c in langs]
    if not codes:
        raise ReportError(f"{folder} holds no language data (expected stats.json and <lang>/*.parquet)")
    data = {}
    for code in codes:
        entry = LanguageData(code, stats=stats.get("languages", {}).get(code, {}))
        for shard in sorted((folder / code).glob("*.parquet")):
            entry.kept += pq.read_table(shard).to_pylist()
        rejects = folder / "rejects" / f"{code}.jsonl"
        if rejects.exists():
            entry.rejects = [
                json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines() if line
            ]
        data[code] = entry
    return data


def _histogram(kept: list[float], rejected: list[float]) -> dict[str, Any] | None:
    values = kept + rejected
    if not values:
        return None
    low, high = min(values), max(values)
    if high == low:
        high = low + 1.0
    width = (high - low) / _BINS

    def counts(xs: list[float]) -> list[int]:
        out = [0] * _BINS
        for x in xs:
            out[min(int((x - low) / width), _BINS - 1)] += 1
        return out

    return {
        "edges": [round(low + i * width, 4) for i in range(_BINS + 1)],
        "kept": counts(kept),
        "rejected": counts(rejected),
    }


def _reasons_of(reject: dict[str, Any]) -> list[str]:
    return (reject.get("scores") or {}).get("reject_reasons") or [reject["reason"]]


def _text_fields(row: dict[str, Any]) -> dict[str, str]:
    if "fields" in row:
        return {k: v for k, v in row["fields"].items() if isinstance(v, str)}
    skip = {"id", "messages"}
    return {
        k: v
        for k, v in row.items()
        if isinstance(v, str)
        and k not in skip
        and not k.startswith(("lang_id_", "backtranslation_", "duplicate_"))
    }


def _clip(text: str, limit: int = 280) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _worst(entry: LanguageData, limit: int) -> list[dict[str, Any]]:
    """Rejects spread over their reasons (round robin), then the kept records that score lowest."""
    by_reason: dict[str, list[dict[str, Any]]] = {}
    for reject in entry.rejects:
        by_reason.setdefault(reject["reason"], []).append(reject)
    picked: list[dict[str, Any]] = []
    while len(picked) < limit and any(by_reason.values()):
        for reason in sorted(by_reason, key=lambda r: -len(by_reason[r])):
            if by_reason[reason] and len(picked) < limit:
                picked.append(by_reason[reason].pop(0))
    worst = [
        {
            "id": r["id"],
            "status": "rejected",
            "reasons": _reasons_of(r),
            "detail": _clip(r.get("detail") or "", 200),
            "fields": {k: _clip(v) for k, v in _text_fields(r).items() if v},
            "scores": {k: v for k, v in (r.get("scores") or {}).items() if _numeric(v) is not None},
        }
        for r in picked
    ]
    ranked = sorted(
        (row for row in entry.kept if _numeric(row.get("bt_chrf")) is not None),
        key=lambda row: row["bt_chrf"],
    ) or sorted(
        (row for row in entry.kept if _numeric(row.get("length_z")) is not None),
        key=lambda row: -abs(row["length_z"]),
    )
    for row in ranked[: max(3, limit // 3)]:
        worst.append(
            {
                "id": row["id"],
                "status": "kept (lowest scores)",
                "reasons": [],
                "detail": "",
                "fields": {k: _clip(v) for k, v in _text_fields(row).items() if v},
                "scores": {k: v for k, v in row.items() if k in HISTOGRAM_SCORES and _numeric(v) is not None},
            }
        )
    return worst


def summarize(data: dict[str, LanguageData], worst_per_language: int = 9) -> dict[str, Any]:
    """The report as JSON-ready data: one entry per language."""
    out: dict[str, Any] = {"languages": {}}
    for code, entry in data.items():
        checked_rejects = [r for r in entry.rejects if r.get("scores")]
        rows_in = entry.stats.get("source_rows", len(entry.kept) + len(entry.rejects))
        kept = entry.stats.get("kept", len(entry.kept))
        medians, histograms = {}, {}
        for score in HISTOGRAM_SCORES:
            kept_values = [v for row in entry.kept if (v := _numeric(row.get(score))) is not None]
            rejected_values = [
                v for r in checked_rejects if (v := _numeric(r["scores"].get(score))) is not None
            ]
            if kept_values or rejected_values:
                medians[score] = round(statistics.median(kept_values + rejected_values), 4)
                histograms[score] = _histogram(kept_values, rejected_values)
        reasons = Counter(reason for r in entry.rejects for reason in _reasons_of(r))
        not_run = _not_run(entry.stats)
        out["languages"][code] = {
            "name": LANGUAGES[code].name if code in LANGUAGES else code,
            "tier": LANGUAGES[code].tier if code in LANGUAGES else "",
            "rows_in": rows_in,
            "kept": kept,
            "kept_rate": round(kept / rows_in, 4) if rows_in else None,
            "pass_rates": {
                name: None if name in not_run else rate
                for name, rate in entry.stats.get("check_pass_rates", {}).items()
            },
            "not_run": not_run,
            "rejected": dict(Counter(r["reason"] for r in entry.rejects).most_common()),
            "reasons_all": dict(reasons.most_common()),
            "medians": medians,
            "histograms": histograms,
            "worst": _worst(entry, worst_per_language),
        }
    return out


# -- HTML

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d2330;background:#fff}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #dde}
h3{font-size:14px;margin:14px 0 6px;color:#445}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #d8dbe3;padding:4px 8px;text-align:right;vertical-align:top}
th{background:#f2f4f8} td.l,th.l{text-align:left}
.low{background:#fde8e6} .mid{background:#fff6dc} .ok{background:#eaf6ec}
.plots{display:flex;flex-wrap:wrap;gap:12px} .plot{border:1px solid #e3e5ec;padding:6px;border-radius:4px}
.plot .t{font-size:12px;color:#445;margin-bottom:2px}
.ex td,.ex th{text-align:left;max-width:520px;word-wrap:break-word} .reason{color:#a02a1d;font-weight:600}
.muted{color:#778;font-size:12px} .legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _rate_class(rate: float) -> str:
    return "ok" if rate >= 0.95 else "mid" if rate >= 0.8 else "low"


def _svg_histogram(name: str, hist: dict[str, Any], width: int = 260, height: int = 120) -> str:
    kept, rejected, edges = hist["kept"], hist["rejected"], hist["edges"]
    top = max((k + r for k, r in zip(kept, rejected, strict=True)), default=1) or 1
    bar_w = (width - 30) / len(kept)
    bars = []
    for i, (k, r) in enumerate(zip(kept, rejected, strict=True)):
        x = 28 + i * bar_w
        hk = (height - 30) * k / top
        hr = (height - 30) * r / top
        y0 = height - 18
        label = f"{edges[i]:g} to {edges[i + 1]:g}: kept {k}, rejected {r}"
        bars.append(
            f"<g><title>{_e(label)}</title>"
            f'<rect class="bar-kept" x="{x:.1f}" y="{y0 - hk:.1f}" width="{bar_w - 1:.1f}" height="{hk:.1f}" fill="#4a7bd0"/>'
            f'<rect class="bar-rejected" x="{x:.1f}" y="{y0 - hk - hr:.1f}" width="{bar_w - 1:.1f}" height="{hr:.1f}" fill="#e0654f"/></g>'
        )
    axis = (
        f'<line x1="27" y1="{height - 18}" x2="{width - 2}" y2="{height - 18}" stroke="#889"/>'
        f'<text x="28" y="{height - 4}" font-size="10" fill="#556">{edges[0]:g}</text>'
        f'<text x="{width - 2}" y="{height - 4}" font-size="10" fill="#556" text-anchor="end">{edges[-1]:g}</text>'
        f'<text x="24" y="14" font-size="10" fill="#556" text-anchor="end">{top}</text>'
    )
    return (
        f'<div class="plot"><div class="t">{_e(name)}</div>'
        f'<svg class="histogram" data-score="{_e(name)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(name)} histogram">{axis}{"".join(bars)}</svg></div>'
    )


def _not_run(stats: dict[str, Any]) -> list[str]:
    """Checks that judged every record but had nothing to judge: back-translation scores when no
    record was back-translated pass 100% without meaning it."""
    if stats.get("backtranslated", 0):
        return []
    return sorted(name for name in stats.get("check_pass_rates", {}) if name.startswith("backtranslation"))


def render_html(report: dict[str, Any], title: str) -> str:
    languages = report["languages"]
    checks = sorted({c for lang in languages.values() for c in lang["pass_rates"]})
    medians = [s for s in HISTOGRAM_SCORES if any(s in lang["medians"] for lang in languages.values())]
    head = (
        '<tr><th class="l">language</th><th>tier</th><th>rows in</th><th>kept</th><th>kept %</th>'
        + "".join(f"<th>{_e(c)}<br><span class=muted>pass %</span></th>" for c in checks)
        + "".join(f"<th>{_e(s)}<br><span class=muted>median</span></th>" for s in medians)
        + '<th class="l">top reasons</th></tr>'
    )
    rows = []
    for code, lang in languages.items():
        rate = lang["kept_rate"] or 0.0
        cells = [
            f'<td class="l"><a href="#lang-{_e(code)}">{_e(code)}</a> {_e(lang["name"])}</td>',
            f"<td>{_e(lang['tier'])}</td><td>{lang['rows_in']}</td><td>{lang['kept']}</td>",
            f'<td class="{_rate_class(rate)}">{100 * rate:.1f}</td>',
        ]
        for check in checks:
            value = lang["pass_rates"].get(check)
            if check in lang.get("not_run", ()):
                cells.append('<td class="muted" title="no record had what this check reads">not run</td>')
                continue
            cells.append(
                "<td>–</td>" if value is None else f'<td class="{_rate_class(value)}">{100 * value:.1f}</td>'
            )
        cells += [
            f"<td>{lang['medians'][s]:g}</td>" if s in lang["medians"] else "<td>–</td>" for s in medians
        ]
        top = ", ".join(f"{_e(r)} ({n})" for r, n in list(lang["rejected"].items())[:3]) or "—"
        cells.append(f'<td class="l">{top}</td>')
        rows.append(f'<tr data-lang="{_e(code)}">{"".join(cells)}</tr>')
    sections = []
    for code, lang in languages.items():
        plots = "".join(_svg_histogram(s, h) for s, h in lang["histograms"].items() if h)
        examples = []
        for ex in lang["worst"]:
            fields = "<br>".join(f"<b>{_e(k)}</b>: {_e(v)}" for k, v in ex["fields"].items())
            scores = ", ".join(f"{_e(k)}={_e(v)}" for k, v in sorted(ex["scores"].items()))
            reasons = ", ".join(ex["reasons"]) or ex["status"]
            examples.append(
                f'<tr><td>{_e(ex["id"])}</td><td class="reason">{_e(reasons)}</td>'
                f"<td>{fields}<div class=muted>{_e(ex['detail'])}</div></td><td class=muted>{scores}</td></tr>"
            )
        sections.append(
            f'<section id="lang-{_e(code)}"><h2>{_e(code)} — {_e(lang["name"])}</h2>'
            f"<p>{lang['kept']} of {lang['rows_in']} kept. Rejected: "
            + (", ".join(f"{_e(r)} {n}" for r, n in lang["rejected"].items()) or "none")
            + "</p>"
            + (
                f'<h3>Score histograms <span class="legend muted"><span style="background:#4a7bd0"></span>kept'
                f'<span style="background:#e0654f"></span>rejected</span></h3><div class="plots">{plots}</div>'
                if plots
                else "<p class=muted>no scores</p>"
            )
            + '<h3>Worst examples</h3><table class="ex"><tr><th>id</th><th>reasons</th><th>text</th><th>scores</th></tr>'
            + ("".join(examples) or "<tr><td colspan=4>none</td></tr>")
            + "</table></section>"
        )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1><p class=muted>Pass rates are over the records each check judged; medians and "
        "histograms cover kept and rejected records. Thresholds are the builder's, per tier.</p>"
        f'<table id="languages"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'
        + "".join(sections)
        + "</body></html>"
    )


def write_report(
    folder: str | Path, langs: list[str] | None = None, out: str | Path | None = None
) -> tuple[Path, Path]:
    """Write report.html and report.json (into `out`, default the folder itself)."""
    folder = Path(folder)
    target = Path(out) if out else folder
    target.mkdir(parents=True, exist_ok=True)
    report = summarize(load_folder(folder, langs))
    stats_path = folder / "stats.json"
    builder = (
        json.loads(stats_path.read_text(encoding="utf-8")).get("builder") if stats_path.exists() else None
    )
    report["folder"] = str(folder)
    report["builder"] = builder
    title = f"okapi quality report — {builder or folder.name}"
    html_path, json_path = target / "report.html", target / "report.json"
    json_path.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    html_path.write_text(render_html(report, title), encoding="utf-8")
    return html_path, json_path
