"""The side-by-side table of benchmarks/gpu_check.sh: functorch_lite against JAX (and
PyTorch eager, where torch and a CUDA device are present) on this machine's default
device, one row per workload, plus the model-FLOP utilisation of a bf16 mixed-precision
transformer training step.

    python benchmarks/bench_table.py [--quick] [--json FILE]

--quick shrinks every workload (a smoke run of the script on a CPU). Times are the best
of several rounds, each library measured in alternation with the others.
"""
import argparse
import json
import statistics
import time

import numpy as np
import jax

import functorch_lite as fl
import table_models as tm

# dense bf16 tensor-core peaks (FLOP/s) by device kind; MFU is reported where known
PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "GH200": 989e12, "A100": 312e12,
             "L40S": 362e12, "L4": 121e12, "B200": 2250e12}


def peak_flops(device):
    kind = getattr(device, "device_kind", "")
    for name, peak in sorted(PEAK_BF16.items(), key=lambda kv: -len(kv[0])):
        if name in kind:
            return peak
    return None


def best_times(fns, repeats, rounds):
    """Best seconds per call of each `fn() -> result`, in alternation."""
    for fn in fns:
        fn()
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            for _ in range(repeats):
                fn()
            best[i] = min(best[i], (time.perf_counter() - t0) / repeats)
    return best


def median_times(fns, rounds, budget_s):
    """Median seconds per call of each callable, measured in alternation (each round
    runs every callable for about `budget_s`) so that load from other processes
    affects all alike."""
    repeats = []
    for fn in fns:
        fn()  # compile
        t0 = time.perf_counter()
        fn()
        repeats.append(max(1, int(budget_s / max(time.perf_counter() - t0, 1e-7))))
    samples = [[] for _ in fns]
    for _ in range(rounds):
        for fn, n, out in zip(fns, repeats, samples):
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            out.append((time.perf_counter() - t0) / n)
    return [statistics.median(s) for s in samples]


def training(step, params, batch):
    """A no-argument callable running `step` and waiting for its loss; it threads its
    own parameters (the steps donate them)."""
    state = {"p": jax.device_put(params)}
    batch = [jax.device_put(b) for b in batch]

    def run():
        state["p"], loss = step(state["p"], *batch)
        jax.block_until_ready(loss)
    return run


def workloads(quick):
    """[(name, {library: callable}, model FLOPs or None)] in table order."""
    rng = np.random.RandomState(0)
    small = jax.device_put(np.ones(3, np.float32))
    rows = [("cached jit dispatch (x + y)", {
        m.name: (lambda f: lambda: jax.block_until_ready(f(small, small)))(
            m.jit(lambda a, b: a + b)) for m in (tm.OURS, tm.JAX)}, None),
        ("eager op (sin)", {m.name: (lambda f: lambda: jax.block_until_ready(f(small)))(
            m.np.sin) for m in (tm.OURS, tm.JAX)}, None)]
    mlps = [((784, 512, 512, 10), 128)] + ([] if quick else [((784, 4096, 4096, 10), 1024)])
    if quick:
        mlps = [((32, 16, 16, 10), 8)]
    for sizes, batch in mlps:
        params, data = tm.mlp_data(sizes, batch, rng)
        rows.append((f"MLP {'-'.join(map(str, sizes))} batch {batch} SGD step", {
            m.name: training(tm.mlp(m, sizes), params, data) for m in (tm.OURS, tm.JAX)},
            None))
    batch = 8 if quick else 256
    params, data = tm.lenet_data(batch, rng)
    rows.append((f"LeNet-5 batch {batch} SGD step", {
        m.name: training(tm.lenet(m), params, data) for m in (tm.OURS, tm.JAX)}, None))
    vocab, d, layers, seq, batch = (64, 32, 1, 16, 2) if quick else (1024, 512, 4, 256, 16)
    on_gpu = fl._runtime.platform() == "cuda"
    for dtype, attention in (("float32", None), ("bfloat16", "cudnn" if on_gpu else None)):
        params, data = tm.transformer_data(vocab, d, layers, seq, batch, rng)
        name = (f"transformer d{d} x{layers} T{seq} batch {batch} {dtype}"
                + (" (cuDNN attention)" if attention else ""))
        rows.append((name, {m.name: training(tm.transformer(m, 8, np.dtype(
            jax.numpy.bfloat16 if dtype == "bfloat16" else np.float32), attention),
            params, data) for m in (tm.OURS, tm.JAX)},
            tm.transformer_flops(vocab, d, layers, seq, batch) if dtype == "bfloat16"
            else None))
    return rows


def add_torch(rows, quick):
    steps = tm.torch_steps((784, 512, 512, 10), 128, 256) if not quick else {}
    if not steps:
        return None
    for name, fns, _ in rows:
        key = "mlp" if name.startswith("MLP 784-512-512-10 batch 128") else \
            "lenet" if name.startswith("LeNet-5 batch 256") else None
        if key:
            step, args = steps[key]
            fns["pytorch"] = (lambda s, a: lambda: (s(*a), steps["sync"]()))(step, args)
    return steps["version"]


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="tiny workloads, few rounds")
    parser.add_argument("--json", help="write the table (and versions) to this file")
    args = parser.parse_args(argv)
    device = jax.devices()[0]
    rows = workloads(args.quick)
    torch_version = add_torch(rows, args.quick)
    repeats, rounds = (1, 1) if args.quick else (20, 5)
    peak = peak_flops(device)
    table = []
    print(f"device: {device.device_kind} ({fl._runtime.platform()}); "
          f"{fl._runtime.versions()}" + (f", torch {torch_version}" if torch_version else ""))
    for name, fns, flops in rows:
        libs = list(fns)
        times = dict(zip(libs, best_times([fns[k] for k in libs], repeats, rounds)))
        ratio = times["functorch_lite"] / times["jax"]
        row = {"workload": name, "ms": {k: v * 1e3 for k, v in times.items()},
               "ratio_vs_jax": ratio}
        text = (f"{name:52s} ours {times['functorch_lite'] * 1e3:9.3f} ms  jax "
                f"{times['jax'] * 1e3:9.3f} ms  ratio {ratio:5.2f}x")
        if "pytorch" in times:
            row["ratio_vs_pytorch"] = times["functorch_lite"] / times["pytorch"]
            text += f"  pytorch {times['pytorch'] * 1e3:9.3f} ms"
        if flops and peak:
            row["mfu"] = {k: flops / times[k] / peak for k in ("functorch_lite", "jax")}
            text += (f"  MFU ours {row['mfu']['functorch_lite']:.1%} jax "
                     f"{row['mfu']['jax']:.1%}")
        elif flops:
            text += "  MFU n/a (no bf16 peak known for this device)"
        print(text, flush=True)
        table.append(row)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": device.device_kind, "platform": fl._runtime.platform(),
                       "versions": fl._runtime.versions(), "torch": torch_version,
                       "peak_bf16_flops": peak, "quick": args.quick, "rows": table},
                      f, indent=1)


if __name__ == "__main__":
    main()
