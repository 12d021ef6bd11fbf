"""`functorch_lite.scipy.linalg`: JAX's `jax.scipy.linalg` over our `lax.linalg`
primitives and `numpy.linalg`. schur, sqrtm, funm, rsf2csf, hessenberg and
solve_sylvester call LAPACK (gees/gehrd) and run on CPU only, as in JAX."""
from ._linalg_factor import (cholesky, cho_factor, cho_solve, lu, lu_factor, lu_solve, qr,
                             qr_multiply, svd, eigh, schur, hessenberg, det, inv, solve,
                             solve_triangular)
from ._linalg_matfun import (expm, expm_frechet, sqrtm, rsf2csf, funm, solve_sylvester)
from ._polar import polar
from ._eigh_tridiagonal import eigh_tridiagonal
from ._special_matrices import (block_diag, toeplitz, hankel, circulant, leslie, companion,
                                fiedler, fiedler_companion, convolution_matrix, hilbert,
                                invhilbert, pascal, invpascal, helmert, hadamard, dft)

__all__ = ["block_diag", "cho_factor", "cho_solve", "cholesky", "circulant", "companion",
           "convolution_matrix", "det", "dft", "eigh", "eigh_tridiagonal", "expm",
           "expm_frechet", "fiedler", "fiedler_companion", "funm", "hadamard", "hankel",
           "helmert", "hessenberg", "hilbert", "inv", "invhilbert", "invpascal", "leslie",
           "lu", "lu_factor", "lu_solve", "pascal", "polar", "qr", "qr_multiply",
           "rsf2csf", "schur", "solve", "solve_sylvester", "solve_triangular", "sqrtm",
           "svd", "toeplitz"]
