"""The data of a completion problem as users hold it, read into validated :class:`Observations`.

Accepted forms: a dense matrix of any array-API namespace (or a list, ``numpy.matrix``, pandas DataFrame) with
NaN for the missing entries, or with a boolean ``mask`` of the observed ones; a scipy.sparse matrix whose stored
entries are the observations; coordinates ``(rows, cols, vals, shape)``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._backend import array_namespace, device_of, is_numpy_namespace, to_numpy, working_dtype
from .._validate import as_matrix, is_sparse
from ._observations import Observations, _build, parse_observations

__all__: list[str] = []


class Data(NamedTuple):
    """Validated observations, and where the caller's data lives (for the results)."""

    obs: Observations
    xp: object  # the caller's array-API namespace when it is not NumPy, else None
    device: object
    kind: str  # "dense", "sparse" or "coordinates"


def _namespace_of(x):
    """The array-API namespace and device of `x` when it is an array of a namespace other than NumPy."""
    if hasattr(x, "__array_namespace__") and not isinstance(x, np.ndarray):
        xp = array_namespace(x)
        if not is_numpy_namespace(xp):
            return xp, device_of(x)
    return None, None


def observed_entries(X, mask=None, *, name="X", need_observed=True):
    """The dense matrix `X` (any accepted form) as host arrays ``(values, observed)``: NaN (or ``~mask``) is missing.

    Returns the float values (in the working dtype of `X`, NaN where missing) and the boolean ``observed`` mask,
    both NumPy arrays. Infinite entries, a `mask` of another shape and (with `need_observed`) a matrix with no
    observed entry are refused with ``ValueError`` naming the argument.
    """
    X = as_matrix(X, name, ndim=2, finite=False, sparse=False)
    values = to_numpy(X)
    dtype = working_dtype(values.dtype, np, name=name)
    values = values.astype(dtype)  # a copy: the caller's matrix is never modified
    finite = np.isfinite(values)
    if mask is None:
        if np.any(np.isinf(values)):
            raise ValueError(f"{name} holds {int(np.sum(np.isinf(values)))} infinite value(s); missing entries must "
                             "be NaN, observed ones finite")
        observed = finite
    else:
        observed = mask_array(mask, values.shape)
        bad = observed & ~finite
        if bad.any():
            i, j = (int(t[0]) for t in np.nonzero(bad))
            raise ValueError(f"{name} holds NaN or Inf at {int(bad.sum())} entry(ies) that mask marks as observed "
                             f"(the first at ({i}, {j})); observed entries must be finite")
    if need_observed and not observed.any():
        raise ValueError(f"{name} has no observed entry: every entry is missing")
    return values, observed


def mask_array(mask, shape):
    """`mask` as a host boolean array of `shape` (True = observed), or a ``ValueError``/``TypeError`` naming it."""
    mask = to_numpy(as_matrix(mask, "mask", ndim=2, sparse=False))
    if mask.dtype != np.bool_:
        raise TypeError(f"mask must be a boolean array (True for an observed entry), got dtype {mask.dtype}")
    if mask.shape != tuple(shape):
        raise ValueError(f"mask has shape {mask.shape}, but the data has shape {tuple(shape)}: they must agree")
    return mask


def read_data(X, cols, vals, shape, mask) -> Data:
    """Read any accepted input form into :class:`Data` (see the module docstring)."""
    if is_sparse(X):
        if vals is not None or shape is not None:
            raise TypeError("with a sparse matrix of observations, pass the rank as the second argument only")
        if mask is not None:
            raise TypeError("mask is for a dense matrix; a sparse matrix's stored entries are its observations")
        X = as_matrix(X, "X", ndim=2)  # canonical: duplicates summed, as scipy reads them; NaN and Inf refused
        return Data(parse_observations(X, None, None, None), None, None, "sparse")
    if vals is None and shape is None:  # a dense matrix with missing entries
        xp, device = _namespace_of(X)
        values, observed = observed_entries(X, mask)
        rows, cols_ = np.nonzero(observed)  # row-major: already sorted as Observations keeps them
        m, n = values.shape
        index = np.int32 if max(m, n) < 2**31 - 1 else np.int64
        obs = _build((m, n), rows.astype(index), cols_.astype(index), values[rows, cols_])
        return Data(obs, xp, device, "dense")
    if cols is None or vals is None:
        raise TypeError("altmin_complete needs a matrix X (NaN for missing entries, or with mask=), a sparse matrix "
                        "of observations, or coordinates (rows, cols, vals, shape)")
    if mask is not None:
        raise TypeError("mask is for a dense matrix; coordinates (rows, cols, vals, shape) list the observations")
    xp, device = _namespace_of(vals)
    if xp is not None:
        X, cols, vals = (to_numpy(x) for x in (X, cols, vals))
    return Data(parse_observations(X, cols, vals, shape), xp, device, "coordinates")
