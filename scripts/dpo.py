"""DPO on okapi's `rankings` dataset: the cheap alternative to steps 2 and 3 (reward model + PPO).

    python scripts/dpo.py --config scripts/recipes/qwen2.5-0.5b/dpo.yaml --languages vi
    python scripts/dpo.py --model_name_or_path out/sft-vi --dataset_name <org>/okapi-rankings \\
        --languages vi --output_dir out/dpo-vi

Direct Preference Optimization (Rafailov et al., 2023) trains the SFT model on the chosen/rejected
pairs directly, with a frozen copy of the SFT model as the reference: no reward model, no
sampling, about the cost of SFT on twice the data. Prompts are formatted like the SFT step
(`--prompt_format chat|alpaca`). Preference accuracy and margins are measured on the held-out
split (the dataset's `test` split, or `--eval_fraction` of train, split by prompt). Every
DPOConfig option is accepted (`--beta`, `--loss_type`, ...); a YAML `--config` sets any of them.
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
from trl import DPOConfig, ModelConfig, TrlParser


@dataclass
class DPOScriptArguments(DataArguments):
    eval_fraction: float = field(
        default=0.05,
        metadata={
            "help": "Fraction of prompts held out for preference accuracy when there is no test split."
        },
    )
    trainable_layers: int = field(
        default=-1, metadata={"help": "Train only the top N decoder layers; -1 (default) trains every layer."}
    )


@dataclass
class OkapiDPOConfig(DPOConfig):
    """DPOConfig with precision picked by the hardware; every other default is trl's."""

    activation_checkpointing: bool = field(
        default=False,
        metadata={"help": "Recompute activations to save memory (~30%% slower); on for 7B models."},
    )
    eval_strategy: str = field(
        default="epoch", metadata={"help": "When to measure held-out preference accuracy."}
    )
    output_dir: str = field(default="out/dpo", metadata={"help": "Where the model and tokenizer are saved."})

    def __post_init__(self) -> None:
        pick_precision(self)
        super().__post_init__()


def main(script_args: DPOScriptArguments, training_args: OkapiDPOConfig, model_args: ModelConfig) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOTrainer, get_peft_config

    def to_rows(dataset):
        fmt = script_args.prompt_format
        return dataset.map(
            lambda row: {
                "prompt": as_prompt(row, fmt),
                "chosen": as_completion(row["chosen"], fmt),
                "rejected": as_completion(row["rejected"], fmt),
            },
            remove_columns=dataset.column_names,
        )

    train, evaluation = load_languages(script_args, ["prompt", "chosen", "rejected"])
    train = to_rows(train)
    evaluation = to_rows(evaluation) if evaluation is not None else None
    if evaluation is None:  # nothing held out (no test split, eval_fraction 0): train without evaluating
        training_args.eval_strategy = "no"

    tokenizer = AutoTokenizer.from_pretrained(
        model_args.model_name_or_path,
        revision=model_args.model_revision,
        trust_remote_code=training_args.trust_remote_code,
    )
    check_chat_template(tokenizer, script_args.prompt_format, model_args.model_name_or_path)
    load = {
        "revision": model_args.model_revision,
        "dtype": model_args.dtype,
        "attn_implementation": model_args.attn_implementation,
        "trust_remote_code": training_args.trust_remote_code,
    }
    model = AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path, **load)
    ensure_pad_token(tokenizer, model)
    print(train_only_top_layers(model, script_args.trainable_layers))
    peft_config = get_peft_config(model_args)
    # With PEFT the reference is the base model with the adapter switched off; otherwise a frozen copy.
    ref_model = (
        None if peft_config else AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path, **load)
    )

    trainer = DPOTrainer(
        model=model,
        ref_model=ref_model,
        args=training_args,
        train_dataset=train,
        eval_dataset=evaluation,
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    held_out = trainer.evaluate() if evaluation is not None else {}

    save_push_and_end(
        trainer,
        training_args,
        "DPO model",
        {
            "step": "dpo",
            "dataset": script_args.dataset_name,
            "languages": script_args.languages,
            "prompt_format": script_args.prompt_format,
            "train_pairs": len(train),
            "eval_pairs": len(evaluation) if evaluation is not None else 0,
            "eval_metrics": held_out,
        },
        script_args.dataset_name,
    )


def make_parser() -> TrlParser:
    import argparse

    return TrlParser(
        (DPOScriptArguments, OkapiDPOConfig, ModelConfig),
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


if __name__ == "__main__":
    script_args, training_args, model_args = make_parser().parse_args_and_config()
    main(script_args, training_args, model_args)
