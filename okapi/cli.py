"""okapi command line: languages, estimate, build, offline-server, demo."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections import Counter
from pathlib import Path

from okapi.languages import LANGUAGES, UnknownLanguageError, parse_languages
from okapi.workdir import DEFAULT_SHARD_SIZE, BusyError, IncompleteBuild

_EPILOG = """\
Endpoints: any OpenAI-compatible server (OpenAI, vLLM, llama.cpp, Ollama, TGI). The key is read
from $OPENAI_API_KEY (or the variable a run config names) and is never written anywhere; the
endpoint comes from --base-url, the run config, or $OPENAI_BASE_URL.

Examples:
  okapi languages
  okapi estimate instructions --source alpaca.json --langs vi,fr --limit 1000
  okapi build instructions --source alpaca.json --langs vi,fr --out data/instructions
  okapi publish data/instructions --repo my-org/okapi-instructions --langs vi --dry-run
  okapi build instructions --source alpaca.json --langs vi --out data/vi --backtranslate
  okapi report data/instructions --lang vi
  okapi audit --source alpaca_en.json --translations okapi_vi.json --lang vi --out audit/vi
  okapi offline-server --port 8089 --fault 429=0.1
  okapi demo --out out/demo
"""


def _cache_dir(value: str | None) -> Path:
    if value:
        return Path(value)
    if os.environ.get("OKAPI_CACHE_DIR"):
        return Path(os.environ["OKAPI_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "okapi"


def _positive(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return int(text)


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset", help="dataset to build (e.g. instructions, m_arc)")
    p.add_argument(
        "--source",
        required=True,
        help="English rows: .json/.jsonl/.parquet file, folder or Hub id (benchmarks: also CSV/text sets)",
    )
    p.add_argument(
        "--split",
        help="split to read from a Hub id (default train); benchmarks: the split the source holds, "
        "written to its own split (m_arc train|validation|test, m_hellaswag val, m_mmlu dev|val|test)",
    )
    p.add_argument(
        "--langs",
        required=True,
        help="target codes (vi,fr), a tier (high|medium|low) or 'okapi' (all 26)",
    )
    p.add_argument("--limit", type=_positive, help="use only the first N source rows")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a dataset option, repeatable (rankings: responses=4, pairs=all|adjacent, both_orders=false)",
    )
    p.add_argument("--config", help="run config (TOML): endpoints, models, limits, prices per role")
    p.add_argument("--model", help="model for every role (overrides the run config and $OKAPI_MODEL)")
    p.add_argument(
        "--base-url", help="endpoint for every role (overrides the run config and $OPENAI_BASE_URL)"
    )
    p.add_argument("--cache-dir", help="response cache folder (default $OKAPI_CACHE_DIR or ~/.cache/okapi)")
    p.add_argument(
        "--backtranslate",
        nargs="?",
        const="translator",
        metavar="ROLE",
        help="also translate every record back into English (role, default translator) and score chrF/BLEU",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="okapi",
        description="Build multilingual instruction and preference datasets with LLMs.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log retries and requests")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("languages", help="list the language registry")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("estimate", help="requests, tokens and cost of a build, before spending")
    _add_run_options(p)

    p = sub.add_parser(
        "build",
        help="translate a source into a dataset folder in Hub layout",
        description="Cut the source into shards; each (language, shard) unit runs every request and "
        "check and is saved in <out>/.okapi/ with a completion record; then the Hub-layout folder is "
        "assembled. A rerun skips finished units and answered requests.",
    )
    _add_run_options(p)
    p.add_argument("--out", required=True, help="output folder (languages already there are kept)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument(
        "--shard-size",
        type=_positive,
        default=DEFAULT_SHARD_SIZE,
        help=f"source records per unit (default {DEFAULT_SHARD_SIZE}); memory follows it, not the source",
    )
    p.add_argument(
        "--workers",
        type=int,
        help="processes running the quality checks while requests go on (default: the machine's cores; "
        "0: in this process)",
    )
    p.add_argument(
        "--shard",
        metavar="I/N",
        help="build only part I of N (shards I, I+N, ...; 0 <= I < N) into shared storage; "
        "then run the same command with --assemble instead",
    )
    p.add_argument(
        "--assemble",
        action="store_true",
        help="send nothing: write the folder from finished units (after --shard parts), or name the missing ones",
    )

    p = sub.add_parser("offline-server", help="local OpenAI-compatible server answering from okapi's corpus")
    p.add_argument("--port", type=int, default=8089)
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    p.add_argument("--rpm", type=float, help="server-side requests per minute; more get 429")
    p.add_argument(
        "--rate-limit-mode",
        choices=("window", "bucket"),
        default="window",
        help="how --rpm is counted: a sliding window (default) or a token bucket refilling rpm/60 per second",
    )
    p.add_argument("--window", type=float, default=60.0, help="window of --rpm in window mode, s (60)")
    p.add_argument(
        "--ratelimit-headers", action="store_true", help="send OpenAI's x-ratelimit-* headers (with --rpm)"
    )
    p.add_argument("--max-concurrent", type=int, help="requests answered at once; more wait in line")
    p.add_argument("--served-model", help="model name in answers (default: the one asked for)")
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME=RATE",
        help="inject a fault with a probability: 429, quota, 500, timeout, truncate, malformed, "
        "wrong_language, refusal",
    )

    p = sub.add_parser("generate", help="grow an English instruction pool with Self-Instruct (Alpaca)")
    p.add_argument(
        "--seed-tasks", required=True, help="Alpaca seed_tasks.jsonl (or rows with instruction/output)"
    )
    p.add_argument("--num", type=int, required=True, help="new instructions to keep")
    p.add_argument("--out", required=True, help="pool folder: en/train-*.parquet, rejects/, stats.json")
    p.add_argument("--prompt-file", help="generation prompt (default: okapi's wording of Alpaca's)")
    p.add_argument("--requests-per-round", type=int, default=8)
    p.add_argument("--seed", type=int, default=0, help="sampling seed: same seed + cache = same pool")
    p.add_argument(
        "--patience",
        type=_positive,
        default=10,
        help="stop after this many rounds in a row with no new instruction",
    )
    p.add_argument("--max-requests", type=_positive, help="stop before asking more requests than this")
    p.add_argument("--budget", type=float, metavar="USD", help="stop once the generator's cost reaches this")
    p.add_argument("--config", help="run config (TOML); the `generator` role is used")
    p.add_argument("--model", help="model (overrides the run config)")
    p.add_argument("--base-url", help="endpoint (overrides the run config and $OPENAI_BASE_URL)")
    p.add_argument("--cache-dir", help="response cache folder")
    p.add_argument("--no-progress", action="store_true")

    p = sub.add_parser("split", help="split an English pool into sft/rank/rl by hashing ids")
    p.add_argument("pool", help="pool folder (okapi generate) or file")
    p.add_argument(
        "--sizes", default="sft=52000,rank=42000,rl=rest", help="name=N,...,name=rest (paper's default)"
    )
    p.add_argument("--out", required=True, help="folder for <split>.jsonl and split.json")

    p = sub.add_parser("export", help="write a build in another format (okapi-json: the original release)")
    p.add_argument("build_dir", help="an instructions or rankings build folder")
    p.add_argument("--format", default="okapi-json", choices=["okapi-json"])
    p.add_argument("--langs", help="languages to export (default: all in the folder)")
    p.add_argument("--out", required=True)

    p = sub.add_parser("publish", help="publish a build folder to the Hugging Face Hub in one atomic commit")
    p.add_argument("folder", help="build folder (okapi build --out)")
    p.add_argument("--repo", required=True, help="dataset repo ORG/NAME (created if missing)")
    p.add_argument("--langs", help="languages to publish (default: all built); others on the Hub stay")
    p.add_argument("--pr", action="store_true", help="open a pull request instead of committing to main")
    p.add_argument("--dry-run", action="store_true", help="print files to add, replace, delete; send nothing")
    p.add_argument("--private", action="store_true", help="create the repo private (when it does not exist)")
    p.add_argument("--message", help="commit message")

    p = sub.add_parser("report", help="per-language quality report of a build or audit folder (HTML + JSON)")
    p.add_argument("folder", help="build folder (okapi build --out) or audit folder (okapi audit --out)")
    p.add_argument("--lang", help="only these languages (codes, comma-separated)")
    p.add_argument("--out", help="folder for report.html and report.json (default: the folder itself)")

    p = sub.add_parser("audit", help="check and report translations made elsewhere, joined to English by id")
    p.add_argument("--source", required=True, help="English rows: .json/.jsonl/.parquet file or folder")
    p.add_argument(
        "--translations", required=True, help="translated rows: file, folder (<lang>/ or files) or Hub id"
    )
    p.add_argument("--lang", required=True, help="language of the translations (e.g. vi)")
    p.add_argument("--out", required=True, help="output folder (data, rejects, stats.json, report)")
    p.add_argument("--fields", help="text fields to check (default: the string fields both sides share)")
    p.add_argument("--id-field", default="id", help="field joining the two sides (default id)")
    p.add_argument("--join", choices=["id", "order"], default="id", help="join by id (default) or row order")
    p.add_argument("--split", default="train", help="split to read when --translations is a Hub id")
    p.add_argument("--dataset", default="instructions", help="builder whose checks and thresholds apply")
    p.add_argument(
        "--backtranslate",
        nargs="?",
        const="translator",
        metavar="ROLE",
        help="translate back into English through the LLM layer (role, default translator) and score chrF",
    )
    p.add_argument("--config", help="run config (TOML), for --backtranslate")
    p.add_argument("--model", help="model for every role, for --backtranslate")
    p.add_argument("--base-url", help="endpoint for every role, for --backtranslate")
    p.add_argument("--cache-dir", help="response cache folder, for --backtranslate")

    p = sub.add_parser("demo", help="offline end to end: sample → offline server → dataset folder")
    p.add_argument("--out", default="out/demo")
    p.add_argument("--langs", default="vi,fr,hi")
    p.add_argument("--cache-dir", help="response cache folder (default <out>/../.okapi-cache)")
    for command in sub.choices.values():  # -v after the command too (it stays False unless given)
        command.add_argument(
            "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log retries and requests"
        )
    return parser


_CLIENTS: list = []  # this run's LLM clients, to say on Ctrl-C what is already cached


def _client(args: argparse.Namespace, cache_dir: Path):
    from okapi.llm import LLMClient, ResponseCache, load_run_config

    config = load_run_config(args.config, model=args.model, base_url=args.base_url)
    _CLIENTS.append(LLMClient(config, ResponseCache(cache_dir / "responses.sqlite")))
    return _CLIENTS[-1]


class Unfinished(RuntimeError):
    """The job ran but did not do all of it (records failed in transport, a target missed): exit 1."""


def dataset_options(items: list[str]) -> dict[str, str]:
    """`--set NAME=VALUE` items as a dict; the builder's factory checks names and types."""
    options = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--set takes NAME=VALUE, not {item!r}")
        options[name.strip()] = value.strip()
    return options


def _load(args: argparse.Namespace):
    from okapi.builders import get_builder

    builder = get_builder(args.dataset, dataset_options(args.set))
    langs = parse_languages(args.langs)
    loaded = builder.load(args.source, limit=args.limit, split=args.split)
    return builder, langs, loaded


def cmd_languages(args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps([vars(lang) for lang in LANGUAGES.values()], ensure_ascii=False, indent=1))
        return
    print(f"{'code':<6}{'language':<12}{'native':<18}{'script':<12}tier")
    for lang in LANGUAGES.values():
        print(f"{lang.code:<6}{lang.name:<12}{lang.native:<18}{lang.script:<12}{lang.tier}")


def cmd_estimate(args: argparse.Namespace) -> None:
    from okapi.estimate import estimate, format_estimate

    builder, langs, loaded = _load(args)
    client = _client(args, _cache_dir(args.cache_dir))
    rows = estimate(builder, loaded.examples, langs, client, args.backtranslate)
    print(f"{len(loaded.examples)} source records × {len(langs)} languages")
    roles = {row.role: client.config.role(row.role) for row in rows}
    unpriced = {r for r, c in roles.items() if not c.priced}
    print(format_estimate(rows, {r: c.model for r, c in roles.items()}, unpriced))


def _print_summary(stats: dict, out: Path) -> None:
    print(f"\nwrote {out}/ (load with datasets.load_dataset({str(out)!r}, '<lang>'))")
    for code, numbers in stats["languages"].items():
        rejected = ", ".join(f"{r}={n}" for r, n in numbers["rejected"].items()) or "none"
        print(f"  {code}: kept {numbers['kept']}/{numbers['source_rows']}  rejected: {rejected}")
    for role, usage in stats["last_run_usage"].items():
        print(
            f"  {role}: {usage['requests']} requests sent, {usage['cache_hits']} from cache, "
            f"{usage['retries']} retries, {usage['prompt_tokens']}+{usage['completion_tokens']} tokens, "
            f"${usage['cost_usd']:.4f}"
        )


def parse_part(text: str | None) -> tuple[int, int] | None:
    """`--shard I/N` as (I, N)."""
    if text is None:
        return None
    index, sep, count = text.partition("/")
    if not sep or not index.strip().isdigit() or not count.strip().isdigit() or int(count) < 1:
        raise ValueError(f"--shard takes I/N with 0 <= I < N (e.g. 0/4), not {text!r}")
    return int(index), int(count)


def cmd_build(args: argparse.Namespace) -> None:
    from okapi.build import build
    from okapi.builders import get_builder

    builder = get_builder(args.dataset, dataset_options(args.set))
    langs = parse_languages(args.langs)
    part = parse_part(args.shard)
    if part and args.assemble:
        raise ValueError("--assemble writes the whole folder: run it without --shard")
    loaded = builder.stream(args.source, limit=args.limit, split=args.split)
    client = _client(args, _cache_dir(args.cache_dir))
    stats = build(
        builder,
        loaded,
        langs,
        args.out,
        client,
        progress=not args.no_progress,
        backtranslate_role=args.backtranslate,
        shard_size=args.shard_size,
        workers=args.workers,
        part=part,
        assemble_only=args.assemble,
    )
    if part:
        print(f"part {part[0]}/{part[1]}: {stats['built']} unit(s) built, {stats['units']} in this part")
        if stats["missing"]:
            print(
                f"{len(stats['missing'])} unit(s) of other parts not finished yet; once all parts are done:"
            )
        print(f"  okapi build {args.dataset} ... --out {args.out} --assemble")
        return
    _print_summary(stats, Path(args.out))
    failed: Counter[str] = Counter()
    for lang in langs:
        for reason, n in stats["languages"][lang.code]["rejected"].items():
            if reason.startswith("request_failed."):
                failed[reason] += n
    if failed:
        reasons = ", ".join(f"{reason}={n}" for reason, n in failed.most_common())
        raise Unfinished(
            f"{sum(failed.values())} records failed in transport ({reasons}); they are in rejects/ for "
            "now: re-run the same command to resume (answered requests come from the cache)"
        )


def cmd_offline_server(args: argparse.Namespace) -> None:
    import asyncio

    from okapi.offline.server import OfflineServer, ServerConfig

    faults = {}
    for spec in args.fault:
        name, _, rate = spec.partition("=")
        try:
            faults[name] = float(rate)
        except ValueError:
            raise ValueError(f"--fault {spec!r}: expected NAME=RATE, e.g. 429=0.1") from None
    server = OfflineServer(
        ServerConfig(
            faults,
            args.latency,
            args.rpm,
            rate_limit_mode=args.rate_limit_mode,
            window_s=args.window,
            ratelimit_headers=args.ratelimit_headers,
            max_concurrent=args.max_concurrent,
            served_model=args.served_model,
        )
    )

    async def serve() -> None:
        await server.start(args.port)
        print(f"offline server on {server.base_url} (Ctrl-C to stop)", flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


def cmd_generate(args: argparse.Namespace) -> None:
    from okapi.pool import generate_pool, load_seed_tasks
    from okapi.prompts.selfinstruct import DEFAULT_PROMPT
    from okapi.steps.selfinstruct import SelfInstructSettings

    seeds = load_seed_tasks(args.seed_tasks)
    prompt = (
        Path(args.prompt_file).read_text(encoding="utf-8").rstrip() if args.prompt_file else DEFAULT_PROMPT
    )
    settings = SelfInstructSettings(
        target=args.num,
        requests_per_round=args.requests_per_round,
        seed=args.seed,
        patience=args.patience,
        max_requests=args.max_requests,
        budget_usd=args.budget,
    )
    client = _client(args, _cache_dir(args.cache_dir))
    generator = client.config.role(settings.role)
    if args.budget is not None and not generator.priced:
        raise ValueError(
            "--budget needs the generator's prices: set price_input_per_mtok and price_output_per_mtok "
            "in the run config (--config)"
        )
    stats = generate_pool(
        client, seeds, settings, Path(args.out), prompt=prompt, progress=not args.no_progress
    )
    rejected = ", ".join(f"{r}={n}" for r, n in stats["rejected"].items()) or "none"
    print(f"kept {stats['kept']} new instructions in {stats['rounds']} rounds; dropped: {rejected}")
    if stats["kept"] < args.num:
        raise Unfinished(
            f"kept {stats['kept']} of the {args.num} instructions asked for: stopped after {stats['stopped']}; "
            "the pool so far is written, and a re-run with a higher limit continues from the cache"
        )


def cmd_split(args: argparse.Namespace) -> None:
    from okapi.pool import split_pool
    from okapi.split import parse_sizes

    pool = Path(args.pool)
    source = str(pool / "en") if (pool / "en").is_dir() else args.pool
    counts = split_pool(source, parse_sizes(args.sizes), Path(args.out))
    print(", ".join(f"{name}: {n}" for name, n in counts.items()), f"→ {args.out}/<split>.jsonl")


def cmd_export(args: argparse.Namespace) -> None:
    from okapi.export import export_okapi_json

    langs = [lang.code for lang in parse_languages(args.langs)] if args.langs else None
    counts = export_okapi_json(Path(args.build_dir), Path(args.out), langs)
    print(", ".join(f"{lang}: {n}" for lang, n in counts.items()), f"→ {args.out}/<lang>.json")


def cmd_publish(args: argparse.Namespace) -> None:
    from okapi.publish import publish

    langs = [lang.code for lang in parse_languages(args.langs)] if args.langs else None
    publish(
        args.folder,
        args.repo,
        langs=langs,
        create_pr=args.pr,
        dry_run=args.dry_run,
        private=args.private,
        message=args.message,
    )


def cmd_report(args: argparse.Namespace) -> None:
    from okapi.report import write_report

    langs = [lang.code for lang in parse_languages(args.lang)] if args.lang else None
    html_path, json_path = write_report(args.folder, langs, args.out)
    print(f"wrote {html_path} and {json_path}")


def cmd_audit(args: argparse.Namespace) -> None:
    from okapi.audit import audit, join_by_id, read_rows
    from okapi.builders import get_builder
    from okapi.languages import get_language
    from okapi.report import write_report

    lang = get_language(args.lang)
    builder = get_builder(args.dataset)
    fields = tuple(f.strip() for f in args.fields.split(",")) if args.fields else None
    joined = join_by_id(
        read_rows(args.source),
        read_rows(args.translations, lang.code, args.split),
        lang.code,
        id_field=args.id_field,
        fields=fields,
        by_order=args.join == "order",
        blank_values=builder.source.blank_values,
    )
    client = _client(args, _cache_dir(args.cache_dir)) if args.backtranslate else None
    checks = builder.checks_for(lang)
    stats = audit(
        joined,
        lang,
        checks,
        args.out,
        client=client,
        backtranslate_role=args.backtranslate,
        location=args.translations,
    )
    numbers = stats["languages"][lang.code]
    rejected = ", ".join(f"{r}={n}" for r, n in numbers["rejected"].items()) or "none"
    print(
        f"{lang.code}: kept {numbers['kept']} of {numbers['source_rows']} source rows; rejected: {rejected}"
    )
    html_path, _ = write_report(args.out, [lang.code])
    print(f"report: {html_path}")


def cmd_demo(args: argparse.Namespace) -> None:
    from importlib import resources

    from okapi.build import build
    from okapi.builders import get_builder
    from okapi.llm import LLMClient, ResponseCache, load_run_config
    from okapi.offline.server import OfflineServer
    from okapi.sources import load_source

    out = Path(args.out)
    cache_dir = Path(args.cache_dir) if args.cache_dir else out.parent / ".okapi-cache"
    builder = get_builder("instructions")
    sample = resources.files("okapi.offline") / "sample_en.jsonl"
    with OfflineServer() as server:
        print(f"offline OpenAI-compatible server on {server.base_url}")
        print(
            f"same as: okapi build instructions --source {sample} --langs {args.langs} "
            f"--out {out} --base-url {server.base_url} --model offline --cache-dir {cache_dir}"
        )
        config = load_run_config(None, model="offline", base_url=server.base_url, environ={})
        client = LLMClient(config, ResponseCache(cache_dir / "responses.sqlite"))
        loaded = load_source(str(sample), builder.source)
        stats = build(builder, loaded, parse_languages(args.langs), out, client)
    _print_summary(stats, out)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(message)s")
    if not args.verbose:
        logging.getLogger("httpx").setLevel(logging.WARNING)
    from okapi.builders import UnknownBuilderError
    from okapi.llm import ConfigError, EndpointError
    from okapi.sources import SourceError

    commands = {
        "languages": cmd_languages,
        "estimate": cmd_estimate,
        "build": cmd_build,
        "offline-server": cmd_offline_server,
        "generate": cmd_generate,
        "split": cmd_split,
        "export": cmd_export,
        "publish": cmd_publish,
        "report": cmd_report,
        "audit": cmd_audit,
        "demo": cmd_demo,
    }
    try:
        commands[args.command](args)
    except KeyboardInterrupt:
        answered = sum(client.usage.total().requests for client in _CLIENTS)
        print(
            f"\nokapi: interrupted; the {answered} answers received in this run are cached and finished "
            "units kept: re-run the same command to resume",
            file=sys.stderr,
        )
        return 130
    except Unfinished as exc:
        print(f"okapi: {exc}", file=sys.stderr)
        return 1
    except (
        UnknownLanguageError,
        UnknownBuilderError,
        SourceError,
        ConfigError,
        EndpointError,
        BusyError,
        IncompleteBuild,
        ValueError,
    ) as exc:
        if args.verbose:
            raise
        print(f"okapi: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
