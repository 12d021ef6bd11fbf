"""Our public names against the installed JAX's, namespace by namespace (figures and
the table of intentionally absent names live in docs/gen_api_coverage.py). Run with
`pytest -s` to see what is missing."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "docs"))
import gen_api_coverage as cov  # noqa: E402

THRESHOLD = {"jax.numpy": 0.95, "jax.lax": 0.95, "jax.nn": 0.95, "jax.random": 1.0,  # issue 16
             "jax.scipy.special": 0.9, "jax.scipy.stats": 0.9, "jax.scipy.linalg": 0.9}  # 17
PAIRS = cov.namespaces()


@pytest.mark.parametrize("jax_name,our_name", PAIRS, ids=[j for j, _ in PAIRS])
def test_every_missing_name_is_listed_with_a_reason(jax_name, our_name):
    c = cov.coverage(jax_name, our_name)
    print(f"\n{jax_name}: {len(c['present'])}/{len(c['jax'])} names "
          f"({100 * c['fraction']:.1f}%); absent: {sorted(c['listed'] | c['unlisted'])}")
    assert not c["unlisted"], (f"{jax_name} names missing without a reason in "
                               f"docs/gen_api_coverage.py ABSENT: {sorted(c['unlisted'])}")
    assert not c["stale"], (f"{jax_name} names listed as absent but present (remove them "
                            f"from ABSENT): {sorted(c['stale'])}")


@pytest.mark.parametrize("jax_name", sorted(THRESHOLD))
def test_coverage_threshold(jax_name):
    """At least the THRESHOLD of JAX's names (intentionally absent names count as
    absent)."""
    c = cov.coverage(jax_name, dict(PAIRS)[jax_name])
    assert c["fraction"] >= THRESHOLD[jax_name], f"{jax_name}: {100 * c['fraction']:.1f}%"


def test_absent_table_names_real_jax_names():
    """Every row of the table names something some supported JAX has (0.10 or 0.12
    names may be missing from the other version, so only the installed one is checked
    for the names it has)."""
    import importlib
    for jax_name, table in cov.ABSENT.items():
        for name, reason in table.items():
            assert reason, name
        module = importlib.import_module(jax_name)
        assert any(hasattr(module, n) for n in table) or not table, jax_name


def test_markdown_renders_and_is_current():
    text = cov.render()
    assert "| `jax.numpy` |" in text and "## Names intentionally absent" in text
    assert "UNLISTED" not in text
