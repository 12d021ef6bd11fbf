"""`functorch_lite.profiler` writes a trace (an .xplane.pb) that shows our compiled
programs and the user's annotations; `Compiled.cost_analysis()` and
`.memory_analysis()` have JAX's keys and values for the same program."""
import glob
import os

import jax
import jax.numpy as jnp
import numpy as np

import functorch_lite as fl
from functorch_lite import profiler

X = np.ones((32, 32), np.float32)


def profiled_step(x):
    return fl.numpy.tanh(x @ x.T).sum()


def _xplane(directory):
    (path,) = glob.glob(os.path.join(directory, "plugins", "profile", "*", "*.xplane.pb"))
    with open(path, "rb") as f:
        return f.read()


def test_trace_writes_an_xplane_with_our_program_and_annotations(tmp_path):
    step = fl.jit(profiled_step)
    step(X)  # compiled before the trace
    annotated = profiler.annotate_function(lambda x: step(x), name="annotated_call")
    with profiler.trace(str(tmp_path)):
        with profiler.TraceAnnotation("my_region"):
            step(X).block_until_ready()
        with profiler.StepTraceAnnotation("train", step_num=3):
            annotated(X).block_until_ready()
    data = _xplane(str(tmp_path))
    for name in (b"my_region", b"annotated_call", b"jit_profiled_step"):
        assert name in data, name


def test_start_and_stop_trace(tmp_path):
    profiler.start_trace(str(tmp_path))
    try:
        fl.jit(profiled_step)(X).block_until_ready()
    finally:
        profiler.stop_trace()
    assert b"jit_profiled_step" in _xplane(str(tmp_path))


def test_cost_and_memory_analysis_have_jax_keys():
    ours = fl.jit(profiled_step).lower(X).compile()
    theirs = jax.jit(lambda x: jnp.tanh(x @ x.T).sum()).lower(X).compile()
    our_cost, their_cost = ours.cost_analysis(), theirs.cost_analysis()
    assert set(our_cost) == set(their_cost)
    for key in ("flops", "transcendentals", "bytes accessed"):
        assert our_cost[key] == their_cost[key], key
    our_memory, their_memory = ours.memory_analysis(), theirs.memory_analysis()
    fields = [f for f in dir(their_memory) if f.endswith("_in_bytes")]
    assert "temp_size_in_bytes" in fields
    for field in fields:
        if field in ("argument_size_in_bytes", "output_size_in_bytes",
                     "alias_size_in_bytes"):
            assert getattr(our_memory, field) == getattr(their_memory, field), field
        else:  # present and an int (XLA's temporaries depend on the HLO we emit)
            assert isinstance(getattr(our_memory, field), int), field
