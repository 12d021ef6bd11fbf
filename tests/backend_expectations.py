"""Everything the tests expect that depends on the backend they run on, in one place:
tests read these records instead of branching on the device themselves.

Values and rounding are the same as JAX's on every backend (tests compare against JAX
on the same device); what differs is which kernels a backend calls, how precisely it
prints, and what XLA leaves unspecified there (the order in which conflicting
scatter updates land)."""
import re

import numpy as np

from functorch_lite import _runtime

PLATFORM = _runtime.platform()  # 'cpu', 'cuda', 'rocm' (JAX's lowering platform names)
ON_GPU = PLATFORM in ("cuda", "rocm")

# --- factorisation kernels (the custom calls JAX itself makes; float32) -------------

FACTORISATION_TARGETS = {
    "cpu": {"cholesky": {"lapack_spotrf_ffi"},
            "inv": {"lapack_sgetrf_ffi", "lapack_strsm_ffi"},
            "solve": {"lapack_sgetrf_ffi", "lapack_strsm_ffi"},
            "qr": {"lapack_sgeqrf_ffi", "lapack_sorgqr_ffi"},
            "eigh": {"lapack_ssyevd_ffi"},
            "svd": {"lapack_sgesdd_ffi"}},
    # cuSOLVER; triangular solves are XLA's own op there, not a custom call
    "cuda": {"cholesky": {"cusolver_potrf_ffi"},
             "inv": {"cusolver_getrf_ffi", "cu_lu_pivots_to_permutation"},
             "solve": {"cusolver_getrf_ffi", "cu_lu_pivots_to_permutation"},
             "qr": {"cusolver_geqrf_ffi", "cusolver_orgqr_ffi"},
             "eigh": {"cusolver_syevd_ffi"},
             "svd": {"cusolver_gesvdj_ffi"}},
}
# the FFI attributes of a lower Cholesky factor
CHOLESKY_CONFIG = {"cpu": "mhlo.backend_config = {uplo = 76 : ui8}",
                   "cuda": "mhlo.backend_config = {lower = true}"}


def factorisation_targets(routine, platform=PLATFORM, dtype=np.float32):
    """The custom-call targets `routine` lowers to on `platform` for `dtype`."""
    targets = FACTORISATION_TARGETS[platform][routine]
    if np.dtype(dtype) == np.float64:  # LAPACK names carry the type; cuSOLVER's don't
        targets = {t.replace("lapack_s", "lapack_d") for t in targets}
    return targets


def custom_call_targets(text):
    return set(re.findall(r'call_target_name = "([\w.]+)"', text))


# dot algorithm presets this backend has no kernel for (JAX and we refuse them there)
DOT_ALGORITHMS_WITHOUT_KERNEL = {
    "cpu": {"F16_F16_F32", "TF32_TF32_F32", "TF32_TF32_F32_X3"}, "cuda": set(),
    "rocm": set()}[PLATFORM]

# --- printed values ----------------------------------------------------------------

# Documentation pages show values computed on a CPU. A GPU's transcendental functions
# and (TF32) products round differently, so there the printed numbers are compared to
# this relative tolerance; everything else in the output must match exactly.
PRINTED_RTOL = 2e-3 if ON_GPU else 0.0

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def same_printed_output(printed, expected):
    if PRINTED_RTOL == 0.0 or printed == expected:
        return printed == expected
    if _NUMBER.sub("#", printed) != _NUMBER.sub("#", expected):
        return False
    got = [float(x) for x in _NUMBER.findall(printed)]
    want = [float(x) for x in _NUMBER.findall(expected)]
    return np.allclose(got, want, rtol=PRINTED_RTOL, atol=PRINTED_RTOL)


# --- scatter ------------------------------------------------------------------------

# XLA applies conflicting scatter updates (duplicate indices of .set) in index order
# on a CPU; on a GPU the order is unspecified, as JAX documents for `.at[...]`: any
# one of the conflicting updates may land.
SCATTER_CONFLICTS_IN_ORDER = not ON_GPU
