"""Randomized a-posteriori error estimation of a low-rank approximation."""

from __future__ import annotations

import math

from .._backend import array_namespace, as_rng, svd_small
from .._validate import as_matrix, check_int, check_option, check_shape_agrees, is_dask, refuse_random_state
from ._common import (
    draw,
    herm,
    host_float,
    ldexp_safe,
    orthonormalize,
    pow2_exponent,
    prepare,
    safe_norm,
    times_pow2,
)

__all__ = ["svd_error_estimate"]

#: Power iterations of the spectral-norm estimate.
_POWER_STEPS = 4


@refuse_random_state
def svd_error_estimate(A, U, s, Vh, *, norm="fro", n_samples=10, rng=None):
    """Randomized estimate of ``||A - U diag(s) Vh||`` in the Frobenius or the spectral norm.

    Parameters
    ----------
    A : (m, n) array, sparse matrix, LinearOperator or Dask array
        The matrix, touched only through block products; real or complex (complex64, complex128).
    U : (m, r) array
        Left factor, dense (sparse factors are refused); real or complex.
    s : (r,) array
        Singular values (any real weights), dense and real.
    Vh : (r, n) array
        Right factor, dense; real or complex.
    norm : {"fro", "2"}
        Which norm of the residual ``R = A - U diag(s) Vh`` to estimate.
    n_samples : int
        Number of Gaussian probe vectors ``N >= 1``.
    rng : None, int or numpy.random.Generator
        Source of randomness.

    Returns
    -------
    float
        The estimate.

    Raises
    ------
    ValueError
        If the shapes do not fit, `norm` or `n_samples` is out of range, or an input holds NaN or Inf.
    TypeError
        If `A` is not a matrix or is a LinearOperator without ``rmatmat``, `U`, `s` or `Vh` is sparse, or `s`
        is complex.

    See Also
    --------
    rsvd : The truncated SVD whose error this estimates.
    svd_tol : A truncated SVD to a Frobenius tolerance, with its error estimated on the way.
    lowrank_la.psd.hutchinson : Hutchinson's trace estimator, which the Frobenius estimate applies to ``R^T R``.

    Notes
    -----
    ``R`` is applied as ``R X = A X - U (s * (Vh X))`` and ``R^H Y = A^H Y - Vh^H (s * (U^H Y))``, never formed.
    Complex input computes in its own dtype (complex64 stays complex64) with complex Gaussian probes
    ``(x + i y) / sqrt(2)`` (``E g g^H = I``, so the Frobenius estimate stays unbiased).

    * ``"fro"``: Hutchinson's (Gaussian) trace estimator on ``R^T R``:
      ``||R||_F^2 = E ||R g||^2`` for ``g ~ N(0, I_n)``; the estimate is
      ``sqrt(mean_i ||R g_i||^2)`` over ``N`` probes. Unbiased for ``||R||_F^2``, with relative standard
      deviation at most ``sqrt(2/N)`` (attained when ``R`` has rank one). One pass over `A`.
    * ``"2"``: ``4`` steps of block power iteration with ``N`` vectors on ``R^T R`` (orthonormalised after
      each product with ``R`` and with ``R^T``), then the largest singular
      value of ``R Q``. This is a lower bound of ``||R||_2`` (a Rayleigh quotient), usually tight within a
      few percent when the top singular values of ``R`` are separated. For an upper bound, HMT [1]_ (Sec.
      4.3, Lemma 4.1) give ``||R||_2 <= 10 sqrt(2/pi) max_{i<=r} ||R w_i||`` with probability at least
      ``1 - 10^-r`` for ``r`` Gaussian vectors ``w_i``. Cost: 9 passes over `A` (2 per step, 1 at the end).

    The products run on ``2^e A`` and ``2^e s`` with ``2^e max(s)`` about one, and the norms are taken of
    rescaled blocks, so the estimate is scale invariant (``f(c A, c s) = c f(A, s)`` from ``c = 1e-310`` to
    ``1e300``).

    Flops: ``O(N (nnz(A) + (m + n) r))`` per pass; memory ``O((m + n) N)``.

    References
    ----------
    .. [1] N. Halko, P.-G. Martinsson, J. A. Tropp, "Finding structure with randomness", SIAM Rev. 53(2),
       2011, Section 4.3.
    .. [2] M. F. Hutchinson, "A stochastic estimator of the trace of the influence matrix for Laplacian
       smoothing splines", Comm. Stat. Simul. Comput. 19(2), 1990.

    Examples
    --------
    >>> import numpy as np
    >>> import lowrank_la as la
    >>> from lowrank_la.svd import rsvd, svd_error_estimate
    >>> A = la.datasets.matrix_with_spectrum(300, 200, la.datasets.spectrum("polynomial", 200, power=1), rng=0)
    >>> U, s, Vh = rsvd(A, 10, rng=0)
    >>> true = np.linalg.norm(A - (U * s) @ Vh)
    >>> est = svd_error_estimate(A, U, s, Vh, n_samples=20, rng=0)
    >>> bool(0.5 * true < est < 2 * true)
    True
    >>> true2 = np.linalg.norm(A - (U * s) @ Vh, 2)
    >>> est2 = svd_error_estimate(A, U, s, Vh, norm="2", rng=0)
    >>> bool(0.9 * true2 < est2 <= true2 * (1 + 1e-10))
    True

    Complex input:

    >>> Z = A + 1j * la.datasets.matrix_with_spectrum(300, 200, la.datasets.spectrum("polynomial", 200, power=1), rng=1)
    >>> Uz, sz, Vhz = np.linalg.svd(Z, full_matrices=False)
    >>> true_z = np.linalg.norm(sz[10:])
    >>> est_z = svd_error_estimate(Z, Uz[:, :10], sz[:10], Vhz[:10], n_samples=20, rng=0)
    >>> bool(0.5 * true_z < est_z < 2 * true_z)
    True
    """
    norm = check_option(norm, "norm", ["fro", "2"])
    n_samples = check_int(n_samples, "n_samples", low=1)
    prod, _ = prepare(A, transpose=False, allow_complex=True)
    m, n = prod.shape
    xp = prod.xp
    U = as_matrix(U, "U", ndim=2, allow_complex=True, sparse=False)
    s = as_matrix(s, "s", ndim=1, sparse=False)
    Vh = as_matrix(Vh, "Vh", ndim=2, allow_complex=True, sparse=False)
    r = U.shape[1]
    check_shape_agrees("U.shape[0]", U.shape[0], m, "A.shape[0]")
    check_shape_agrees("s.shape[0]", s.shape[0], r, "U.shape[1]")
    check_shape_agrees("Vh.shape[0]", Vh.shape[0], r, "U.shape[1]")
    check_shape_agrees("Vh.shape[1]", Vh.shape[1], n, "A.shape[1]")
    ns = array_namespace(s)
    # work with 2^e A and 2^e s, 2^e max(s) about one: the residual's entries and squares stay in range
    e = pow2_exponent(host_float(ns.max(ns.abs(s)))) if not is_dask(s) else 0
    prod.rescale(e)
    s_col = times_pow2(ns.reshape(s, (-1, 1)), e)

    def residual(X):  # 2^e R X
        return prod.matmat(X) - U @ (s_col * (Vh @ X))

    Uh, V = herm(U, array_namespace(U)), herm(Vh, array_namespace(Vh))

    def residual_t(Y):  # 2^e R^H Y
        return prod.rmatmat(Y) - V @ (s_col * (Uh @ Y))

    gen = as_rng(rng)
    G = draw(prod, gen, n_samples)
    if norm == "fro":
        RG = residual(G)
        if prod.op.is_complex or any(array_namespace(X).isdtype(X.dtype, "complex floating") for X in (U, Vh)):
            RG = abs(RG)  # the same Frobenius norm, real (safe_norm squares real entries)
        return ldexp_safe(safe_norm(RG, xp) / math.sqrt(n_samples), -e)
    X = G
    for _ in range(_POWER_STEPS):  # orthonormalised after each factor: R^T R X is never formed (it overflows)
        X = orthonormalize(residual(X), xp, method="qr", dask=prod.dask)
        X = orthonormalize(residual_t(X), xp, method="qr", dask=prod.dask)
    RX = residual(X)
    if prod.dask:
        RX = RX.compute()
        xp = array_namespace(RX)
    f = pow2_exponent(host_float(xp.max(xp.abs(RX))))
    top = host_float(svd_small(times_pow2(RX, f), xp).s[0])
    return ldexp_safe(top, -(e + f))

