"""okapi command line: languages, estimate, build, offline-server, demo."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from okapi.languages import LANGUAGES, UnknownLanguageError, parse_languages

_EPILOG = """\
Endpoints: any OpenAI-compatible server (OpenAI, vLLM, llama.cpp, Ollama, TGI). The key is read
from $OPENAI_API_KEY (or the variable a run config names) and is never written anywhere; the
endpoint comes from --base-url, the run config, or $OPENAI_BASE_URL.

Examples:
  okapi languages
  okapi estimate instructions --source alpaca.json --langs vi,fr --limit 1000
  okapi build instructions --source alpaca.json --langs vi,fr --out data/instructions
  okapi offline-server --port 8089 --fault 429=0.1
  okapi demo --out out/demo
"""


def _cache_dir(value: str | None) -> Path:
    if value:
        return Path(value)
    if os.environ.get("OKAPI_CACHE_DIR"):
        return Path(os.environ["OKAPI_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "okapi"


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset", help="dataset to build (e.g. instructions)")
    p.add_argument("--source", required=True, help="English rows: .json/.jsonl/.parquet file or Hub id")
    p.add_argument("--split", default="train", help="split to read when --source is a Hub id")
    p.add_argument(
        "--langs",
        required=True,
        help="target codes (vi,fr), a tier (high|medium|low) or 'okapi' (all 26)",
    )
    p.add_argument("--limit", type=int, help="use only the first N source rows")
    p.add_argument("--config", help="run config (TOML): endpoints, models, limits, prices per role")
    p.add_argument("--model", help="model for every role (overrides the run config and $OKAPI_MODEL)")
    p.add_argument(
        "--base-url", help="endpoint for every role (overrides the run config and $OPENAI_BASE_URL)"
    )
    p.add_argument("--cache-dir", help="response cache folder (default $OKAPI_CACHE_DIR or ~/.cache/okapi)")


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

    p = sub.add_parser("build", help="translate a source into a dataset folder in Hub layout")
    _add_run_options(p)
    p.add_argument("--out", required=True, help="output folder (languages already there are kept)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    p = sub.add_parser("offline-server", help="local OpenAI-compatible server answering from okapi's corpus")
    p.add_argument("--port", type=int, default=8089)
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    p.add_argument("--rpm", type=float, help="server-side requests per minute; more get 429")
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME=RATE",
        help="inject a fault with a probability: 429, 500, timeout, truncate, malformed, wrong_language, refusal",
    )

    p = sub.add_parser("demo", help="offline end to end: sample → offline server → dataset folder")
    p.add_argument("--out", default="out/demo")
    p.add_argument("--langs", default="vi,fr,hi")
    p.add_argument("--cache-dir", help="response cache folder (default <out>/../.okapi-cache)")
    return parser


def _client(args: argparse.Namespace, cache_dir: Path):
    from okapi.llm import LLMClient, ResponseCache, load_run_config

    config = load_run_config(args.config, model=args.model, base_url=args.base_url)
    return LLMClient(config, ResponseCache(cache_dir / "responses.sqlite"))


def _load(args: argparse.Namespace):
    from okapi.builders import get_builder
    from okapi.sources import load_source

    builder = get_builder(args.dataset)
    langs = parse_languages(args.langs)
    loaded = load_source(args.source, builder.source, limit=args.limit, split=args.split)
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
    rows = estimate(builder, loaded.examples, langs, client)
    print(f"{len(loaded.examples)} source records × {len(langs)} languages")
    print(format_estimate(rows, client.config.role(builder.translate.role).model))


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


def cmd_build(args: argparse.Namespace) -> None:
    from okapi.build import build

    builder, langs, loaded = _load(args)
    client = _client(args, _cache_dir(args.cache_dir))
    stats = build(builder, loaded, langs, args.out, client, progress=not args.no_progress)
    _print_summary(stats, Path(args.out))


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
    server = OfflineServer(ServerConfig(faults, args.latency, args.rpm))

    async def serve() -> None:
        await server.start(args.port)
        print(f"offline server on {server.base_url} (Ctrl-C to stop)", flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


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
        "demo": cmd_demo,
    }
    try:
        commands[args.command](args)
    except (
        UnknownLanguageError,
        UnknownBuilderError,
        SourceError,
        ConfigError,
        EndpointError,
        ValueError,
    ) as exc:
        if args.verbose:
            raise
        print(f"okapi: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
