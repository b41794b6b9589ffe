"""One current version of each check everywhere: builders run the newest version of every check
family unless `builders.OLDER_CHECKS` states why."""

import pytest

from okapi.builders import BUILDERS, FACTORIES, OLDER_CHECKS
from okapi.quality import CHECK_CLASSES
from okapi.quality.versions import current_names, family, outdated

KNOWN = [cls.name for cls in CHECK_CLASSES]


def _all_checks(builder) -> list:
    return list(builder.checks) + [c for group in builder.checks_by_tier.values() for c in group]


def test_versions_are_read_from_check_names():
    assert family("numbers_v3") == ("numbers", 3)
    assert current_names(["numbers_v1", "numbers_v3", "script_v1"]) == {
        "numbers": "numbers_v3",
        "script": "script_v1",
    }
    assert outdated(["numbers_v1", "script_v1"], ["numbers_v1", "numbers_v3", "script_v1"]) == {
        "numbers_v1": "numbers_v3"
    }
    with pytest.raises(ValueError, match="no version"):
        family("numbers")


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_builders_run_the_current_version_of_every_check(name):
    builders = [BUILDERS[name]] + ([FACTORIES[name]()] if name in FACTORIES else [])
    reasons = OLDER_CHECKS.get(name, {})
    for builder in builders:
        stale = outdated([c.name for c in _all_checks(builder)], KNOWN)
        unexplained = {old: new for old, new in stale.items() if not reasons.get(old, "").strip()}
        assert not unexplained, (
            f"{name} runs older checks {unexplained} (old → current) without a reason in OLDER_CHECKS"
        )


def test_every_exported_check_is_registered():
    import okapi.quality as quality

    exported = {getattr(quality, n) for n in quality.__all__ if hasattr(getattr(quality, n), "columns")}
    assert exported - {quality.Check} <= set(CHECK_CLASSES)


def test_the_benchmark_builders_run_the_same_checks_as_the_instructions():
    instructions = {c.name for c in BUILDERS["instructions"].checks}
    for name in ("m_arc", "m_hellaswag", "m_mmlu"):
        extra = {c.name for c in BUILDERS[name].checks} - instructions
        assert all(n.startswith("item_") for n in extra), (
            name,
            extra,
        )  # item checks exist only for benchmarks
