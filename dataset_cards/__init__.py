"""Jinja templates for dataset cards (YAML metadata is written by okapi.card)."""
