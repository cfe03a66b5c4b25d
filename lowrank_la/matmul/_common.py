"""What the matmul estimators share: input checks, column-row sampling probabilities, index draws, gathers, and
the power-of-two rescaling that keeps squares and products of extreme-scale inputs inside the float range."""

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
from .._validate import as_matrix, check_int, check_option, check_shape_agrees, is_dask, is_sparse

__all__ = []

PROBS_KINDS = ("norm", "uniform")


class Operands:
    """Checked operands of ``A @ B``: the arrays, their namespace, the shapes and the working dtype.

    Dask inputs are kept lazy: only the columns of A and rows of B that a sampler picks are computed
    (:meth:`gather`); dense inputs of any array-API namespace are used as they are.
    """

    def __init__(self, A, B, *, sparse=False):
        A = as_matrix(A, "A", sparse=sparse)
        B = as_matrix(B, "B", sparse=sparse)
        check_shape_agrees("B.shape[0]", B.shape[0], A.shape[1], "A.shape[1]")
        self.sparse = is_sparse(A) or is_sparse(B)
        self.dask = is_dask(A) or is_dask(B)
        if self.sparse:
            if not all(_scipy_sparse(X) or type(X) is np.ndarray for X in (A, B)):
                raise TypeError("a sparse A or B must be scipy.sparse, with the other one scipy.sparse or a NumPy "
                                f"array; got {type(A).__name__} and {type(B).__name__}")
            self.xp = array_namespace(np.empty(0))
            self.dtype = working_dtype(np.result_type(A.dtype, B.dtype), self.xp)
            self.device = "cpu"
            A = A.tocsc() if is_sparse(A) else A  # columns of A are sampled: CSC; rows of B: CSR
            B = B.tocsr() if is_sparse(B) else B
        elif self.dask:
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
        """Weights proportional to ``||A[:, k]|| ||B[k, :]||`` for every k, as float64 in the namespace (NumPy
        for sparse and Dask input), largest 1 (all 0 when ``A B`` has no nonzero column-row pair).

        One pass over A and B; a second, with A and B rescaled by powers of two, where a norm overflowed or
        may have underflowed (entries beyond about ``1e+-135`` in float64).
        """
        a, b = self.norms(self.A, 0)[0], self.norms(self.B, 1)[0]
        return _unit(a, self.xp) * _unit(b, self.xp)

    def norms(self, X, axis):
        """``(norms, e)``: the Euclidean norms of the columns (axis 0) or rows (axis 1) of X are ``norms 2^e``, in
        float64 (NumPy for sparse and Dask input), computed from X rescaled by ``2^-e`` where they would over-
        or underflow."""
        xp = self.xp
        if is_sparse(X):
            e = max_exponent(X, xp)
            Xs = scale_pow2(X.astype(np.float64), -e)
            return np.sqrt(np.asarray(abs(Xs).power(2).sum(axis=axis), dtype=np.float64).reshape(-1)), e
        if self.dask:
            import dask

            norms = np.asarray(dask.compute(_dask_norms(X, axis, 0))[0], dtype=np.float64)
            if _safe_norms(norms):
                return norms, 0
            e = exponent(dask.compute(abs(X).max())[0])
            return np.asarray(dask.compute(_dask_norms(X, axis, e))[0], dtype=np.float64), e
        X64 = xp.astype(X, xp.float64)
        with np.errstate(over="ignore", under="ignore"):  # detected below, and recomputed rescaled
            norms = xp.linalg.vector_norm(X64, axis=axis)
        if _safe_norms(to_numpy(norms)):
            return norms, 0
        e = exponent(xp.max(xp.abs(X64)))
        return xp.linalg.vector_norm(scale_pow2(X64, -e), axis=axis), e

    def gather(self, idx):
        """``(A[:, idx], B[idx, :])`` in the working dtype, for an int index array of any shape ``S``.

        Returns arrays of shapes ``(m, *S)`` and ``(*S, p)``. Dask reads only the distinct picked indices, one
        chunk of the inner dimension per task (:func:`_take_dask`).
        """
        xp = self.xp
        if self.sparse:  # a 1-D draw: the picked columns of the CSC A and rows of the CSR B, kept sparse
            flat = np.asarray(idx).reshape(-1)
            Ag = self.A[:, flat].astype(self.dtype) if is_sparse(self.A) else np.take(self.A, flat, axis=1)
            Bg = self.B[flat, :].astype(self.dtype) if is_sparse(self.B) else np.take(self.B, flat, axis=0)
            return Ag.astype(self.dtype, copy=False), Bg.astype(self.dtype, copy=False)
        if self.dask:
            flat = np.asarray(idx).reshape(-1)
            uniq, inverse = np.unique(flat, return_inverse=True)
            Au, Bu = _take_dask(self.A, uniq, 1), _take_dask(self.B, uniq, 0)
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
        if self.dask or self.sparse or type(x) is type(xp.empty(0)):
            return x if dtype is None else xp.astype(x, dtype)
        return xp.asarray(np.asarray(x), dtype=dtype, device=self.device)


def _scipy_sparse(X) -> bool:
    import scipy.sparse

    return scipy.sparse.issparse(X)


def _take_dask(X, idx, axis):
    """``take(X, idx, axis)`` of a Dask X at sorted distinct `idx`, as NumPy: each chunk of `axis` is read by
    its own tasks and returned on its own, so no task receives more than the picks of one chunk, and the
    pieces are joined here (the size of the picks, never that of X)."""
    import dask

    bounds = np.cumsum((0,) + X.chunks[axis])
    pieces = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        sel = idx[(idx >= lo) & (idx < hi)]
        if sel.size:
            pieces.append(X[:, sel] if axis == 1 else X[sel, :])
    return np.concatenate(dask.compute(*pieces), axis=axis)


def _dask_norms(X, axis, e):
    import dask.array as da

    X = X.astype(np.float64) * math.ldexp(1.0, -e) if e else X.astype(np.float64)
    return da.sqrt(da.sum(da.square(X), axis=axis))


def _safe_norms(norms) -> bool:
    """Whether float64 norms are free of overflow and of underflowed squares (largest norm within 2^+-450; a zero
    largest norm is checked again, rescaled)."""
    top = float(np.max(norms))
    return 2.0**-450 < top < 2.0**450


def _unit(norms, xp):
    """`norms` divided by their largest (kept as they are when all zero)."""
    top = float(xp.max(norms))
    return norms / top if top > 0 else norms


def exponent(amax) -> int:
    """The power-of-two exponent ``e`` with ``amax = f 2^e``, ``0.5 <= f < 1`` (0 for 0 or a non-finite value)."""
    amax = float(amax)
    return math.frexp(amax)[1] if amax != 0.0 and math.isfinite(amax) else 0


def max_exponent(X, xp) -> int:
    """:func:`exponent` of ``max |X|`` (dense array of namespace `xp`, or a scipy.sparse matrix)."""
    if is_sparse(X):
        return exponent(np.abs(X.data).max()) if X.nnz else 0
    return exponent(xp.max(xp.abs(X)))


def scale_pow2(X, e):
    """``X 2^e``, exact unless the result is subnormal (two factors when ``2^e`` itself is out of range)."""
    if e == 0:
        return X
    if abs(e) < 1000:
        return X * math.ldexp(1.0, e)
    return (X * math.ldexp(1.0, e // 2)) * math.ldexp(1.0, e - e // 2)


def outside_safe_range(e, dtype) -> bool:
    """Whether a max-abs exponent `e` is so extreme in `dtype` that products or squares may over/underflow."""
    limit = np.finfo(np.dtype(str(dtype).split(".")[-1])).maxexp // 4
    return abs(e) > limit


def ldexp_checked(value, e, what):
    """``value 2^e`` as a float; ``ValueError`` when it overflows or a positive value underflows to zero."""
    try:
        out = math.ldexp(float(value), e)
    except OverflowError:
        out = math.inf
    if (value > 0 and out == 0.0) or not math.isfinite(out):
        raise ValueError(f"{what} = {float(value):.6g} * 2^{e} is outside the float64 range; rescale A or B "
                         "(it is proportional to the square of their scale)")
    return out


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
                w = np.asarray(to_numpy(ops.column_row_weights()), dtype=np.float64)
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


def terms_variance(Ac, Br, est, c, fpc=1.0, *, shift=0):
    """Unbiased estimate of ``E ||est - A B||_F^2`` when ``est = sum_j Ac[:, j] Br[j, :]`` is the mean of ``c``
    exchangeable unbiased terms ``z_j = c Ac[:, j] Br[j, :]`` (i.i.d., or a simple random sample times the
    finite-population correction `fpc`).

    ``sum_j ||z_j - est||^2 = c^2 sum_j ||a_j||^2 ||b_j||^2 - 2 c sum_j a_j^T est b_j + c ||est||^2``, divided by
    ``c (c - 1)``, times ``4^shift`` (the factors were scaled by ``2^-shift``); NaN for ``c = 1``. The factors
    are rescaled by powers of two first (``Ac`` and ``Br`` scipy.sparse or dense), so that the squares neither
    overflow nor underflow; ``ValueError`` when the variance itself is outside the float64 range.
    """
    if c < 2:
        return math.nan
    if is_sparse(Ac) or is_sparse(Br) or is_sparse(est):
        xp = array_namespace(np.empty(0))
    else:
        xp = array_namespace(Ac, Br, est)
    ea, eb = max_exponent(Ac, xp), max_exponent(Br, xp)
    Ac, Br, est = (_as_float64(X, xp) for X in (Ac, Br, est))
    Ac, Br, est = scale_pow2(Ac, -ea), scale_pow2(Br, -eb), scale_pow2(est, -ea - eb)
    if is_sparse(Ac) or is_sparse(Br) or is_sparse(est):
        a = np.asarray(abs(Ac).power(2).sum(axis=0) if is_sparse(Ac) else np.sum(Ac * Ac, axis=0)).reshape(-1)
        b = np.asarray(abs(Br).power(2).sum(axis=1) if is_sparse(Br) else np.sum(Br * Br, axis=1)).reshape(-1)
        AtE = Ac.T @ est
        cross = float(AtE.multiply(Br).sum() if is_sparse(AtE) else (Br.multiply(AtE).sum() if is_sparse(Br)
                                                                      else np.sum(AtE * Br)))
        est_sq = float(est.power(2).sum()) if is_sparse(est) else float(np.sum(est * est))
        total = c * c * float(np.sum(a * b)) - 2 * c * cross + c * est_sq
    else:
        norms = xp.sum(Ac * Ac, axis=0) * xp.sum(Br * Br, axis=1)
        cross = xp.sum(xp.matmul(xp.permute_dims(Ac, (1, 0)), est) * Br)
        total = float(c * c * xp.sum(norms) - 2 * c * cross + c * xp.sum(est * est))
    return ldexp_checked(max(total, 0.0) * fpc / (c * (c - 1)), 2 * (ea + eb + shift), "the estimated squared error")


def _as_float64(X, xp):
    return X.astype(np.float64) if is_sparse(X) else xp.astype(X, xp.float64)
