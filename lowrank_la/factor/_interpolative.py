"""Column interpolative decomposition ``A ~ A[:, idx[:k]] P`` (the ID row of the meta-factorization table).

``idx`` and ``proj`` mean what they mean in :mod:`scipy.linalg.interpolative`: ``A[:, idx[:k]] @ proj`` approximates
``A[:, idx[k:]]``, and ``P = [I, proj]`` with its columns put back in the order ``idx``.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.linalg

from .._backend import as_operator, as_rng, qr_econ
from .._validate import check_int, check_real, is_linear_operator
from ._cur import _columns
from ._meta import MetaFactorization, default_rcond, frame_pinv

__all__ = ["InterpolativeDecomposition", "interpolative"]


class InterpolativeDecomposition(MetaFactorization):
    """``A ~ skeleton @ interp_matrix``: a :class:`MetaFactorization` with ``F = A[:, idx[:k]]``, ``G = I``,
    ``H = interp_matrix.T``.

    Attributes
    ----------
    k : int
        Rank of the decomposition.
    idx : (n,) int array
        Column permutation; ``idx[:k]`` are the skeleton columns (scipy's ``idx``).
    proj : (k, n - k) array
        Interpolation coefficients, ``A[:, idx[:k]] @ proj ~ A[:, idx[k:]]`` (scipy's ``proj``).

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
        """``A[:, idx[:k]]`` (scipy's ``reconstruct_skel_matrix``)."""
        return self.F

    @property
    def interp_matrix(self):
        """The (k, n) matrix ``P`` (scipy's ``reconstruct_interp_matrix``)."""
        return self.H.T


def _pivoted_r(Y):
    return scipy.linalg.qr(Y, mode="r", pivoting=True, check_finite=False)


def _rank_at(R, eps):
    diag = np.abs(np.diag(R))
    return max(1, int(np.sum(diag > eps * diag[0]))) if diag.size and diag[0] > 0 else 1


def _sketched_rows(op, n_rows, gen, n_iter):
    """``S (A A^T)^q A`` for an (n_rows, m) Gaussian ``S``, re-orthonormalised between products (``1 + 2q``
    passes)."""
    S = gen.standard_normal((n_rows, op.shape[0])).astype(op.dtype)
    Yt = op.rmatmat(S.T)                      # (n, l) = (S A)^T
    for _ in range(n_iter):
        Z = qr_econ(op.matmat(qr_econ(Yt)[0]))[0]
        Yt = op.rmatmat(Z)
    return Yt.T


def interpolative(A, k_or_eps, *, rand=True, oversample=10, n_iter=0, rng=None):
    """Column interpolative decomposition of `A`, of fixed rank or to a relative precision.

    Parameters
    ----------
    A : (m, n) array, sparse matrix or LinearOperator
        Never modified. With ``rand=True`` it is touched through products only (a sketch ``S A`` and the
        skeleton columns ``A E``); ``rand=False`` needs a dense or sparse `A`.
    k_or_eps : int or float
        An integer ``1 <= k <= min(m, n)``: the rank; a float in ``(0, 1)``: the relative precision, the rank
        being the number of pivots with ``|R_jj| > eps |R_00|`` (scipy's convention: ``eps_or_k < 1`` is a
        precision).
    rand : bool
        Pivot on a Gaussian sketch ``S A`` with ``k + oversample`` rows (randomized ID) instead of ``A``; for a
        precision the sketch doubles until the rank found is ``oversample`` below its size.
    oversample : int
        Extra sketch rows, ``>= 0``.
    n_iter : int
        Power iterations ``q >= 0`` of the sketch, ``S (A A^T)^q A`` (randomized only): each costs two more passes
        and sharpens the pivots on slowly decaying spectra.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    InterpolativeDecomposition
        ``k``, ``idx``, ``proj`` (as in ``scipy.linalg.interpolative.interp_decomp``) and the meta-factorization
        ``F = A[:, idx[:k]]``, ``G = I``, ``H = P^T``.

    Raises
    ------
    ValueError
        If `k_or_eps` is out of range or `A` holds NaN or Inf.

    Notes
    -----
    Column-pivoted QR ``Y[:, idx] = Q [R11 R12]`` of ``Y = A`` (or ``S A``) gives ``proj = R11^{-1} R12``. Cost:
    ``O(mn min(m, n))`` deterministic, ``O(mn (k + p) + n (k + p)^2)`` randomized.

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
    if isinstance(A, (list, tuple)):
        A = np.asarray(A)  # the skeleton columns are read from A itself
    op = as_operator(A)
    m, n = op.shape
    oversample = check_int(oversample, "oversample", low=0)
    n_iter = check_int(n_iter, "n_iter", low=0)
    if not rand and is_linear_operator(A):
        raise TypeError("rand=False needs a dense or sparse A; a LinearOperator is factorized with rand=True")
    if isinstance(k_or_eps, numbers.Real) and not isinstance(k_or_eps, numbers.Integral) and not k_or_eps >= 1:
        # a precision (NaN included, so that check_real names it)
        eps, k = check_real(k_or_eps, "k_or_eps", low=0, high=1, low_inclusive=False, high_inclusive=False), None
    else:
        upper = min(m, n)
        k = check_int(k_or_eps, "k_or_eps", low=1, high=upper, high_text=f"min(m, n) = {upper}")
        eps = None
    gen = as_rng(rng)
    if not rand:
        dense = A.toarray() if hasattr(A, "toarray") else np.asarray(A)
        R, idx = _pivoted_r(dense.astype(op.dtype, copy=False))
    elif k is not None:
        R, idx = _pivoted_r(_sketched_rows(op, min(k + oversample, m), gen, n_iter))
    else:
        n_rows = min(m, 32 + oversample)
        while True:
            R, idx = _pivoted_r(_sketched_rows(op, n_rows, gen, n_iter))
            if _rank_at(R, eps) <= n_rows - oversample or n_rows == m:
                break
            n_rows = min(m, 2 * n_rows)
    if k is None:
        k = min(_rank_at(R, eps), n)
    k = min(k, R.shape[0])
    proj = scipy.linalg.solve_triangular(R[:k, :k], R[:k, k:], check_finite=False)
    P = np.zeros((k, n), dtype=op.dtype)
    P[:, idx[:k]] = np.eye(k, dtype=op.dtype)
    P[:, idx[k:]] = proj
    F = _columns(op, A, idx[:k])
    H = P.T
    rcond = default_rcond(F.shape, op.dtype, np)
    Yt, rank_f, _ = frame_pinv(F, method="qr", rcond=rcond, xp=np)
    Xt, _, _ = frame_pinv(H, method="qr", rcond=rcond, xp=np)
    info = {"rank_F": rank_f, "rand": bool(rand)}
    return InterpolativeDecomposition(F, np.eye(k, dtype=op.dtype), H, Yt, Xt.T, info, k=k, idx=idx, proj=proj)
