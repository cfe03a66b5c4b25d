"""Stochastic trace and diagonal estimation from matrix-vector products: Girard-Hutchinson, Hutch++, XTrace,
XNysTrace and XDiag, each with an error estimate."""

from __future__ import annotations

import math

import numpy as np

from .._backend import as_rng, qr_econ
from .._validate import check_int, check_option, refuse_random_state
from ..svd._common import ldexp_safe, times_pow2
from ._common import (
    SquareProducts,
    check_symmetric_core,
    draw_vectors,
    pow2_scale,
    shifted_cholesky,
    small,
    symmetry_tolerance,
)
from ._results import DiagonalEstimate, TraceEstimate

__all__ = ["hutchinson", "hutchpp", "xdiag", "xnystrace", "xtrace"]

DISTRIBUTIONS = ("rademacher", "gaussian", "sphere")


class _Scaled:
    """Products ``2^e A X`` with one exact power-of-two scale (fixed by the first product), so that no square or
    sum of squares of the estimators under- or overflows; :meth:`unscale` returns to `A`'s units."""

    def __init__(self, P):
        self.P, self.e = P, None

    def _fix(self, Y):
        if self.e is None:
            self.e = pow2_scale(Y, self.P)
        return times_pow2(Y, self.e, self.P.dtype)

    def matmat(self, X):
        return self._fix(self.P.matmat(X))

    def rmatmat(self, X):
        return self._fix(self.P.rmatmat(X))

    def unscale(self, x):
        e = self.e or 0
        return ldexp_safe(x, -e) if isinstance(x, float) else times_pow2(x, -e, self.P.dtype)


def _prepare(A, n_matvecs, distribution, per_vector, minimum, name="A"):
    """Validated ``(P, m, distribution)``: `m` test vectors from `n_matvecs` (``per_vector`` products each)."""
    P = SquareProducts(A, name)
    n_matvecs = check_int(n_matvecs, "n_matvecs", low=minimum * per_vector)
    check_option(distribution, "distribution", DISTRIBUTIONS)
    return P, n_matvecs // per_vector


def _cap(m, P, what):
    if m > P.n:
        raise ValueError(f"n_matvecs asks for {m} test vectors for {what}, more than n = {P.n}: each must be new "
                         "information (use n_matvecs <= the bound, or compute the trace exactly)")


def _mean_and_error(samples):
    samples = np.asarray(samples, dtype=np.float64)
    return float(np.mean(samples)), float(np.std(samples, ddof=1) / math.sqrt(samples.size))


def _colsum(X, Y, xp):
    """``diag(X^T Y)`` for two (n, m) blocks, as NumPy float64."""
    return small(xp.sum(xp.astype(X, xp.float64) * xp.astype(Y, xp.float64), axis=0))


def _result(S, est, err, P):
    return TraceEstimate(S.unscale(est), S.unscale(err), P.n_vectors)


@refuse_random_state
def hutchinson(A, n_matvecs, *, distribution="rademacher", rng=None):
    """Girard-Hutchinson trace estimate ``tr(A) ~ (1/m) sum_i w_i^T A w_i``.

    Parameters
    ----------
    A : (n, n) array, sparse matrix or LinearOperator
        Any square matrix; only products ``A @ W`` are formed (a LinearOperator built from a matvec gives
        ``tr(f(B))`` for any ``f(B) x`` the caller can apply). Never modified.
    n_matvecs : int
        Products with a vector, ``m >= 2``.
    distribution : {"rademacher", "gaussian", "sphere"}
        Test vectors: random signs (the smallest variance for real matrices), standard Gaussian, or uniform on the
        sphere of radius ``sqrt(n)``.
    rng : None, int or numpy.random.Generator
        Source of the test vectors.

    Returns
    -------
    TraceEstimate
        ``estimate``, ``error_estimate`` (the sample standard deviation of the ``w_i^T A w_i`` over ``sqrt(m)``)
        and ``n_matvecs``.

    See Also
    --------
    hutchpp : Hutch++, with a low-rank part taken exactly: smaller variance for matrices with decaying spectra.
    xtrace : XTrace, the exchangeable refinement of Hutch++.
    xdiag : The diagonal, by the same kind of estimator.

    Notes
    -----
    Unbiased; the error decays like ``1/sqrt(m)``: relative error ``eps`` needs ``O(1/eps^2)`` products [1]_.
    :func:`hutchpp` and :func:`xtrace` need ``O(1/eps)`` on matrices with decaying spectra.

    References
    ----------
    .. [1] M. F. Hutchinson, "A stochastic estimator of the trace of the influence matrix for Laplacian smoothing
       splines", Commun. Stat. Simul. Comput. 18 (1989).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.psd import hutchinson
    >>> A = np.diag(np.arange(1.0, 101.0))
    >>> res = hutchinson(A, 40, rng=0)
    >>> res.estimate                                   # a diagonal matrix: Rademacher probes are exact
    5050.0
    """
    P, m = _prepare(A, n_matvecs, distribution, 1, 2)
    xp, S = P.xp, _Scaled(P)
    W = draw_vectors(P, m, distribution, as_rng(rng, xp))
    est, err = _mean_and_error(_colsum(W, S.matmat(W), xp))
    return _result(S, est, err, P)


@refuse_random_state
def hutchpp(A, n_matvecs, *, distribution="rademacher", rng=None):
    """Hutch++ trace estimate: the trace of a low-rank part exactly, Hutchinson on the rest.

    Parameters
    ----------
    A : (n, n) array, sparse matrix or LinearOperator
        Any square matrix (the ``O(1/eps)`` rate holds for PSD ones); only products ``A @ X``. Never modified.
    n_matvecs : int
        Products with a vector, ``m >= 6``: ``s = m // 3`` for the sketch ``A S``, ``s`` for ``A Q`` and the
        remaining ``g = m - 2 s`` for Hutchinson on the deflated matrix (``s <= n``).
    distribution : {"rademacher", "gaussian", "sphere"}
        Test vectors (see :func:`hutchinson`).
    rng : None, int or numpy.random.Generator
        Source of the test vectors.

    Returns
    -------
    TraceEstimate
        ``estimate = tr(Q^T A Q) + (1/g) sum_j g_j^T (I - QQ^T) A (I - QQ^T) g_j`` with ``Q = orth(A S)``;
        ``error_estimate`` the standard error of the Hutchinson part; ``n_matvecs``.

    See Also
    --------
    hutchinson : The plain Girard-Hutchinson estimator Hutch++ applies to the remainder.
    xtrace : XTrace, which uses every product twice through leave-one-out.
    xnystrace : XNysTrace, for positive semidefinite matrices.

    Notes
    -----
    For PSD ``A``, ``|estimate - tr(A)| <= eps tr(A)`` with high probability after ``O(1/eps)`` products,
    against ``O(1/eps^2)`` for Hutchinson [1]_, and no algorithm with matvecs only does better in general.

    References
    ----------
    .. [1] R. A. Meyer, C. Musco, C. Musco, D. P. Woodruff, "Hutch++: optimal stochastic trace estimation",
       SOSA 2021 (arXiv:2010.09649).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.psd import hutchpp
    >>> G = np.random.default_rng(0).standard_normal((500, 10))
    >>> res = hutchpp(G @ G.T, 60, rng=0)                  # rank 10 <= m/3: the low-rank part is exact
    >>> bool(abs(res.estimate - np.sum(G**2)) < 1e-8 * np.sum(G**2))
    True
    """
    P, _ = _prepare(A, n_matvecs, distribution, 1, 6)
    s = n_matvecs // 3
    _cap(s, P, "the Hutch++ sketch")
    g = n_matvecs - 2 * s
    xp, S, gen = P.xp, _Scaled(P), as_rng(rng, P.xp)
    Sk = draw_vectors(P, s, distribution, gen)
    Q = qr_econ(S.matmat(Sk), xp)[0]
    low = float(np.sum(_colsum(Q, S.matmat(Q), xp)))
    G = draw_vectors(P, g, distribution, gen)
    G = G - Q @ (Q.T @ G)
    est, err = _mean_and_error(_colsum(G, S.matmat(G), xp))
    return _result(S, low + est, err, P)


def _normalized_inverse_columns(R):
    """``S``: the columns of ``R^{-T}``, normalised (``s_i`` spans the part of span(Q) orthogonal to the other
    columns of ``Y = Q R``). Diagonal entries of ``R`` below ``eps max|R|`` (a rank-deficient ``Y``) are raised
    to it, so the directions left free are numerically random, not NaN."""
    R = np.array(R, dtype=np.float64)
    d = np.diag(R)
    floor = np.finfo(np.float64).eps * max(float(np.max(np.abs(R))) if R.size else 0.0, np.finfo(np.float64).tiny)
    small_diag = np.abs(d) < floor
    R[np.diag_indices_from(R)] = np.where(small_diag, floor, d)
    Sinv = np.linalg.inv(R).T  # R^{-T}; R upper triangular: LU takes no pivots (NumPy's LAPACK: SMALL_WORK_NOTE)
    return Sinv / np.linalg.norm(Sinv, axis=0)


@refuse_random_state
def xtrace(A, n_matvecs, *, distribution="sphere", rng=None):
    """XTrace: the exchangeable, leave-one-out form of Hutch++ that uses every product twice.

    Parameters
    ----------
    A : (n, n) array, sparse matrix or LinearOperator
        Any square matrix; only products ``A @ X``. Never modified.
    n_matvecs : int
        Products with a vector, ``m >= 4``: ``m // 2`` test vectors ``Omega`` and as many for ``A Q``
        (``m // 2 <= n``).
    distribution : {"sphere", "rademacher", "gaussian"}
        Test vectors. "sphere" (uniform of norm ``sqrt(n)``) with the improved normalisation of the paper is the
        default and the most accurate.
    rng : None, int or numpy.random.Generator
        Source of the test vectors.

    Returns
    -------
    TraceEstimate
        ``estimate`` (the mean of the ``m/2`` leave-one-out estimates), ``error_estimate`` (their standard
        deviation over ``sqrt(m/2)``), ``n_matvecs``.

    See Also
    --------
    hutchpp : Hutch++, of which this is the exchangeable leave-one-out form.
    xnystrace : The variant for positive semidefinite matrices, from one set of products.
    xdiag : The diagonal by the same leave-one-out construction.

    Notes
    -----
    ``Y = A Omega = Q R``. For each ``i``, ``Q_(i)`` spans ``A Omega`` without column ``i``, and
    ``t_i = tr(Q_(i)^T A Q_(i)) + w_i^T (I - Q_(i) Q_(i)^T) A (I - Q_(i) Q_(i)^T) w_i``; every ``Q_(i)`` is a
    rank-one downdate of ``Q`` (the normalised column ``i`` of ``R^{-T}``), so all ``m/2`` estimates cost
    ``O(n m^2)`` after the products ``A Omega`` and ``A Q``. The estimate is unbiased and, on matrices with
    decaying spectra, at least as accurate as Hutch++ with the same number of products [1]_.

    References
    ----------
    .. [1] E. N. Epperly, J. A. Tropp, R. J. Webber, "XTrace: making the most of every sample in stochastic trace
       estimation", SIAM J. Matrix Anal. Appl. 45 (2024) (arXiv:2301.07825).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.psd import xtrace
    >>> A = np.diag(1.0 / np.arange(1, 1001) ** 2)
    >>> res = xtrace(A, 40, rng=0)
    >>> bool(abs(res.estimate - np.trace(A)) < 3 * res.error_estimate + 1e-3)
    True
    """
    P, m = _prepare(A, n_matvecs, distribution, 2, 2)
    _cap(m, P, "XTrace")
    xp, S, n = P.xp, _Scaled(P), P.n
    Om = draw_vectors(P, m, distribution, as_rng(rng, xp))
    Y = S.matmat(Om)
    Q, R = qr_econ(Y, xp)
    Z = S.matmat(Q)
    H, W, T, R = small(Q.T @ Z), small(Q.T @ Om), small(Z.T @ Om), small(R)
    Sn = _normalized_inverse_columns(R)
    HW = H @ W
    c = np.sum(Sn * W, axis=0)  # s_i^T w_i
    dSHS = np.sum(Sn * (H @ Sn), axis=0)
    residual = (_colsum(Om, Y, xp) - np.sum(W * R, axis=0) - np.sum(T * W, axis=0) + np.sum(W * HW, axis=0)
                + c * np.sum(Sn * (R - HW), axis=0) + c**2 * dSHS + c * np.sum((T - H.T @ W) * Sn, axis=0))
    if distribution == "sphere":  # the improved normalisation: |(I - Q_(i) Q_(i)^T) w_i|^2 -> n - m + 1
        residual = residual * (n - m + 1) / (n - np.sum(W**2, axis=0) + c**2)
    est, err = _mean_and_error(np.trace(H) - dSHS + residual)
    return _result(S, est, err, P)


@refuse_random_state
def xnystrace(A, n_matvecs, *, distribution="sphere", check_symmetric=True, sym_tol=None, rng=None):
    """XNysTrace: XTrace for positive semidefinite matrices, on a Nystrom approximation (one set of products).

    Parameters
    ----------
    A : (n, n) array, sparse matrix or LinearOperator
        Symmetric positive semidefinite; only products ``A @ Omega``. Never modified.
    n_matvecs : int
        Products with a vector, ``2 <= m <= n``: all of them form the sketch ``A Omega``.
    distribution : {"sphere", "rademacher", "gaussian"}
        Test vectors (see :func:`xtrace`).
    check_symmetric : bool
        Check symmetry on ``Omega^T A Omega`` (free; see :func:`nystrom`).
    sym_tol : float, optional
        Its tolerance; default ``sqrt(eps)``.
    rng : None, int or numpy.random.Generator
        Source of the test vectors.

    Returns
    -------
    TraceEstimate
        ``estimate`` (mean of the ``m`` leave-one-out estimates), ``error_estimate``, ``n_matvecs``.

    Raises
    ------
    ValueError
        If `A` is not square, not symmetric (to `sym_tol`) or not positive semidefinite.

    See Also
    --------
    xtrace : The variant for any square matrix.
    nystrom : The Nystrom approximation it builds on.

    Notes
    -----
    ``t_i = tr(A_hat_(i)) + w_i^T (A - A_hat_(i)) w_i`` with ``A_hat_(i)`` the Nystrom approximation from all
    test vectors but ``w_i``; with ``H = Omega^T A Omega``, ``w_i^T (A - A_hat_(i)) w_i = 1 / (H^{-1})_{ii}``.
    The stable shifted Nystrom construction is used (the shift is subtracted from the trace). For PSD matrices
    it is the most accurate of the estimators here at a given number of products [1]_.

    References
    ----------
    .. [1] E. N. Epperly, J. A. Tropp, R. J. Webber, "XTrace: making the most of every sample in stochastic trace
       estimation", SIAM J. Matrix Anal. Appl. 45 (2024) (arXiv:2301.07825).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.psd import xnystrace
    >>> G = np.random.default_rng(0).standard_normal((400, 8))
    >>> res = xnystrace(G @ G.T, 20, rng=0)             # exact rank 8 < m: exact up to rounding
    >>> bool(abs(res.estimate - np.sum(G**2)) < 1e-9 * np.sum(G**2))
    True
    """
    P, m = _prepare(A, n_matvecs, distribution, 1, 2)
    _cap(m, P, "XNysTrace")
    stol = symmetry_tolerance(check_symmetric, sym_tol, P)
    xp, S, n = P.xp, _Scaled(P), P.n
    Om = draw_vectors(P, m, distribution, as_rng(rng, xp))
    Y = S.matmat(Om)
    Om64, Y64 = xp.astype(Om, xp.float64), xp.astype(Y, xp.float64)
    core, gram = small(Om64.T @ Y64), small(Om64.T @ Om64)
    check_symmetric_core(core, stol)
    norm_y = float(np.sqrt(small(xp.sum(Y64 * Y64))))
    if norm_y == 0.0:
        return _result(S, 0.0, 0.0, P)
    C, nu = shifted_cholesky((core + core.T) / 2, gram, norm_y, n, P.eps)
    if C is None:
        raise ValueError("A must be positive semidefinite, but Omega^T A Omega is indefinite beyond the stabilising "
                         "shift; use xtrace for matrices that are not PSD")
    R = small(qr_econ(Y64 + nu * Om64, xp)[1])
    Cinv = np.linalg.inv(C)  # C upper triangular: LU takes no pivots (NumPy's LAPACK: SMALL_WORK_NOTE)
    B = R @ Cinv  # the Nystrom approximation of A + nu I is Q B B^T Q^T
    Hinv = Cinv @ Cinv.T
    d = 1.0 / np.diag(Hinv)  # w_i^T (A_nu - A_hat_(i)) w_i
    downdate = np.sum((R @ Hinv) ** 2, axis=0) * d  # tr(A_hat) - tr(A_hat_(i))
    scale = (n - m + 1) * np.diag(np.linalg.inv(gram)) if distribution == "sphere" else 1.0
    est, err = _mean_and_error(np.sum(B**2) - downdate + d * scale - nu * n)
    return _result(S, est, err, P)


@refuse_random_state
def xdiag(A, n_matvecs, *, distribution="rademacher", rng=None):
    """XDiag: the diagonal of a matrix from products with it and its transpose (leave-one-out, exchangeable).

    Parameters
    ----------
    A : (n, n) array, sparse matrix or LinearOperator
        Any square matrix; products ``A @ Omega`` and ``A^T @ Q``. Never modified.
    n_matvecs : int
        Products with a vector, ``m >= 4``: ``m // 2`` test vectors and as many products with ``A^T``
        (``m // 2 <= n``).
    distribution : {"rademacher", "gaussian", "sphere"}
        Test vectors; random signs (the default) make the Hutchinson-type part exact on diagonal matrices.
    rng : None, int or numpy.random.Generator
        Source of the test vectors.

    Returns
    -------
    DiagonalEstimate
        ``estimate`` (n,) in `A`'s namespace and dtype, ``error_estimate`` (n,) (the spread of the
        leave-one-out estimates over ``sqrt(m/2)``), ``n_matvecs``.

    See Also
    --------
    xtrace : The trace by the same leave-one-out construction.
    hutchinson : The Girard-Hutchinson trace estimator.

    Notes
    -----
    With ``Y = A Omega = Q R`` and ``Q_(i)`` as in :func:`xtrace`, the ``i``-th estimate is
    ``diag(Q_(i) Q_(i)^T A) + w_i * ((I - Q_(i) Q_(i)^T) A w_i)`` (entrywise product); XDiag is their mean [1]_.

    References
    ----------
    .. [1] E. N. Epperly, J. A. Tropp, R. J. Webber, "XTrace: making the most of every sample in stochastic trace
       estimation", SIAM J. Matrix Anal. Appl. 45 (2024) (arXiv:2301.07825).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.psd import xdiag
    >>> G = np.random.default_rng(0).standard_normal((300, 5))
    >>> res = xdiag(G @ G.T, 20, rng=0)                 # rank 5 < m/2: exact up to rounding
    >>> bool(np.allclose(res.estimate, np.sum(G**2, axis=1)))
    True
    """
    P, m = _prepare(A, n_matvecs, distribution, 2, 2)
    _cap(m, P, "XDiag")
    xp, S = P.xp, _Scaled(P)
    Om = draw_vectors(P, m, distribution, as_rng(rng, xp))
    Y = S.matmat(Om)
    Q, R = qr_econ(Y, xp)
    Z = S.rmatmat(Q)  # A^T Q
    T = small(Z.T @ Om)
    Sn = _normalized_inverse_columns(small(R))
    QS, ZS = Q @ P.asarray(Sn), Z @ P.asarray(Sn)
    base = xp.sum(Q * Z, axis=1)  # diag(Q Q^T A)
    leave = -(QS * ZS) + Om * (Y - Q @ P.asarray(T)) + (QS * Om) * P.asarray(np.sum(Sn * T, axis=0))
    samples = xp.reshape(base, (-1, 1)) + leave
    est = xp.mean(samples, axis=1)
    err = xp.std(samples, axis=1, correction=1) / math.sqrt(m)
    return DiagonalEstimate(S.unscale(est), S.unscale(err), P.n_vectors)
