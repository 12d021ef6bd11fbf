"""Every benchmark workload side by side with JAX (and PyTorch eager when it is
installed), interleaved in one process:

    python -m benchmarks [--quick] [--rounds N] [--json FILE] [--chart FILE.png|.svg]
                        [--markdown FILE]

prints one row per workload with each library's median time over the rounds and the
ratio of ours to JAX's (below 1.00x: we are faster), writes the table as JSON (and
Markdown) and draws it as a bar chart (matplotlib). `--quick` shrinks every workload
(about a minute). The workloads are the single-topic scripts' of this folder, reused.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import functorch_lite as fl  # noqa: E402
import functorch_lite.numpy as fnp  # noqa: E402
import bench_grad_vmap  # noqa: E402
import bench_overhead  # noqa: E402
import bench_scan_rnn  # noqa: E402
import bench_table  # noqa: E402
import table_models as tm  # noqa: E402

OURS, JAX, JAX_RESHAPE, TORCH = "functorch_lite", "jax", "jax (reshape+max pool)", "pytorch"


def calls(fn, *args):
    """A no-argument callable running `fn(*args)` to completion."""
    return lambda: jax.block_until_ready(fn(*args))


def lenet_rows(batch, rng):
    params, data = tm.lenet_data(batch, rng)
    fns = {OURS: bench_table.training(tm.lenet(tm.OURS), params, data),
           JAX: bench_table.training(tm.lenet(tm.JAX), params, data),
           JAX_RESHAPE: bench_table.training(tm.lenet(tm.JAX, pool_as_reshape=True),
                                             params, data)}
    return [(f"LeNet-5 batch {batch} SGD step", fns)]


def pooling_rows(shape, rng):
    """2x2 max and average pooling alone: jit(value_and_grad) of a pooled sum of
    squares, ours against JAX's reduce_window (and JAX's reshape + max / mean)."""
    x = jax.device_put(rng.randn(*shape).astype(np.float32))
    n, h, w, c = shape
    window = lambda m, init, op: lambda x: m.lax.reduce_window(
        x, init, op, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
    tiles = lambda np_, reduce: lambda x: reduce(x.reshape(n, h // 2, 2, w // 2, 2, c),
                                                 axis=(2, 4))
    step = lambda mod, np_, pool: mod.jit(mod.value_and_grad(
        lambda x: np_.sum(pool(x) ** 2)))
    name = "x".join(map(str, shape))
    return [(f"2x2 max pooling value+grad {name}", {
                OURS: calls(step(fl, fnp, window(tm.OURS, -np.inf, fl.lax.max)), x),
                JAX: calls(step(jax, jnp, window(tm.JAX, -np.inf, jax.lax.max)), x),
                JAX_RESHAPE: calls(step(jax, jnp, tiles(jnp, jnp.max)), x)}),
            (f"2x2 average pooling value+grad {name}", {
                OURS: calls(step(fl, fnp, window(tm.OURS, 0.0, fl.lax.add)), x),
                JAX: calls(step(jax, jnp, window(tm.JAX, 0.0, jax.lax.add)), x)})]


def resnet_rows(batch, size, channels, rng):
    params, data = tm.resnet_block_data(batch, size, channels, rng)
    return [(f"ResNet block {size}x{size}x{channels} batch {batch} SGD step",
             {m.name: bench_table.training(tm.resnet_block(m), params, data)
              for m in (tm.OURS, tm.JAX)})]


def nn_cnn_rows(batch, size):
    """The quickstart CNN of bench_nn_step.py (nn layers, nn.MaxPool, Adam) against
    the same model written with jax.lax, on `size`x`size` images."""
    import bench_nn_step as cnn
    rng = np.random.default_rng(0)
    x = jax.device_put(rng.random((batch, size, size, 1), dtype=np.float32))
    y = jax.device_put(rng.integers(0, 10, batch).astype(np.int32))
    params = jax.device_put(cnn.MODEL.init(fl.random.PRNGKey(0), x[:1])[0])

    def threaded(step):
        state = [params, cnn.OPTIMIZER.init(params)]

        def run():
            state[0], state[1], loss = step(state[0], state[1], x, y)
            jax.block_until_ready(loss)
        return run
    return [(f"nn quickstart CNN {size}x{size} batch {batch} Adam step",
             {OURS: threaded(cnn.our_step), JAX: threaded(cnn.jax_step)})]


def hessian_rows(n, rng):
    w = jax.device_put(rng.randn(n, n).astype(np.float32) / np.sqrt(n))
    x = jax.device_put(rng.randn(n).astype(np.float32))
    f = lambda np_: lambda x: np_.sum(np_.tanh(w @ x) ** 2)
    return [(f"jit(hessian) of a {n}-vector function", {
        OURS: calls(fl.jit(fl.hessian(f(fnp))), x),
        JAX: calls(jax.jit(jax.hessian(f(jnp))), x)})]


def gradient_rows(batch, rng):
    sizes = [32, 128, 128, 10]
    params = jax.device_put([(rng.randn(a, b).astype(np.float32) / np.sqrt(a),
                              np.zeros(b, np.float32)) for a, b in zip(sizes[:-1], sizes[1:])])
    x = jax.device_put(rng.randn(batch, 32).astype(np.float32))
    y = jax.device_put(rng.randn(batch, 10).astype(np.float32))
    per_example = lambda mod, np_: mod.jit(mod.vmap(mod.grad(bench_grad_vmap.make_loss(np_)),
                                                    in_axes=(None, 0, 0)))
    return [(f"per-example gradients, batch {batch}", {
        OURS: calls(per_example(fl, fnp), params, x, y),
        JAX: calls(per_example(jax, jnp), params, x, y)})]


def scan_rnn_rows():
    params, xs, ys = bench_scan_rnn.data()
    step = lambda mod, lax, np_: mod.jit(mod.value_and_grad(bench_scan_rnn.make_loss(lax, np_)))
    return [("scan RNN gradient step (T 64, batch 32, hidden 128)", {
        OURS: calls(step(fl, fl.lax, fnp), params, xs, ys),
        JAX: calls(step(jax, jax.lax, jnp), params, xs, ys)})]


def trace_lower_rows():
    f, params, x = bench_overhead.mlp(fnp)
    g, _, _ = bench_overhead.mlp(jnp)
    fresh = lambda jit, f: lambda: jit(lambda p, x: f(p, x)).lower(params, x).as_text()
    return [("trace+lower a 64-layer MLP (no cache)", {OURS: fresh(fl.jit, f),
                                                      JAX: fresh(jax.jit, g)})]


def torch_rows(rows, lenet_batch):
    """Adds PyTorch eager to the MLP and LeNet rows; its version, or None."""
    steps = tm.torch_steps((784, 512, 512, 10), 128, lenet_batch, cpu=True)
    if not steps:
        return None
    for name, fns in rows:
        key = ("mlp" if name.startswith("MLP 784-512-512-10 batch 128") else
               "lenet" if name.startswith(f"LeNet-5 batch {lenet_batch} ") else None)
        if key:
            step, args = steps[key]
            fns[TORCH] = (lambda s, a: lambda: (s(*a), steps["sync"]()))(step, args)
    return steps["version"]


def workloads(quick):
    """[(name, {library: no-argument callable})] in table order."""
    rng = np.random.RandomState(0)
    rows = [(name, fns) for name, fns, _ in bench_table.workloads(quick)
            if not name.startswith("LeNet") and "bfloat16" not in name]
    lenet_batch = 8 if quick else 64
    for batch in (lenet_batch,) if quick else (lenet_batch, 256):
        rows += lenet_rows(batch, rng)
    rows += pooling_rows((2, 4, 4, 3) if quick else (64, 28, 28, 32), rng)
    rows += nn_cnn_rows(8, 8) if quick else nn_cnn_rows(64, 28)
    rows += resnet_rows(*((4, 8, 4) if quick else (32, 32, 16)), rng)
    rows += hessian_rows(16 if quick else 200, rng)
    rows += gradient_rows(16 if quick else 256, rng)
    if not quick:
        rows += scan_rnn_rows()
    rows += trace_lower_rows()
    return rows, lenet_batch


def table_row(name, times):
    """One JSON row: times in ms, ours over every other library."""
    ours = times[OURS]
    return {"workload": name, "ms": {k: v * 1e3 for k, v in times.items()},
            "ratio": {k: ours / v for k, v in times.items() if k != OURS}}


def format_row(row, width=52):
    ms, ratio = row["ms"], row["ratio"]
    text = f"{row['workload']:{width}s} ours {ms[OURS]:9.3f} ms  jax {ms[JAX]:9.3f} ms  " \
           f"ours/jax {ratio[JAX]:5.2f}x"
    for lib in (JAX_RESHAPE, TORCH):
        if lib in ratio:
            text += f"  ours/{lib} {ratio[lib]:5.2f}x"
    return text


def markdown_table(rows):
    """The rows as a Markdown table (for docs/performance.md)."""
    ms = lambda v: f"{v:.0f}" if v >= 100 else f"{v:.3g}"
    libs = [lib for lib in (JAX, JAX_RESHAPE, TORCH) if any(lib in r["ratio"] for r in rows)]
    lines = ["| workload | ours (ms) | " + " | ".join(f"{lib} (ms) | ours / {lib}"
                                                      for lib in libs) + " |",
             "| --- " * (2 + 2 * len(libs)) + "|"]
    for r in rows:
        cells = [r["workload"], ms(r["ms"][OURS])]
        for lib in libs:
            cells += ([ms(r["ms"][lib]), f"{r['ratio'][lib]:.2f}x"]
                      if lib in r["ratio"] else ["", ""])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def draw_chart(rows, path, title):
    """Horizontal bars of ours/other per workload, one colour per other library, with
    the parity line at 1."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams["svg.fonttype"] = "none"  # text stays text: a small, searchable SVG
    libs = [lib for lib in (JAX, JAX_RESHAPE, TORCH) if any(lib in r["ratio"] for r in rows)]
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(rows) * len(libs) + 1.5))
    height = 0.8 / len(libs)
    for i, lib in enumerate(libs):
        ys = [k + i * height for k, r in enumerate(rows) if lib in r["ratio"]]
        ax.barh(ys, [r["ratio"][lib] for r in rows if lib in r["ratio"]], height,
                label=f"ours / {lib}")
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_yticks([k + height * (len(libs) - 1) / 2 for k in range(len(rows))])
    ax.set_yticklabels([r["workload"] for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("time ratio (below 1: functorch_lite is faster)")
    ax.set_title(title.replace("; ", "\n", 1), fontsize=8)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny workloads, few rounds")
    parser.add_argument("--rounds", type=int, help="rounds per workload (median)")
    parser.add_argument("--json", help="write the table (and versions) to this file")
    parser.add_argument("--chart", help="draw the ratios to this .png or .svg file")
    parser.add_argument("--markdown", help="write the table as Markdown to this file")
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 7)
    budget = 0.02 if args.quick else 0.3
    device = jax.devices()[0]
    rows, lenet_batch = workloads(args.quick)
    torch_version = torch_rows(rows, lenet_batch)
    header = (f"device: {device.device_kind} ({fl._runtime.platform()}); "
              f"{fl._runtime.versions()}; "
              + (f"torch {torch_version}" if torch_version else
                 "PyTorch not installed: its columns are left out")
              + f"; medians of {rounds} rounds")
    print(header, flush=True)
    table = []
    for name, fns in rows:
        libs = list(fns)
        times = bench_table.median_times([fns[k] for k in libs], rounds, budget)
        table.append(table_row(name, dict(zip(libs, times))))
        print(format_row(table[-1]), flush=True)
    result = {"device": device.device_kind, "platform": fl._runtime.platform(),
              "versions": fl._runtime.versions(), "torch": torch_version,
              "quick": args.quick, "rounds": rounds, "rows": table}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    if args.chart:
        draw_chart(table, args.chart, header)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(header + "\n\n" + markdown_table(table) + "\n")
    return result


if __name__ == "__main__":
    main()
