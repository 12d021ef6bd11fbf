"""Our public names against JAX's for jax.random, jax.scipy.special and jax.scipy.stats
(and each distribution module of jax.scipy.stats). Missing names are printed (run with
-s); names intentionally absent are listed with the reason."""
import types

import pytest
import jax.random
import jax.scipy.special
import jax.scipy.stats

import functorch_lite.random
import functorch_lite.scipy.special
import functorch_lite.scipy.stats

INTENTIONALLY_ABSENT = {
    "jax.scipy.special": {
        "wofz": "the Faddeeva function takes complex arguments; our special functions are "
                "real-valued",
        "sph_harm_y": "complex spherical harmonics (complex Legendre recursion) not written",
    },
}
# (module, ours, at least this fraction of JAX's names present)
MODULES = [
    ("jax.random", jax.random, functorch_lite.random, 1.0),
    ("jax.scipy.special", jax.scipy.special, functorch_lite.scipy.special, 0.9),
    ("jax.scipy.stats", jax.scipy.stats, functorch_lite.scipy.stats, 1.0),
] + [(f"jax.scipy.stats.{name}", module, getattr(functorch_lite.scipy.stats, name, None), 1.0)
     for name, module in vars(jax.scipy.stats).items()
     if isinstance(module, types.ModuleType) and not name.startswith("_")]


def public_names(module):
    if module is None:
        return set()
    return {n for n in dir(module) if not n.startswith("_")
            and not (isinstance(getattr(module, n), types.ModuleType)
                     and getattr(module, n).__name__ in ("numpy", "typing"))}


@pytest.mark.parametrize("name,theirs,ours,required", MODULES, ids=[m[0] for m in MODULES])
def test_name_coverage(name, theirs, ours, required):
    jax_names = public_names(theirs)
    missing = sorted(jax_names - public_names(ours))
    absent = INTENTIONALLY_ABSENT.get(name, {})
    coverage = 1 - len(missing) / len(jax_names)
    print(f"{name}: {len(jax_names) - len(missing)}/{len(jax_names)} ({coverage:.0%})")
    for n in missing:
        print(f"  missing {n}: {absent.get(n, 'NOT YET IMPLEMENTED')}")
    assert coverage >= required
    assert set(missing) <= set(absent), f"{name} lacks {sorted(set(missing) - set(absent))}"
