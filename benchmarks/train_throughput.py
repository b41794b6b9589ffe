"""Benchmark: training throughput of trl's defaults vs our scripts vs a plain PyTorch step; PPO steps/s.

All rows train the same random-weight Qwen2-style model on the same data in one run:

  sft  trl defaults        SFTConfig() as trl ships it (batch 8, random order, gradient checkpointing)
  sft  trl defaults, b32   the same with batch 32 (what most users try first)
  sft  scripts/sft.py      our defaults, taken from the script's own parser (group_by_length, ...)
  sft  packing (bfd)       trl's padding-free packing, the alternative we measured and did not pick
  plain PyTorch step       full batches of random tokens, no padding: the hardware's practical ceiling
  reward trl defaults      RewardConfig() as trl ships it, every layer trained
  reward scripts/reward.py our defaults, incl. the paper's frozen lower layers
  ppo  scripts/ppo.py      the vendored PPOTrainer with ppo.py's defaults: updates/s

Real tokens are the non-padding tokens the model was fed; MFU counts the model FLOPs those tokens
need (6·N per token for a fully trained model, less when lower layers are frozen, plus attention
over each row's own length) against the device peak: the nominal dense bf16 peak on a known GPU,
else a measured fp32 matmul peak. Data lengths follow the 5,000 real Alpaca records in
../shared/data/alpaca (words × 3 tokens: prompt ~40, response ~135, long tail) when present,
else a log-normal with the same means.

    python benchmarks/train_throughput.py                 # preset by hardware: `gpu` on CUDA, else `cpu`
    python benchmarks/train_throughput.py --preset gpu    # 0.39B model (hidden 896, 24 layers, vocab 32K)
    python benchmarks/train_throughput.py --only sft,plain --rows 256 --json out.json
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
ALPACA = REPO.parent / "shared" / "data" / "alpaca" / "alpaca_5000.json"
TOKENS_PER_WORD = 3  # translated text under a 32K vocabulary: ~40-token prompts, ~150-token responses
NOMINAL_BF16_PEAK = {"H100": 989.4e12, "H200": 989.4e12, "A100": 312e12, "L40S": 362e12}

PRESETS: dict[str, dict[str, Any]] = {
    "cpu": {"vocab": 4096, "hidden": 128, "layers": 4, "heads": 4, "kv_heads": 2, "intermediate": 352, "rows": 640,
            "plain_batch": 4, "plain_seq": 1024, "plain_steps": 8, "ppo_episodes": 32},
    "gpu": {"vocab": 32000, "hidden": 896, "layers": 24, "heads": 14, "kv_heads": 2, "intermediate": 4864,
            "rows": 4096, "plain_batch": 16, "plain_seq": 1024, "plain_steps": 20, "ppo_episodes": 256},
}  # fmt: skip
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|pad|>", "[UNK]"]
CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + ' ' + message['content'] + '<|im_end|>' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant ' }}{% endif %}"
)


# -- assets ---------------------------------------------------------------------------------------


def build_tokenizer(vocab: int):
    """One word = one token (`w17` → id), so text lengths are token lengths."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = SPECIALS + ["user", "assistant"] + [f"w{i}" for i in range(vocab - len(SPECIALS) - 2)]
    word_level = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    word_level.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=word_level, eos_token="<|im_end|>", pad_token="<|pad|>", unk_token="[UNK]"
    )
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|endoftext|>"]})
    tokenizer.chat_template = CHATML
    return tokenizer


def load_tokenizer(folder: Path):
    """The word-level tokenizer saved with the model (AutoTokenizer would rebuild it as Qwen2's BPE)."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast.from_pretrained(folder)


def build_model_dir(folder: Path, preset: dict[str, Any]) -> Path:
    from transformers import AutoModelForCausalLM, Qwen2Config

    torch.manual_seed(0)
    tokenizer = build_tokenizer(preset["vocab"])
    config = Qwen2Config(
        vocab_size=preset["vocab"], hidden_size=preset["hidden"], num_hidden_layers=preset["layers"],
        num_attention_heads=preset["heads"], num_key_value_heads=preset["kv_heads"],
        intermediate_size=preset["intermediate"], max_position_embeddings=2048, tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id, bos_token_id=None,
    )  # fmt: skip
    model = AutoModelForCausalLM.from_config(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def alpaca_lengths(n: int, seed: int = 0) -> tuple[list[tuple[int, int, int]], str]:
    """(prompt, response, second response) token lengths drawn from real Alpaca records."""
    rng = random.Random(seed)
    if ALPACA.exists():
        records = json.loads(ALPACA.read_text())
        prompts = [len(f"{r['instruction']} {r['input']}".split()) * TOKENS_PER_WORD for r in records]
        outputs = [max(1, len(r["output"].split())) * TOKENS_PER_WORD for r in records]
        source = f"{ALPACA.name} word counts × {TOKENS_PER_WORD}"
    else:
        prompts = [int(rng.lognormvariate(math.log(32), 0.6)) + 1 for _ in range(5000)]
        outputs = [int(rng.lognormvariate(math.log(100), 0.9)) + 1 for _ in range(5000)]
        source = "log-normal (../shared/data/alpaca absent)"
    picks = [rng.randrange(len(prompts)) for _ in range(n)]
    return [(prompts[i], outputs[i], rng.choice(outputs)) for i in picks], source


def words(rng: random.Random, count: int, vocab: int) -> str:
    return " ".join(f"w{rng.randrange(vocab - len(SPECIALS) - 2)}" for _ in range(count))


def sft_rows(lengths, vocab: int):
    """Conversational prompt/completion rows: what scripts/sft.py hands to SFTTrainer."""
    from datasets import Dataset

    rng = random.Random(1)
    return Dataset.from_list(
        [
            {
                "prompt": [{"role": "user", "content": words(rng, p, vocab)}],
                "completion": [{"role": "assistant", "content": words(rng, c, vocab)}],
            }
            for p, c, _ in lengths
        ]
    )


def preference_rows(lengths, vocab: int):
    from datasets import Dataset

    rng = random.Random(2)
    return Dataset.from_list(
        [
            {
                "prompt": [{"role": "user", "content": words(rng, p, vocab)}],
                "chosen": [{"role": "assistant", "content": words(rng, c, vocab)}],
                "rejected": [{"role": "assistant", "content": words(rng, r, vocab)}],
            }
            for p, c, r in lengths
        ]
    )


# -- measuring ------------------------------------------------------------------------------------


def synchronize() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


class CountingCollator:
    """Wraps a trainer's collator to count real (attention-mask) and fed (padded) tokens."""

    def __init__(self, collate) -> None:
        self.collate, self.real, self.fed, self.row_lengths = collate, 0, 0, []

    def __call__(self, examples):
        batch = self.collate(examples)
        ids = batch["input_ids"]
        mask = batch.get("attention_mask")
        self.fed += ids.numel()
        if mask is not None:
            self.real += int(mask.sum())
            self.row_lengths += mask.sum(dim=1).tolist()
        else:  # padding-free: one flattened row, sequences delimited by position_ids restarting at 0
            self.real += ids.numel()
            starts = (batch["position_ids"][0] == 0).nonzero().flatten().tolist() + [ids.shape[1]]
            self.row_lengths += [b - a for a, b in zip(starts, starts[1:], strict=False)]
        return batch


def timed_train(trainer) -> dict[str, float]:
    """Train one epoch; time from the first step to the end (not the one-off set-up)."""
    from transformers import TrainerCallback

    marks: dict[str, float] = {}

    class Clock(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            if "start" not in marks:
                synchronize()
                marks["start"] = time.perf_counter()

        def on_train_end(self, args, state, control, **kwargs):
            synchronize()
            marks["end"] = time.perf_counter()

    counter = CountingCollator(trainer.data_collator)
    trainer.data_collator = counter
    trainer.add_callback(Clock())
    trainer.train()
    seconds = marks["end"] - marks["start"]
    return {
        "seconds": seconds,
        "steps": trainer.state.global_step,
        "real_tokens": counter.real,
        "fed_tokens": counter.fed,
        "tokens_per_s": counter.real / seconds,
        "padding": 1 - counter.real / max(1, counter.fed),
        "attention_len": sum(n * n for n in counter.row_lengths) / max(1, sum(counter.row_lengths)),
    }


def trainable_layer_count(model) -> int:
    from common import decoder_layers

    return sum(any(p.requires_grad for p in layer.parameters()) for layer in decoder_layers(model))


def flops_per_token(model, attention_len: float) -> float:
    """Model FLOPs per token of one training step: forward 2·N + attention; backward only where it
    reaches (the trainable top layers and the head), twice the forward cost there."""
    from common import decoder_layers

    config = model.config
    layers = decoder_layers(model)
    per_layer = sum(p.numel() for p in layers[0].parameters())
    embeddings = model.get_input_embeddings().weight
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    head_params = (
        head.weight.numel() if head is not None else sum(p.numel() for p in model.score.parameters())
    )
    matmul = per_layer * len(layers) + head_params
    attention = 4 * config.num_hidden_layers * config.hidden_size * attention_len
    forward = 2 * matmul + attention
    trained = trainable_layer_count(model)
    backward = 2 * (2 * (per_layer * trained + head_params) + attention * trained / len(layers))
    if embeddings.requires_grad:  # nothing frozen: the backward reaches the bottom
        backward = 2 * forward
    return forward + backward


def device_peak() -> tuple[float, str]:
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        for key, peak in NOMINAL_BF16_PEAK.items():
            if key in name:
                return peak, f"{name}, nominal dense bf16 peak"
    dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
    device = "cuda" if torch.cuda.is_available() else "cpu"
    n = 4096 if device == "cuda" else 1024
    a, b = torch.randn(n, n, dtype=dtype, device=device), torch.randn(n, n, dtype=dtype, device=device)
    for _ in range(3):
        a @ b
    synchronize()
    repeats, start = 20 if device == "cuda" else 8, time.perf_counter()
    for _ in range(repeats):
        a @ b
    synchronize()
    seconds = time.perf_counter() - start
    label = torch.cuda.get_device_name(0) if device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    return 2 * n**3 * repeats / seconds, f"{label}, measured {str(dtype).split('.')[-1]} matmul peak"


def padding_at_scale(rows: int, batch: int, grouped: bool) -> float:
    """Share of padding in the batches a sampler makes from `rows` rows: no training, just lengths.

    The timed runs use a few hundred rows, where `group_by_length` can only sort small groups;
    on a real language's 52K rows it sorts 50 batches at a time, so this shows what it reaches there.
    """
    from transformers.trainer_pt_utils import get_length_grouped_indices

    markup = 6  # <|im_start|> user … <|im_end|> <|im_start|> assistant … <|im_end|>
    lengths = [min(p + c + markup, 1024) for p, c, _ in alpaca_lengths(rows, seed=3)[0]]
    generator = torch.Generator().manual_seed(0)
    if grouped:
        order = get_length_grouped_indices(lengths, batch, generator=generator)
    else:
        order = torch.randperm(len(lengths), generator=generator).tolist()
    batches = [order[k : k + batch] for k in range(0, len(order), batch)]
    fed = sum(max(lengths[i] for i in chunk) * len(chunk) for chunk in batches)
    return 1 - sum(lengths) / fed


# -- the rows -------------------------------------------------------------------------------------


def hardware_overrides() -> dict[str, Any]:
    """What a trl config needs to run at all here: its bf16 default refuses a CPU-only machine."""
    return {} if torch.cuda.is_available() else {"use_cpu": True, "bf16": False}


def common_overrides(out: Path) -> dict[str, Any]:
    return {"output_dir": str(out), "report_to": "none", "save_strategy": "no", "num_train_epochs": 1,
            "disable_tqdm": True, "logging_steps": 10**6, "dataloader_pin_memory": torch.cuda.is_available()}  # fmt: skip


def our_config(module, out: Path, model_dir: Path, extra: list[str] | None = None):
    """The script's own defaults, through its own parser (as if run with no tuning flags)."""
    args = ["--dataset_name", "synthetic", "--model_name_or_path", str(model_dir), "--output_dir", str(out)]
    args += [
        "--eval_strategy",
        "no",
        "--report_to",
        "none",
        "--save_strategy",
        "no",
        "--num_train_epochs",
        "1",
        "--disable_tqdm",
        "true",
    ]
    args += ["--logging_steps", str(10**6), "--dataloader_pin_memory", str(torch.cuda.is_available()).lower()]
    return module.make_parser().parse_args_and_config(args=args + (extra or []))


def sft_row(name: str, model_dir: Path, rows, config) -> dict[str, Any]:
    from transformers import AutoModelForCausalLM
    from trl import SFTTrainer

    tokenizer = load_tokenizer(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    trainer = SFTTrainer(model=model, args=config, train_dataset=rows, processing_class=tokenizer)
    result = timed_train(trainer)
    return {"row": name, **result, "flops_per_token": flops_per_token(model, result["attention_len"])}


def reward_row(name: str, model_dir: Path, rows, config, trainable_layers: int | None) -> dict[str, Any]:
    import reward
    from common import train_only_top_layers
    from transformers import AutoModelForSequenceClassification
    from trl import RewardTrainer

    tokenizer = load_tokenizer(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=1, dtype=torch.float32)
    model.config.pad_token_id = tokenizer.pad_token_id
    if trainable_layers is not None:
        train_only_top_layers(model, trainable_layers)
    trainer = RewardTrainer(model=model, args=config, train_dataset=rows, processing_class=tokenizer)
    if trainable_layers is not None:  # what scripts/reward.py does after building its trainer
        trainer.train_dataset = reward.add_length_column(trainer.train_dataset)
        trainer.args.remove_unused_columns = False
    result = timed_train(trainer)
    return {"row": name, **result, "flops_per_token": flops_per_token(model, result["attention_len"])}


def plain_row(model_dir: Path, batch: int, seq: int, steps: int) -> dict[str, Any]:
    """forward + backward + AdamW on full batches of random tokens: no data pipeline, no padding."""
    from transformers import AutoModelForCausalLM

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=device == "cuda")
    autocast = torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda")
    ids = torch.randint(0, model.config.vocab_size, (batch, seq), device=device)

    def step() -> None:
        with autocast:
            loss = model(input_ids=ids, labels=ids, use_cache=False).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for _ in range(2):
        step()
    synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    synchronize()
    seconds = time.perf_counter() - start
    tokens = batch * seq * steps
    return {"row": f"plain PyTorch step ({batch}×{seq})", "seconds": seconds, "steps": steps, "real_tokens": tokens,
            "fed_tokens": tokens, "tokens_per_s": tokens / seconds, "padding": 0.0, "attention_len": seq,
            "flops_per_token": flops_per_token(model, seq)}  # fmt: skip


def ppo_row(model_dir: Path, reward_dir: Path, rows, episodes: int, out: Path) -> dict[str, Any]:
    import ppo
    from common import train_only_top_layers
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    script_args, config = ppo.make_parser().parse_args_and_config(
        args=["--dataset_name", "synthetic", "--sft_model_path", str(model_dir), "--reward_model_path", str(reward_dir),
              "--output_dir", str(out), "--total_episodes", str(episodes), "--report_to", "none",
              "--save_strategy", "no", "--disable_tqdm", "true"]
    )  # fmt: skip
    tokenizer = load_tokenizer(model_dir)
    tokenizer.padding_side = "left"
    prompts = rows.map(
        lambda row: {"input_ids": tokenizer.apply_chat_template(row["prompt"], add_generation_prompt=True, tokenize=True, return_dict=False)},
        remove_columns=rows.column_names,
    )  # fmt: skip
    policy = AutoModelForCausalLM.from_pretrained(model_dir)
    train_only_top_layers(policy, script_args.trainable_layers)
    value = AutoModelForSequenceClassification.from_pretrained(reward_dir, num_labels=1)
    train_only_top_layers(value, script_args.trainable_layers)
    trainer = ppo.PPOTrainer(
        args=config, processing_class=tokenizer, model=policy,
        ref_model=AutoModelForCausalLM.from_pretrained(model_dir).requires_grad_(False),
        reward_model=AutoModelForSequenceClassification.from_pretrained(reward_dir, num_labels=1).requires_grad_(False),
        value_model=value, train_dataset=prompts, eval_dataset=prompts.select(range(8)),
    )  # fmt: skip
    synchronize()
    start = time.perf_counter()
    trainer.train()
    synchronize()
    seconds = time.perf_counter() - start
    updates = trainer.state.global_step
    return {"row": "ppo scripts/ppo.py", "seconds": seconds, "steps": updates, "updates_per_s": updates / seconds,
            "episodes_per_s": trainer.state.episode / seconds, "batch": config.per_device_train_batch_size,
            "response_length": config.response_length, "ppo_epochs": config.num_ppo_epochs}  # fmt: skip


# -- main -----------------------------------------------------------------------------------------


@dataclass
class Settings:
    preset: str
    rows: int
    only: set[str]


def run(settings: Settings) -> dict[str, Any]:
    import reward
    import sft
    from datasets import disable_progress_bars
    from transformers import AutoModelForSequenceClassification
    from trl import RewardConfig, SFTConfig

    disable_progress_bars()
    warnings.filterwarnings("ignore")
    preset = PRESETS[settings.preset]
    tmp = Path(tempfile.mkdtemp(prefix="okapi-throughput-"))
    model_dir = build_model_dir(tmp / "model", preset)
    lengths, source = alpaca_lengths(settings.rows)
    peak, peak_label = device_peak()
    results: list[dict[str, Any]] = []

    def record(result: dict[str, Any]) -> None:
        """Keep a row and print it at once, so a long CPU run shows progress and keeps what it measured."""
        if "tokens_per_s" in result:
            result["mfu"] = result["tokens_per_s"] * result["flops_per_token"] / peak
        results.append(result)
        print("measured:", json.dumps(result), flush=True)

    hardware, same = hardware_overrides(), common_overrides(tmp / "out")

    if "sft" in settings.only:
        rows = sft_rows(lengths, preset["vocab"])
        record(sft_row("sft  trl defaults", model_dir, rows, SFTConfig(**same, **hardware)))
        record(
            sft_row(
                "sft  trl defaults, b32",
                model_dir,
                rows,
                SFTConfig(**same, **hardware, per_device_train_batch_size=32),
            )
        )
        _, ours, _ = our_config(sft, tmp / "out", model_dir)
        record(sft_row("sft  scripts/sft.py", model_dir, rows, ours))
        _, packed, _ = our_config(sft, tmp / "out", model_dir, ["--packing", "true", "--per_device_train_batch_size", "8",
                                                                 "--train_sampling_strategy", "random"])  # fmt: skip
        record(sft_row("sft  packing (bfd) 8×1024", model_dir, rows, packed))
    if "plain" in settings.only:
        record(plain_row(model_dir, preset["plain_batch"], preset["plain_seq"], preset["plain_steps"]))
    if "reward" in settings.only or "ppo" in settings.only:
        reward_dir = tmp / "reward"
        head = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=1)
        head.save_pretrained(reward_dir)
        build_tokenizer(preset["vocab"]).save_pretrained(reward_dir)
    if "reward" in settings.only:
        pairs = preference_rows(lengths, preset["vocab"])
        record(reward_row("reward trl defaults", model_dir, pairs, RewardConfig(**same, **hardware), None))
        script_args, ours, _ = our_config(reward, tmp / "out", model_dir)
        layers = min(script_args.trainable_layers, preset["layers"])
        record(reward_row(f"reward scripts/reward.py (top {layers} layers)", model_dir, pairs, ours, layers))
    if "ppo" in settings.only:
        rows = sft_rows(lengths, preset["vocab"])
        record(ppo_row(model_dir, reward_dir, rows, preset["ppo_episodes"], tmp / "ppo"))

    at_scale = {
        "trl defaults (random, 8)": padding_at_scale(52_000, 8, grouped=False),
        "random, 32": padding_at_scale(52_000, 32, grouped=False),
        "scripts/sft.py (group_by_length, 32)": padding_at_scale(52_000, 32, grouped=True),
    }
    return {"padding_at_52k_rows": at_scale, "preset": settings.preset, "model": preset, "data": source, "rows": settings.rows, "peak_flops": peak,
            "peak": peak_label, "torch_threads": torch.get_num_threads(), "results": results}  # fmt: skip


def print_report(report: dict[str, Any]) -> None:
    model = report["model"]
    print(f"model: Qwen2-style, hidden {model['hidden']}, {model['layers']} layers, vocab {model['vocab']} "
          f"(preset {report['preset']}); data: {report['rows']} rows, {report['data']}")  # fmt: skip
    print(f"peak: {report['peak_flops'] / 1e12:.3f} TFLOP/s ({report['peak']})\n")
    print(f"{'row':40} {'real tok/s':>11} {'MFU':>7} {'padding':>8} {'steps':>6} {'seconds':>8}")
    baseline = next((r for r in report["results"] if r["row"] == "sft  trl defaults"), None)
    plain = next((r for r in report["results"] if r["row"].startswith("plain")), None)
    for r in report["results"]:
        if "tokens_per_s" not in r:
            continue
        print(f"{r['row']:40} {r['tokens_per_s']:11,.0f} {100 * r['mfu']:6.2f}% {100 * r['padding']:7.1f}% "
              f"{r['steps']:6d} {r['seconds']:8.1f}")  # fmt: skip
    ours = next((r for r in report["results"] if r["row"] == "sft  scripts/sft.py"), None)
    if ours and baseline:
        print(
            f"\nscripts/sft.py vs trl defaults: {ours['tokens_per_s'] / baseline['tokens_per_s']:.2f}× (goal ≥ 10×)"
        )
    if ours and plain:
        print(
            f"scripts/sft.py vs plain step:   {ours['tokens_per_s'] / plain['tokens_per_s']:.2f}× (goal ≥ 0.6×)"
        )
    print("\npadding on a full language (52,000 rows; sampler only, no training):")
    for name, share in report["padding_at_52k_rows"].items():
        print(f"  {name:40} {100 * share:5.1f}%")
    for r in report["results"]:
        if "updates_per_s" in r:
            print(f"\nPPO: {r['updates_per_s']:.3f} updates/s, {r['episodes_per_s']:.2f} episodes/s "
                  f"(batch {r['batch']}, response {r['response_length']} tokens, {r['ppo_epochs']} PPO epochs, "
                  f"{r['steps']} updates in {r['seconds']:.1f} s)")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--preset", choices=sorted(PRESETS), help="model size (default: gpu on CUDA, else cpu)"
    )
    parser.add_argument("--rows", type=int, help="training rows per run (default: the preset's)")
    parser.add_argument(
        "--only", default="sft,plain,reward,ppo", help="comma-separated subset of sft,plain,reward,ppo"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    preset = args.preset or ("gpu" if torch.cuda.is_available() else "cpu")
    settings = Settings(preset, args.rows or PRESETS[preset]["rows"], set(args.only.split(",")))
    report = run(settings)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
