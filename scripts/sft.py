"""Supervised fine-tuning on okapi's `instructions` dataset: step 1 of the Okapi recipe.

    python scripts/sft.py --config scripts/recipes/qwen2.5-0.5b/sft.yaml --languages vi
    python scripts/sft.py --model_name_or_path Qwen/Qwen2.5-0.5B --dataset_name <org>/okapi-instructions \\
        --languages vi fr --eos_token '<|im_end|>' --output_dir out/sft-vi

Each language is one config of the dataset (`load_dataset(name, lang)`); several are concatenated.
`--prompt_format chat` trains on the `messages` column with the model's chat template;
`--prompt_format alpaca` builds the paper's Alpaca prompt from instruction/input. Either way the
loss is on the response only (prompt tokens are masked).

Fast by default (benchmarks/train_throughput.py measures it): batches of similar-length rows
(`--train_sampling_strategy group_by_length`) so little compute goes to padding, a larger batch,
no gradient checkpointing (turn it on for 7B models: the paper recipes do), bf16 when the GPU has
it. Every SFTConfig / TrainingArguments option is accepted; a YAML `--config` sets any of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from common import (
    DataArguments,
    alpaca_prompt,
    check_chat_template,
    ensure_pad_token,
    load_languages,
    pick_precision,
    save_push_and_end,
)
from trl import ModelConfig, SFTConfig, TrlParser


@dataclass
class FastSFTConfig(SFTConfig):
    """SFTConfig whose defaults were measured to be fast; everything else is trl's."""

    per_device_train_batch_size: int = field(
        default=32,
        metadata={"help": "Rows per device and step (trl's default is 8: too few to keep a GPU busy)."},
    )
    train_sampling_strategy: str = field(
        default="group_by_length",
        metadata={
            "help": "`group_by_length` batches rows of similar length, so padding costs little; `random` is trl's.",
            "choices": ["random", "sequential", "group_by_length", "batch_rebalance"],
        },
    )
    activation_checkpointing: bool = field(
        default=False,
        metadata={
            "help": "Recompute activations to save memory (~30%% slower); on for 7B models in the recipes."
        },
    )
    output_dir: str = field(default="out/sft", metadata={"help": "Where the model and tokenizer are saved."})

    def __post_init__(self) -> None:
        pick_precision(self)
        super().__post_init__()


def to_sft_rows(dataset, prompt_format: str):
    """prompt/completion rows, so trl masks the prompt and trains on the response only."""
    if prompt_format == "chat":

        def split_turns(row):
            messages = row["messages"]
            if not messages or messages[-1]["role"] != "assistant":
                raise ValueError(f"a `messages` row must end with an assistant turn: {messages!r}")
            return {"prompt": messages[:-1], "completion": messages[-1:]}

        return dataset.map(split_turns, remove_columns=dataset.column_names)
    return dataset.map(
        lambda row: {"prompt": alpaca_prompt(row["instruction"], row["input"]), "completion": row["output"]},
        remove_columns=dataset.column_names,
    )


def main(data_args: DataArguments, training_args: FastSFTConfig, model_args: ModelConfig) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTTrainer, get_peft_config

    columns = ["messages"] if data_args.prompt_format == "chat" else ["instruction", "input", "output"]
    train, evaluation = load_languages(data_args, columns)
    train = to_sft_rows(train, data_args.prompt_format)
    evaluation = to_sft_rows(evaluation, data_args.prompt_format) if evaluation is not None else None

    tokenizer = AutoTokenizer.from_pretrained(
        model_args.model_name_or_path,
        revision=model_args.model_revision,
        trust_remote_code=training_args.trust_remote_code,
    )
    if training_args.chat_template_path is None:
        check_chat_template(tokenizer, data_args.prompt_format, model_args.model_name_or_path)
    model = AutoModelForCausalLM.from_pretrained(
        model_args.model_name_or_path,
        revision=model_args.model_revision,
        dtype=model_args.dtype,
        attn_implementation=model_args.attn_implementation,
        trust_remote_code=training_args.trust_remote_code,
    )
    if training_args.eos_token in tokenizer.get_vocab():  # pick the pad against the EOS the model will learn
        tokenizer.eos_token = training_args.eos_token
    # PPO later masks pad tokens; a pad equal to EOS would hide every EOS. Fix it once, here.
    ensure_pad_token(tokenizer, model)

    trainer = SFTTrainer(
        model=model,
        args=training_args,
        train_dataset=train,
        eval_dataset=evaluation,
        processing_class=tokenizer,
        peft_config=get_peft_config(model_args),
    )
    result = trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    metrics = dict(result.metrics)
    if evaluation is not None:
        metrics.update(trainer.evaluate())

    save_push_and_end(
        trainer,
        training_args,
        "SFT model",
        {
            "step": "sft",
            "dataset": data_args.dataset_name,
            "languages": data_args.languages,
            "prompt_format": data_args.prompt_format,
            "train_rows": len(train),
            "metrics": metrics,
        },
        data_args.dataset_name,
    )


def make_parser() -> TrlParser:
    import argparse

    return TrlParser(
        (DataArguments, FastSFTConfig, ModelConfig),
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


if __name__ == "__main__":
    data_args, training_args, model_args = make_parser().parse_args_and_config()
    main(data_args, training_args, model_args)
