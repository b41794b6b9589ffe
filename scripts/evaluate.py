"""Evaluate models on okapi's multilingual ARC, HellaSwag and MMLU with lm-evaluation-harness.

    python scripts/evaluate.py --model sft=out/sft-vi --model rlhf=out/ppo-vi --langs vi,fr \\
        --data-root data                 # data/m_arc, data/m_hellaswag, data/m_mmlu (okapi build --out)
    python scripts/evaluate.py --model uonlp/okapi-vi-bloom --langs vi --data m_arc=<org>/okapi-m_arc

Prints one table per benchmark: a row per language, acc and acc_norm per model, and with two
models (e.g. SFT and RLHF) the difference. Models are local folders or Hub ids; with local
folders and local data it runs offline (HF_HUB_OFFLINE=1). Task files are generated from
scripts/lm_eval_tasks/generate.py into a temporary folder, pointing at the data given here.
Few-shot counts default to the paper's (ARC 25 from train, HellaSwag 0, MMLU 25 from dev).
Needs lm-eval: pip install -e ".[eval]".
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent / "lm_eval_tasks"))
from generate import (  # noqa: E402
    BENCHMARKS,
    EVAL_SPLIT,
    FEWSHOT_SPLIT,
    LANGUAGES,
    PAPER_FEWSHOT,
    TASK_PREFIX,
    parse_data,
    write_tasks,
)

METRICS = ("acc", "acc_norm")


def parse_models(values: list[str]) -> list[tuple[str, str]]:
    """'sft=out/sft' or 'out/sft' (labelled by its folder name) → (label, path or Hub id)."""
    models = []
    for value in values:
        label, sep, path = value.partition("=")
        if not sep:
            label, path = Path(value.rstrip("/")).name, value
        models.append((label, path))
    labels = [label for label, _ in models]
    if len(set(labels)) != len(labels):
        raise SystemExit(
            f"--model labels must differ, got {labels}; name them: --model sft=PATH --model rlhf=PATH"
        )
    return models


def resolve_data(args: argparse.Namespace) -> dict[str, str]:
    data: dict[str, str] = {}
    if args.data_root:
        root = Path(args.data_root)
        for name in BENCHMARKS:  # a local folder of builds, or a Hub org holding okapi-<benchmark>
            data[name] = str(root / name) if root.is_dir() else f"{args.data_root}/okapi-{name}"
    data.update(parse_data(args.data))
    if args.benchmarks:
        wanted = args.benchmarks.split(",")
        unknown = set(wanted) - set(BENCHMARKS)
        if unknown:
            raise SystemExit(f"--benchmarks: unknown {sorted(unknown)}; valid: {', '.join(BENCHMARKS)}")
        data = {name: path for name, path in data.items() if name in wanted}
    if not data:
        raise SystemExit("no benchmark data: pass --data-root DIR_OR_ORG or --data m_arc=PATH_OR_REPO")
    return data


def check_splits(data: dict[str, str], langs: list[str], shots: dict[str, int]) -> None:
    """Fail before loading any model when a language or split the tasks need is missing."""
    import datasets

    for name, path in data.items():
        needed = [EVAL_SPLIT[name]] + ([FEWSHOT_SPLIT[name]] if shots[name] else [])
        for lang in langs:
            try:
                present = datasets.get_dataset_split_names(path, lang)
            except (FileNotFoundError, ValueError, ConnectionError) as exc:
                raise SystemExit(f"{name}: cannot read config {lang!r} of {path!r}: {exc}") from None
            missing = [split for split in needed if split not in present]
            if missing:
                raise SystemExit(
                    f"{name}/{lang} at {path} has splits {present}, not {missing}: build them "
                    f"(okapi build {name} --source <English {missing[0]} set> --split {missing[0]} ...)"
                    + (" or pass --num-fewshot 0" if FEWSHOT_SPLIT[name] in missing else "")
                )


def evaluate_model(
    path: str, tasks: list[str], include_dir: Path, args: argparse.Namespace
) -> dict[str, Any]:
    """lm-eval's results per task: {task: {acc, acc_stderr, acc_norm, acc_norm_stderr, n}}."""
    import lm_eval
    from lm_eval.tasks import TaskManager

    device = args.device
    if device is None:
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    output = lm_eval.simple_evaluate(
        model="hf",
        model_args={"pretrained": path, "dtype": args.dtype},
        tasks=tasks,
        batch_size=args.batch_size,
        device=device,
        limit=args.limit,
        task_manager=TaskManager(include_path=str(include_dir), include_defaults=False),
        log_samples=False,
    )
    scores = {}
    for task in tasks:
        numbers = output["results"][task]
        scores[task] = {"n": output["n-samples"][task]["effective"]}
        for metric in METRICS:
            scores[task][metric] = numbers.get(f"{metric},none")
            scores[task][f"{metric}_stderr"] = numbers.get(f"{metric}_stderr,none")
    return scores


def _cell(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def format_tables(results: dict[str, dict[str, Any]], data: dict[str, str], langs: list[str]) -> str:
    """One table per benchmark; with two models, a Δ column (second − first) on acc_norm (MMLU: acc)."""
    labels = list(results)
    blocks = []
    for name in data:
        prefix = TASK_PREFIX[name]
        delta_metric = "acc" if name == "m_mmlu" else "acc_norm"
        header = ["lang", "n"] + [f"{label} {metric}" for label in labels for metric in METRICS]
        if len(labels) == 2:
            header.append(f"Δ {delta_metric} ({labels[1]} − {labels[0]})")
        rows = []
        for lang in langs + ["mean"]:
            if lang == "mean":
                cells = ["mean", ""]
                values = {
                    (label, metric): _mean([results[label][f"{prefix}_{c}"][metric] for c in langs])
                    for label in labels
                    for metric in METRICS
                }
            else:
                first = results[labels[0]][f"{prefix}_{lang}"]
                cells = [lang, str(first["n"])]
                values = {
                    (label, metric): results[label][f"{prefix}_{lang}"][metric]
                    for label in labels
                    for metric in METRICS
                }
            cells += [_cell(values[label, metric]) for label in labels for metric in METRICS]
            if len(labels) == 2:
                a, b = values[labels[0], delta_metric], values[labels[1], delta_metric]
                cells.append("—" if a is None or b is None else f"{b - a:+.4f}")
            rows.append(cells)
        widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
        lines = [f"{name} ({data[name]})"]
        for row in [header, *rows]:
            lines.append("  ".join(str(cell).rjust(width) for cell, width in zip(row, widths, strict=True)))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present and len(present) == len(values) else None


def main(argv: list[str] | None = None) -> dict[str, dict[str, Any]]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model",
        action="append",
        required=True,
        help="LABEL=PATH_OR_HUB_ID (or just the path); repeat, e.g. --model sft=... --model rlhf=...",
    )
    parser.add_argument(
        "--langs", default="vi", help=f"comma-separated codes or 'okapi' ({' '.join(LANGUAGES)})"
    )
    parser.add_argument("--data-root", help="folder with m_arc/, m_hellaswag/, m_mmlu/ builds, or a Hub org")
    parser.add_argument(
        "--data", action="append", default=[], help="BENCHMARK=PATH_OR_REPO, e.g. m_arc=data/m_arc"
    )
    parser.add_argument("--benchmarks", help="subset of m_arc,m_hellaswag,m_mmlu (default: all with data)")
    parser.add_argument("--num-fewshot", type=int, help="shots for every benchmark (default: the paper's)")
    parser.add_argument("--limit", type=int, help="evaluate only the first N items per task (smoke runs)")
    parser.add_argument("--batch-size", default="8", help="lm-eval batch size (an integer or 'auto')")
    parser.add_argument("--device", help="cuda, cuda:0, cpu, mps (default: cuda if available)")
    parser.add_argument("--dtype", default="auto", help="model dtype: auto, float32, bfloat16, float16")
    parser.add_argument("--output", help="write the scores as JSON here")
    args = parser.parse_args(argv)

    models = parse_models(args.model)
    langs = (
        list(LANGUAGES) if args.langs == "okapi" else [c.strip() for c in args.langs.split(",") if c.strip()]
    )
    data = resolve_data(args)
    shots = {name: PAPER_FEWSHOT[name] if args.num_fewshot is None else args.num_fewshot for name in data}
    if shots.get("m_hellaswag"):
        print("m_hellaswag has only its val split: evaluated zero-shot, as in the paper", file=sys.stderr)
        shots["m_hellaswag"] = 0
    args.batch_size = args.batch_size if args.batch_size == "auto" else int(args.batch_size)
    check_splits(data, langs, shots)

    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="okapi-lm-eval-") as include_dir:
        tasks = write_tasks(Path(include_dir), data, shots, langs)
        for label, path in models:
            print(f"evaluating {label} ({path}) on {len(tasks)} tasks ...", file=sys.stderr, flush=True)
            results[label] = evaluate_model(path, tasks, Path(include_dir), args)
    print(format_tables(results, data, langs))
    if args.output:
        report = {"models": dict(models), "data": data, "shots": shots, "langs": langs, "scores": results}
        Path(args.output).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return results


if __name__ == "__main__":
    main()
