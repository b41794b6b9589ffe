"""Pieces the training scripts share: loading languages, the Alpaca template, freezing layers.

The scripts import this module by name (`python scripts/sft.py` puts `scripts/` on the path);
it depends on datasets, transformers and torch only, never on okapi.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

# The prompt template of the paper's training scripts (Alpaca / Alpaca-LoRA).
ALPACA_WITH_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further context. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n"
)
ALPACA_NO_INPUT = (
    "Below is an instruction that describes a task. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Response:\n"
)
PROMPT_FORMATS = ("chat", "alpaca")


@dataclass
class DataArguments:
    """Which published dataset to train on, in which languages, and how prompts are written."""

    dataset_name: str = field(
        metadata={"help": "Dataset folder or Hub repo in okapi's layout (one config per language)."}
    )
    languages: list[str] = field(
        default_factory=lambda: ["vi"],
        metadata={
            "help": "Language configs to train on, e.g. `--languages vi fr` or `vi,fr`; they are concatenated."
        },
    )
    dataset_train_split: str = field(default="train", metadata={"help": "Split to train on."})
    dataset_test_split: str = field(
        default="test",
        metadata={
            "help": "Held-out split; when a language has none, `eval_fraction` of its train split is held out."
        },
    )
    eval_fraction: float = field(
        default=0.0,
        metadata={"help": "Fraction of the train split held out for evaluation when there is no test split."},
    )
    prompt_format: str = field(
        default="chat",
        metadata={
            "help": "`chat`: the model's chat template (the `messages` column); `alpaca`: the paper's Alpaca prompt "
            "template built from instruction/input (base models without a chat template need this).",
            "choices": list(PROMPT_FORMATS),
        },
    )
    max_train_samples: int | None = field(
        default=None,
        metadata={"help": "Use at most this many training rows (after concatenation); for smoke runs."},
    )
    seed_for_split: int = field(
        default=42, metadata={"help": "Seed of the held-out split, so reruns hold out the same rows."}
    )

    def __post_init__(self) -> None:
        # Accept both `--languages vi fr` and `--languages vi,fr` (and a YAML list).
        self.languages = [code.strip() for item in self.languages for code in item.split(",") if code.strip()]
        if not self.languages:
            raise ValueError("--languages needs at least one language code, e.g. `--languages vi`")
        if self.prompt_format not in PROMPT_FORMATS:
            raise ValueError(f"--prompt_format must be one of {PROMPT_FORMATS}, not {self.prompt_format!r}")


def held_out(key: str, fraction: float, seed: int) -> bool:
    """Whether a row goes to the held-out split: a hash of its group key, so reruns agree."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def load_languages(
    args: DataArguments, columns: list[str], optional: tuple[str, ...] = ("instruction", "input")
) -> tuple[Any, Any]:
    """(train, eval or None): each language's splits, reduced to `columns` and concatenated.

    Each language is a config of the dataset (`load_dataset(name, lang)`). `optional` columns are
    kept where a language has them (the Alpaca template wants instruction and input apart). A
    language with no held-out split gives about `eval_fraction` of its train rows, chosen by a
    hash of `prompt_id` (or `prompt`, or `id`): the preference pairs of one prompt then all land
    on the same side, so held-out accuracy is not measured on prompts seen in training.
    """
    from datasets import concatenate_datasets, get_dataset_config_names, load_dataset

    trains, evals = [], []
    for lang in args.languages:
        try:
            splits = load_dataset(args.dataset_name, lang)
        except ValueError as error:
            available = get_dataset_config_names(args.dataset_name)
            if lang in available:
                raise
            raise SystemExit(
                f"{args.dataset_name} has no language config {lang!r}; available: {', '.join(available)}"
            ) from error
        if args.dataset_train_split not in splits:
            raise SystemExit(
                f"{args.dataset_name} [{lang}] has splits {list(splits)}, not {args.dataset_train_split!r}"
            )
        train = splits[args.dataset_train_split]
        missing = [name for name in columns if name not in train.column_names]
        if missing:
            raise SystemExit(
                f"{args.dataset_name} [{lang}] lacks column(s) {missing}; it has {train.column_names}. "
                "Is this the right dataset for this script?"
            )
        wanted = columns + [name for name in optional if name in train.column_names and name not in columns]
        group = next((name for name in ("prompt_id", "prompt", "id") if name in train.column_names), None)
        if args.dataset_test_split in splits:
            evals.append(splits[args.dataset_test_split].select_columns(wanted))
        elif args.eval_fraction > 0:
            keys = train[group] if group else [str(i) for i in range(len(train))]
            flags = [held_out(str(key), args.eval_fraction, args.seed_for_split) for key in keys]
            evals.append(train.select([i for i, flag in enumerate(flags) if flag]).select_columns(wanted))
            train = train.select([i for i, flag in enumerate(flags) if not flag])
        trains.append(train.select_columns(wanted))
    train = concatenate_datasets(trains).shuffle(seed=args.seed_for_split)
    if args.max_train_samples is not None:
        train = train.select(range(min(args.max_train_samples, len(train))))
    evaluation = concatenate_datasets(evals) if evals and sum(len(e) for e in evals) else None
    return train, evaluation


def alpaca_prompt(instruction: str, given_input: str | None = None) -> str:
    if given_input and given_input.strip():
        return ALPACA_WITH_INPUT.format(instruction=instruction, input=given_input)
    return ALPACA_NO_INPUT.format(instruction=instruction)


def as_prompt(row: dict[str, Any], prompt_format: str) -> str | list[dict[str, str]]:
    """A row's prompt in the chosen format, so every step of a run shows prompts the same way.

    `chat` gives chat messages (trl applies the model's chat template); `alpaca` gives the
    paper's template, from the instruction and input columns when the row has them.
    """
    prompt = row["prompt"]
    if prompt_format == "chat":
        return [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)
    if row.get("instruction"):
        return alpaca_prompt(row["instruction"], row.get("input"))
    if isinstance(prompt, str):
        return alpaca_prompt(prompt)
    return alpaca_prompt([message["content"] for message in prompt if message["role"] == "user"][-1])


def as_completion(text: str, prompt_format: str) -> str | list[dict[str, str]]:
    return [{"role": "assistant", "content": text}] if prompt_format == "chat" else text


def check_chat_template(tokenizer: Any, prompt_format: str, model_name: str) -> None:
    if prompt_format == "chat" and not getattr(tokenizer, "chat_template", None):
        raise SystemExit(
            f"{model_name} has no chat template: pass `--prompt_format alpaca` (the paper's template) "
            "or `--chat_template_path <tokenizer or .jinja>`."
        )


def ensure_pad_token(tokenizer: Any, model: Any | None = None) -> None:
    """Give the tokenizer a pad token distinct from EOS (PPO masks pads, so pad == eos would hide EOS)."""
    if tokenizer.pad_token is not None and tokenizer.pad_token_id != tokenizer.eos_token_id:
        return
    if tokenizer.unk_token is not None and tokenizer.unk_token_id != tokenizer.eos_token_id:
        tokenizer.pad_token = tokenizer.unk_token  # what the paper did for LLaMA
    else:
        tokenizer.add_special_tokens({"pad_token": "<|pad|>"})
        if model is not None and len(tokenizer) > model.get_input_embeddings().num_embeddings:
            model.resize_token_embeddings(len(tokenizer))
    if model is not None:
        model.config.pad_token_id = tokenizer.pad_token_id
        if getattr(model, "generation_config", None) is not None:
            model.generation_config.pad_token_id = tokenizer.pad_token_id


def decoder_layers(model: Any) -> Any:
    """The stack of transformer blocks (model.layers in Llama/Qwen, transformer.h in BLOOM/GPT-2)."""
    base = model.base_model
    for path in ("layers", "h", "blocks", "decoder.layers", "language_model.layers"):
        module = base
        for part in path.split("."):
            module = getattr(module, part, None)
        if module is not None:
            return module
    raise SystemExit(
        f"cannot find the decoder layers of {type(model).__name__}; pass `--trainable_layers -1` to train all"
    )


def train_only_top_layers(model: Any, trainable_layers: int) -> str:
    """Freeze the embeddings and every decoder layer but the top `trainable_layers`.

    What sits above the stack (final norm, LM or score head) stays trainable unless it is tied
    to the embeddings. Gradients then stop at the lowest trainable layer, which is what makes
    the paper's partial fine-tuning cheap. A negative count trains everything.
    """
    if trainable_layers >= 0:
        layers = decoder_layers(model)
        base = model.base_model
        # Children of the base model registered before the layer stack are its input side
        # (embeddings, embedding norm): frozen. Those after it (final norm) stay trainable.
        for child in base.children():
            if any(module is layers for module in child.modules()):
                break
            child.requires_grad_(False)
        for layer in layers[: max(0, len(layers) - trainable_layers)]:
            layer.requires_grad_(False)
        model.get_input_embeddings().requires_grad_(False)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return f"trainable parameters: {trainable:,} of {total:,} ({100 * trainable / max(1, total):.1f}%)"


def pick_precision(config: Any) -> None:
    """trl configs default to bf16, which stops a CPU-only run; decide by the hardware instead.

    Only fills a value the user left unset (`bf16: None`), so `--bf16 true` still means bf16.
    """
    import torch

    if config.bf16 is None and not config.fp16:
        config.bf16 = bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())


def save_run_summary(output_dir: str, summary: dict[str, Any]) -> None:
    """Write `run_summary.json` next to the model: what a pipeline needs to check the step worked."""
    import json
    from pathlib import Path

    path = Path(output_dir) / "run_summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")


def save_push_and_end(
    trainer: Any, training_args: Any, what: str, summary: dict[str, Any], dataset_name: str
) -> None:
    """The end of a training script: save model, state and `run_summary.json`, push if asked, then
    close the trackers (`Trainer.end`, transformers ≥ 5.18; after it nothing may talk to other ranks)."""
    import transformers
    from packaging.version import Version

    trainer.save_model(training_args.output_dir)
    trainer.save_state()
    save_run_summary(training_args.output_dir, summary)
    trainer.accelerator.print(f"saved the {what} to {training_args.output_dir}")
    if training_args.push_to_hub:
        trainer.push_to_hub(dataset_name=dataset_name)
    if Version(transformers.__version__) >= Version("5.18.0"):
        trainer.end()
