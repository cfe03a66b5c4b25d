"""Nystrom-preconditioned conjugate gradients for ``(A + mu I) x = b`` (Frangella, Tropp, Udell 2023)."""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._backend import ConvergenceWarning, SolverResult, as_rng, to_numpy
from .._validate import as_matrix, check_int, check_real, check_shape_agrees, check_tolerance, refuse_random_state
from ..svd._common import pow2_exponent, safe_norm, times_pow2
from ._common import SquareProducts, check_sketch, pow2_scale, symmetry_tolerance
from ._nystrom import _Growth

__all__ = ["nystrom_pcg"]


def _vector(b, name, P):
    """The vector argument `name` by the input rule, of length n, in `P`'s namespace and working dtype."""
    b = as_matrix(b, name, ndim=1, sparse=False)
    check_shape_agrees(f"{name}.shape[0]", b.shape[0], P.n, "A.shape[0]")
    return P.asarray(to_numpy(b))


@refuse_random_state
def nystrom_pcg(A, b, mu, *, rank="auto", max_rank=None, tol=1e-6, maxiter=None, x0=None, sketch="gaussian",
                check_symmetric=True, sym_tol=None, rng=None):
    """Solve ``(A + mu I) x = b`` for a positive semidefinite `A` by CG with a randomized Nystrom preconditioner.

    Parameters
    ----------
    A : (n, n) array, sparse matrix or LinearOperator
        Symmetric positive semidefinite (for example a kernel matrix, also a :class:`KernelMatrix` that is never
        formed). Touched only through products; never modified.
    b : (n,) array_like
        Right-hand side.
    mu : float
        The shift (regularisation), ``mu >= 0``; ``mu = 0`` needs a positive definite `A`.
    rank : int or "auto"
        Rank ``l`` of the Nystrom approximation ``A ~ U diag(lam) U^T``. "auto" (the adaptive rule of [1]_):
        start at 16 and double the sketch until its smallest eigenvalue ``lam_l`` is at most ``mu`` (then the
        preconditioned condition number is small), up to `max_rank`.
    max_rank : int, optional
        Cap of the adaptive rank; default ``min(n, 1000)``.
    tol : float
        Relative residual ``||b - (A + mu I) x|| / ||b||`` to reach (checked on the true residual at the end).
    maxiter : int, optional
        Most CG iterations; default ``10 n``. Reaching it warns ``ConvergenceWarning``.
    x0 : (n,) array_like, optional
        Starting guess; default zero.
    sketch : {"gaussian", "rademacher", "sparse_sign", "countsketch", "srht", "fjlt"}
        Test matrix of the Nystrom sketch.
    check_symmetric : bool
        Whether to run the symmetry check of :func:`nystrom`.
    sym_tol : float, optional
        Tolerance of that check, as in :func:`nystrom`.
    rng : None, int or numpy.random.Generator
        Source of the sketch.

    Returns
    -------
    SolverResult
        ``x`` (n,), ``converged``, ``n_iter`` (CG iterations), ``residual`` (the final true relative residual),
        ``rank`` (of the preconditioner), ``n_passes`` (products with `A`, the sketch included) and ``history``
        (``{"residual": relative residual per iteration}``).

    Raises
    ------
    ValueError
        If `A` is not square, not symmetric or not PSD (as :func:`nystrom` checks), ``mu < 0``, `b` or `x0` has
        the wrong length or holds NaN or Inf, or an option is out of range.

    See Also
    --------
    nystrom : The Nystrom approximation the preconditioner is built from.
    lowrank_la.sketch.lstsq_sketched : Sketch-and-precondition for overdetermined least squares.
    scipy.sparse.linalg.cg : Conjugate gradients without a preconditioner.

    Notes
    -----
    ``P^{-1} = (lam_l + mu) U (diag(lam) + mu I)^{-1} U^T + (I - U U^T)``: it maps the top ``l`` eigendirections
    of ``A + mu I`` to about ``lam_l + mu`` and leaves the rest, so that the condition number of the preconditioned
    system is ``O(1)`` once ``l`` exceeds about twice the effective dimension ``sum_j lam_j / (lam_j + mu)`` [1]_;
    CG then needs a number of iterations nearly independent of ``cond(A + mu I)``. Cost: the sketch (a pass per
    doubling, ``O(n l^2)``), then per iteration one product with `A` and ``O(n l)``. Kernel ridge regression,
    ``(K + n lambda I) alpha = y``, is the classical use.

    References
    ----------
    .. [1] Z. Frangella, J. A. Tropp, M. Udell, "Randomized Nystrom preconditioning", SIAM J. Matrix Anal. Appl.
       44 (2023) (arXiv:2110.02820).

    Examples
    --------
    Kernel ridge regression with an RBF kernel that is never formed:

    >>> import numpy as np
    >>> from lowrank_la.psd import KernelMatrix, nystrom_pcg
    >>> gen = np.random.default_rng(0)
    >>> X = gen.uniform(-3, 3, (1500, 1))
    >>> y = np.sin(2 * X[:, 0]) + 0.1 * gen.standard_normal(1500)
    >>> K = KernelMatrix(lambda P, Q: np.exp(-(P - Q.T) ** 2 / 0.5), X, diag=lambda P: np.ones(len(P)))
    >>> res = nystrom_pcg(K, y, mu=1e-3 * 1500, tol=1e-8, rng=0)
    >>> bool(res.converged), res.n_iter < 30
    (True, True)
    """
    P = SquareProducts(A, symmetric=True)
    xp, n = P.xp, P.n
    b = _vector(b, "b", P)
    mu = check_real(mu, "mu", low=0)
    max_rank = min(n, 1000) if max_rank is None else check_int(max_rank, "max_rank", low=1, high=n,
                                                                 high_text=f"n = {n}")
    fixed = rank != "auto"
    l0 = check_int(rank, "rank", low=1, high=n, high_text=f"n = {n}") if fixed else min(16, max_rank)
    tol = check_tolerance(tol, high=1)
    maxiter = 10 * n if maxiter is None else check_int(maxiter, "maxiter", low=1)
    x = xp.zeros(n, dtype=P.dtype) if x0 is None else _vector(x0, "x0", P)
    check_sketch(sketch)
    stol = symmetry_tolerance(check_symmetric, sym_tol, P)
    grown = _Growth(P, l0, sketch, as_rng(rng, xp), stol)
    while not fixed and grown.size < max_rank and float(grown.lam[-1]) > mu:
        grown.grow(min(grown.size, max_rank - grown.size), probe=False)
    lam, U = grown.lam, grown.U
    # exact power-of-two scales: A and mu by 2^ea (the top of the spectrum of A + mu I near 1), b by 2^eb
    top = max(float(lam[0]) if lam.size else 0.0, mu)
    ea = pow2_exponent(top) if top > 0 else pow2_scale(grown.Y, P)
    eb = pow2_scale(xp.reshape(b, (-1, 1)), P)
    mus, lams = math.ldexp(mu, ea), np.ldexp(lam, ea)
    inv = P.asarray((lams[-1] + mus) / (lams + mus) - 1.0)  # P^{-1} = I + U diag(inv) U^T

    def precondition(r):
        return r + U @ (inv * (U.T @ r))

    def apply(v):
        return times_pow2(P.matmat(v), ea, P.dtype) + mus * v

    bs = times_pow2(b, eb, P.dtype)
    xs = times_pow2(x, eb - ea, P.dtype)  # x in the scaled problem's units: (As + mus) xs = bs
    bnorm = safe_norm(bs, xp)
    history = []
    converged, n_iter = False, 0
    if bnorm == 0:
        xs, converged = xp.zeros(n, dtype=P.dtype), True
    while not converged and n_iter < maxiter:
        r = bs - apply(xs)  # the true residual (at the start, and after the recurrence claims convergence)
        res = safe_norm(r, xp) / bnorm
        if res <= tol:
            converged = True
            break
        z = precondition(r)
        p, rz = z, float(to_numpy(xp.sum(r * z)))
        while n_iter < maxiter:
            Ap = apply(p)
            alpha = rz / float(to_numpy(xp.sum(p * Ap)))
            xs = xs + alpha * p
            r = r - alpha * Ap
            n_iter += 1
            res = safe_norm(r, xp) / bnorm
            history.append(res)
            if res <= tol or not math.isfinite(res):
                break
            z = precondition(r)
            rz_new = float(to_numpy(xp.sum(r * z)))
            p, rz = z + (rz_new / rz) * p, rz_new
        if not math.isfinite(res):
            break
    final = safe_norm(bs - apply(xs), xp) / bnorm if bnorm > 0 else 0.0
    converged = bool(final <= tol)
    if not converged:
        warnings.warn(f"nystrom_pcg stopped after {n_iter} iterations at relative residual {final:.3g} > "
                      f"tol={tol:g}: raise maxiter or the preconditioner's rank", ConvergenceWarning, stacklevel=3)
    x = times_pow2(xs, ea - eb, P.dtype)
    return SolverResult(x=x, converged=converged, n_iter=n_iter, residual=final, rank=grown.size,
                        n_passes=P.n_passes, history={"residual": np.asarray(history, dtype=np.float64)})
