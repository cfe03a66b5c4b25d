"""The observed entries of a partially known matrix, validated and indexed both ways (by row and by column).

A U half-step of AltMin solves one regression per row (it needs, for each row, its observed columns: CSR), a V
half-step one per column (CSC). Both structures are kept (``2 |Omega|`` indices and values), built once.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._backend import working_dtype
from .._validate import check_int, is_sparse

__all__ = ["Observations", "Segments", "parse_observations"]


class Segments(NamedTuple):
    """One index structure: segment ``j`` holds ``idx[indptr[j]:indptr[j+1]]`` and the matching ``vals``."""

    indptr: np.ndarray  # int64, (n_seg + 1,)
    idx: np.ndarray  # int32 or int64: the indices along the other axis
    vals: np.ndarray  # the observed values, in the working dtype

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.indptr)


class Observations(NamedTuple):
    """Validated observations: coordinates sorted by row then column, and the two index structures."""

    shape: tuple
    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    by_row: Segments  # for the U half-step: per row, its observed columns
    by_col: Segments  # for the V half-step: per column, its observed rows

    @property
    def nnz(self) -> int:
        return int(self.vals.shape[0])

    def scaled(self, exponent: int) -> Observations:
        """The same observations with the values multiplied by ``2**exponent`` (exact; no re-sorting)."""
        if exponent == 0:
            return self

        def times(seg):
            return Segments(seg.indptr, seg.idx, np.ldexp(seg.vals, exponent))

        return Observations(self.shape, self.rows, self.cols, np.ldexp(self.vals, exponent), times(self.by_row),
                            times(self.by_col))

    def subset(self, mask) -> Observations:
        """The observations selected by a boolean `mask` (already validated, kept sorted)."""
        return _build(self.shape, self.rows[mask], self.cols[mask], self.vals[mask])


def _segments(keys, others, vals, n_seg) -> Segments:
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=n_seg)
    indptr = np.zeros(n_seg + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return Segments(indptr, np.ascontiguousarray(others[order]), np.ascontiguousarray(vals[order]))


def _build(shape, rows, cols, vals) -> Observations:
    m, n = shape
    return Observations(shape, rows, cols, vals, _segments(rows, cols, vals, m), _segments(cols, rows, vals, n))


def _index_array(x, name, size):
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {x.shape}")
    if x.dtype.kind not in "iu":
        if x.dtype.kind == "f" and x.size and np.all(np.isfinite(x)) and np.all(x == np.round(x)):
            x = x.astype(np.int64)
        elif x.size:
            raise TypeError(f"{name} must hold integer indices, got dtype {x.dtype}")
        else:
            x = x.astype(np.int64)
    if x.size:
        lo, hi = int(x.min()), int(x.max())
        if lo < 0 or hi >= size:
            bad = lo if lo < 0 else hi
            raise ValueError(f"{name} holds the index {bad}, out of range: indices must satisfy "
                             f"0 <= {name}[t] < {size}")
    index_dtype = np.int32 if size < 2**31 - 1 else np.int64
    return x.astype(index_dtype)


def parse_observations(rows, cols, vals, shape) -> Observations:
    """Validate coordinates ``(rows, cols, vals)`` of shape `shape`, or a scipy.sparse matrix in `rows`.

    Duplicates with equal values are merged; duplicates with different values, NaN or Inf values, indices out
    of range and an empty set of observations are refused with ``ValueError``. Sparse input: every stored entry
    (explicit zeros included) is an observation.
    """
    if is_sparse(rows):
        S = rows.tocoo()
        shape = S.shape
        rows, cols, vals = S.row, S.col, S.data
    elif shape is None:
        raise TypeError("shape must be given as (m, n) with coordinate input (rows, cols, vals)")
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise ValueError(f"shape={shape!r} must be a pair (m, n)")
    m = check_int(shape[0], "shape[0]", low=1)
    n = check_int(shape[1], "shape[1]", low=1)
    vals = np.asarray(vals)
    if vals.ndim != 1:
        raise ValueError(f"vals must be 1-D, got an array of shape {vals.shape}")
    dtype = working_dtype(vals.dtype, np, name="vals")
    rows = _index_array(rows, "rows", m)
    cols = _index_array(cols, "cols", n)
    if not rows.shape[0] == cols.shape[0] == vals.shape[0]:
        raise ValueError(f"rows, cols and vals must have the same length, got {rows.shape[0]}, {cols.shape[0]} "
                         f"and {vals.shape[0]}")
    if vals.shape[0] == 0:
        raise ValueError("vals must hold at least one observation, got none")
    vals = vals.astype(dtype)  # a copy: the caller's arrays are never modified
    if not np.all(np.isfinite(vals)):
        raise ValueError(f"vals must be finite, but it holds {int(np.sum(~np.isfinite(vals)))} NaN or Inf "
                         "value(s)")
    linear = rows.astype(np.int64) * n + cols
    order = np.argsort(linear, kind="stable")
    linear, rows, cols, vals = linear[order], rows[order], cols[order], vals[order]
    same = linear[1:] == linear[:-1]
    if same.any():
        clash = same & (vals[1:] != vals[:-1])
        if clash.any():
            t = int(np.flatnonzero(clash)[0])
            raise ValueError(f"the entry (rows, cols) = ({int(rows[t])}, {int(cols[t])}) is observed twice with "
                             f"different values {vals[t]!r} and {vals[t + 1]!r}; duplicates must agree")
        keep = np.concatenate([[True], ~same])
        rows, cols, vals = rows[keep], cols[keep], vals[keep]
    return _build((m, n), rows, cols, vals)
