"""Pseudoinverses from factorizations: a rank factorization ``A = B D``, and Karpowicz-Strang's randomized formula."""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg

from .._backend import array_namespace, as_operator, is_numpy_namespace, qr_econ, working_dtype
from .._backend.linalg import refuse_dask
from .._validate import as_matrix, check_real, check_shape_agrees
from ..svd._common import pow2_exponent, times_pow2
from ._input import PreparedMatrix, host
from ._meta import (
    RankConditionWarning,
    as_frame,
    default_rcond,
    numerical_rank,
    singular_values,
    small_pinv,
    solve_upper,
)

__all__ = ["pinv_from_rank_factorization", "randomized_pinv", "rank_factorization"]


def rank_factorization(A, *, rcond=None):
    """Rank factorization ``A = B D`` with ``B = A[:, pivots]`` (the pivot columns, as in ``rref``).

    Column-pivoted QR ``A P = Q [R11 R12]`` gives the numerical rank r (``|R_jj| > rcond |R_00|``), ``B`` the r
    pivot columns of A and ``D = [I, R11^{-1} R12] P^T`` (r x n): the nonzero rows of the reduced row echelon
    form, computed stably.

    Parameters
    ----------
    A : (m, n) array
        Dense, of any array-API namespace (factorized on the host; the factors come back in its namespace). A
        Dask array is refused with a ``TypeError``: the pivoted QR needs the whole matrix in one place.
    rcond : float, optional
        Relative rank cut-off, in ``(0, 1)``; default ``max(m, n) * eps``.

    Returns
    -------
    B : (m, r) array
        The pivot columns ``A[:, pivots]``.
    D : (r, n) array
        The coefficients, ``D[:, pivots] = I``.
    pivots : (r,) int array
        Indices of the ``r`` pivot columns (``r`` the numerical rank). A zero matrix has rank ``r = 0``:
        ``B`` is (m, 0) and ``D`` (0, n), as ``scipy.linalg.orth`` returns an
        (m, 0) basis for it.

    Raises
    ------
    ValueError
        If `A` is not 2-D, is empty or holds NaN or Inf, or `rcond` is out of range.
    TypeError
        If `A` is not a dense real array.

    See Also
    --------
    pinv_from_rank_factorization : The pseudoinverse from these factors.
    interpolative : The interpolative decomposition, a column-selecting factorization of given rank.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.factor import rank_factorization
    >>> A = np.outer([1.0, 2.0, 3.0], [1.0, 0.0, 2.0])
    >>> B, D, piv = rank_factorization(A)
    >>> B.shape, D.shape, bool(np.allclose(B @ D, A))
    ((3, 1), (1, 3), True)
    """
    prep = PreparedMatrix(A, "A", operator=False, sparse=False)
    refuse_dask(prep.given, "A", "rank_factorization (column-pivoted QR of A)",
                "factor.interpolative(A, eps) finds the rank and the pivot columns chunk by chunk")
    if rcond is not None:
        rcond = check_real(rcond, "rcond", low=0, high=1, low_inclusive=False, high_inclusive=False)
    cut = rcond if rcond is not None else default_rcond(prep.work.shape, prep.dtype, np)
    R, perm = scipy.linalg.qr(prep.work, mode="r", pivoting=True, check_finite=False)
    diag = np.abs(np.diag(R))
    r = int(np.sum(diag > cut * diag[0])) if diag[0] > 0 else 0
    D = np.zeros((r, prep.work.shape[1]), dtype=prep.dtype)
    D[:, perm] = scipy.linalg.solve_triangular(R[:r, :r], R[:r, :], check_finite=False)
    return prep.out(prep.given[:, perm[:r]]), prep.out(D), prep.out(perm[:r])


def pinv_from_rank_factorization(B, D, *, rcond=None):
    """Moore-Penrose pseudoinverse of ``A = B D`` from its factors: ``A^+ = D^T (B^T A D^T)^{-1} B^T``.

    Parameters
    ----------
    B : (m, r) array
        Full column rank.
    D : (r, n) array
        Full row rank.
    rcond : float, optional
        Relative cut-off deciding the ranks, default ``max(shape) * eps``.

    Returns
    -------
    (n, m) array
        ``A^+``. When ``B`` or ``D`` is rank deficient (warned with :class:`RankConditionWarning`), the formula
        above is wrong and the always-valid ``A^+ = (B^+ B D)^+ (B D D^+)^+`` is used instead.

    See Also
    --------
    rank_factorization : The factors it takes.
    randomized_pinv : A pseudoinverse from random test matrices.
    numpy.linalg.pinv : The pseudoinverse by the SVD.

    Notes
    -----
    With ``B = Q_1 R_1`` and ``D^T = Q_2 R_2``, ``A^+ = Q_2 R_2^{-T} R_1^{-1} Q_1^T``, algebraically the formula
    above without forming ``B^T A D^T``. Cost ``O((m + n) r^2 + mnr)``.

    References
    ----------
    .. [1] M. P. Karpowicz, G. Strang, "The pseudoinverse of A = CR is A+ = R+C+ (?)", arXiv:2305.01716 (2023).
    .. [2] M. P. Karpowicz, "A theory of meta-factorization", arXiv:2111.14385 (2021).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.factor import pinv_from_rank_factorization
    >>> gen = np.random.default_rng(0)
    >>> B, D = gen.standard_normal((8, 3)), gen.standard_normal((3, 6))
    >>> bool(np.allclose(pinv_from_rank_factorization(B, D), np.linalg.pinv(B @ D)))
    True
    """
    B = as_matrix(B, "B", sparse=False)
    D = as_matrix(D, "D", sparse=False)
    check_shape_agrees("D.shape[0]", D.shape[0], B.shape[1], "B.shape[1]")
    xp = array_namespace(B, D)
    dtype = working_dtype(xp.result_type(B.dtype, D.dtype), xp)
    B, D = xp.astype(xp.asarray(B), dtype), xp.astype(xp.asarray(D), dtype)
    if rcond is not None:
        rcond = check_real(rcond, "rcond", low=0, high=1, low_inclusive=False, high_inclusive=False)
    r = int(B.shape[1])
    Q1, R1 = qr_econ(B, xp)
    Q2, R2 = qr_econ(D.T, xp)
    cut1 = rcond if rcond is not None else default_rcond(B.shape, dtype, xp)
    cut2 = rcond if rcond is not None else default_rcond(D.shape, dtype, xp)
    rank_b = numerical_rank(singular_values(R1, xp), cut1, xp) if B.shape[0] >= r else -1
    rank_d = numerical_rank(singular_values(R2, xp), cut2, xp) if D.shape[1] >= r else -1
    if rank_b == r and rank_d == r:
        Z = solve_upper(R1, Q1.T, xp)                                      # R1^{-1} Q1^T
        if is_numpy_namespace(xp):
            Z = scipy.linalg.solve_triangular(R2, Z, trans="T", check_finite=False)  # R2^{-T} Z
        else:
            Z = xp.linalg.solve(R2.T, Z)
        return Q2 @ Z
    warnings.warn(f"B (rank {max(rank_b, 0)}) or D (rank {max(rank_d, 0)}) does not have full rank {r}: not a rank "
                  "factorization; using A^+ = (B^+ B D)^+ (B D D^+)^+", RankConditionWarning, stacklevel=2)
    cut = max(cut1, cut2)
    Bp, Dp = small_pinv(B, cut, xp), small_pinv(D, cut, xp)
    return small_pinv(Bp @ B @ D, cut, xp) @ small_pinv(B @ D @ Dp, cut, xp)


def randomized_pinv(A, P, Q, *, rcond=None):
    """Karpowicz-Strang randomized pseudoinverse ``A_p^+ = (P^T A)^+ (P^T A Q) (A Q)^+``.

    Parameters
    ----------
    A : (m, n) array, sparse matrix, LinearOperator or Dask array
        Touched through one product ``A^T P`` and one ``A Q``. On Dask the two products are computed chunk by
        chunk, the small pseudoinverses on the host, and ``A_p^+`` is returned lazy, as the product of an
        (n, t) and a (t, m) factor chunked like ``A.T``: it is never formed in one place.
    P : (m, s) array
        Left sketch.
    Q : (n, t) array
        Right sketch.
    rcond : float, optional
        Relative cut-off of the two small pseudoinverses; default ``max(shape) * eps``.

    Returns
    -------
    (n, m) array
        ``A_p^+``; it equals ``A^+`` exactly when ``rank(P^T A) = rank(A Q) = rank(A)``, and differs otherwise.

    See Also
    --------
    pinv_from_rank_factorization : The exact pseudoinverse from a rank factorization.
    numpy.linalg.pinv : The pseudoinverse by the SVD.

    Notes
    -----
    ``(P^T A)^+ P^T A`` is the orthogonal projector onto the row space of ``P^T A`` and ``A Q (A Q)^+`` onto the
    column space of ``A Q``; the formula is ``A^+`` restricted to those two subspaces, the randomized
    generalization of ``A^+ = R^+ C^+`` [1]_. Cost ``O(mn(s + t))`` plus the two small pseudoinverses.

    References
    ----------
    .. [1] M. P. Karpowicz, G. Strang, "The pseudoinverse of A = CR is A+ = R+C+ (?)", arXiv:2305.01716 (2023).
    .. [2] M. P. Karpowicz, G. Strang, "Generalized inverses of matrix products: from fundamental subspaces to
       randomized decompositions", arXiv:2602.00386 (2026).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.factor import randomized_pinv
    >>> gen = np.random.default_rng(0)
    >>> A = gen.standard_normal((30, 4)) @ gen.standard_normal((4, 20))
    >>> P, Q = gen.standard_normal((30, 6)), gen.standard_normal((20, 6))
    >>> bool(np.allclose(randomized_pinv(A, P, Q), np.linalg.pinv(A)))
    True
    """
    op = as_operator(A)
    m, n = op.shape
    P = _unit_sketch(as_frame(P, "P", m, "A.shape[0]", op.xp, op.dtype), op.xp)
    Q = _unit_sketch(as_frame(Q, "Q", n, "A.shape[1]", op.xp, op.dtype), op.xp)
    if rcond is not None:
        rcond = check_real(rcond, "rcond", low=0, high=1, low_inclusive=False, high_inclusive=False)
    PtA = op.rmatmat(P).T   # (s, n)
    AQ = op.matmat(Q)       # (m, t)
    cut_l = rcond if rcond is not None else default_rcond(PtA.shape, op.dtype, op.xp)
    cut_r = rcond if rcond is not None else default_rcond(AQ.shape, op.dtype, op.xp)
    if op.kind != "dask":
        return small_pinv(PtA, cut_l, op.xp) @ (P.T @ AQ) @ small_pinv(AQ, cut_r, op.xp)
    import dask.array as da

    PtA, AQ, P = host(PtA, AQ, P)
    left = small_pinv(PtA, cut_l, np) @ (P.T @ AQ)   # (n, t)
    right = small_pinv(AQ, cut_r, np)                # (t, m)
    chunks = op._A.T.chunks
    return da.from_array(left, chunks=(chunks[0], -1)) @ da.from_array(right, chunks=(-1, chunks[1]))


def _unit_sketch(S, xp):
    """`S` times the power of two that brings ``max |S|`` into ``[0.5, 1)``: exact, and ``A_p^+`` does not change.

    ``(c P^T A)^+ (c P^T A Q) (A Q)^+ = (P^T A)^+ (P^T A Q) (A Q)^+``, likewise for `Q`; sketches of extreme scale
    (subnormal entries, or 1e300) would otherwise make ``P^T A`` and its pseudoinverse under- or overflow.
    """
    return times_pow2(S, pow2_exponent(float(xp.max(xp.abs(S)))))
