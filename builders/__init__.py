"""One declarative file per published dataset."""

from okapi.builder import Builder
from okapi.builders import instructions

BUILDERS: dict[str, Builder] = {b.name: b for b in (instructions.BUILDER,)}


class UnknownBuilderError(ValueError):
    pass


def get_builder(name: str) -> Builder:
    try:
        return BUILDERS[name]
    except KeyError:
        raise UnknownBuilderError(f"unknown dataset {name!r}; valid: {', '.join(sorted(BUILDERS))}") from None
