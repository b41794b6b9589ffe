"""okapi: multilingual instruction and preference datasets built with LLMs."""

__version__ = "0.1.0"
