"""Row and column selection for CUR: leverage-score sampling, DEIM, pivoted QR of a sketch, uniform sampling."""

from __future__ import annotations

import numpy as np

from .._backend import as_rng, to_numpy, working_dtype
from .._backend.linalg import pivoted_qr
from .._validate import as_matrix, check_option, check_rank, refuse_random_state
from ._input import PreparedMatrix, host

__all__ = ["deim", "select_indices"]

SELECTORS = ("leverage", "deim", "qr", "uniform")


def deim(U):
    """Select rows of `U` by the discrete empirical interpolation method (Chaturantabut-Sorensen).

    Greedy: each new index is where the interpolation residual of the next basis vector is largest, so that
    ``U[idx, :]`` is nonsingular when `U` has full column rank.

    Parameters
    ----------
    U : (m, k) array
        Basis (typically leading singular vectors), ``k <= m``.

    Returns
    -------
    (k,) int array
        Distinct row indices, in the order they were chosen.

    Raises
    ------
    ValueError
        If `U` is not 2-D, has more columns than rows, or holds NaN or Inf.
    TypeError
        If `U` is not a dense numeric array.

    See Also
    --------
    select_indices : The selection of rows and columns of a matrix, by DEIM or another method.
    cur : The CUR decomposition with DEIM selection.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.factor import deim
    >>> U = np.linalg.qr(np.random.default_rng(0).standard_normal((30, 4)))[0]
    >>> idx = deim(U)
    >>> len(set(idx.tolist())), bool(abs(np.linalg.det(U[idx])) > 1e-6)
    (4, True)
    """
    U = to_numpy(as_matrix(U, "U", allow_complex=True, sparse=False))
    U = U.astype(working_dtype(U.dtype, np, name="U", allow_complex=True), copy=False)  # float16 in float32
    m, k = U.shape
    if k > m:
        raise ValueError(f"U.shape[1]={k} must satisfy U.shape[1] <= U.shape[0] = {m} (DEIM picks one row per column)")
    idx = [int(np.argmax(np.abs(U[:, 0])))]
    for j in range(1, k):
        coef = np.linalg.lstsq(U[idx, :j], U[idx, j], rcond=None)[0]
        residual = np.abs(U[:, j] - U[:, :j] @ coef)
        residual[idx] = -1.0  # never pick an index twice (a rank-deficient basis has zero residuals)
        idx.append(int(np.argmax(residual)))
    return np.asarray(idx, dtype=np.intp)


def _leverage_sample(basis, k, gen):
    """`k` distinct indices drawn with probability proportional to the leverage scores (row norms squared)."""
    scores = np.sum(np.abs(basis) ** 2, axis=1)
    scores = scores + 1e-12 * max(float(scores.mean()), np.finfo(float).tiny)  # zero scores stay drawable
    return np.sort(gen.choice(basis.shape[0], size=k, replace=False, p=scores / scores.sum()))


@refuse_random_state
def select_indices(A, k, *, method="deim", rng=None):
    """Choose `k` rows and `k` columns of `A` for a CUR decomposition.

    Parameters
    ----------
    A : (m, n) array, sparse matrix, LinearOperator or Dask array
        Touched through products only (``qr`` and ``uniform`` need one pass or none; ``leverage`` and ``deim``
        the passes of a randomized SVD). A Dask array is never gathered: its products are computed chunk by
        chunk (for ``leverage`` and ``deim`` the randomized SVD draws its test matrix per chunk, so the indices
        may differ from those of the same matrix in NumPy; ``qr`` and ``uniform`` draw the same).
    k : int
        ``1 <= k <= min(m, n)``.
    method : {"deim", "qr", "leverage", "uniform"}
        "leverage": sample without replacement proportionally to the rank-k leverage scores (Drineas, Mahoney,
        Muthukrishnan); "deim": DEIM on the leading k singular vectors (Sorensen-Embree); "qr": columns by
        pivoted QR of a ``(k + 10) x n`` Gaussian sketch of ``A`` (randomized ID), rows by pivoted QR of
        ``C^T``; "uniform": uniform without replacement.
    rng : None, int or numpy.random.Generator
        Seed or generator of the random draws, as in scipy: the same seed gives the same result.

    Returns
    -------
    rows : (k,) int array
        Selected row indices, distinct.
    cols : (k,) int array
        Selected column indices, distinct.

    Raises
    ------
    ValueError
        If `k` or `method` is out of range, or `A` holds NaN or Inf.

    See Also
    --------
    deim : The discrete empirical interpolation selection behind ``method="deim"``.
    cur : The CUR decomposition on these indices.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.factor import select_indices
    >>> A = np.random.default_rng(0).standard_normal((40, 30))
    >>> rows, cols = select_indices(A, 5, method="deim", rng=0)
    >>> rows.shape, cols.shape
    ((5,), (5,))
    """
    prep = PreparedMatrix(A, "A", operator=True)
    rows, cols = _select(prep.op, k, method, rng)
    return prep.out(rows), prep.out(cols)


def _select(op, k, method, rng):
    m, n = op.shape
    k = check_rank(k, op.shape)
    check_option(method, "method", SELECTORS)
    gen = as_rng(rng)
    if method == "uniform":
        return np.sort(gen.choice(m, k, replace=False)), np.sort(gen.choice(n, k, replace=False))
    if method == "qr":
        sketch = gen.standard_normal((min(k + 10, m), m)).astype(op.dtype)
        Y = host(op.rmatmat(sketch.T)).T  # (l, n) = sketch @ A
        cols = pivoted_qr(Y, mode="r")[1][:k]
        C = host(op.matmat(_selector(n, cols, op.dtype)))
        rows = pivoted_qr(C.T, mode="r")[1][:k]
        return np.sort(rows), np.sort(cols)
    from ..svd import rsvd

    U, _, Vh = rsvd(op, k, rng=gen)
    U, Vh = host(U, Vh)
    if method == "deim":
        return np.sort(deim(U)), np.sort(deim(Vh.T))
    return _leverage_sample(U, k, gen), _leverage_sample(Vh.T, k, gen)


def _selector(n, idx, dtype):
    """The (n, len(idx)) matrix ``E`` with ``A @ E = A[:, idx]``."""
    E = np.zeros((n, len(idx)), dtype=dtype)
    E[np.asarray(idx), np.arange(len(idx))] = 1
    return E
