"""Compare functorch_lite's public names with the installed JAX's, namespace by
namespace, and list every name intentionally absent with the reason.

    python docs/gen_api_coverage.py > docs/api_coverage.md   # regenerate the table

tests/test_api_coverage.py asserts the figures (and that nothing unlisted is missing)
against whichever JAX is installed.
"""
import importlib
import json
import os
import pkgutil
import subprocess
import sys

# --- why a name is absent ------------------------------------------------------------

MULTI_DEVICE = "multi-device (issue 18: meshes, shardings, shard_map, pmap, collectives)"
TOKENS = ("tokens (create_token/after_all): our IR has no token type (so debug "
          "callbacks with ordered=True raise NotImplementedError)")
EFFECT_TYPES = ("JAX's effect classes; our IR marks a primitive with effects by a flag "
                "(`Primitive.has_effects`), not by effect objects")
REFS = "JAX's experimental mutable array references (Ref): our IR has no mutable state"
INTERNAL = "JAX internal or experimental flag/module with no user-facing role here"
ECOSYSTEM = ("a JAX subpackage outside this package's scope (export, ffi, ...; "
             "issue 15: ecosystem interop)")
SCIPY_LATER = "not yet written (issue 17 follow-up): jax.scipy's remaining modules"
WLAYERS = ("jax.nn.initializers: the same initializers (bit-identical to JAX's) live in "
           "the layer library, nn.initializers")



def _reasons(reason, names):
    return {n: reason for n in names.split()}


ABSENT = {
    "jax": {
        **_reasons(MULTI_DEVICE, """NamedSharding P Shard auto_pcast distributed host_count
            host_id host_ids make_array_from_callback make_array_from_process_local_data
            make_array_from_single_device_arrays make_mesh pmap process_indices reshard
            set_mesh shard_map sharding smap get_abstract_mesh get_mesh use_abstract_mesh
            remove_size_one_mesh_axis_from_type copy_to_host_async"""),
        **_reasons(REFS, "Ref ref new_ref empty_ref free_ref freeze"),
        **_reasons(INTERNAL, """ad api_util core custom_derivatives interpreters lib
            version allow_f16_reductions array_garbage_collection_guard debug_key_reuse
            default_prng_impl ds enable_checks enable_custom_prng
            jax2tf_associative_scan_reductions legacy_prng_key no_execution no_tracing
            softmax_custom_jvp thread_guard threefry_partitionable make_user_context
            fwd_and_bwd CompilerEffortLevel Inline"""),
        **_reasons(ECOSYSTEM, "export ffi memory monitoring ops"),
    },
    "jax.debug": {
        **_reasons(MULTI_DEVICE, """inspect_array_sharding visualize_array_sharding
            visualize_sharding"""),
        **_reasons(EFFECT_TYPES, "DebugEffect OrderedDebugEffect"),
    },
    "jax.numpy": {},
    "jax.numpy.linalg": {},
    "jax.numpy.fft": {},
    "jax.lax": {
        **_reasons(MULTI_DEVICE, """all_to_all all_to_all_p ppermute ppermute_p pbroadcast
            pcast psend precv pshuffle pswapaxes ragged_all_to_all ragged_all_to_all_p
            with_sharding_constraint sharding_constraint_p psum_scatter_start"""),
        **_reasons(TOKENS, "create_token create_token_p after_all after_all_p"),
    },
    "jax.nn": {
        **_reasons(WLAYERS, "initializers"),
    },
    "jax.random": {},
    "jax.image": {},
    "jax.scipy": {**_reasons(SCIPY_LATER, "cluster sparse")},
    "jax.scipy.special": {**_reasons(SCIPY_LATER, "sph_harm_y wofz")},
}

NAMESPACES = [("jax", "functorch_lite"), ("jax.debug", "functorch_lite.debug"),
              ("jax.numpy", "functorch_lite.numpy"),
              ("jax.numpy.linalg", "functorch_lite.numpy.linalg"),
              ("jax.numpy.fft", "functorch_lite.numpy.fft"), ("jax.lax", "functorch_lite.lax"),
              ("jax.nn", "functorch_lite.nn"), ("jax.random", "functorch_lite.random"),
              ("jax.image", "functorch_lite.image")]


def namespaces():
    """The (jax, ours) module pairs compared: the fixed list plus every jax.scipy
    submodule this package has (functorch_lite.scipy.*)."""
    pairs = list(NAMESPACES)
    try:
        ours = importlib.import_module("functorch_lite.scipy")
    except ImportError:
        return pairs
    import jax.scipy
    pairs.append(("jax.scipy", "functorch_lite.scipy"))
    for info in pkgutil.iter_modules(jax.scipy.__path__):
        if not info.name.startswith("_") and hasattr(ours, info.name):
            pairs.append((f"jax.scipy.{info.name}", f"functorch_lite.scipy.{info.name}"))
    return pairs


def public_names(module):
    return {n for n in dir(module) if not n.startswith("_")}


_JAX_NAMES = {}


def jax_public_names(jax_name):
    """The public names of a JAX module right after `import jax` and importing that
    module, in a fresh interpreter (in this process, other imports add attributes
    such as `jax.flatten_util` to the `jax` module)."""
    if jax_name not in _JAX_NAMES:
        code = ("import importlib, json, sys; import jax; m = importlib.import_module("
                f"{jax_name!r}); print(json.dumps(sorted(n for n in dir(m) "
                "if not n.startswith('_'))))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env={**os.environ, "JAX_PLATFORMS": "cpu"})
        _JAX_NAMES[jax_name] = set(json.loads(out.stdout.strip().splitlines()[-1]))
    return _JAX_NAMES[jax_name]


def coverage(jax_name, our_name):
    """A dict of name sets: jax (all), present, listed (absent with a reason),
    unlisted (absent without one), stale (listed but present), plus the figures."""
    theirs = jax_public_names(jax_name)
    ours = public_names(importlib.import_module(our_name))
    table = ABSENT.get(jax_name, {})
    present = theirs & ours
    missing = theirs - ours
    listed = {n for n in missing if n in table}
    return dict(jax=theirs, present=present, listed=listed,
                unlisted=missing - listed, stale={n for n in table if n in present},
                fraction=len(present) / len(theirs))


def render():
    import jax
    lines = ["# API coverage against JAX", "",
             f"Generated by `python docs/gen_api_coverage.py > docs/api_coverage.md` "
             f"against JAX {jax.__version__}; `tests/test_api_coverage.py` checks the same "
             f"figures against the installed JAX (0.10 and 0.12 are tested). A name counts "
             f"as present when `functorch_lite` has it under the same module path.", "",
             "| namespace | JAX names | present | coverage | absent (listed below) |",
             "| --- | --- | --- | --- | --- |"]
    results = [(j, coverage(j, o)) for j, o in namespaces()]
    for j, c in results:
        lines.append(f"| `{j}` | {len(c['jax'])} | {len(c['present'])} | "
                     f"{100 * c['fraction']:.1f}% | {len(c['listed']) + len(c['unlisted'])} |")
    lines += ["", "## Names intentionally absent", ""]
    for j, c in results:
        absent = sorted(c["listed"] | c["unlisted"], key=str.lower)
        if not absent:
            continue
        lines += [f"### `{j}`", "", "| reason | names |", "| --- | --- |"]
        by_reason = {}
        for n in absent:
            by_reason.setdefault(ABSENT.get(j, {}).get(n, "UNLISTED"), []).append(n)
        for reason, names in by_reason.items():
            lines.append(f"| {reason} | {', '.join(f'`{n}`' for n in names)} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render())
