"""Prompt for sampling responses in the target language (role `responder`)."""

from okapi.languages import Language
from okapi.prompts import prompt_hash

RESPONDER_SYSTEM = "You are a helpful assistant. Answer in {name} (language code {code})."
PROMPT_HASH = prompt_hash(RESPONDER_SYSTEM)


def responder_messages(lang: Language, prompt: str) -> tuple[tuple[str, str], ...]:
    return (("system", RESPONDER_SYSTEM.format(name=lang.name, code=lang.code)), ("user", prompt))


def prompt_text(fields: dict[str, str]) -> str:
    """An instruction with its input, as a user would send it."""
    given = fields.get("input", "")
    return f"{fields['instruction']}\n\n{given}" if given.strip() else fields["instruction"]
