"""The training scripts, run as users run them (`python scripts/<step>.py ...`), offline on CPU.

A tiny random-weight Qwen2 model and a BPE tokenizer are built locally once per session; the
instructions folder is built by okapi (the demo build against its offline server); the rankings
and rl-prompts folders are written here in the same Hub layout. Each script takes two steps; the
chain is the paper's: SFT → reward model (from the SFT model) → PPO (SFT policy + reward model).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from tiny_models import build_tiny_causal_lm, preference_rows, prompt_rows, write_dataset_folder

LANGS = ("vi", "fr")
NUM_LAYERS = 4
# Small and quiet: no checkpoints, a log line per step, no pinned memory on a CPU-only machine.
COMMON = [
    "--logging_steps",
    "1",
    "--save_strategy",
    "no",
    "--report_to",
    "none",
    "--dataloader_pin_memory",
    "false",
]


def run_script(name: str, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / f"{name}.py"), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"{name}.py failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    return result


def log_history(output_dir: Path) -> list[dict]:
    return json.loads((output_dir / "trainer_state.json").read_text())["log_history"]


def load_weights(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(folder / "model.safetensors")


def layer_weights(weights: dict, layer: int) -> dict:
    marker = f"layers.{layer}."
    return {name.split(marker, 1)[1]: tensor for name, tensor in weights.items() if marker in name}


def same_layer(a: dict, b: dict, layer: int) -> bool:
    import torch

    left, right = layer_weights(a, layer), layer_weights(b, layer)
    assert left and left.keys() == right.keys()
    return all(torch.equal(left[name], right[name]) for name in left)


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("scripts")


@pytest.fixture(scope="session")
def base_model(workdir) -> Path:
    return build_tiny_causal_lm(workdir / "base", num_layers=NUM_LAYERS)


@pytest.fixture(scope="session")
def instructions_dir(workdir) -> Path:
    from okapi.cli import main

    out = workdir / "instructions"
    assert (
        main(["demo", "--out", str(out), "--langs", ",".join(LANGS), "--cache-dir", str(workdir / "cache")])
        == 0
    )
    return out


@pytest.fixture(scope="session")
def rankings_dir(workdir) -> Path:
    rows = {lang: preference_rows(lang, prompts=12) for lang in LANGS}
    return write_dataset_folder(workdir / "rankings", rows, "rankings")


@pytest.fixture(scope="session")
def rl_prompts_dir(workdir) -> Path:
    return write_dataset_folder(
        workdir / "rl-prompts", {lang: prompt_rows(lang, 12) for lang in LANGS}, "rl-prompts"
    )


@pytest.fixture(scope="session")
def sft_model(workdir, base_model, instructions_dir) -> Path:
    out = workdir / "sft"
    run_script(
        "sft",
        *("--model_name_or_path", str(base_model), "--dataset_name", str(instructions_dir)),
        *("--languages", "vi,fr", "--max_steps", "2", "--per_device_train_batch_size", "4"),
        *("--learning_rate", "1e-3", "--output_dir", str(out), *COMMON),
    )
    return out


@pytest.fixture(scope="session")
def reward_model(workdir, sft_model, rankings_dir) -> Path:
    out = workdir / "reward"
    run_script(
        "reward",
        *(
            "--model_name_or_path",
            str(sft_model),
            "--dataset_name",
            str(rankings_dir),
            "--languages",
            "vi",
            "fr",
        ),
        *("--trainable_layers", "2", "--eval_fraction", "0.25", "--max_steps", "2"),
        *("--per_device_train_batch_size", "4", "--learning_rate", "1e-3", "--output_dir", str(out), *COMMON),
    )
    return out


def test_sft_trains_on_both_languages_and_saves(sft_model, base_model):
    summary = json.loads((sft_model / "run_summary.json").read_text())
    assert summary["languages"] == ["vi", "fr"] and summary["train_rows"] == 36  # 18 demo rows per language
    steps = [entry for entry in log_history(sft_model) if "loss" in entry]
    assert len(steps) == 2 and all(math.isfinite(entry["loss"]) for entry in steps)
    trained, base = load_weights(sft_model), load_weights(base_model)
    assert not same_layer(trained, base, 0)  # SFT trains every layer

    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(sft_model)
    model = AutoModelForCausalLM.from_pretrained(sft_model)
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Thủ đô của Việt Nam là gì?"}],
        add_generation_prompt=True,
        return_tensors="pt",
    )
    ids = prompt["input_ids"] if hasattr(prompt, "keys") else prompt
    assert model.generate(ids, max_new_tokens=3, do_sample=False).shape[1] > ids.shape[1]


def test_reward_model_saves_loads_and_scores(reward_model, sft_model):
    summary = json.loads((reward_model / "run_summary.json").read_text())
    assert 0.0 <= summary["eval_accuracy"] <= 1.0 and summary["eval_pairs"] > 0
    assert summary["train_pairs"] + summary["eval_pairs"] == 2 * 12 * 2  # two pairs per prompt, two languages
    assert any("eval_accuracy" in entry for entry in log_history(reward_model))

    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(reward_model)
    model = AutoModelForSequenceClassification.from_pretrained(reward_model).eval()
    assert model.config.num_labels == 1 and model.config.pad_token_id == tokenizer.pad_token_id
    chats = [
        [{"role": "user", "content": "Give three tips."}, {"role": "assistant", "content": answer}]
        for answer in ("Eat well, exercise and sleep.", "...")
    ]
    texts = [tokenizer.apply_chat_template(chat, tokenize=False) for chat in chats]
    batch = tokenizer(texts, return_tensors="pt", padding=True)
    with torch.no_grad():
        scores = model(**batch).logits
    assert scores.shape == (2, 1) and torch.isfinite(scores).all()

    # Only the top 2 of 4 layers were trained: the lower ones are still the SFT model's.
    trained, sft = load_weights(reward_model), load_weights(sft_model)
    assert same_layer(trained, sft, 0) and same_layer(trained, sft, 1)
    assert not same_layer(trained, sft, NUM_LAYERS - 1)


def test_ppo_logs_kl_and_reward_and_trains_only_top_layers(workdir, sft_model, reward_model, rl_prompts_dir):
    out = workdir / "ppo"
    run_script(
        "ppo",
        *("--sft_model_path", str(sft_model), "--reward_model_path", str(reward_model)),
        *("--dataset_name", str(rl_prompts_dir), "--languages", "vi", "fr", "--trainable_layers", "1"),
        *("--per_device_train_batch_size", "4", "--total_episodes", "8", "--response_length", "8"),
        *(
            "--num_ppo_epochs",
            "2",
            "--learning_rate",
            "1e-3",
            "--kl_target",
            "6",
            "--output_dir",
            str(out),
            *COMMON,
        ),
    )
    updates = [entry for entry in log_history(out) if "objective/kl" in entry]
    assert len(updates) == 2
    for entry in updates:
        for key in (
            "objective/kl",
            "objective/scores",
            "objective/rlhf_reward",
            "objective/kl_coef",
            "loss/value_avg",
        ):
            assert math.isfinite(entry[key]), (key, entry)
    assert updates[1]["objective/kl"] != 0.0  # the policy moved away from the SFT reference

    trained, sft = load_weights(out), load_weights(sft_model)
    assert all(same_layer(trained, sft, layer) for layer in range(NUM_LAYERS - 1))
    assert not same_layer(trained, sft, NUM_LAYERS - 1)
    summary = json.loads((out / "run_summary.json").read_text())
    assert summary["updates"] == 2


def test_dpo_with_the_alpaca_template(workdir, sft_model, rankings_dir):
    out = workdir / "dpo"
    run_script(
        "dpo",
        *("--model_name_or_path", str(sft_model), "--dataset_name", str(rankings_dir), "--languages", "vi"),
        *("--prompt_format", "alpaca", "--eval_fraction", "0.25", "--max_steps", "2"),
        *("--per_device_train_batch_size", "4", "--output_dir", str(out), *COMMON),
    )
    steps = [entry for entry in log_history(out) if "loss" in entry]
    assert len(steps) == 2 and all(math.isfinite(entry["loss"]) for entry in steps)
    assert "eval_rewards/accuracies" in json.loads((out / "run_summary.json").read_text())["eval_metrics"]


# -- the shared helpers, in-process (no trl import) -------------------------------------------------


@pytest.fixture(scope="module")
def common():
    sys.path.insert(0, str(REPO / "scripts"))
    import common

    yield common
    sys.path.remove(str(REPO / "scripts"))


def test_alpaca_template_is_the_papers(common):
    with_input = common.as_prompt({"prompt": "x", "instruction": "Dịch câu sau", "input": "Hello"}, "alpaca")
    assert with_input.startswith("Below is an instruction that describes a task, paired with an input")
    assert with_input.endswith("### Instruction:\nDịch câu sau\n\n### Input:\nHello\n\n### Response:\n")
    assert common.as_prompt({"prompt": "Hi"}, "alpaca").endswith("### Instruction:\nHi\n\n### Response:\n")
    assert common.as_prompt({"prompt": "Hi"}, "chat") == [{"role": "user", "content": "Hi"}]


def test_held_out_rows_are_chosen_by_prompt(common, rankings_dir):
    args = common.DataArguments(dataset_name=str(rankings_dir), languages=["vi,fr"], eval_fraction=0.3)
    assert args.languages == ["vi", "fr"]
    columns = ["prompt", "chosen", "rejected"]
    train, held = common.load_languages(args, columns + ["prompt_id"])
    assert len(train) + len(held) == 48 and len(held) > 0
    assert not set(train["prompt_id"]) & set(held["prompt_id"])  # no prompt on both sides
    again_train, _ = common.load_languages(args, columns + ["prompt_id"])
    assert sorted(again_train["prompt_id"]) == sorted(train["prompt_id"])  # reruns hold out the same rows


def test_unknown_language_names_the_available_ones(common, rankings_dir):
    args = common.DataArguments(dataset_name=str(rankings_dir), languages=["xx"])
    with pytest.raises(SystemExit, match="available: fr, vi"):
        common.load_languages(args, ["prompt"])


@pytest.mark.parametrize(
    "recipe",
    sorted((REPO / "scripts" / "recipes").glob("*/*.yaml")),
    ids=lambda p: p.parent.name + "/" + p.stem,
)
def test_every_recipe_parses_with_its_script(common, recipe):
    """A misspelt key in a recipe fails here rather than after a 7B model has loaded."""
    import importlib

    parser = importlib.import_module(recipe.stem).make_parser()
    parsed = parser.parse_args_and_config(
        args=["--config", str(recipe), "--dataset_name", "x", "--output_dir", "x"]
    )
    assert parsed[0].dataset_name == "x"


def test_help_explains_the_script(common):
    import importlib

    for step in ("sft", "reward", "ppo", "dpo"):
        text = importlib.import_module(step).make_parser().format_help()
        assert "--languages" in text and "--prompt_format" in text and "okapi" in text, step


def test_training_scripts_do_not_import_okapi():
    """They read what okapi writes (or the Hub copy) and must run without okapi installed."""
    training = [REPO / "scripts" / f"{name}.py" for name in ("sft", "reward", "ppo", "dpo", "common")]
    for path in [*training, *(REPO / "scripts" / "trl_ppo").glob("*.py")]:
        text = path.read_text(encoding="utf-8")
        assert "import okapi" not in text and "from okapi" not in text, path
