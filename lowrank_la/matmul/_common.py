"""What the matmul estimators share: input checks, column-row sampling probabilities, index draws, gathers."""

from __future__ import annotations

import math

import numpy as np

from .._backend import (
    array_namespace,
    as_rng,
    device_of,
    is_cupy_namespace,
    is_numpy_namespace,
    to_numpy,
    working_dtype,
)
from .._validate import check_int, check_matrix, check_option, check_shape_agrees, is_dask, is_sparse

__all__ = []

PROBS_KINDS = ("norm", "uniform")


class Operands:
    """Checked operands of ``A @ B``: the arrays, their namespace, the shapes and the working dtype.

    Dask inputs are kept lazy: only the columns of A and rows of B that a sampler picks are computed
    (:meth:`gather`); dense inputs of any array-API namespace are used as they are.
    """

    def __init__(self, A, B):
        for X, name in ((A, "A"), (B, "B")):
            check_matrix(X, name)
            if is_sparse(X) or not hasattr(X, "__getitem__"):
                raise TypeError(f"{name} must be a dense array (NumPy, CuPy, array-API) or a Dask array, got "
                                f"{type(X).__name__}")
        check_shape_agrees("B.shape[0]", B.shape[0], A.shape[1], "A.shape[1]")
        self.dask = is_dask(A) or is_dask(B)
        if self.dask:
            import dask.array as da

            A, B = da.asarray(A), da.asarray(B)
            self.xp = array_namespace(np.empty(0))
            self.dtype = working_dtype(np.result_type(A.dtype, B.dtype), self.xp)
            self.device = "cpu"
        else:
            self.xp = array_namespace(A, B)
            self.dtype = working_dtype(self.xp.result_type(A.dtype, B.dtype), self.xp)
            self.device = device_of(A)
        self.A, self.B = A, B
        self.m, self.n = (int(s) for s in A.shape)
        self.p = int(B.shape[1])

    def host_rng(self, rng):
        """A generator for index draws: CuPy's on CuPy inputs, NumPy's otherwise."""
        return as_rng(rng, self.xp if is_cupy_namespace(self.xp) else None)

    def column_row_weights(self):
        """``||A[:, k]|| ||B[k, :]||`` for every k (one pass over A and B), as float64 in the namespace."""
        xp = self.xp
        if self.dask:
            import dask

            a, b = dask.compute(_dask_norms(self.A, 0), _dask_norms(self.B, 1))
            return np.asarray(a, dtype=np.float64) * np.asarray(b, dtype=np.float64)
        a = xp.linalg.vector_norm(xp.astype(self.A, self.dtype, copy=False), axis=0)
        b = xp.linalg.vector_norm(xp.astype(self.B, self.dtype, copy=False), axis=1)
        return xp.astype(a, xp.float64) * xp.astype(b, xp.float64)

    def gather(self, idx):
        """``(A[:, idx], B[idx, :])`` in the working dtype, for an int index array of any shape ``S``.

        Returns arrays of shapes ``(m, *S)`` and ``(*S, p)``. Dask reads only the distinct picked indices.
        """
        xp = self.xp
        if self.dask:
            flat = np.asarray(idx).reshape(-1)
            uniq, inverse = np.unique(flat, return_inverse=True)
            import dask

            Au, Bu = dask.compute(self.A[:, uniq], self.B[uniq, :])
            Ag = np.asarray(Au, dtype=self.dtype)[:, inverse]
            Bg = np.asarray(Bu, dtype=self.dtype)[inverse, :]
        else:
            flat = xp.reshape(idx, (-1,))
            Ag = xp.astype(xp.take(self.A, flat, axis=1), self.dtype, copy=False)
            Bg = xp.astype(xp.take(self.B, flat, axis=0), self.dtype, copy=False)
        shape = tuple(idx.shape)
        return xp.reshape(Ag, (self.m, *shape)), xp.reshape(Bg, (*shape, self.p))

    def to_namespace(self, x, dtype=None):
        """A host (NumPy) array in the operands' namespace and device."""
        xp = self.xp
        if self.dask or type(x) is type(xp.empty(0)):
            return x if dtype is None else xp.astype(x, dtype)
        return xp.asarray(np.asarray(x), dtype=dtype, device=self.device)


def _dask_norms(X, axis):
    import dask.array as da

    return da.sqrt(da.sum(da.square(X.astype(np.float64)), axis=axis))


class ColumnRowSampler:
    """Column-row sampling probabilities over ``[n]`` and their alias table.

    Parameters
    ----------
    ops : Operands
    probs : {"norm", "uniform"} or 1-D array
        ``"norm"``: ``p_k ∝ ||A[:, k]|| ||B[k, :]||`` (DKM's optimal probabilities; one pass over A and B);
        ``"uniform"``: ``p_k = 1/n``; an array: probabilities of length n that sum to one and are positive
        wherever ``||A[:, k]|| ||B[k, :]|| > 0``.
    """

    def __init__(self, ops: Operands, probs):
        self.ops = ops
        n = ops.n
        if isinstance(probs, str):
            check_option(probs, "probs", PROBS_KINDS)
            self.kind = probs
            if probs == "uniform":
                p = np.full(n, 1.0 / n)
            else:
                w = to_numpy(ops.column_row_weights())
                total = float(w.sum())
                p = w / total if total > 0 else np.full(n, 1.0 / n)  # A B = 0: any p is exact
        else:
            self.kind = "given"
            p = _check_probs(probs, n, ops)
        self.p = p
        self.uniform = self.kind == "uniform"
        self._table = self._inv = None

    def draw(self, size, gen):
        """Indices of shape `size`, i.i.d. from ``p`` (alias table; plain integers when uniform)."""
        xp = self.ops.xp
        dev = xp if is_cupy_namespace(xp) else np
        if self.uniform:
            idx = gen.integers(0, self.ops.n, size=size)
        else:
            if self._table is None:
                from .._kernels.alias import alias_table

                prob, alias = alias_table(self.p)
                self._table = (dev.asarray(prob), dev.asarray(alias))
            from .._kernels.alias import alias_draw

            idx = alias_draw(*self._table, size, gen, xp=dev)
        return idx if self.ops.dask or dev is not np else self.ops.to_namespace(idx)

    def inverse_probs(self, idx):
        """``1 / p[idx]`` in the working dtype and namespace (the DKM rescaling)."""
        ops = self.ops
        if self.uniform:
            return None
        if self._inv is None:  # 1/p once, in the working dtype and namespace; p = 0 is never drawn
            inv = np.divide(1.0, self.p, out=np.zeros_like(self.p), where=self.p > 0)
            native = ops.dask or is_numpy_namespace(ops.xp)
            self._inv = inv.astype(ops.dtype) if native else ops.to_namespace(inv, ops.dtype)
        if ops.dask or is_numpy_namespace(ops.xp) or is_cupy_namespace(ops.xp):
            return self._inv[idx]
        return ops.xp.reshape(ops.xp.take(self._inv, ops.xp.reshape(idx, (-1,)), axis=0), idx.shape)


def _check_probs(probs, n, ops):
    try:
        p = np.asarray(to_numpy(probs), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"probs must be 'norm', 'uniform' or a 1-D array of {n} probabilities") from exc
    if p.shape != (n,):
        raise ValueError(f"probs must have shape (n,) = ({n},) with n = A.shape[1], got shape {p.shape}")
    if not np.isfinite(p).all():
        raise ValueError("probs must be finite")
    if (p < 0).any():
        raise ValueError(f"probs must be non-negative, got min(probs) = {p.min():.3g}")
    total = float(p.sum())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"probs must sum to one, got sum(probs) = {total:.9g}")
    zero = p == 0
    if zero.any():
        w = to_numpy(ops.column_row_weights())
        bad = np.nonzero(zero & (w > 0))[0]
        if bad.size:
            raise ValueError(f"probs must be positive wherever ||A[:, k]|| ||B[k, :]|| > 0, but probs[{bad[0]}] "
                             f"= 0 ({bad.size} such k): the estimator would be biased")
    return p / total


def check_count(c, name, n=None, *, replace=True):
    """A sample or sketch size ``c >= 1`` (``<= n`` when drawing without replacement)."""
    if replace or n is None:
        return check_int(c, name, low=1)
    return check_int(c, name, low=1, high=n, high_text=f"n = A.shape[1] = {n} (without replacement)")


def terms_variance(Ac, Br, est, c, fpc=1.0):
    """Unbiased estimate of ``E ||est - A B||_F^2`` when ``est = sum_j Ac[:, j] Br[j, :]`` is the mean of ``c``
    exchangeable unbiased terms ``z_j = c Ac[:, j] Br[j, :]`` (i.i.d., or a simple random sample times the
    finite-population correction `fpc`).

    ``sum_j ||z_j - est||^2 = c^2 sum_j ||a_j||^2 ||b_j||^2 - 2 c sum_j a_j^T est b_j + c ||est||^2``, divided by
    ``c (c - 1)``; NaN for ``c = 1``.
    """
    if c < 2:
        return math.nan
    xp = array_namespace(Ac, Br, est)
    Ac, Br, est = (xp.astype(x, xp.float64) for x in (Ac, Br, est))
    norms = xp.sum(Ac * Ac, axis=0) * xp.sum(Br * Br, axis=1)
    cross = xp.sum(xp.matmul(xp.permute_dims(Ac, (1, 0)), est) * Br)
    total = c * c * xp.sum(norms) - 2 * c * cross + c * xp.sum(est * est)
    return max(float(total), 0.0) * fpc / (c * (c - 1))
