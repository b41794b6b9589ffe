"""One declarative file per published dataset."""

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


class UnknownBuilderError(ValueError):
    pass


def get_builder(name: str) -> Builder:
    try:
        return BUILDERS[name]
    except KeyError:
        raise UnknownBuilderError(f"unknown dataset {name!r}; valid: {', '.join(sorted(BUILDERS))}") from None
