"""Issue 6: Self-Instruct pool, hash split, responses and two-turn rankings, Okapi export."""

import json
import random
from dataclasses import replace

import pytest
from conftest import REPO, SAMPLE, make_client

from okapi.build import build
from okapi.builders import get_builder
from okapi.cli import main
from okapi.export import export_okapi_json
from okapi.languages import parse_languages
from okapi.pool import generate_pool, load_seed_tasks, split_pool
from okapi.prompts.rank import parse_ranking
from okapi.prompts.selfinstruct import DEFAULT_PROMPT, Dropped, Task, parse_tasks
from okapi.records import Example
from okapi.selfinstruct.rouge import RougeNoveltyFilter, naive_novelty_filter, rouge_l, rouge_tokens
from okapi.sources import load_source
from okapi.split import SplitError, parse_sizes, split_by_hash
from okapi.steps.rank import ranks_from, shown_order
from okapi.steps.selfinstruct import SelfInstructSettings

SEEDS = REPO / "okapi" / "offline" / "seed_tasks.jsonl"


def test_rouge_l_matches_the_definition():
    assert rouge_tokens("Write a poem, about THE sea!") == ["write", "a", "poem", "about", "the", "sea"]
    a, b = rouge_tokens("the cat sat on the mat"), rouge_tokens("the cat lay on a mat")
    assert rouge_l(a, b) == pytest.approx(2 * 4 / 12)  # LCS: the cat on mat
    assert rouge_l([], b) == 0.0


def test_fast_novelty_filter_keeps_exactly_what_the_all_pairs_loop_keeps():
    rng = random.Random(7)
    words = "explain describe list write give the a of river park city tree poem story water light".split()
    base = [" ".join(rng.choices(words, k=rng.randint(3, 12))) for _ in range(150)]
    texts = base + [" ".join(t.split()[:-1] + [rng.choice(words)]) for t in rng.sample(base, 150)]
    rng.shuffle(texts)
    novelty = RougeNoveltyFilter(0.7)
    assert novelty.extend(texts) == naive_novelty_filter(texts, 0.7)
    assert novelty.comparisons < len(texts) * len(novelty.kept) / 4  # it prunes most pairs


def test_parse_tasks_filters_like_alpaca():
    reply = (
        " Describe the life cycle of a frog in detail.\n5. Input:\n<noinput>\n5. Output:\nEgg, tadpole, frog.\n###\n"
        "6. Instruction: Draw a map of your town.\n6. Input:\n<noinput>\n6. Output:\nNo.\n###\n"
        "7. Instruction: Sort these.\n7. Input:\n3, 1, 2\n7. Output:\n1, 2, 3\n###\n"
        "8. Instruction: Write a program that sorts numbers quickly.\n8. Input:\n<noinput>\n8. Output:\nx\n###\n"
        "9. Instruction: What is the boiling point of water at sea level?\n9. Input:\n<noinput>\n9. Out"
    )
    items = parse_tasks(reply, "length", first_number=5)
    assert items[0] == Task("Describe the life cycle of a frog in detail.", "", "Egg, tadpole, frog.")
    assert [i.reason for i in items[1:] if isinstance(i, Dropped)] == [
        "blacklisted_word", "too_short", "program_request", "truncated",
    ]  # fmt: skip


def test_generation_resumes_from_the_cache_and_counts_every_drop(offline_server, tmp_path):
    server = offline_server()
    seeds = load_seed_tasks(str(SEEDS))
    settings = SelfInstructSettings(target=25, requests_per_round=4)
    first = generate_pool(
        make_client(server, tmp_path),
        seeds,
        settings,
        tmp_path / "pool",
        prompt=DEFAULT_PROMPT,
        progress=False,
    )
    sent = server.stats.answered
    again = generate_pool(
        make_client(server, tmp_path),
        seeds,
        settings,
        tmp_path / "pool2",
        prompt=DEFAULT_PROMPT,
        progress=False,
    )
    assert server.stats.answered == sent  # the second run sent nothing
    assert first["kept"] == again["kept"] == 25 and first["rejected"] == again["rejected"]
    assert {"blacklisted_word", "similar_to_kept"} <= set(first["rejected"])
    pool1 = (tmp_path / "pool" / "en" / "train-00000-of-00001.parquet").read_bytes()
    assert pool1 == (tmp_path / "pool2" / "en" / "train-00000-of-00001.parquet").read_bytes()
    for line in (tmp_path / "pool" / "rejects" / "en.jsonl").read_text().splitlines():
        assert json.loads(line)["reason"]


def test_split_by_hash_is_deterministic_and_sized(tmp_path):
    examples = [Example(f"id-{i}", {"instruction": f"q{i}", "input": "", "output": "a"}) for i in range(100)]
    parts = split_by_hash(examples, parse_sizes("sft=50,rank=30,rl=rest"))
    assert {k: len(v) for k, v in parts.items()} == {"sft": 50, "rank": 30, "rl": 20}
    assert split_by_hash(list(reversed(examples)), parse_sizes("sft=50,rank=30,rl=rest")) == parts
    with pytest.raises(SplitError, match="only one split"):
        parse_sizes("a=rest,b=rest")
    with pytest.raises(SplitError, match="pool has 100"):
        split_by_hash(examples, {"sft": 200})
    path = tmp_path / "pool.jsonl"
    path.write_text("".join(json.dumps({"id": e.id, **e.fields}) + "\n" for e in examples))
    assert split_pool(str(path), {"sft": 60, "rl": None}, tmp_path / "split") == {"sft": 60, "rl": 40}
    assert len((tmp_path / "split" / "rl.jsonl").read_text().splitlines()) == 40


def test_ranking_validation_and_order_mapping():
    assert parse_ranking('{"ranking": [2, 1, 3]}', "stop", 3) == [2, 1, 3]
    assert parse_ranking('sure: {"ranking": [2, 2, 3]}', "stop", 3).reason == "invalid_ranking"
    assert parse_ranking('{"ranking": [1, 2]}', "stop", 3).reason == "invalid_ranking"
    assert parse_ranking("2 > 1 > 3", "stop", 3).reason == "unparsable"
    assert ranks_from([3, 1, 2]) == [2, 3, 1]
    order = shown_order("rec-1", 4, reverse=False)
    assert sorted(order) == [1, 2, 3, 4] and shown_order("rec-1", 4, reverse=True) == order[::-1]


def test_rankings_build_gives_trl_ready_pairs_and_rejects_invalid_rankings(offline_server, tmp_path):
    import datasets

    server = offline_server(faults={"invalid_ranking": 0.5})
    builder = get_builder("rankings")
    loaded = load_source(str(SAMPLE), builder.source, limit=8)
    stats = build(
        builder,
        loaded,
        parse_languages("vi,fr"),
        tmp_path / "out",
        make_client(server, tmp_path),
        progress=False,
    )
    for lang in ("vi", "fr"):
        numbers = stats["languages"][lang]
        assert numbers["kept"] + sum(numbers["rejected"].values()) == 8
        assert set(numbers["rejected"]) <= {"invalid_ranking"}
        data = datasets.load_dataset(str(tmp_path / "out"), lang)["train"]
        assert data.num_rows == numbers["kept"] * 6  # all pairs of 4 responses
        for row in data:
            assert row["chosen_rank"] < row["rejected_rank"] and row["chosen"] != row["rejected"]
            assert sorted(row["ranks"]) == [1, 2, 3, 4] and len(row["responses"]) == 4
            assert row["responses"][row["ranks"].index(row["chosen_rank"])] == row["chosen"]
    assert sum(stats["languages"][lang]["rejected"].get("invalid_ranking", 0) for lang in ("vi", "fr")) > 0

    exported = export_okapi_json(tmp_path / "out", tmp_path / "okapi-json", ["vi"])
    items = json.loads((tmp_path / "okapi-json" / "vi.json").read_text())
    assert exported == {"vi": len(items)} and set(items[0]) == {
        "instruction",
        "input",
        "prefered_output",
        "rejected_output",
    }


def test_responses_go_to_each_configured_responder_model_in_turn(offline_server, tmp_path):
    import datasets

    server = offline_server()
    client = make_client(server, tmp_path)
    responder = replace(client.config.roles["default"], models=("small-a", "small-b"))
    client.config.roles["responder"] = responder
    builder = get_builder("rankings")
    loaded = load_source(str(SAMPLE), builder.source, limit=3)
    stats = build(builder, loaded, parse_languages("vi"), tmp_path / "out", client, progress=False)
    assert server.stats.models["small-a"] == server.stats.models["small-b"] == 3 * 2
    data = datasets.load_dataset(str(tmp_path / "out"), "vi")["train"]
    assert data.num_rows == stats["languages"]["vi"]["kept"] * 6 > 0
    for row in data:
        assert row["response_models"] == ["small-a", "small-b", "small-a", "small-b"]
        assert row["responder"] == "small-a, small-b"


def test_judging_in_both_orders_reports_agreement_per_language(offline_server, tmp_path):
    from okapi.steps.rank import JudgeStep

    server = offline_server(faults={"position_bias": 0.3})
    rankings = get_builder("rankings")
    respond, judge = rankings.steps
    builder = replace(rankings, steps=(respond, replace(judge, both_orders=True)))
    loaded = load_source(str(SAMPLE), builder.source, limit=12)
    stats = build(
        builder,
        loaded,
        parse_languages("vi"),
        tmp_path / "out",
        make_client(server, tmp_path),
        progress=False,
    )
    vi = stats["languages"]["vi"]
    assert isinstance(judge, JudgeStep) and vi["steps"]["judge"]["in"] == vi["steps"]["respond"]["out"]
    disagreed = vi["rejected"].get("inconsistent_ranking", 0)
    consistent = vi["steps"]["judge"]["out"]
    assert consistent > 0 and disagreed > 0  # a biased judge disagrees with itself across orders
    assert vi["judge_agreement"] == round(consistent / (consistent + disagreed), 4)
    assert (
        json.loads((tmp_path / "out" / "stats.json").read_text())["languages"]["vi"]["judge_agreement"]
        == vi["judge_agreement"]
    )


def test_a_build_that_keeps_nothing_still_writes_stats_rejects_and_a_readme(offline_server, tmp_path):
    server = offline_server(faults={"invalid_ranking": 1.0})
    builder = get_builder("rankings")
    loaded = load_source(str(SAMPLE), builder.source, limit=3)
    stats = build(
        builder,
        loaded,
        parse_languages("vi"),
        tmp_path / "out",
        make_client(server, tmp_path),
        progress=False,
    )
    assert stats["languages"]["vi"]["kept"] == 0 and stats["languages"]["vi"]["rejected"] == {
        "invalid_ranking": 3
    }
    assert len((tmp_path / "out" / "rejects" / "vi.jsonl").read_text().splitlines()) == 3
    assert "No language kept any rows" in (tmp_path / "out" / "README.md").read_text()


def test_rankings_options_set_on_the_command_line_shape_the_pairs(offline_server, tmp_path, capsys):
    import datasets

    server = offline_server()
    out = tmp_path / "out"
    args = ["build", "rankings", "--source", str(SAMPLE), "--langs", "vi", "--limit", "4", "--out", str(out),
            "--set", "pairs=adjacent", "--set", "responses=3", "--no-progress", "--base-url", server.base_url,
            "--model", "offline", "--cache-dir", str(tmp_path / "cache")]  # fmt: skip
    assert main(args) == 0
    stats = json.loads((out / "stats.json").read_text())
    assert stats["languages"]["vi"]["run"]["options"] == {
        "responses": 3,
        "pairs": "adjacent",
        "both_orders": False,
    }
    rows = datasets.load_dataset(str(out), "vi")["train"]
    assert rows.num_rows == 2 * stats["languages"]["vi"]["kept"] > 0  # ranks 1v2 and 2v3
    assert all(r["rejected_rank"] == r["chosen_rank"] + 1 and len(r["responses"]) == 3 for r in rows)
    assert "`pairs=adjacent`" in (out / "README.md").read_text()
    assert main([arg.replace("pairs=adjacent", "pairs=every") for arg in args]) == 2
    assert "pairs must be one of all, adjacent" in capsys.readouterr().err


def test_responder_models_in_the_run_config_are_checked(tmp_path):
    from okapi.llm import ConfigError, load_run_config

    good = tmp_path / "good.toml"
    good.write_text('[roles.responder]\nmodels = ["a", "b"]\n')
    config = load_run_config(good, environ={})
    assert config.role("responder").sampling_models() == ("a", "b")
    assert config.role("judge").sampling_models() == (config.role("judge").model,)
    bad = tmp_path / "bad.toml"
    bad.write_text('[roles.responder]\nmodels = "a"\n')
    with pytest.raises(ConfigError, match="models must be a non-empty list"):
        load_run_config(bad, environ={})


def test_rl_prompts_and_cli_pipeline(offline_server, tmp_path, capsys):
    server = offline_server()
    common = ["--base-url", server.base_url, "--model", "offline", "--cache-dir", str(tmp_path / "cache")]
    assert (
        main(
            [
                "generate",
                "--seed-tasks",
                str(SEEDS),
                "--num",
                "12",
                "--out",
                str(tmp_path / "pool"),
                "--no-progress",
                *common,
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "split",
                str(tmp_path / "pool"),
                "--sizes",
                "sft=4,rank=4,rl=rest",
                "--out",
                str(tmp_path / "split"),
            ]
        )
        == 0
    )
    assert "rl: 4" in capsys.readouterr().out
    assert (
        main(
            [
                "build",
                "rl-prompts",
                "--source",
                str(tmp_path / "split" / "rl.jsonl"),
                "--langs",
                "de",
                "--out",
                str(tmp_path / "rl"),
                "--no-progress",
                *common,
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "build",
                "instructions",
                "--source",
                str(tmp_path / "split" / "sft.jsonl"),
                "--langs",
                "de",
                "--out",
                str(tmp_path / "sft"),
                "--no-progress",
                *common,
            ]
        )
        == 0
    )
    assert main(["export", str(tmp_path / "sft"), "--out", str(tmp_path / "export")]) == 0
    items = json.loads((tmp_path / "export" / "de.json").read_text())
    assert set(items[0]) == {"instruction", "input", "output"}
    import pyarrow.parquet as pq

    rows = pq.read_table(tmp_path / "rl" / "de" / "train-00000-of-00001.parquet").to_pylist()
    assert rows and all(r["prompt"].startswith(r["instruction"]) for r in rows)


def test_estimate_counts_every_role_of_a_rankings_build(tmp_path):
    from okapi.estimate import estimate
    from okapi.llm import LLMClient, ResponseCache, load_run_config

    builder = get_builder("rankings")
    loaded = load_source(str(SAMPLE), builder.source, limit=8)
    client = LLMClient(load_run_config(None, environ={}), ResponseCache(tmp_path / "c.sqlite"))
    rows = {row.role: row for row in estimate(builder, loaded.examples, parse_languages("vi"), client)}
    assert set(rows) == {"translator", "responder", "judge"}
    assert rows["responder"].requests == 8 * 4 and rows["judge"].requests == 8
    assert rows["translator"].requests > 1  # into the language, then prompt + responses back to English
