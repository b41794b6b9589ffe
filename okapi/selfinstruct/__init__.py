"""Alpaca's Self-Instruct procedure: prompt, parse, filter, ROUGE-L dedup."""
