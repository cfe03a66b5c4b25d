"""CSR matrix times a tall dense block, and its transpose, in parallel: ``Y = A @ X`` and ``Z = A^T @ Y``.

scipy's sparse-times-dense products (``csr_matvecs`` / ``csc_matvecs``) run on one thread. ``csr_matmat`` is
parallel over the rows of ``A`` (each output row is a sum over that row's non-zeros of rows of ``X``, read
contiguously from a C-ordered ``X``). ``csr_rmatmat`` splits the rows of ``A`` into slabs (one per thread, see
:func:`scatter_slabs`); each slab scatters ``A[rows].T @ Y[rows]`` into a private ``(n, l)`` accumulator, and the
accumulators are summed: ``O(slabs * n * l)`` extra memory, no atomics. Both cost ``O(nnz(A) * l)``. Indices may be
int32 or int64.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["csr_matmat", "csr_matmat_reference", "csr_rmatmat", "csr_rmatmat_reference", "scatter_slabs"]

#: the most bytes the accumulators of :func:`csr_rmatmat` may take together
SLAB_BUDGET = 2**30


def csr_matmat_reference(A, X):
    """NumPy/scipy reference: ``A @ X`` for a scipy CSR `A`."""
    return np.asarray(A @ X)


def csr_rmatmat_reference(A, Y):
    """NumPy/scipy reference: ``A.T @ Y`` for a scipy CSR `A`."""
    return np.asarray(A.T @ Y)


#: lets LLVM contract the multiply-adds into FMAs and reorder the sums of four rows (the inputs are finite)
_FAST = {"reassoc", "contract"}


@numba.njit(cache=True, parallel=True, fastmath=_FAST)
def _csr_matmat(indptr, indices, data, X, out):
    m = indptr.shape[0] - 1
    cols = X.shape[1]
    for i in numba.prange(m):
        row = out[i]
        row[:] = 0
        p, end = indptr[i], indptr[i + 1]
        # four non-zeros per sweep of the output row: one load and store of it per four rows of X read (1.6x-1.9x
        # faster than one at a time for wide X, whose rows stream from the cache)
        while p + 3 < end:
            v0, v1, v2, v3 = data[p], data[p + 1], data[p + 2], data[p + 3]
            x0, x1, x2, x3 = X[indices[p]], X[indices[p + 1]], X[indices[p + 2]], X[indices[p + 3]]
            for c in range(cols):
                row[c] += (v0 * x0[c] + v1 * x1[c]) + (v2 * x2[c] + v3 * x3[c])
            p += 4
        while p < end:
            v = data[p]
            x = X[indices[p]]
            for c in range(cols):
                row[c] += v * x[c]
            p += 1
    return out


@numba.njit(cache=True, parallel=True)
def _csr_rmatmat(indptr, indices, data, Y, acc, bounds):
    cols = Y.shape[1]
    for t in numba.prange(acc.shape[0]):
        a = acc[t]
        a[:, :] = 0
        for i in range(bounds[t], bounds[t + 1]):
            y = Y[i]
            for p in range(indptr[i], indptr[i + 1]):
                v = data[p]
                dst = a[indices[p]]
                for c in range(cols):
                    dst[c] += v * y[c]
    return acc


def csr_matmat(A, X):
    """``A @ X`` for a scipy CSR matrix/array `A` (m, n) and a dense (n, l) `X`, in parallel over rows.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> A = sp.random(30, 20, density=0.2, format="csr", random_state=0)
    >>> X = np.random.default_rng(0).standard_normal((20, 4))
    >>> bool(np.allclose(csr_matmat(A, X), A @ X))
    True
    """
    X = np.ascontiguousarray(X)
    dtype = np.result_type(A.dtype, X.dtype)
    out = np.empty((A.shape[0], X.shape[1]), dtype=dtype)
    return _csr_matmat(A.indptr, A.indices, A.data.astype(dtype, copy=False), X.astype(dtype, copy=False), out)


def scatter_slabs(A, width, itemsize=8):
    """How many row slabs :func:`csr_rmatmat` splits the CSR `A` (m, n) into for a block of `width` columns.

    One per Numba thread, but no more than ``nnz(A) / (16 n)`` and within :data:`SLAB_BUDGET` bytes of
    accumulators: each slab's ``(n, width)`` accumulator is faulted in, zeroed and summed, and with fewer than
    ``16 n`` non-zeros per slab that cost as much as the parallel scatter saved (on 2 threads, against scipy: 0.57x
    to 0.83x its time at 18 to 100 non-zeros per column and slab, 0.86x to 1.61x at 5 to 6.6). Where it is 1, the
    kernel is scipy's serial loop again, and callers may as well use scipy.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> scatter_slabs(sp.csr_array((4, 3)), 5)
    1
    """
    m, n = A.shape
    most = SLAB_BUDGET // max(1, n * width * itemsize)
    return int(max(1, min(numba.get_num_threads(), m, A.nnz // (16 * max(n, 1)), most)))


def csr_rmatmat(A, Y, *, n_slabs=None):
    """``A.T @ Y`` for a scipy CSR `A` (m, n) and a dense (m, l) `Y`: row slabs scattered in parallel, then a sum.

    `n_slabs` defaults to :func:`scatter_slabs`.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> A = sp.random(30, 20, density=0.2, format="csr", random_state=0)
    >>> Y = np.random.default_rng(0).standard_normal((30, 4))
    >>> bool(np.allclose(csr_rmatmat(A, Y), A.T @ Y))
    True
    """
    Y = np.ascontiguousarray(Y)
    dtype = np.result_type(A.dtype, Y.dtype)
    m, n = A.shape
    slabs = scatter_slabs(A, Y.shape[1], np.dtype(dtype).itemsize) if n_slabs is None else max(1, int(n_slabs))
    # slabs of about equal numbers of non-zeros
    bounds = np.searchsorted(A.indptr, np.linspace(0, A.indptr[-1], slabs + 1)).astype(np.int64)
    bounds[0], bounds[-1] = 0, m
    bounds = np.maximum.accumulate(bounds)
    acc = np.empty((slabs, n, Y.shape[1]), dtype=dtype)
    _csr_rmatmat(A.indptr, A.indices, A.data.astype(dtype, copy=False), Y.astype(dtype, copy=False), acc, bounds)
    return acc.sum(axis=0) if slabs > 1 else acc[0]
