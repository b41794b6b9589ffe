"""Benchmarks end to end, offline: build against the offline server, evaluate a tiny model with lm-eval.

Fixture items are made of the offline corpus's sentences, so the server translates them for
real. A sentence it does not know comes back as a corpus sentence picked by hash: two such
options can collide, which is exactly a duplicated option, and must end as a counted reject.
"""

import asyncio
import csv
import importlib.util
import json
import shutil
from pathlib import Path

import datasets
import pytest
from conftest import REPO, make_client

from okapi.build import build
from okapi.builders import get_builder
from okapi.cli import main as okapi_main
from okapi.languages import get_language, parse_languages
from okapi.offline.server import translate_text
from okapi.records import Example
from okapi.steps.runner import Failure
from okapi.steps.translate import TranslateSettings, translate

EN = (REPO / "okapi" / "offline" / "corpus" / "en.txt").read_text().splitlines()
QUESTIONS = [EN[i] for i in (4, 16, 20, 22, 26, 31)]
STATEMENTS = [EN[i] for i in (1, 2, 3, 5, 8, 10, 11, 17, 19, 23, 25, 29, 30, 33, 35)]


def colliding_unknown_sentences() -> tuple[str, str]:
    """Two sentences the corpus lacks that the offline server turns into the same translation."""
    seen: dict[str, str] = {}
    for i in range(1000):
        sentence = f"Option {i} is not in the corpus."
        seen.setdefault(translate_text(sentence, "vi"), sentence)
        if seen[translate_text(sentence, "vi")] != sentence:
            return seen[translate_text(sentence, "vi")], sentence
    raise AssertionError("no collision in 1000 sentences")


def options(i: int, n: int = 4) -> list[str]:
    return [STATEMENTS[(3 * i + j) % len(STATEMENTS)] for j in range(n)]


def write_arc(path: Path, prefix: str, with_duplicate: bool = False) -> Path:
    rows = []
    for i, question in enumerate(QUESTIONS):
        n = {1: 3, 2: 5}.get(i, 4)
        labels = list("1234") if i == 3 else list("ABCDE"[:n])
        choices = {"text": options(i, n), "label": labels}
        rows.append(
            {"id": f"{prefix}-{i}", "question": question, "choices": choices, "answerKey": labels[i % n]}
        )
    if with_duplicate:
        a, b = colliding_unknown_sentences()
        choices = {"text": [STATEMENTS[0], a, b, STATEMENTS[1]], "label": list("ABCD")}
        rows.append({"id": f"{prefix}-dup", "question": EN[38], "choices": choices, "answerKey": "A"})
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def write_hellaswag(path: Path) -> Path:
    rows = [
        {
            "ind": 10 + i,
            "activity_label": EN[0],
            "ctx": STATEMENTS[i],
            "endings": options(i + 1),
            "label": i % 4,
        }
        for i in range(6)
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def write_mmlu(folder: Path, split: str) -> Path:
    (folder / split).mkdir(parents=True, exist_ok=True)
    with (folder / split / f"general_knowledge_{split}.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        for i, question in enumerate(QUESTIONS):
            writer.writerow([question, *options(i), "ABCD"[i % 4]])
    return folder


def build_split(
    server, tmp_path: Path, name: str, source: Path, split: str, langs: str, out: Path, **kw
) -> dict:
    builder = get_builder(name)
    client = make_client(server, tmp_path / "cache")
    loaded = builder.load(str(source), split=split)
    return build(builder, loaded, parse_languages(langs), out, client, progress=False, **kw)


def test_arc_splits_add_up_in_one_config_and_every_item_is_accounted_for(offline_server, tmp_path):
    server = offline_server()
    out = tmp_path / "m_arc"
    test_source = write_arc(tmp_path / "ARC-test.jsonl", "test", with_duplicate=True)
    build_split(server, tmp_path, "m_arc", test_source, "test", "vi,hi", out, backtranslate_role="translator")
    stats = build_split(
        server, tmp_path, "m_arc", write_arc(tmp_path / "ARC-train.jsonl", "train"), "train", "vi", out
    )

    assert sorted(p.name for p in (out / "vi").iterdir()) == [
        "test-00000-of-00001.parquet",
        "train-00000-of-00001.parquet",
    ]
    assert sorted(p.name for p in (out / "hi").iterdir()) == ["test-00000-of-00001.parquet"]
    vi = stats["languages"]["vi"]
    assert vi["source_rows"] == 7 + 6 and set(vi["by_split"]) == {"test", "train"}
    assert vi["rejected"] == {"duplicate_option": 1} and vi["kept"] == 12
    assert vi["splits"] == {"test": 6, "train": 6}
    assert stats["languages"]["hi"]["rejected"] == {"duplicate_option": 1}
    assert stats["source"]["records"] == 13 and set(stats["source"]["by_split"]) == {"test", "train"}
    rejects = [json.loads(line) for line in (out / "rejects" / "vi.jsonl").read_text().splitlines()]
    assert [(r["id"], r["reason"], r["split"]) for r in rejects] == [("test-dup", "duplicate_option", "test")]
    assert "option_b and option_c are both" in rejects[0]["detail"]

    data = datasets.load_dataset(str(out), "vi")
    assert {split: data[split].num_rows for split in data} == {"test": 6, "train": 6}
    rows = {row["id"]: row for row in data["test"]}
    english = {json.loads(line)["id"]: json.loads(line) for line in test_source.read_text().splitlines()}
    for item_id, row in rows.items():
        source = english[item_id]
        assert row["answer"] == "ABCDE"[source["choices"]["label"].index(source["answerKey"])]
        present = [row[f"option_{c}"] for c in "abcde" if row[f"option_{c}"] is not None]
        assert len(present) == len(source["choices"]["text"]) and len(set(present)) == len(present)
    assert rows["test-0"]["option_a"] == translate_text(english["test-0"]["choices"]["text"][0], "vi")
    assert rows["test-1"]["option_d"] is None and rows["test-2"]["option_e"] is not None
    assert rows["test-0"]["lang_id_label"] == "vi" and rows["test-0"]["bt_chrf"] == 100.0  # scores per item
    assert rows["test-0"]["backtranslation_option_a"] == english["test-0"]["choices"]["text"][0]
    card = (out / "README.md").read_text()
    assert "path: vi/train-*.parquet" in card and "path: hi/test-*.parquet" in card
    assert "`duplicate_option` (1)" in card and "okapi_arc_" in card


def test_a_failing_item_is_asked_again_with_the_failure_named_then_rejected(offline_server, tmp_path):
    server = offline_server()
    client = make_client(server, tmp_path / "cache")
    item = Example("q", {"instruction": EN[16], "option_a": EN[17], "option_b": EN[19]}, meta={"answer": "A"})
    calls: list[str] = []

    def flaky(source: Example, translated: Example) -> Failure | None:
        calls.append(translated.fields["option_a"])
        return Failure("flaky_check", "fails once") if len(calls) == 1 else None

    async def run(validate) -> tuple:
        try:
            settings = TranslateSettings(max_records_per_request=1, validate_item=validate)
            return await translate(client, [item], get_language("vi"), tuple(item.fields), settings)
        finally:
            await client.aclose()

    kept, rejects = asyncio.run(run(flaky))
    assert [k.id for k in kept] == ["q"] and not rejects and kept[0].meta == {"answer": "A"}
    assert server.stats.answered == 2  # the retry is a new payload (it names the failure)

    client = make_client(server, tmp_path / "cache")
    kept, rejects = asyncio.run(run(lambda source, translated: Failure("always_bad", "never passes")))
    assert not kept and [(r.reason, r.detail) for r in rejects] == [("always_bad", "never passes")]
    # attempt 1 is the cached first request; 2 and 3 are new payloads (the third also names its number)
    assert server.stats.answered == 2 + 2


def test_cli_builds_the_split_the_source_holds_and_names_the_valid_ones(offline_server, tmp_path, capsys):
    server = offline_server()
    source = write_mmlu(tmp_path / "mmlu", "test")
    common = ["--langs", "vi", "--out", str(tmp_path / "out"), "--base-url", server.base_url]
    common += ["--model", "offline", "--cache-dir", str(tmp_path / "cache"), "--no-progress"]
    assert okapi_main(["build", "m_mmlu", "--source", str(source), "--split", "test", *common]) == 0
    assert "vi: kept 6/6" in capsys.readouterr().out
    assert okapi_main(["build", "m_mmlu", "--source", str(source), "--split", "train", *common]) == 2
    assert "pass --split dev | val | test (given: 'train')" in capsys.readouterr().err
    row = datasets.load_dataset(str(tmp_path / "out"), "vi", split="test")[0]
    assert row["id"] == "general_knowledge-test-0000" and row["subject"] == "general_knowledge"


# -- evaluation with lm-eval


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    from tiny_models import build_tiny_causal_lm

    return build_tiny_causal_lm(tmp_path_factory.mktemp("models") / "tiny", num_layers=2)


def load_evaluate_script():
    spec = importlib.util.spec_from_file_location("okapi_evaluate", REPO / "scripts" / "evaluate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stock_okapi_tasks(folder: Path, data_root: Path) -> list[str]:
    """lm-eval's own okapi arc_vi and hellaswag_vi task files with only `dataset_path` changed."""
    import lm_eval

    stock = Path(lm_eval.__file__).parent / "tasks" / "okapi"
    tasks = []
    for kind, benchmark, task in (("arc", "m_arc", "arc_vi"), ("hellaswag", "m_hellaswag", "hellaswag_vi")):
        target = folder / kind
        target.mkdir(parents=True)
        for name in (f"_{kind}_yaml", "utils.py"):
            shutil.copy(stock / f"{kind}_multilingual" / name, target / name)
        text = (stock / f"{kind}_multilingual" / f"{task}.yaml").read_text()
        old = f"dataset_path: alexandrainst/{benchmark}"
        assert old in text
        (target / f"{task}.yaml").write_text(text.replace(old, f"dataset_path: {data_root / benchmark}"))
        tasks.append(task)
    return tasks


def test_a_tiny_model_is_evaluated_by_lm_eval_on_our_builds(offline_server, tmp_path, tiny_model, capsys):
    server = offline_server()
    data = tmp_path / "data"
    arc = write_arc(tmp_path / "arc.jsonl", "q")
    for split in ("train", "validation", "test"):  # lm-eval's stock arc task loads all three
        build_split(server, tmp_path, "m_arc", arc, split, "vi", data / "m_arc")
    build_split(
        server,
        tmp_path,
        "m_hellaswag",
        write_hellaswag(tmp_path / "hs.jsonl"),
        "val",
        "vi",
        data / "m_hellaswag",
    )
    build_split(
        server, tmp_path, "m_mmlu", write_mmlu(tmp_path / "mmlu", "test"), "test", "vi", data / "m_mmlu"
    )

    evaluate = load_evaluate_script()
    report = tmp_path / "scores.json"
    args = ["--model", f"sft={tiny_model}", "--model", f"rlhf={tiny_model}", "--langs", "vi"]
    evaluate.main(
        [*args, "--data-root", str(data), "--num-fewshot", "0", "--device", "cpu", "--output", str(report)]
    )
    table = capsys.readouterr().out
    assert "Δ acc_norm (rlhf − sft)" in table and "m_mmlu" in table
    scores = json.loads(report.read_text())["scores"]
    for task in ("okapi_arc_vi", "okapi_hellaswag_vi", "okapi_mmlu_vi"):
        sft, rlhf = scores["sft"][task], scores["rlhf"][task]
        assert sft["n"] == 6 and 0.0 <= sft["acc"] <= 1.0 and sft == rlhf  # the same model twice
    assert scores["sft"]["okapi_mmlu_vi"]["acc_norm"] is None

    # lm-eval's own okapi tasks read the same folders with only dataset_path changed
    import lm_eval
    from lm_eval.tasks import TaskManager

    stock = tmp_path / "stock"
    tasks = stock_okapi_tasks(stock, data)
    output = lm_eval.simple_evaluate(
        model="hf",
        model_args={"pretrained": str(tiny_model)},
        tasks=tasks,
        device="cpu",
        batch_size=8,
        task_manager=TaskManager(include_path=str(stock), include_defaults=False),
        log_samples=False,
    )
    assert output["results"]["arc_vi"]["acc,none"] == scores["sft"]["okapi_arc_vi"]["acc"]
    assert (
        output["results"]["hellaswag_vi"]["acc_norm,none"] == scores["sft"]["okapi_hellaswag_vi"]["acc_norm"]
    )


def test_evaluate_names_the_missing_split_before_loading_a_model(offline_server, tmp_path):
    server = offline_server()
    build_split(
        server, tmp_path, "m_arc", write_arc(tmp_path / "arc.jsonl", "q"), "test", "vi", tmp_path / "m_arc"
    )
    evaluate = load_evaluate_script()
    with pytest.raises(SystemExit, match=r"has splits \['test'\], not \['train'\].* or pass --num-fewshot 0"):
        evaluate.main(["--model", "nowhere", "--langs", "vi", "--data", f"m_arc={tmp_path / 'm_arc'}"])
