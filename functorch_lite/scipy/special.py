"""`functorch_lite.scipy.special`, as `jax.scipy.special`: differentiable and batchable
special functions over our primitives. Not available: `wofz` (the complex Faddeeva
function) and `sph_harm_y` (complex spherical harmonics)."""
from ._special_gamma import (gammaln, gammasgn, gamma, loggamma, betaln, beta, betainc,
                             factorial, comb, poch, digamma, polygamma, gammainc, gammaincc,
                             multigammaln, zeta, i0, i0e, i1, i1e, bernoulli)
from ._special_errors import (erf, erfc, erfinv, erfcinv, ndtr, ndtri, log_ndtr, erfcx, dawsn,
                              logit, expit, xlogy, xlog1py, entr, rel_entr, kl_div, boxcox,
                              boxcox1p, softmax, log_softmax, logsumexp)
from ._special_integrals import expi, exp1, expn, sici, spence, owens_t
from ._special_fresnel import fresnel
from ._special_hypergeometric import hyp1f1, hyp2f1, bessel_jn

__all__ = ["gammaln", "gammasgn", "gamma", "loggamma", "betaln", "beta", "betainc",
           "factorial", "comb", "poch", "digamma", "polygamma", "gammainc", "gammaincc",
           "multigammaln", "zeta", "i0", "i0e", "i1", "i1e", "bernoulli", "erf", "erfc",
           "erfinv", "erfcinv", "ndtr", "ndtri", "log_ndtr", "erfcx", "dawsn", "logit",
           "expit", "xlogy", "xlog1py", "entr", "rel_entr", "kl_div", "boxcox", "boxcox1p",
           "softmax", "log_softmax", "logsumexp", "expi", "exp1", "expn", "sici", "spence",
           "owens_t", "fresnel", "hyp1f1", "hyp2f1", "bessel_jn"]
