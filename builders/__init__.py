"""One declarative file per published dataset."""

import inspect
from collections.abc import Callable
from typing import Any

from okapi.builder import Builder
from okapi.builders import instructions, m_arc, m_hellaswag, m_mmlu, rankings, rl_prompts

BUILDERS: dict[str, Builder] = {
    b.name: b
    for b in (
        instructions.BUILDER,
        rankings.BUILDER,
        rl_prompts.BUILDER,
        m_arc.BUILDER,
        m_hellaswag.BUILDER,
        m_mmlu.BUILDER,
    )
}


# A builder that keeps an older version of a check says why: builder name → {check name: reason}.
# tests/test_quality_versions.py fails on any other older version (okapi.quality.versions).
OLDER_CHECKS: dict[str, dict[str, str]] = {}


# Datasets whose shape a user may choose (`okapi build NAME --set option=value`): name → factory.
FACTORIES: dict[str, Callable[..., Builder]] = {"rankings": rankings.make}


class UnknownBuilderError(ValueError):
    pass


def get_builder(name: str, options: dict[str, str] | None = None) -> Builder:
    """The dataset's builder; `options` (text values, as typed on the command line) go to its factory."""
    try:
        builder = BUILDERS[name]
    except KeyError:
        raise UnknownBuilderError(f"unknown dataset {name!r}; valid: {', '.join(sorted(BUILDERS))}") from None
    if not options:
        return builder
    if name not in FACTORIES:
        raise UnknownBuilderError(
            f"dataset {name!r} takes no options (--set); datasets that do: {', '.join(FACTORIES)}"
        )
    parameters = inspect.signature(FACTORIES[name]).parameters
    unknown = sorted(set(options) - set(parameters))
    if unknown:
        valid = ", ".join(f"{p.name} (default {p.default!r})" for p in parameters.values())
        raise UnknownBuilderError(f"{name} has no option {', '.join(unknown)}; valid: {valid}")
    values = {key: _typed(key, text, type(parameters[key].default)) for key, text in options.items()}
    try:
        return FACTORIES[name](**values)
    except ValueError as exc:
        raise UnknownBuilderError(f"{name}: {exc}") from None


def _typed(key: str, text: str, kind: type) -> Any:
    if kind is bool:
        if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise UnknownBuilderError(f"option {key} takes true or false, not {text!r}")
        return text.lower() in ("true", "1", "yes")
    try:
        return kind(text)
    except ValueError:
        wanted = {int: "an integer", float: "a number"}.get(kind, kind.__name__)
        raise UnknownBuilderError(f"option {key} takes {wanted}, not {text!r}") from None
