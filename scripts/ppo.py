"""PPO on okapi's `rl-prompts` dataset with the reward model of step 2: step 3 of the Okapi recipe.

    python scripts/ppo.py --config scripts/recipes/qwen2.5-0.5b/ppo.yaml --languages vi
    python scripts/ppo.py --sft_model_path out/sft-vi --reward_model_path out/reward-vi \\
        --dataset_name <org>/okapi-rl-prompts --languages vi --output_dir out/ppo-vi

Real PPO (trl's PPOTrainer, vendored from trl 1.12.0 in scripts/trl_ppo/ because trl removed it
in 1.13): the policy and the reference start from the SFT model; the value model and the reward
model start from the reward model. Each update samples responses to a batch of prompts, scores
them with the reward model, subtracts a KL penalty to the frozen SFT reference, estimates
advantages with GAE from the value model and takes clipped PPO steps. As in the paper, only the
top `--trainable_layers` layers of the policy are trained (paper: 5). `--kl_target` turns on the
adaptive KL controller of Ziegler et al. (paper: target 6, initial coefficient 0.1).

Prompts are formatted like the SFT and reward steps (`--prompt_format chat|alpaca`). Logs
(`objective/kl`, `objective/scores`, `objective/rlhf_reward`, losses) go to the console and to
`<output_dir>/trainer_state.json`; the trained policy and tokenizer are saved to --output_dir.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

from common import (
    DataArguments,
    as_prompt,
    check_chat_template,
    load_languages,
    pick_precision,
    save_run_summary,
    train_only_top_layers,
)
from transformers import TrainerCallback
from trl import TrlParser

with warnings.catch_warnings():
    # trl marks everything under trl.experimental (whose helpers the vendored trainer uses) as experimental.
    warnings.simplefilter("ignore")
    from trl_ppo import PPOConfig, PPOTrainer


@dataclass
class PPOScriptArguments(DataArguments):
    eval_fraction: float = field(
        default=0.05, metadata={"help": "Fraction of prompts held out for sample generations (paper: 0.05)."}
    )
    trainable_layers: int = field(
        default=5,
        metadata={"help": "Train only the top N decoder layers of the policy (paper: 5); -1 trains all."},
    )
    value_trainable_layers: int | None = field(
        default=None, metadata={"help": "Same for the value model; defaults to --trainable_layers."}
    )
    max_prompt_length: int = field(
        default=256, metadata={"help": "Prompts longer than this many tokens are skipped."}
    )
    kl_target: float | None = field(
        default=None,
        metadata={
            "help": "Adaptive KL: steer the summed per-response KL toward this value (paper: 6); unset = fixed."
        },
    )
    kl_horizon: int = field(
        default=10000, metadata={"help": "Adaptive KL horizon, in episodes (paper: 10000)."}
    )
    dtype: str | None = field(
        default="float32",
        metadata={
            "help": "Load the models in this dtype.",
            "choices": ["auto", "bfloat16", "float16", "float32"],
        },
    )
    attn_implementation: str | None = field(default=None, metadata={"help": "e.g. sdpa, flash_attention_2."})


@dataclass
class OkapiPPOConfig(PPOConfig):
    """PPOConfig with the defaults of the Okapi recipe; every PPOConfig option is accepted."""

    sft_model_path: str = field(
        default="out/sft", metadata={"help": "The SFT model (policy and KL reference)."}
    )
    reward_model_path: str = field(
        default="out/reward", metadata={"help": "The reward model (also the value model)."}
    )
    stop_token: str | None = field(default="eos", metadata={"help": "End responses at the tokenizer's EOS."})
    num_sample_generations: int = field(
        default=0, metadata={"help": "How many times to print sample generations on the held-out prompts."}
    )
    activation_checkpointing: bool = field(
        default=False, metadata={"help": "Recompute activations to save memory."}
    )
    output_dir: str = field(
        default="out/ppo", metadata={"help": "Where the trained policy and tokenizer are saved."}
    )

    def __post_init__(self) -> None:
        pick_precision(self)
        super().__post_init__()


class AdaptiveKLCallback(TrainerCallback):
    """Ziegler et al.'s adaptive KL controller: after each PPO update, move `kl_coef` so that the
    KL to the reference drifts toward `target` (the trainer reads `args.kl_coef` every update)."""

    def __init__(self, target: float, horizon: int) -> None:
        self.target, self.horizon = target, horizon

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or "objective/kl" not in logs:
            return
        logs["objective/kl_coef"] = state.log_history[-1]["objective/kl_coef"] = args.kl_coef
        error = min(max(logs["objective/kl"] / self.target - 1, -0.2), 0.2)
        args.kl_coef *= 1 + error * args.batch_size / self.horizon  # batch_size: episodes per update


def tokenize_prompts(dataset, tokenizer, prompt_format: str, max_prompt_length: int):
    """`input_ids` per prompt (the trainer generates from them), prompts over the limit dropped."""

    def tokenize(row):
        prompt = as_prompt(row, prompt_format)
        if prompt_format == "chat":
            ids = tokenizer.apply_chat_template(
                prompt, add_generation_prompt=True, tokenize=True, return_dict=False
            )
        else:
            ids = tokenizer(prompt)["input_ids"]
        return {"input_ids": ids}

    tokenized = dataset.map(tokenize, remove_columns=dataset.column_names)
    return tokenized.filter(lambda row: len(row["input_ids"]) <= max_prompt_length)


def main(script_args: PPOScriptArguments, training_args: OkapiPPOConfig) -> None:
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(training_args.sft_model_path, padding_side="left")
    check_chat_template(tokenizer, script_args.prompt_format, training_args.sft_model_path)
    reward_tokenizer = AutoTokenizer.from_pretrained(training_args.reward_model_path)
    if reward_tokenizer.get_vocab() != tokenizer.get_vocab():
        raise SystemExit(
            "the reward model's tokenizer differs from the SFT model's: PPO passes token ids straight to the "
            "reward model, so train the reward model from the SFT model (scripts/reward.py)."
        )
    if tokenizer.pad_token_id is None or tokenizer.pad_token_id == tokenizer.eos_token_id:
        raise SystemExit(
            f"{training_args.sft_model_path}'s tokenizer has no pad token apart from EOS: PPO masks pad tokens, "
            "so every EOS would vanish. Train it with scripts/sft.py, which adds one."
        )
    load = {"dtype": script_args.dtype, "attn_implementation": script_args.attn_implementation}
    policy = AutoModelForCausalLM.from_pretrained(training_args.sft_model_path, **load)
    ref_policy = AutoModelForCausalLM.from_pretrained(training_args.sft_model_path, **load)
    reward_model = AutoModelForSequenceClassification.from_pretrained(
        training_args.reward_model_path, num_labels=1, **load
    )
    value_model = AutoModelForSequenceClassification.from_pretrained(
        training_args.reward_model_path, num_labels=1, **load
    )
    print("policy", train_only_top_layers(policy, script_args.trainable_layers))
    value_layers = script_args.value_trainable_layers
    print(
        "value model",
        train_only_top_layers(
            value_model, script_args.trainable_layers if value_layers is None else value_layers
        ),
    )
    for frozen in (ref_policy, reward_model):
        frozen.requires_grad_(False)

    train, evaluation = load_languages(script_args, ["prompt"])
    train = tokenize_prompts(train, tokenizer, script_args.prompt_format, script_args.max_prompt_length)
    if evaluation is not None:
        evaluation = tokenize_prompts(
            evaluation, tokenizer, script_args.prompt_format, script_args.max_prompt_length
        )
    else:  # the trainer wants prompts for its sample generations: reuse a few training ones
        evaluation = train.select(range(min(len(train), training_args.per_device_eval_batch_size)))

    callbacks = []
    if script_args.kl_target is not None:
        callbacks.append(AdaptiveKLCallback(script_args.kl_target, script_args.kl_horizon))
    trainer = PPOTrainer(
        args=training_args,
        processing_class=tokenizer,
        model=policy,
        ref_model=ref_policy,
        reward_model=reward_model,
        value_model=value_model,
        train_dataset=train,
        eval_dataset=evaluation,
        callbacks=callbacks,
    )
    started = time.perf_counter()
    trainer.train()
    train_seconds = time.perf_counter() - started

    trainer.save_model(training_args.output_dir)
    trainer.save_state()
    last = trainer.state.log_history[-1] if trainer.state.log_history else {}
    save_run_summary(
        training_args.output_dir,
        {
            "step": "ppo",
            "dataset": script_args.dataset_name,
            "languages": script_args.languages,
            "prompt_format": script_args.prompt_format,
            "sft_model_path": training_args.sft_model_path,
            "reward_model_path": training_args.reward_model_path,
            "trainable_layers": script_args.trainable_layers,
            "updates": trainer.state.global_step,
            "train_seconds": round(train_seconds, 3),
            "last_log": last,
        },
    )
    trainer.accelerator.print(f"saved the PPO policy to {training_args.output_dir}")
    if training_args.push_to_hub:
        trainer.push_to_hub(dataset_name=script_args.dataset_name)


def make_parser() -> TrlParser:
    import argparse

    return TrlParser(
        (PPOScriptArguments, OkapiPPOConfig),
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


if __name__ == "__main__":
    script_args, training_args = make_parser().parse_args_and_config()
    main(script_args, training_args)
