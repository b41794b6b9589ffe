"""Reward model on okapi's `rankings` dataset (prompt/chosen/rejected): step 2 of the Okapi recipe.

    python scripts/reward.py --config scripts/recipes/qwen2.5-0.5b/reward.yaml --languages vi
    python scripts/reward.py --model_name_or_path out/sft-vi --dataset_name <org>/okapi-rankings \\
        --languages vi --trainable_layers 12 --output_dir out/reward-vi

The model starts from the SFT model with a scalar head (AutoModelForSequenceClassification,
num_labels=1) and learns the pairwise loss -logsigmoid(r_chosen - r_rejected). As in the paper,
the embeddings and all but the top `--trainable_layers` layers are frozen (paper: 12), so the
backward pass stops there. Pairwise accuracy (r_chosen > r_rejected) is measured on a held-out
split: the dataset's `test` split, or `--eval_fraction` of train (default 0.1, as the paper).
The model and tokenizer are saved to --output_dir and load with
`AutoModelForSequenceClassification.from_pretrained(output_dir)`; `run_summary.json` records the
held-out accuracy. Prompts are formatted like the SFT step (`--prompt_format chat|alpaca`), so
the reward model scores exactly the text PPO will show it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from common import (
    DataArguments,
    as_completion,
    as_prompt,
    check_chat_template,
    ensure_pad_token,
    load_languages,
    pick_precision,
    save_push_and_end,
    train_only_top_layers,
)
from trl import ModelConfig, RewardConfig, TrlParser


@dataclass
class RewardScriptArguments(DataArguments):
    eval_fraction: float = field(
        default=0.1,
        metadata={"help": "Fraction of train held out for pairwise accuracy when there is no test split."},
    )
    trainable_layers: int = field(
        default=12,
        metadata={
            "help": "Train only the top N decoder layers and the head (paper: 12); -1 trains every layer."
        },
    )


@dataclass
class FastRewardConfig(RewardConfig):
    """RewardConfig whose defaults were measured to be fast; everything else is trl's."""

    per_device_train_batch_size: int = field(
        default=16, metadata={"help": "Preference pairs per device and step (each pair is two sequences)."}
    )
    train_sampling_strategy: str = field(
        default="group_by_length",
        metadata={
            "help": "`group_by_length` batches pairs of similar length, so padding costs little; `random` is trl's.",
            "choices": ["random", "sequential", "group_by_length", "batch_rebalance"],
        },
    )
    activation_checkpointing: bool = field(
        default=False,
        metadata={
            "help": "Recompute activations to save memory (~30%% slower); with frozen lower layers rarely needed."
        },
    )
    max_length: int | None = field(
        default=768, metadata={"help": "Longest prompt+response kept (paper: 768)."}
    )
    eval_strategy: str = field(
        default="epoch", metadata={"help": "When to measure held-out pairwise accuracy."}
    )
    output_dir: str = field(
        default="out/reward", metadata={"help": "Where the reward model and tokenizer are saved."}
    )

    def __post_init__(self) -> None:
        pick_precision(self)
        super().__post_init__()


def to_preference_rows(dataset, prompt_format: str):
    return dataset.map(
        lambda row: {
            "prompt": as_prompt(row, prompt_format),
            "chosen": as_completion(row["chosen"], prompt_format),
            "rejected": as_completion(row["rejected"], prompt_format),
        },
        remove_columns=dataset.column_names,
    )


def add_length_column(dataset):
    """A `length` column lets the length-grouped sampler skip re-reading every row."""
    if dataset is None or "length" in dataset.column_names:
        return dataset
    return dataset.map(lambda row: {"length": max(len(row["chosen_ids"]), len(row["rejected_ids"]))})


def main(
    script_args: RewardScriptArguments, training_args: FastRewardConfig, model_args: ModelConfig
) -> None:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from trl import RewardTrainer, get_peft_config

    train, evaluation = load_languages(script_args, ["prompt", "chosen", "rejected"])
    train = to_preference_rows(train, script_args.prompt_format)
    evaluation = to_preference_rows(evaluation, script_args.prompt_format) if evaluation is not None else None
    if evaluation is None:  # nothing held out (no test split, eval_fraction 0): train without evaluating
        training_args.eval_strategy = "no"

    tokenizer = AutoTokenizer.from_pretrained(
        model_args.model_name_or_path,
        revision=model_args.model_revision,
        trust_remote_code=training_args.trust_remote_code,
    )
    if training_args.chat_template_path is None:
        check_chat_template(tokenizer, script_args.prompt_format, model_args.model_name_or_path)
    model = AutoModelForSequenceClassification.from_pretrained(
        model_args.model_name_or_path,
        num_labels=1,
        revision=model_args.model_revision,
        dtype=model_args.dtype,
        attn_implementation=model_args.attn_implementation,
        trust_remote_code=training_args.trust_remote_code,
    )
    ensure_pad_token(tokenizer, model)
    model.config.pad_token_id = tokenizer.pad_token_id  # the head scores the last non-pad token
    print(train_only_top_layers(model, script_args.trainable_layers))

    trainer = RewardTrainer(
        model=model,
        args=training_args,
        train_dataset=train,
        eval_dataset=evaluation,
        processing_class=tokenizer,
        peft_config=get_peft_config(model_args),
    )
    # The sampler reads `length`; keep the extra columns out of the signature filter (the collator ignores them).
    trainer.train_dataset = add_length_column(trainer.train_dataset)
    trainer.eval_dataset = add_length_column(trainer.eval_dataset)
    trainer.args.remove_unused_columns = False
    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)

    held_out = trainer.evaluate() if evaluation is not None else {}
    if evaluation is not None:
        trainer.accelerator.print(
            f"held-out pairwise accuracy: {held_out['eval_accuracy']:.3f} on {len(evaluation)} pairs"
        )
    save_push_and_end(
        trainer,
        training_args,
        "reward model",
        {
            "step": "reward",
            "dataset": script_args.dataset_name,
            "languages": script_args.languages,
            "prompt_format": script_args.prompt_format,
            "trainable_layers": script_args.trainable_layers,
            "train_pairs": len(train),
            "eval_pairs": len(evaluation) if evaluation is not None else 0,
            "eval_accuracy": held_out.get("eval_accuracy"),
            "eval_metrics": held_out,
        },
        script_args.dataset_name,
    )


def make_parser() -> TrlParser:
    import argparse

    return TrlParser(
        (RewardScriptArguments, FastRewardConfig, ModelConfig),
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


if __name__ == "__main__":
    script_args, training_args, model_args = make_parser().parse_args_and_config()
    main(script_args, training_args, model_args)
