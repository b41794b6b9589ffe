"""Phrases models use to refuse; used to read replies and, in quality/, to check translations."""

import re

REFUSAL = re.compile(
    r"\b(I'?m sorry|I am sorry|I apologi[sz]e|I can(?:no|')t (?:help|assist|comply|translate)|"
    r"I (?:am|'m) unable to|as an AI( language model)?)\b",
    re.IGNORECASE,
)
