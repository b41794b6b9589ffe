"""Sharded builds: equal to one shard, resume per shard after kill -9, parallel builds, parts."""

import json
import signal
import time
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import make_client
from test_build import BUILDER, _cached_keys, _cli_build, synthetic_source

from okapi.build import build
from okapi.builders import get_builder
from okapi.languages import parse_languages
from okapi.sources import SourceStream, load_source
from okapi.workdir import IncompleteBuild


def published(out: Path) -> dict:
    """The Hub-layout folder (not the work folder): parquet rows, and rejects as sorted lines."""
    import pyarrow.parquet as pq

    files = {}
    for path in sorted(out.rglob("*")):
        name = str(path.relative_to(out))
        if name.startswith(".okapi") or not path.is_file():
            continue
        if path.suffix == ".parquet":
            files[name] = pq.read_table(path).to_pylist()
        elif path.suffix == ".jsonl":
            files[name] = sorted(path.read_text().splitlines())
    return files


def _without_run_facts(stats: dict) -> dict:
    for entry in stats["languages"].values():
        entry.pop("units")
    stats.pop("last_run_usage")
    return stats


def test_many_small_shards_equal_one_shard(offline_server, tmp_path):
    # Shards change how records are grouped into requests, so the server must answer a record
    # alike in any group (no faults drawn per payload): same answers, same rows.
    server = offline_server()
    source = synthetic_source(tmp_path / "src.jsonl", 90, seed=3)
    rows = [json.loads(line) for line in source.read_text().splitlines()]
    for row in rows[:10]:  # the same text but for a space: duplicates once translated, far apart
        source.open("a").write(json.dumps({**row, "id": row["id"] + "b", "input": row["input"] + " "}) + "\n")
    langs = parse_languages("vi,hi")
    one = build(
        BUILDER, load_source(str(source), BUILDER.source), langs, tmp_path / "one",
        make_client(server, tmp_path / "cache"), progress=False, shard_size=1000, workers=0,
    )  # fmt: skip
    many = build(
        BUILDER, SourceStream(str(source), BUILDER.source), langs, tmp_path / "many",
        make_client(server, tmp_path / "cache"), progress=False, shard_size=7, workers=2,
    )  # fmt: skip
    assert many["languages"]["vi"]["units"] == 15 and one["languages"]["vi"]["units"] == 1
    assert published(tmp_path / "many") == published(tmp_path / "one")
    assert _without_run_facts(many) == _without_run_facts(one)
    assert many["languages"]["vi"]["rejected"]["duplicate"] >= 5  # found across shards


def _mtimes(folder: Path) -> dict[str, float]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in sorted(folder.rglob("shard-*"))}


def test_kill_9_resumes_per_shard_and_leaves_finished_shards_untouched(offline_server, tmp_path):
    source = synthetic_source(tmp_path / "src.jsonl", 120, seed=4)
    server = offline_server(latency_s=0.1)
    extra = ("--shard-size", "10", "--workers", "1")
    reference = _cli_build(source, tmp_path / "ref", tmp_path / "ref-cache", server.base_url, *extra)
    assert reference.wait(180) == 0, reference.stderr.read().decode()

    out, cache = tmp_path / "out", tmp_path / "cache"
    first = _cli_build(source, out, cache, server.base_url, *extra)
    units = out / ".okapi" / "units"
    deadline = time.monotonic() + 90
    while len(list(units.rglob("*.done.json"))) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    finished = _mtimes(units)
    done = [name for name in finished if name.endswith("done.json")]
    assert 4 <= len(done) < 36, "the kill should land in the middle of the build"
    answered_before = _cached_keys(cache)

    sent_before = len(server.stats.answered_keys)
    time.sleep(0.05)  # a rewritten file would get a later mtime
    second = _cli_build(source, out, cache, server.base_url, *extra)
    assert second.wait(180) == 0, second.stderr.read().decode()
    after = _mtimes(units)
    for name in done:  # finished units were neither re-requested nor re-checked
        stem = name.removesuffix("done.json")
        for kind in ("done.json", "records.jsonl", "rejects.jsonl"):
            assert after[stem + kind] == finished[stem + kind], f"{stem}{kind} was rewritten"
    resent = set(server.stats.answered_keys[sent_before:]) & answered_before
    assert resent == set(), f"{len(resent)} answered requests were sent again"
    assert published(out) == published(tmp_path / "ref")


def test_two_builds_of_different_languages_into_one_folder_both_land(offline_server, tmp_path):
    import datasets

    source = synthetic_source(tmp_path / "src.jsonl", 40, seed=5)
    server = offline_server(latency_s=0.05)
    out = tmp_path / "out"
    procs = [
        _cli_build(source, out, tmp_path / "cache", server.base_url, "--langs", lang, "--shard-size", "8")
        for lang in ("vi", "fr")
    ]
    for proc in procs:
        assert proc.wait(180) == 0, proc.stderr.read().decode()
    stats = json.loads((out / "stats.json").read_text())
    assert set(stats["languages"]) == {"vi", "fr"}
    card = (out / "README.md").read_text()
    assert "config_name: vi" in card and "config_name: fr" in card
    for lang in ("vi", "fr"):
        rows = datasets.load_dataset(str(out), lang)["train"].num_rows
        assert rows == stats["languages"][lang]["kept"] > 0


def test_a_second_build_of_the_same_language_stops_with_a_clear_message(offline_server, tmp_path):
    source = synthetic_source(tmp_path / "src.jsonl", 60, seed=6)
    server = offline_server(latency_s=0.2)
    out = tmp_path / "out"
    first = _cli_build(source, out, tmp_path / "cache", server.base_url, "--langs", "vi")
    deadline = time.monotonic() + 60
    while not list((out / ".okapi" / "source").rglob("input-*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    second = _cli_build(source, out, tmp_path / "cache", server.base_url, "--langs", "vi")
    code, error = second.wait(60), second.stderr.read().decode()
    assert code == 2, error
    assert "another okapi process is building vi" in error and "okapi pid" in error
    assert first.wait(120) == 0, first.stderr.read().decode()
    assert json.loads((out / "stats.json").read_text())["languages"]["vi"]["kept"] > 0


def test_parts_on_several_machines_then_assemble(offline_server, tmp_path):
    source = synthetic_source(tmp_path / "src.jsonl", 50, seed=7)
    server = offline_server()
    langs = parse_languages("vi,de")

    def run(out: Path, **kw) -> dict:
        client = make_client(server, tmp_path / "cache")
        return build(BUILDER, SourceStream(str(source), BUILDER.source), langs, out, client,
                     progress=False, shard_size=6, workers=0, **kw)  # fmt: skip

    whole = run(tmp_path / "whole")
    shared = tmp_path / "shared"
    part0 = run(shared, part=(0, 3))
    assert part0["built"] == 6 and not (shared / "stats.json").exists()  # shards 0, 3, 6 × 2 languages
    with pytest.raises(IncompleteBuild, match=r"part\(s\) 1, 2 of 3 not finished \(12 units: vi:1, vi:2"):
        run(shared, assemble_only=True)
    run(shared, part=(1, 3))
    run(shared, part=(2, 3))
    assembled = run(shared, assemble_only=True)
    assert published(shared) == published(tmp_path / "whole")
    assert _without_run_facts(assembled) == _without_run_facts(whole)


def test_rankings_sharded_keep_judge_agreement(offline_server, tmp_path):
    builder = get_builder("rankings", {"both_orders": "true", "responses": "3"})
    source = tmp_path / "prompts.jsonl"
    source.write_text(
        "".join(json.dumps({"id": f"p{i}", "instruction": line}) + "\n" for i, line in enumerate(_prompts()))
    )
    server = offline_server(faults={"position_bias": 0.3})
    stats = build(
        builder, SourceStream(str(source), builder.source), parse_languages("vi"), tmp_path / "out",
        make_client(server, tmp_path), progress=False, shard_size=4, workers=0,
    )  # fmt: skip
    vi = stats["languages"]["vi"]
    judged = vi["steps"]["judge"]["out"] + vi["rejected"].get("inconsistent_ranking", 0)
    assert vi["judge_agreement"] == round(vi["steps"]["judge"]["out"] / judged, 4)
    assert vi["units"] == 4


def _prompts() -> list[str]:
    from test_build import EN

    return EN[:14]


def test_two_endpoints_one_failing_every_record_accounted_and_served_models_recorded(
    offline_server, tmp_path
):
    from conftest import closed_port_url

    from okapi.llm import EndpointConfig

    good = offline_server(served_model="Qwen/Qwen2.5-7B-Instruct-AWQ")
    dead = closed_port_url()
    client = make_client(good, tmp_path / "cache", max_retries=4, backoff_base_s=0.05)
    endpoints = (EndpointConfig(base_url=good.base_url), EndpointConfig(base_url=dead))
    client.config.roles["default"] = replace(client.config.roles["default"], endpoints=endpoints)
    source = synthetic_source(tmp_path / "src.jsonl", 60, seed=11)
    stats = build(
        BUILDER, SourceStream(str(source), BUILDER.source), parse_languages("vi,fr"), tmp_path / "out", client,
        progress=False, shard_size=20, workers=0,
    )  # fmt: skip
    for lang in ("vi", "fr"):
        entry = stats["languages"][lang]
        assert entry["kept"] + sum(entry["rejected"].values()) == 60
        assert not any(reason.startswith("request_failed") for reason in entry["rejected"])
        assert entry["run"]["served_models"] == {"translator": ["Qwen/Qwen2.5-7B-Instruct-AWQ"]}
    assert "`Qwen/Qwen2.5-7B-Instruct-AWQ`" in (tmp_path / "out" / "README.md").read_text()


def test_a_rate_limited_server_and_no_client_limit_lose_no_record(offline_server, tmp_path):
    server = offline_server(requests_per_minute=300, rate_limit_mode="bucket", latency_s=0.02)
    client = make_client(server, tmp_path / "cache", concurrency=16)
    source = synthetic_source(tmp_path / "src.jsonl", 120, seed=12)
    stats = build(
        BUILDER, SourceStream(str(source), BUILDER.source), parse_languages("vi,de"), tmp_path / "out", client,
        progress=False, shard_size=40, workers=0,
    )  # fmt: skip
    assert server.stats.statuses[429] > 0  # the server did push back
    for lang in ("vi", "de"):
        assert not any(r.startswith("request_failed") for r in stats["languages"][lang]["rejected"])
        assert stats["languages"][lang]["source_rows"] == 120
