"""Dense rows times the transpose of a sparse matrix: ``Y = Z @ P.T``, the sparse step of FJLT and of the
sparse sketches applied to batches of rows.

scipy computes ``Z @ P.T`` as ``(P @ Z.T).T``, which copies ``Z`` into C order and runs on one thread. This
kernel reads each row ``z`` of ``Z`` once, in order, over the nonzero columns of ``P`` only, and scatters
``z[c] * P[:, c]`` into ``y = P z``, which is small enough to stay in L1; it runs in parallel over the rows.
Its cost is ``O(nnz(P) + ncols(P))`` per row, and reading ``z`` bounds it from below.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
import scipy.sparse as sp

__all__ = ["ColumnPacked", "pack_columns", "rows_times_sparse_t", "rows_times_sparse_t_reference"]


class ColumnPacked(NamedTuple):
    """``P`` (k x d) by its nonzero columns: column ``cols[t]`` holds ``data[ptr[t]:ptr[t+1]]`` at ``rows[...]``."""

    shape: tuple
    cols: np.ndarray
    ptr: np.ndarray
    rows: np.ndarray
    data: np.ndarray


def pack_columns(P, dtype) -> ColumnPacked:
    """Pack a scipy.sparse matrix by its nonzero columns, with values in `dtype` (int32 indices)."""
    P = sp.csc_array(P)
    P.sum_duplicates()
    nonzero = np.nonzero(np.diff(P.indptr))[0]
    ptr = np.append(P.indptr[nonzero], P.indptr[-1])
    return ColumnPacked(P.shape, nonzero.astype(np.int32), ptr.astype(np.int64), P.indices.astype(np.int32),
                        P.data.astype(dtype))


def rows_times_sparse_t_reference(Z, packed: ColumnPacked):
    """NumPy/scipy reference: ``Z @ P.T``."""
    k, d = packed.shape
    counts = np.diff(packed.ptr)
    P = sp.csc_array((packed.data, packed.rows, np.concatenate([[0], np.cumsum(np.bincount(
        np.repeat(packed.cols, counts), minlength=d))])), shape=(k, d))
    return np.asarray((P @ Z.T).T, dtype=Z.dtype)


@numba.njit(cache=True, parallel=True)
def _rows_times_sparse_t(Z, cols, ptr, rows, data, out):
    k = out.shape[1]
    for i in numba.prange(Z.shape[0]):
        z = Z[i]
        y = out[i]
        for r in range(k):
            y[r] = 0
        for t in range(cols.shape[0]):
            zc = z[cols[t]]
            for j in range(ptr[t], ptr[t + 1]):
                y[rows[j]] += zc * data[j]
    return out


def rows_times_sparse_t(Z, packed: ColumnPacked):
    """``Z @ P.T`` for a float (N, d) array `Z` and ``P`` packed by :func:`pack_columns` in `Z`'s dtype.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> P = sp.random(4, 6, density=0.5, format="csr", random_state=0)
    >>> Z = np.arange(12.0).reshape(2, 6)
    >>> bool(np.allclose(rows_times_sparse_t(Z, pack_columns(P, Z.dtype)), Z @ P.T.toarray()))
    True
    """
    Z = np.ascontiguousarray(Z)
    out = np.empty((Z.shape[0], packed.shape[0]), dtype=Z.dtype)
    return _rows_times_sparse_t(Z, packed.cols, packed.ptr, packed.rows, packed.data, out)
