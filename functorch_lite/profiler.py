"""`functorch_lite.profiler`: JAX's profiler, as `jax.profiler` (the profiler is part
of the runtime we share with JAX: our compiled programs run on the same PJRT client, so
its traces show them, named `jit_<function>`).

`with profiler.trace("/tmp/trace"):` (or `start_trace(dir)` ... `stop_trace()`) writes
a `plugins/profile/<run>/<host>.xplane.pb` (and a `.trace.json.gz`) viewable in
TensorBoard's profile plugin, XProf or Perfetto (`trace(dir, create_perfetto_link=True)`).
`TraceAnnotation("name")` and `StepTraceAnnotation("train", step_num=i)` mark host
regions; `@annotate_function` marks each call of a function;
`device_memory_profile()` / `save_device_memory_profile(path)` give a pprof profile of
the live device buffers; `start_server(port)` serves on-demand captures.
"""
__all__ = ["ProfileOptions", "StepTraceAnnotation", "TraceAnnotation", "annotate_function",
           "device_memory_profile", "save_device_memory_profile", "start_server",
           "start_trace", "stop_server", "stop_trace", "trace"]

from jax.profiler import (ProfileOptions, StepTraceAnnotation,  # noqa: F401
                          TraceAnnotation, annotate_function, device_memory_profile,
                          save_device_memory_profile, start_server, start_trace,
                          stop_server, stop_trace, trace)
