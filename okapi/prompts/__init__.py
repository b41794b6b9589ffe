"""Prompt building and output parsing: pure functions, no model calls."""

import hashlib


def prompt_hash(*parts: str) -> str:
    """Short stable hash of a prompt template, recorded in cards for reproducibility."""
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:12]
