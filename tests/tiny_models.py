"""A tiny tokenizer and tiny random-weight models, built offline for the training-script tests.

The tokenizer is a byte-level BPE trained with `tokenizers` on the few lines below (so every
language still round-trips through byte fallback), with a ChatML chat template. The models are
Qwen2-shaped with random weights: small enough that a training step takes milliseconds on CPU.
"""

from __future__ import annotations

from pathlib import Path

# A few lines per language, written for these tests: instruction-like sentences, the words of
# the Alpaca prompt template, and the chat markup, so the BPE learns merges the tests will use.
TINY_CORPUS = """\
Below is an instruction that describes a task. Write a response that appropriately completes the request.
Below is an instruction that describes a task, paired with an input that provides further context.
### Instruction:
### Input:
### Response:
Give three tips for staying healthy.
Eat a balanced diet, exercise regularly and sleep well every night.
Translate the following sentence into French.
Write a short poem about the sea and the wind.
What is the capital of France? The capital of France is Paris.
Summarize the text in one sentence.
Hãy đưa ra ba lời khuyên để giữ gìn sức khỏe.
Ăn uống cân bằng, tập thể dục thường xuyên và ngủ đủ giấc mỗi đêm.
Thủ đô của Việt Nam là Hà Nội.
Viết một bài thơ ngắn về biển và gió.
Hãy tóm tắt đoạn văn sau trong một câu.
Donne trois conseils pour rester en bonne santé.
Mange de façon équilibrée, fais du sport et dors bien chaque nuit.
Quelle est la capitale de la France ? La capitale de la France est Paris.
Écris un court poème sur la mer et le vent.
Résume le texte suivant en une phrase.
स्वस्थ रहने के लिए तीन सुझाव दीजिए।
संतुलित आहार लें, नियमित व्यायाम करें और हर रात अच्छी नींद लें।
भारत की राजधानी नई दिल्ली है।
समुद्र और हवा के बारे में एक छोटी कविता लिखिए।
Gib drei Tipps, um gesund zu bleiben.
Iss ausgewogen, treib regelmäßig Sport und schlaf jede Nacht gut.
Die Hauptstadt von Deutschland ist Berlin.
Da tres consejos para mantenerse saludable.
Come de forma equilibrada, haz ejercicio y duerme bien cada noche.
La capital de España es Madrid.
Дай три совета, как оставаться здоровым.
Питайтесь сбалансированно, занимайтесь спортом и хорошо спите.
Столица России — Москва.
给出三个保持健康的建议。
均衡饮食，经常锻炼，每晚睡个好觉。
中国的首都是北京。
Toa vidokezo vitatu vya kuwa na afya njema.
1. 2. 3. 10 20 100 2023 3.14 50%
"""

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|pad|>"]
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def corpus_lines() -> list[str]:
    return [line for line in TINY_CORPUS.splitlines() if line.strip()]


def build_tokenizer(vocab_size: int = 1024):
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE(unk_token=None, byte_fallback=False))
    bpe.normalizer = normalizers.NFC()
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(corpus_lines() * 3, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|pad|>", bos_token=None, unk_token=None
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    tokenizer.model_max_length = 512
    return tokenizer


def build_tiny_causal_lm(out_dir: Path, num_layers: int = 4, hidden_size: int = 64) -> Path:
    """Save a random-weight Qwen2 causal LM with its tokenizer to out_dir (the 'base model')."""
    import torch
    from transformers import AutoModelForCausalLM, Qwen2Config

    torch.manual_seed(0)
    tokenizer = build_tokenizer()
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
    )
    model = AutoModelForCausalLM.from_config(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def write_dataset_folder(out_dir: Path, rows_by_language: dict[str, list[dict]], pretty_name: str) -> Path:
    """A dataset folder in okapi's Hub layout: `<lang>/train-00000-of-00001.parquet` + README configs."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import yaml

    configs = []
    for lang, rows in sorted(rows_by_language.items()):
        (out_dir / lang).mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows), out_dir / lang / "train-00000-of-00001.parquet")
        configs.append(
            {"config_name": lang, "data_files": [{"split": "train", "path": f"{lang}/train-*.parquet"}]}
        )
    metadata = {"pretty_name": pretty_name, "language": sorted(rows_by_language), "configs": configs}
    card = f"---\n{yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True)}---\n\n# {pretty_name}\n"
    (out_dir / "README.md").write_text(card, encoding="utf-8")
    return out_dir


def preference_rows(lang: str, prompts: int) -> list[dict]:
    """Rows shaped like okapi's `rankings` (several pairs per prompt): the better answer is a
    real sentence, the worse ones are stubs, so a reward model can learn the difference."""
    lines = corpus_lines()
    rows = []
    for i in range(prompts):
        instruction = lines[(5 + i) % len(lines)]
        given = lines[(9 + i) % len(lines)] if i % 3 == 0 else ""
        responses = [lines[(11 + 3 * i) % len(lines)], "...", "?"]
        for worse in (1, 2):
            rows.append(
                {
                    "id": f"{lang}-{i:03d}-1v{worse + 1}",
                    "prompt_id": f"{lang}-{i:03d}",
                    "instruction": instruction,
                    "input": given,
                    "prompt": f"{instruction}\n\n{given}" if given else instruction,
                    "chosen": responses[0],
                    "rejected": responses[worse],
                }
            )
    return rows


def prompt_rows(lang: str, n: int) -> list[dict]:
    """Rows shaped like okapi's `rl-prompts`."""
    lines = corpus_lines()
    rows = []
    for i in range(n):
        instruction, given = lines[(7 + 2 * i) % len(lines)], ""
        rows.append(
            {"id": f"{lang}-{i:03d}", "instruction": instruction, "input": given, "prompt": instruction}
        )
    return rows
