"""How the factorizations of this subpackage take their matrix: the one input rule, a host copy, an exact scaling.

The instances read entries of ``A`` (CUR's columns and rows, the skeleton of an interpolative decomposition) and
run column-pivoted QR, which array-API namespaces do not offer. So ``A`` is validated by
:func:`lowrank_la._validate.as_matrix`, a dense array of another namespace (array-api-strict, CuPy, torch) is
copied to the host, the factorization runs in NumPy and its factors are returned in the input's namespace and
on its device. A Dask array is never gathered: it stays lazy, its products with small blocks (sketches, selected
columns) are computed chunk by chunk and brought to the host (:func:`host`), the small dense work runs there,
and the factors that are slices of ``A`` (``A[:, cols]``, ``A[rows, :]``) are returned as lazy Dask arrays.
An input whose largest entry is outside ``[tiny^(1/4), huge^(1/4)]`` of its dtype is scaled by a power of two
(exact) so that products and Gram blocks neither overflow nor sink into subnormals; the factors are scaled back
by the same power of two (on Dask, finding the largest entry costs one reduction pass).
"""

from __future__ import annotations

import math

import numpy as np

from .._backend import array_namespace, as_operator, device_of, is_numpy_namespace, to_numpy, working_dtype
from .._validate import as_matrix, is_dask, is_linear_operator, is_sparse

__all__ = []


class PreparedMatrix:
    """A validated matrix argument on the host, maybe scaled by ``2**shift``, and the way back to its namespace.

    Attributes
    ----------
    given : ndarray, CSR/CSC matrix, LinearOperator or Dask array
        The argument on the host in its working dtype, unscaled (the entries a CUR or an ID returns); a Dask
        array stays a (lazy) Dask array.
    work : same kind
        ``2**shift * given`` (``given`` itself when ``shift == 0``).
    op : MatrixOperator
        The operator of ``work``.
    shift : int
        The power of two applied.
    """

    def __init__(self, A, name, *, operator, sparse=True):
        A = as_matrix(A, name, operator=operator, sparse=sparse)
        self.name = name
        self.xp = array_namespace(A)
        self.device = device_of(A)
        self.native = is_numpy_namespace(self.xp)
        if is_linear_operator(A) and not hasattr(A, "__array_namespace__"):
            self.given = A
        elif is_sparse(A):
            self.given = A if self.native else A.get()
        elif is_dask(A):
            self.given = A
        else:
            self.given = to_numpy(A)
        if not is_linear_operator(self.given):
            dtype = working_dtype(self.given.dtype, array_namespace(self.given), name=name)
            if self.given.dtype != dtype:
                self.given = self.given.astype(dtype)
        self.shift = 0 if is_linear_operator(self.given) else _scale_exponent(self.given)
        self.work = self.given if self.shift == 0 else _ldexp(self.given, self.shift)
        self.op = as_operator(self.work, name=name, check_finite=False)

    @property
    def dtype(self):
        return self.op.dtype

    def unscale(self, X, power):
        """``X * 2**(-power * shift)``: a factor that scales like ``A**power``, back on the input's scale."""
        return _ldexp(X, -power * self.shift) if self.shift and power else X

    def out(self, X):
        """`X` (a NumPy array) in the input's namespace and on its device."""
        if self.native or X is None or is_dask(X):
            return X
        return self.xp.asarray(np.ascontiguousarray(X), device=self.device)

    def refuse_unrepresentable(self, what, *arrays):
        """Refuse (ValueError) factors that overflowed on the way back from the scaled problem."""
        if all(bool(np.all(np.isfinite(X))) for X in arrays):
            return
        top = _max_abs(self.given)
        raise ValueError(f"{self.name} has largest magnitude {top:.3g}, too far from 1 for {what} (which scales "
                         f"like 1/{self.name}) to be representable in {np.dtype(self.dtype).name}; rescale "
                         f"{self.name}, e.g. by 2**{self.shift}")


def host(*arrays):
    """`arrays` as NumPy arrays; the Dask ones computed together, in one pass over their common input."""
    lazy = [i for i, X in enumerate(arrays) if is_dask(X)]
    out = [X if is_dask(X) else to_numpy(X) for X in arrays]
    if lazy:
        import dask

        for i, X in zip(lazy, dask.compute(*(arrays[i] for i in lazy))):
            out[i] = np.asarray(X)
    return out[0] if len(out) == 1 else out


def _max_abs(A) -> float:
    if is_dask(A):
        return float(host(abs(A).max()))
    data = A.data if is_sparse(A) else A
    if data.size == 0:
        return 0.0
    return float(max(np.max(data), -np.min(data)))


def _scale_exponent(A) -> int:
    """``-e`` for ``max|A| = f 2**e`` (``0.5 <= f < 1``), or 0 when ``max|A|`` is within the safe range."""
    top = _max_abs(A)
    info = np.finfo(A.dtype)
    if top == 0 or float(info.tiny) ** 0.25 <= top <= float(info.max) ** 0.25:
        return 0
    return -math.frexp(top)[1]


def _ldexp(X, shift):
    """``X * 2**shift`` exactly (barring overflow and subnormals), for dense arrays and scipy sparse matrices."""
    if is_dask(X):  # lazily, chunk by chunk
        return X.map_blocks(_ldexp, shift, dtype=X.dtype)
    with np.errstate(over="ignore", under="ignore"):  # overflow is refused by the caller, underflow is rounding
        if is_sparse(X):
            Y = X.copy()
            Y.data = np.ldexp(Y.data, shift).astype(X.dtype, copy=False)
            return Y
        return np.ldexp(X, shift).astype(X.dtype, copy=False)
