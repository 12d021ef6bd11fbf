"""Our compiled program against JAX's for the same training step: the StableHLO each
writes (for this machine's platform and for 'cuda', which both can lower without a
GPU) and the HLO XLA optimises for this machine (fusions, dots, transposes, copies,
f64 values, parameters and outputs).

    python benchmarks/compare_programs.py [--json FILE]

The step is the MLP of the GPU table (784-512-512-10, batch 128, softmax cross-entropy,
SGD). Any line marked DIFFERS names a structural difference to remove.
"""
import argparse
import collections
import json
import os
import re
import sys

import numpy as np
import jax
import jax.numpy as jnp

import functorch_lite as fl
import functorch_lite.numpy as fnp

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from lowered import op_counts, signatures  # noqa: E402


def mlp_step(np_, ad, nn_fns, lr=0.01):
    """The SGD step of an MLP (relu hidden layers, softmax cross-entropy)."""
    def loss(params, x, y):
        h = x
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i < len(params) - 1:
                h = nn_fns.relu(h)
        logp = nn_fns.log_softmax(h)
        return -np_.mean(np_.take_along_axis(logp, y[:, None], axis=1))

    def step(params, x, y):
        value, grads = ad.value_and_grad(loss)(params, x, y)
        return jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads), value
    return step


def mlp_inputs(sizes=(784, 512, 512, 10), batch=128, seed=0):
    rng = np.random.RandomState(seed)
    params = [(rng.randn(a, b).astype(np.float32) * np.float32(1 / np.sqrt(a)),
               np.zeros(b, np.float32)) for a, b in zip(sizes[:-1], sizes[1:])]
    x = rng.randn(batch, sizes[0]).astype(np.float32)
    y = rng.randint(0, sizes[-1], batch).astype(np.int32)
    return params, x, y


OURS, JAX = mlp_step(fnp, fl, fl.nn), mlp_step(jnp, jax, jax.nn)

_HLO_OP = re.compile(r"^\s*(?:ROOT )?%\S+ = (\S+) ([\w\-]+)\(")


def hlo_summary(text):
    """Counts in XLA's optimised HLO (the entry computation and fusions)."""
    ops = collections.Counter()
    for line in text.splitlines():
        m = _HLO_OP.match(line)
        if m:
            ops[m.group(2)] += 1
    entry = text[text.index("ENTRY"):]
    entry_ops = collections.Counter(m.group(2) for m in map(_HLO_OP.match,
                                    entry[:entry.index("\n}")].splitlines()) if m)
    return {"kernels (entry fusions + custom calls)":
            entry_ops["fusion"] + entry_ops["custom-call"] + entry_ops["dot"],
            "dots": ops["dot"], "custom calls": ops["custom-call"],
            "transposes": ops["transpose"], "copies": ops["copy"],
            "f64 values": text.count("f64["), "parameters": entry_ops["parameter"],
            "outputs": entry.split("->", 1)[1].split("{", 1)[0].count("[")}


def compare(platform=None):
    """[(what, ours, jax)] for the MLP step."""
    params, x, y = mlp_inputs()
    rows = []
    for target in sorted({fl._runtime.platform(), "cuda"}):
        ours = fl.jit(OURS).trace(params, x, y).lower(lowering_platforms=(target,)).as_text()
        theirs = jax.jit(JAX).trace(params, x, y).lower(
            lowering_platforms=(target,)).as_text()
        rows.append((f"StableHLO ({target}): dot_generals identical",
                     signatures(ours, "stablehlo.dot_general") ==
                     signatures(theirs, "stablehlo.dot_general"), True))
        oc, tc = op_counts(ours), op_counts(theirs)
        for op in sorted(set(oc) | set(tc)):
            if oc[op] != tc[op]:
                rows.append((f"StableHLO ({target}): {op}", oc[op], tc[op]))
    ours = hlo_summary(fl.jit(OURS).lower(params, x, y).compile().as_text())
    theirs = hlo_summary(jax.jit(JAX).lower(params, x, y).compile().as_text())
    platform = fl._runtime.platform()
    rows += [(f"optimised HLO ({platform}): {k}", ours[k], theirs[k]) for k in ours]
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    rows = compare()
    for what, ours, theirs in rows:
        mark = "" if ours == theirs else "   DIFFERS"
        print(f"{what:60s} ours {ours!s:>6}  jax {theirs!s:>6}{mark}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([dict(what=w, ours=o, jax=t) for w, o, t in rows], f, indent=1,
                      default=str)


if __name__ == "__main__":
    main()
