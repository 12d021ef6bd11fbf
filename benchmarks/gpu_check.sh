#!/usr/bin/env bash
# One command for a machine with an NVIDIA GPU (jax with its CUDA plugin installed,
# e.g. `pip install -e ".[dev,cuda13]"`):
#
#     benchmarks/gpu_check.sh OUTDIR [--quick]
#
# runs the test suite (the gpu-marked tests included), the main example, the program
# comparison and the benchmark table (functorch_lite, JAX, and PyTorch CUDA when torch is
# importable), and writes into OUTDIR: junit.xml, pytest.txt, quickstart.txt,
# programs.json, benchmarks.json / benchmarks.txt, versions.txt, nvidia-smi.txt and
# summary.txt. On a CPU it runs the same steps on the CPU ("degraded" mode); --quick
# runs a small test selection, skips the example and shrinks the benchmarks (a smoke
# run; tests/test_gpu_check.py uses it). Finishes in under 8 minutes on an H200.
set -uo pipefail
OUT="${1:?usage: benchmarks/gpu_check.sh OUTDIR [--quick]}"
QUICK="${2:-}"
cd "$(dirname "$0")/.."
mkdir -p "$OUT"
PY="${PYTHON:-}"  # else the first of python3.12, python3 that has jax
for candidate in python3.12 python3; do
    [ -n "$PY" ] && break
    "$candidate" -c "import jax" > /dev/null 2>&1 && PY="$candidate"
done
[ -n "$PY" ] || { echo "no Python with jax found (set PYTHON=...)" >&2; exit 2; }
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
start=$(date +%s)
status=0

"$PY" - > "$OUT/versions.txt" 2>&1 <<'PYEOF'
import platform, sys, jax, jaxlib
import functorch_lite as fl
print(f"python {sys.version.split()[0]} ({platform.platform()})")
print(fl._runtime.versions())
print("devices:", [f"{d.platform}:{d.device_kind}" for d in jax.devices()])
try:
    import torch
    print("torch", torch.__version__, "cuda", torch.version.cuda,
          "available" if torch.cuda.is_available() else "unavailable")
except ImportError:
    print("torch: not installed")
PYEOF
cat "$OUT/versions.txt"
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || echo "nvidia-smi: not available (no NVIDIA GPU/driver)" \
    | tee "$OUT/nvidia-smi.txt"
platform=$("$PY" -c "import functorch_lite as fl; print(fl._runtime.platform())")
[ "$platform" = "cuda" ] || echo "WARNING: no NVIDIA GPU seen (platform $platform): degraded CPU run"

echo "=== tests"
# GPU_CHECK_TEST_SECONDS bounds the suite (a lent GPU's time is short): each result is
# streamed to pytest.txt as it completes, so a cut-off run still reports what ran.
# Modules whose optional dependencies are missing are reported, not fatal.
if [ "$QUICK" = "--quick" ]; then
    tests=(tests/test_runtime.py)
    workers=1
else
    tests=()
    workers=$(( $(nproc) > 8 ? 8 : $(nproc) ))
fi
parallel=(-n "$workers")
"$PY" -c "import xdist" > /dev/null 2>&1 || parallel=()
timeout "${GPU_CHECK_TEST_SECONDS:-3600}" "$PY" -m pytest -v -rfE "${parallel[@]}" \
    -p no:cacheprovider -p no:randomly --continue-on-collection-errors \
    --junitxml="$OUT/junit.xml" "${tests[@]}" > "$OUT/pytest.txt" 2>&1 || status=1
grep -cE "(PASSED|FAILED|ERROR|SKIPPED)" "$OUT/pytest.txt" | sed 's/^/results so far: /'
tail -3 "$OUT/pytest.txt"

echo "=== main example"
if [ "$QUICK" = "--quick" ]; then
    echo "skipped (--quick)" > "$OUT/quickstart.txt"
else
    ( time "$PY" examples/quickstart.py ) > "$OUT/quickstart.txt" 2>&1 || status=1
fi
tail -4 "$OUT/quickstart.txt"

echo "=== our program against JAX's (MLP step)"
"$PY" benchmarks/compare_programs.py --json "$OUT/programs.json" \
    > "$OUT/programs.txt" 2>&1 || status=1
grep -c DIFFERS "$OUT/programs.txt" | sed 's/^/StableHLO op-count lines that differ: /'

echo "=== benchmark table"
"$PY" benchmarks/bench_table.py ${QUICK:+--quick} --json "$OUT/benchmarks.json" \
    2>&1 | tee "$OUT/benchmarks.txt" || status=1

{
    echo "platform: $platform"
    cat "$OUT/versions.txt"
    echo "tests: $(tail -1 "$OUT/pytest.txt")"
    echo "tests streamed: $(grep -c ' PASSED' "$OUT/pytest.txt") passed," \
         "$(grep -c ' FAILED' "$OUT/pytest.txt") failed, $(grep -c ' ERROR' "$OUT/pytest.txt") errors"
    echo "example: $(grep -h 'test accuracy' "$OUT/quickstart.txt" || cat "$OUT/quickstart.txt" | tail -1)"
    echo "seconds: $(( $(date +%s) - start ))"
    echo "status: $status"
} > "$OUT/summary.txt"
cat "$OUT/summary.txt"
exit $status
