"""Tall least squares by sketch-and-precondition (Blendenpik / LSRN style)."""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse.linalg as spla

from .._backend import SolverResult, as_rng, qr_econ, working_dtype
from .._validate import check_finite, check_int, check_matrix, check_shape_agrees, check_tolerance, is_sparse
from ._operators import make_sketch

__all__ = ["lstsq_sketched"]


def lstsq_sketched(A, b, *, sketch="sparse_sign", oversample=6, tol=1e-10, maxiter=None, rng=None):
    r"""Solve ``min_x ||A x - b||_2`` for a tall ``A`` by sketch-and-precondition.

    A random sketch ``S`` (``s x N``, ``s = oversample * k``) gives ``S A = Q R``; ``R`` is a preconditioner
    that makes ``A R^{-1}`` well conditioned (condition number about
    ``(1 + sqrt(1/oversample)) / (1 - sqrt(1/oversample))``: 2.4 for the default ``oversample=6``, below 3
    with probability about 0.99 or more in the tests), whatever the
    conditioning of ``A``. LSQR on ``A R^{-1}`` then converges in ``O(log(1/tol))`` steps, started at the
    sketch-and-solve point ``x_0 = R^{-1} Q^T S b``.

    Parameters
    ----------
    A : (N, k) array or scipy.sparse matrix
        Tall design, ``N >= k``, full column rank, finite; only touched through products after the sketch.
    b : (N,) array
        Right-hand side, finite.
    sketch : str
        Any kind of :func:`lowrank_la.sketch.make_sketch`; ``"sparse_sign"`` (8 nonzeros per column) costs
        ``O(8 nnz(A))`` and suits sparse and dense ``A``; ``"srht"`` and ``"gaussian"`` work too.
    oversample : int
        Sketch rows per unknown, ``>= 2``. If ``oversample * k >= N`` sketching cannot help and the problem is
        solved directly (``scipy.linalg.lstsq``).
    tol : float
        LSQR's ``atol = btol``: it stops when ``||(A R^-1)^T r|| <= tol ||A R^-1|| ||r||`` (or the residual is
        ``tol``-small), so the forward error is about ``tol`` times the condition number of ``A R^-1``, not of
        ``A``. Clipped below at the dtype's machine epsilon.
    maxiter : int, optional
        Cap on the LSQR steps (default ``10 + 2 log2(1/tol)``, far above what a good preconditioner needs).
    rng : None, int or numpy.random.Generator
        Randomness of the sketch.

    Returns
    -------
    SolverResult
        ``x`` (k,) in the dtype of ``A`` and ``b``; ``R`` (k, k), the preconditioner; ``x0``, the
        sketch-and-solve point; ``converged``; ``n_iter`` (LSQR steps); ``method`` (``"sketch"`` or
        ``"direct"``); ``history`` with ``residual`` = ``[||b - A x0||, ||b - A x||]``.

    Raises
    ------
    ValueError
        If ``A`` is not tall (``N < k``), the shapes disagree, an input holds NaN or Inf, or an argument is
        out of range.
    numpy.linalg.LinAlgError
        If the sketch of ``A`` is numerically rank deficient (``A`` has no full column rank).

    Notes
    -----
    Cost: the sketch ``O(8 nnz(A))`` (sparse sign), the QR ``O(s k^2)``, and ``O(nnz(A) + k^2)`` per LSQR step,
    so ``O(nnz(A) log(1/tol) + k^3)`` in all, against ``O(N k^2)`` for a dense QR. It pays when ``N >> k``
    and ``k`` is large enough that ``k >> log(1/tol)``.

    References
    ----------
    .. [1] H. Avron, P. Maymounkov, S. Toledo, "Blendenpik: Supercharging LAPACK's least-squares solver",
           SIAM J. Sci. Comput. 32(3), 2010.
    .. [2] X. Meng, M. A. Saunders, M. W. Mahoney, "LSRN: A parallel iterative solver for strongly over- or
           underdetermined systems", SIAM J. Sci. Comput. 36(2), 2014.
    .. [3] Y. Gu, Z. Song, J. Yin, L. Zhang, "Low Rank Matrix Completion via Robust Alternating Minimization in
           Nearly Linear Time", ICLR 2024 (the per-row solver of the robust AltMin step).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.sketch import lstsq_sketched
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((2000, 20)) * np.logspace(0, 6, 20)   # condition number ~1e6
    >>> b = rng.standard_normal(2000)
    >>> res = lstsq_sketched(A, b, rng=0)
    >>> x_ref = np.linalg.lstsq(A, b, rcond=None)[0]
    >>> bool(res.converged), bool(np.linalg.norm(A @ (res.x - x_ref)) < 1e-8 * np.linalg.norm(A @ x_ref))
    (True, True)
    >>> bool(np.linalg.cond(A @ np.linalg.inv(res.R)) < 3)
    True
    """
    check_matrix(A, "A")
    N, k = A.shape
    if N < k:
        raise ValueError(f"A must be tall: A.shape[0]={N} must satisfy A.shape[0] >= A.shape[1] = {k}")
    b = np.asarray(b)
    if b.ndim != 1:
        raise ValueError(f"b must be 1-D, got an array of shape {b.shape}")
    check_shape_agrees("b.shape[0]", b.shape[0], N, "A.shape[0]")
    check_finite(b, "b")
    oversample = check_int(oversample, "oversample", low=2)
    tol = check_tolerance(tol, "tol", high=1)
    dtype = np.result_type(working_dtype(A.dtype, np, name="A"), working_dtype(b.dtype, np, name="b"))
    tol = max(tol, float(np.finfo(dtype).eps))
    if maxiter is None:
        maxiter = int(10 + 2 * np.log2(1 / tol))
    maxiter = check_int(maxiter, "maxiter", low=1)
    gen = as_rng(rng)
    if not is_sparse(A):
        A = np.asarray(A, dtype=dtype)
    elif A.dtype != dtype:
        A = A.astype(dtype)
    b = b.astype(dtype)

    s = oversample * k
    if s >= N:  # the sketch would be as tall as A: solve directly
        Ad = A.toarray() if is_sparse(A) else A
        x = scipy.linalg.lstsq(Ad, b, check_finite=False)[0].astype(dtype)
        r = float(np.linalg.norm(b - Ad @ x))
        return SolverResult(x=x, R=None, x0=x, converged=True, n_iter=0, method="direct",
                            history={"residual": [r, r]})
    options = {"nnz_per_col": min(8, s)} if sketch == "sparse_sign" else {}
    S = make_sketch(sketch, s, N, rng=gen, **options)
    SA = S @ A
    SA = np.asarray(SA.toarray() if is_sparse(SA) else SA, dtype=dtype)
    Sb = np.asarray(S @ b, dtype=dtype)
    Q, R = qr_econ(SA)
    diag = np.abs(np.diag(R))
    if diag.min() <= k * np.finfo(dtype).eps * diag.max():
        raise np.linalg.LinAlgError("A is numerically rank deficient (its sketch has a singular R factor); "
                                    "lstsq_sketched needs a full-column-rank A")
    y0 = Q.T @ Sb
    x0 = scipy.linalg.solve_triangular(R, y0, check_finite=False)

    def matvec(y):
        return A @ scipy.linalg.solve_triangular(R, np.ravel(y), check_finite=False)

    def rmatvec(r):
        return scipy.linalg.solve_triangular(R, A.T @ np.ravel(r), trans="T", check_finite=False)

    op = spla.LinearOperator((N, k), matvec=matvec, rmatvec=rmatvec, dtype=dtype)
    out = spla.lsqr(op, b, atol=tol, btol=tol, iter_lim=maxiter, x0=y0)
    y, istop, itn = out[0], out[1], out[2]
    x = scipy.linalg.solve_triangular(R, y, check_finite=False).astype(dtype)
    r0 = float(np.linalg.norm(b - A @ x0))
    r1 = float(np.linalg.norm(b - A @ x))
    return SolverResult(x=x, R=R, x0=x0.astype(dtype), converged=bool(istop in (0, 1, 2, 4, 5)), n_iter=int(itn),
                        method="sketch", history={"residual": [r0, r1]})
