"""Self-Instruct generation prompt (Alpaca's procedure) and the parser of its numbered list.

The prompt text is okapi's own wording of Alpaca's "List of 20 tasks" requirements; pass
Alpaca's original `prompt.txt` with `--prompt-file` to reproduce the paper exactly.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from okapi.prompts import prompt_hash

DEFAULT_PROMPT = """\
You are asked to come up with a set of 20 diverse task instructions. These task instructions \
will be given to a GPT model and we will evaluate the GPT model for completing the instructions.

Here are the requirements:
1. Vary the verbs: try not to repeat the verb of an instruction.
2. Vary the language: combine questions with imperative instructions.
3. Vary the type of task: open-ended generation, classification, editing, rewriting, reasoning, etc.
4. A language model must be able to complete the instruction: no visual or audio output, no \
actions in the world such as setting reminders.
5. The instructions should be in English, 1 to 2 sentences long, imperative or questions.
6. Give an appropriate input when the instruction needs one: a specific, realistic example of \
at most 100 words, not a placeholder. When no input is needed, write "<noinput>".
7. The output should be an appropriate response to the instruction and the input, under 100 words.

List of 20 tasks:"""

BLACKLIST = (
    "image", "images", "graph", "graphs", "picture", "pictures", "file", "files", "map", "maps",
    "draw", "plot", "go to", "video", "audio", "music", "flowchart", "diagram",
)  # fmt: skip


@dataclass(frozen=True)
class Task:
    instruction: str
    input: str
    output: str


@dataclass(frozen=True)
class Dropped:
    reason: str  # reason code
    text: str


def encode_prompt(prompt: str, examples: list[Task]) -> str:
    """Alpaca's layout: numbered examples separated by ###, ending on the next number."""
    text = prompt + "\n"
    for n, task in enumerate(examples, start=1):
        instruction = re.sub(r"\s+", " ", task.instruction).strip().rstrip(":")
        text += f"###\n{n}. Instruction: {instruction}\n"
        text += f"{n}. Input:\n{task.input or '<noinput>'}\n"
        text += f"{n}. Output:\n{task.output}\n"
    return text + f"###\n{len(examples) + 1}. Instruction:"


def generation_prompt_hash(prompt: str) -> str:
    return prompt_hash(prompt)


def _has_word(word: str, text: str) -> bool:
    return re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE) is not None


def parse_tasks(
    reply: str, finish_reason: str, first_number: int, *, min_words: int = 4, max_words: int = 150
) -> list[Task | Dropped]:
    """Parse the continued list; every item comes back as a Task or as Dropped with a reason."""
    raw = re.split(r"###", f"{first_number}. Instruction:" + reply)
    out: list[Task | Dropped] = []
    for offset, item in enumerate(raw):
        if not item.strip():
            continue
        if offset == len(raw) - 1 and finish_reason == "length":
            out.append(Dropped("truncated", item.strip()[:200]))
            continue
        number = first_number + offset
        parts = re.split(rf"{number}\.\s+(Instruction|Input|Output):", item)
        if len(parts) != 7:
            out.append(Dropped("unparsable_item", item.strip()[:200]))
            continue
        instruction, given, output = parts[2].strip(), parts[4].strip(), parts[6].strip()
        given = "" if given.lower() == "<noinput>" else given
        words = len(instruction.split())
        if words < min_words:
            out.append(Dropped("too_short", instruction))
        elif words > max_words:
            out.append(Dropped("too_long", instruction[:200]))
        elif any(_has_word(word, instruction) for word in BLACKLIST):
            out.append(Dropped("blacklisted_word", instruction))
        elif instruction.startswith("Write a program"):
            out.append(Dropped("program_request", instruction))
        elif instruction[0] in string.punctuation or not instruction[0].isascii():
            out.append(Dropped("bad_first_character", instruction))
        elif not output:
            out.append(Dropped("empty_output", instruction))
        else:
            out.append(Task(instruction, given, output))
    return out
