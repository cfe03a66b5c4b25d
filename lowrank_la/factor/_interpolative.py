"""Column interpolative decomposition ``A ~ A[:, idx[:k]] P`` (the ID row of the meta-factorization table).

``idx`` and ``proj`` mean what they mean in :mod:`scipy.linalg.interpolative`: ``A[:, idx[:k]] @ proj`` approximates
``A[:, idx[k:]]``, and ``P = [I, proj]`` with its columns put back in the order ``idx``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._backend import as_rng, qr_econ, svd_small
from .._backend.linalg import pivoted_qr, refuse_dask, solve_triangular
from .._validate import check_int, check_real, is_dask, is_linear_operator, is_sparse, refuse_random_state
from ._cur import _columns
from ._input import PreparedMatrix, host
from ._meta import MetaFactorization, default_rcond, frame_pinv, numerical_rank

__all__ = ["InterpolativeDecomposition", "interpolative"]


class InterpolativeDecomposition(MetaFactorization):
    """An interpolative decomposition ``A ~ skeleton @ interp_matrix``.

    A :class:`MetaFactorization` with ``F = A[:, idx[:k]]``, ``G = I``, ``H = interp_matrix.T``; built by
    :func:`interpolative` rather than directly.

    Parameters
    ----------
    F : (m, kf) array
        As in :class:`MetaFactorization`.
    G : (kf, kh) array
        As in :class:`MetaFactorization`.
    H : (n, kh) array
        As in :class:`MetaFactorization`.
    Yt : (kf, m) array
        As in :class:`MetaFactorization`.
    X : (n, kh) array
        As in :class:`MetaFactorization`.
    info : dict
        As in :class:`MetaFactorization`.
    k : int
        Rank of the decomposition.
    idx : (n,) int array
        Column permutation; ``idx[:k]`` are the skeleton columns.
    proj : (k, n - k) array
        Interpolation coefficients (see the attributes below).

    Attributes
    ----------
    k : int
        Rank of the decomposition.
    idx : (n,) int array
        Column permutation; ``idx[:k]`` are the skeleton columns (scipy's ``idx``).
    proj : (k, n - k) array
        Interpolation coefficients, ``A[:, idx[:k]] @ proj ~ A[:, idx[k:]]`` (scipy's ``proj``).

    See Also
    --------
    interpolative : Build an interpolative decomposition.
    MetaFactorization : The general factorization it extends.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.factor import interpolative
    >>> A = np.outer([1.0, 2.0, 3.0], [1.0, 1.0, 2.0, 0.5])
    >>> d = interpolative(A, 1, rand=False)
    >>> d.idx[:1].tolist(), bool(np.allclose(d.skeleton @ d.interp_matrix, A))
    ([2], True)
    """

    def __init__(self, F, G, H, Yt, X, info, *, k, idx, proj):
        super().__init__(F, G, H, Yt, X, info)
        self.k, self.idx, self.proj = k, idx, proj

    @property
    def skeleton(self):
        """``A[:, idx[:k]]`` (scipy's ``reconstruct_skel_matrix``).

        See Also
        --------
        InterpolativeDecomposition.interp_matrix : The interpolation matrix.
        """
        return self.F

    @property
    def interp_matrix(self):
        """The (k, n) matrix ``P`` (scipy's ``reconstruct_interp_matrix``).

        See Also
        --------
        InterpolativeDecomposition.skeleton : The skeleton columns.
        """
        return self.H.T


def _pivoted_r(Y):
    return pivoted_qr(Y, mode="r")


def _rank_at(R, eps):
    diag = np.abs(np.diag(R))
    return max(1, int(np.sum(diag > eps * diag[0]))) if diag.size and diag[0] > 0 else 1


def _sketched_rows(op, n_rows, gen, n_iter):
    """``S (A A^T)^q A`` for an (n_rows, m) Gaussian ``S``, re-orthonormalised between products (``1 + 2q``
    passes)."""
    S = gen.standard_normal((n_rows, op.shape[0])).astype(op.dtype)
    Yt = host(op.rmatmat(S.T))                # (n, l) = (S A)^T
    for _ in range(n_iter):
        Z = qr_econ(host(op.matmat(qr_econ(Yt)[0])))[0]
        Yt = host(op.rmatmat(Z))
    return Yt.T


def _triangular_proj(R, k, rcond):
    """``R11^{-1} R12`` for the leading k pivots of a column-pivoted ``R``; a basic solution (zero rows) for the
    pivots past the numerical rank of ``R11`` (a zero or rank-deficient matrix)."""
    diag = np.abs(np.diag(R[:k, :k]))
    r = int(np.sum(diag > rcond * diag[0])) if diag.size and diag[0] > 0 else 0
    proj = np.zeros((k, R.shape[1] - k), dtype=R.dtype)
    proj[:r] = solve_triangular(R[:r, :r], R[:r, k:])
    return proj


def _refit(op, C, idx, k, rcond):
    """Least-squares coefficients ``proj = C^+ A[:, idx[k:]]`` of the skeleton ``C = A[:, idx[:k]]`` (one pass).

    Returns ``(proj, U, W)`` with ``U`` an orthonormal basis of ``col(C)`` and ``W = U^T A``, so that the
    residual of the decomposition is ``A - U W``.
    """
    U, s, Vh = svd_small(C, np)
    r = numerical_rank(s, rcond, np)
    U = U[:, :r]
    W = host(op.rmatmat(U)).T                             # (r, n) = U^T A
    proj = (Vh[:r].T / s[:r]) @ W[:, idx[k:]]
    return proj.astype(op.dtype, copy=False), U, W


def _residual_norm(op, U, W, gen, n_steps=4, block=4):
    """Power estimate (a lower bound, sharp after a few steps) of ``||A - U W||_2`` (``2 n_steps`` passes)."""
    V = qr_econ(gen.standard_normal((op.shape[1], block)).astype(op.dtype))[0]
    top = 0.0
    for _ in range(n_steps):
        Z = qr_econ(host(op.matmat(V)) - U @ (W @ V))[0]
        V = host(op.rmatmat(Z)) - W.T @ (U.T @ Z)      # E^T Z
        top = float(np.linalg.norm(V, 2))
        if top == 0:
            break
        V = qr_econ(V)[0]
    return top


def _randomized_precision(op, eps, oversample, n_iter, gen, columns, rcond):
    """Smallest verified rank: pivots of a growing sketch, then the rank grows until the estimated spectral
    error ``||A - C proj||_2`` is at most ``eps`` times the estimate of ``||A||_2``."""
    m, n = op.shape
    top_rank = min(m, n)
    n_rows = min(m, 32 + oversample)
    while True:
        R, idx = _pivoted_r(_sketched_rows(op, n_rows, gen, n_iter))
        k = min(_rank_at(R, eps), top_rank)
        if k <= n_rows - oversample or n_rows == m:
            break
        n_rows = min(m, 2 * n_rows)
    while True:
        C = columns(idx[:k])
        proj, U, W = _refit(op, C, idx, k, rcond)
        error = _residual_norm(op, U, W, gen)
        scale = max(float(np.linalg.norm(W, 2)) if W.size else 0.0, error)  # both bound ||A||_2 from below
        if error <= eps * scale or k == top_rank:
            return k, idx, proj, C, error / scale if scale > 0 else 0.0
        k = min(top_rank, max(k + 1, math.ceil(1.25 * k)))
        if k > n_rows - oversample and n_rows < m:  # past the pivots this sketch ranks: draw a larger one
            n_rows = min(m, k + oversample)
            idx = _pivoted_r(_sketched_rows(op, n_rows, gen, n_iter))[1]


def _deterministic_precision(R, eps):
    """Smallest rank whose ID error ``||R22||_2`` (exact, from the full pivoted R) is at most ``eps ||R||_2``."""
    scale = float(np.linalg.norm(R, 2))

    def error(k):  # nonincreasing in k: R22 shrinks to a trailing block of itself
        return float(np.linalg.norm(R[k:, k:], 2)) / scale if k < R.shape[0] and scale > 0 else 0.0

    failed, k = _rank_at(R, eps) - 1, _rank_at(R, eps)
    while error(k) > eps:
        failed, k = k, min(R.shape[0], k + max(1, k // 8))
    while k - failed > 1:  # bisect between the last rank that failed and one that meets eps
        mid = (failed + k) // 2
        failed, k = (mid, k) if error(mid) > eps else (failed, mid)
    return k, error(k)


@refuse_random_state
def interpolative(A, k_or_eps, *, rand=True, oversample=10, n_iter=1, rng=None):
    """Column interpolative decomposition of `A`, of fixed rank or to a relative precision.

    Parameters
    ----------
    A : (m, n) array, sparse matrix or LinearOperator
        Never modified. With ``rand=True`` it is touched through products only (a sketch ``S A``, the skeleton
        columns ``A E`` and ``U^T A`` for the coefficients); ``rand=False`` needs a dense or sparse `A`. Arrays
        of other array-API namespaces (array-api-strict, CuPy, ...) are factorized on the host in NumPy (the
        pivoted QR has no array-API form) and the factors come back in the input's namespace and on its device.
        A Dask array is never gathered (``rand=True`` only; ``rand=False`` refuses it with a ``TypeError``): the
        products are computed chunk by chunk with the same sketch as in NumPy, the skeleton ``A[:, idx[:k]]``
        is returned as a lazy slice of it and the small factors as Dask arrays of one chunk.
    k_or_eps : int or float
        An integer ``1 <= k <= min(m, n)``: the rank; a float in ``(0, 1)``: the relative precision, met in the
        spectral norm, ``||A - A[:, idx[:k]] P||_2 <= eps ||A||_2`` (scipy's convention: ``eps_or_k < 1`` is a
        precision). The rank starts at the number of pivots with ``|R_jj| > eps |R_00|`` and grows until the
        error, exact (``rand=False``) or estimated by a power method (``rand=True``), meets `eps`.
    rand : bool
        Pivot on a Gaussian sketch ``S (A A^T)^q A`` with ``k + oversample`` rows (randomized ID) instead of
        ``A``; for a precision the sketch doubles until the rank found is ``oversample`` below its size.
    oversample : int
        Extra sketch rows, ``>= 0``.
    n_iter : int
        Power iterations ``q >= 0`` of the sketch (randomized only): each costs two more passes and sharpens
        the pivots on slowly decaying spectra. The default ``1`` makes the randomized ID at least as accurate as
        ``scipy.linalg.interpolative.interp_decomp(A, k, rand=True)`` on the camera image (see Notes).
    rng : None, int or numpy.random.Generator
        Seed or generator of the random draws, as in scipy: the same seed gives the same result.

    Returns
    -------
    InterpolativeDecomposition
        ``k``, ``idx``, ``proj`` (as in ``scipy.linalg.interpolative.interp_decomp``) and the meta-factorization
        ``F = A[:, idx[:k]]``, ``G = I``, ``H = P^T``. In precision mode ``info`` holds the achieved relative
        spectral error (``"relative_error"``, exact, deterministic) or its estimate
        (``"relative_error_estimate"``, randomized).

    Raises
    ------
    ValueError
        If `k_or_eps` is out of range, `A` holds NaN or Inf, or `A` is so far from unit scale that
        ``Yt = F^+`` is not representable (largest entry ``~1e-310``).
    TypeError
        If `A` is not a matrix, or ``rand=False`` with a LinearOperator or a Dask array.

    See Also
    --------
    InterpolativeDecomposition : The returned decomposition.
    cur : The two-sided analogue: columns and rows.
    scipy.linalg.interpolative.interp_decomp : SciPy's interpolative decomposition, with the same `idx` and `proj`.

    Notes
    -----
    Column-pivoted QR ``Y[:, idx] = Q [R11 R12]`` of ``Y = A`` (or of the sketch) chooses the skeleton. The
    deterministic ID takes ``proj = R11^{-1} R12``, the least-squares coefficients; the randomized ID does not
    take them from the sketch (they interpolate the sketch, not ``A``: 2.2x to 3.7x the best rank-k error on
    the camera image) but refits them on ``A``, ``proj = C^+ A[:, idx[k:]]``, in one more pass. On the camera
    image (512 x 512, k = 20, 50, 100) the default reaches 1.46, 1.36, 1.43 times the best rank-k Frobenius
    error, against 1.61, 1.43, 1.46 for scipy's ``rand=True``. A zero matrix, or pivots past the numerical rank
    of ``A``, get zero coefficients (scipy returns NaN there); a zero matrix has rank 1 in precision mode, as in
    scipy. Cost: ``O(mn min(m, n))`` deterministic, ``O(mn (k + p)(2 + 2q) + n (k + p)^2)`` randomized, plus
    ``8`` passes per rank tried in randomized precision mode.

    References
    ----------
    .. [1] H. Cheng, Z. Gimbutas, P.-G. Martinsson, V. Rokhlin, "On the compression of low rank matrices", SIAM
       J. Sci. Comput. 26 (2005).
    .. [2] P.-G. Martinsson, V. Rokhlin, M. Tygert, "A randomized algorithm for the decomposition of matrices",
       Appl. Comput. Harmon. Anal. 30 (2011).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.factor import interpolative
    >>> gen = np.random.default_rng(0)
    >>> A = gen.standard_normal((50, 6)) @ gen.standard_normal((6, 40))
    >>> d = interpolative(A, 1e-10, rng=0)
    >>> d.k, bool(np.allclose(A[:, d.idx[:d.k]] @ d.proj, A[:, d.idx[d.k:]]))
    (6, True)
    """
    prep = PreparedMatrix(A, "A", operator=True)
    op = prep.op
    m, n = op.shape
    oversample = check_int(oversample, "oversample", low=0)
    n_iter = check_int(n_iter, "n_iter", low=0)
    if not rand and is_linear_operator(prep.given):
        raise TypeError("rand=False needs a dense or sparse A; a LinearOperator is factorized with rand=True")
    if not rand:
        refuse_dask(prep.given, "A", "interpolative(rand=False) (column-pivoted QR of A)", "use rand=True")
    if isinstance(k_or_eps, numbers.Real) and not isinstance(k_or_eps, numbers.Integral) and not k_or_eps >= 1:
        # a precision (NaN included, so that check_real names it)
        eps, k = check_real(k_or_eps, "k_or_eps", low=0, high=1, low_inclusive=False, high_inclusive=False), None
    else:
        upper = min(m, n)
        k = check_int(k_or_eps, "k_or_eps", low=1, high=upper, high_text=f"min(m, n) = {upper}")
        eps = None
    gen = as_rng(rng)
    rcond = default_rcond(op.shape, op.dtype, np)
    info = {"rand": bool(rand)}
    if not rand:
        work = prep.work
        R, idx = _pivoted_r(work.toarray() if is_sparse(work) else work)
        if k is None:
            k, info["relative_error"] = _deterministic_precision(R, eps)
        proj = _triangular_proj(R, k, rcond)
        C = _columns(op, prep.work, idx[:k])
    elif k is not None:
        idx = _pivoted_r(_sketched_rows(op, min(k + oversample, m), gen, n_iter))[1]
        C = host(_columns(op, prep.work, idx[:k]))
        proj = _refit(op, C, idx, k, rcond)[0]
    else:
        k, idx, proj, C, info["relative_error_estimate"] = _randomized_precision(
            op, eps, oversample, n_iter, gen, lambda cols: host(_columns(op, prep.work, cols)), rcond)
    P = np.zeros((k, n), dtype=op.dtype)
    P[:, idx[:k]] = np.eye(k, dtype=op.dtype)
    P[:, idx[k:]] = proj
    lazy = is_dask(prep.given)
    F = _columns(op, prep.given, idx[:k]) if prep.shift or lazy else C  # the skeleton: A's own entries (lazy)
    if is_sparse(F):
        F = F.toarray()
    Yt, info["rank_F"], _ = frame_pinv(C, method="qr", rcond=default_rcond(C.shape, op.dtype, np), xp=np)
    Yt = prep.unscale(Yt, -1)
    prep.refuse_unrepresentable("the projector factor Yt = F^+", Yt)
    Xt = frame_pinv(P.T, method="qr", rcond=default_rcond(P.shape, op.dtype, np), xp=np)[0]
    out = prep.out
    return InterpolativeDecomposition(out(F), out(np.eye(k, dtype=op.dtype)), out(P.T), out(Yt), out(Xt.T), info,
                                      k=k, idx=out(idx), proj=out(proj))
