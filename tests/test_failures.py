"""Ordinary mistakes end loud and early: no user file lost, no silent success, no raw traceback."""

import json
import subprocess
import sys

from conftest import SAMPLE
from test_build import synthetic_source

from okapi.cli import main


def _build(out, server, *extra, source=SAMPLE, cache=None):
    cache = cache or out.parent / "cache"
    args = ["build", "instructions", "--source", str(source), "--langs", "vi", "--out", str(out),
            "--cache-dir", str(cache), "--base-url", server.base_url, "--model", "offline", "--no-progress",
            "--workers", "0", *extra]  # fmt: skip
    return main(args)


def test_a_folder_that_is_not_an_okapi_build_is_refused_before_any_request(offline_server, tmp_path, capsys):
    server = offline_server()
    project = tmp_path / "project"
    project.mkdir()
    (project / "README.md").write_text("my project\n")
    assert _build(project, server) == 2
    assert "is not empty and is not an okapi build" in capsys.readouterr().err
    assert (project / "README.md").read_text() == "my project\n"
    assert server.stats.requests == 0

    a_file = tmp_path / "out.txt"
    a_file.write_text("notes\n")
    assert _build(a_file, server) == 2
    assert "is a file" in capsys.readouterr().err
    assert a_file.read_text() == "notes\n" and server.stats.requests == 0


def test_a_file_okapi_did_not_write_in_a_config_folder_stops_the_rebuild(offline_server, tmp_path, capsys):
    server = offline_server()
    out = tmp_path / "out"
    assert _build(out, server) == 0
    notes = out / "vi" / "notes.md"
    notes.write_text("mine\n")
    assert _build(out, server) == 2
    assert "notes.md, which okapi did not write" in capsys.readouterr().err
    assert notes.read_text() == "mine\n"


def test_a_latin1_source_names_file_and_line(tmp_path, offline_server, capsys):
    source = tmp_path / "latin1.jsonl"
    source.write_bytes(
        b'{"instruction": "ok", "output": "fine"}\n{"instruction": "caf\xe9", "output": "x"}\n'
    )
    assert _build(tmp_path / "out", offline_server(), source=source) == 2
    error = capsys.readouterr().err
    assert f"{source}:2: not UTF-8 text (byte 0xe9)" in error and "iconv" in error
    assert "Traceback" not in error


def test_estimate_says_the_price_is_unknown_not_free(tmp_path, capsys):
    args = [
        "estimate",
        "instructions",
        "--source",
        str(SAMPLE),
        "--langs",
        "vi",
        "--cache-dir",
        str(tmp_path),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "price unknown for translator" in out and "unknown" in out.splitlines()[-3]
    assert "0.0000" not in out
    config = tmp_path / "run.toml"
    config.write_text("[default]\nprice_input_per_mtok = 0.15\nprice_output_per_mtok = 0.6\n")
    assert main([*args, "--config", str(config)]) == 0
    assert "price unknown" not in capsys.readouterr().out


def test_records_lost_in_transport_exit_non_zero_and_a_rerun_finishes_them(offline_server, tmp_path):
    source = synthetic_source(tmp_path / "src.jsonl", 40, seed=9)
    flaky = offline_server(faults={"500": 0.5})
    config = tmp_path / "run.toml"
    config.write_text("[default]\nmax_retries = 0\n")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "okapi.cli", "build", "instructions", "--source", str(source), "--langs", "vi",
           "--out", str(out), "--cache-dir", str(tmp_path / "cache"), "--config", str(config), "--model", "offline",
           "--no-progress", "--shard-size", "10"]  # fmt: skip
    first = subprocess.run([*cmd, "--base-url", flaky.base_url], capture_output=True, text=True, timeout=120)
    assert first.returncode == 1, first.stderr
    assert "failed in transport (request_failed.http_500=" in first.stderr
    assert "re-run the same command to resume" in first.stderr
    rejected = json.loads((out / "stats.json").read_text())["languages"]["vi"]["rejected"]
    assert rejected.get("request_failed.http_500", 0) > 0

    healthy = offline_server()
    second = subprocess.run(
        [*cmd, "--base-url", healthy.base_url], capture_output=True, text=True, timeout=120
    )
    assert second.returncode == 0, second.stderr
    rejected = json.loads((out / "stats.json").read_text())["languages"]["vi"]["rejected"]
    assert not any(reason.startswith("request_failed.") for reason in rejected)


def test_generate_stops_when_the_generator_only_repeats_itself(offline_server, tmp_path, capsys):
    from conftest import REPO

    server = offline_server()
    seeds = REPO / "okapi" / "offline" / "seed_tasks.jsonl"
    args = ["generate", "--seed-tasks", str(seeds), "--num", "1000", "--base-url", server.base_url,
            "--model", "offline", "--cache-dir", str(tmp_path / "cache"), "--no-progress"]  # fmt: skip
    assert main([*args, "--out", str(tmp_path / "pool")]) == 1
    error = capsys.readouterr().err
    assert (
        "of the 1000 instructions asked for: stopped after no new instruction in the last 10 rounds" in error
    )
    stats = json.loads((tmp_path / "pool" / "stats.json").read_text())
    assert stats["requests"] == stats["rounds"] * 8 <= 400  # not tens of thousands
    assert main([*args, "--out", str(tmp_path / "pool2"), "--max-requests", "40"]) == 1
    assert "another round would pass --max-requests 40" in capsys.readouterr().err
    assert json.loads((tmp_path / "pool2" / "stats.json").read_text())["requests"] == 40


def test_no_reachable_endpoint_stops_the_build_in_seconds_with_one_line(tmp_path, capsys, monkeypatch):
    import time

    from conftest import closed_port_url

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    url = closed_port_url()

    class Closed:
        base_url = url

    start = time.monotonic()
    assert _build(tmp_path / "out", Closed) == 2
    assert time.monotonic() - start < 10  # not minutes of retries
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and url in err and "cannot connect" in err
    assert "$OPENAI_API_KEY not set" in err and "--base-url" in err
    assert not (tmp_path / "out" / "vi").exists()  # nothing written as if it had worked


def test_a_run_config_value_of_the_wrong_type_is_one_line_with_an_example(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text('[default]\nconcurrency = "sixteen"\n')
    args = ["estimate", "instructions", "--source", str(SAMPLE), "--langs", "vi", "--config", str(config)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err
        == f"okapi: error: {config} [default]: concurrency = 'sixteen' must be a whole number, e.g. concurrency = 16"
    )
    config.write_text('[roles.judge]\nendpoints = [{ base_url = "http://gpu1:8000/v1", timeout_s = 0 }]\n')
    assert main(args) == 2
    assert "[roles.judge] endpoints[0]: timeout_s = 0 must be above 0" in capsys.readouterr().err


def test_verbose_works_before_and_after_the_command():
    from okapi.cli import _parser

    assert (
        _parser()
        .parse_args(["build", "instructions", "--source", "s", "--langs", "vi", "--out", "o", "-v"])
        .verbose
    )
    assert _parser().parse_args(["-v", "languages"]).verbose
    assert not _parser().parse_args(["languages"]).verbose


def test_an_okapi_build_is_refused_as_an_english_source(offline_server, tmp_path, capsys):
    server = offline_server()
    assert _build(tmp_path / "out", server) == 0
    capsys.readouterr()
    assert _build(tmp_path / "again", server, source=tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "is an okapi 'instructions' build (vi), not English rows" in err and str(SAMPLE) in err


def test_a_missing_split_folder_is_named_not_a_file_beside_it(tmp_path, capsys):
    (tmp_path / "mmlu" / "dev").mkdir(parents=True)
    (tmp_path / "mmlu" / "dev" / "anatomy_dev.csv").write_text("What is 2+2?,1,2,3,4,D\n")
    (tmp_path / "mmlu" / "categories.json").write_text('{"anatomy": ["health"]}')
    args = ["estimate", "m_mmlu", "--source", str(tmp_path / "mmlu"), "--split", "test", "--langs", "vi"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "no test/ folder (it has dev/); give --split one of those" in err and "categories.json" not in err


def test_the_cards_score_descriptions_are_whole_sentences():
    import re

    from okapi.builders import get_builder
    from okapi.card import _score_docs

    for name in ("instructions", "rankings", "m_arc", "m_hellaswag", "m_mmlu"):
        for column, doc in _score_docs(get_builder(name, {})).items():
            assert doc.endswith((".", ")")), (name, column, doc)  # not cut at the docstring's first line
            assert not re.match(r"`\w+_v\d+`, `\w+_v\d+`", doc), (
                name,
                column,
                doc,
            )  # not "see the older one"
