"""Closed-form expected squared errors of the single-level product estimators."""

from __future__ import annotations

import numpy as np

from .._backend import to_numpy
from .._validate import check_option
from ._common import ColumnRowSampler, Operands, check_count, exponent, ldexp_checked, scale_pow2

__all__ = ["matmul_variance"]

_METHODS = ("norm", "uniform", "gaussian", "countsketch", "sparse_sign")


def matmul_variance(A, B, c, *, method="norm", replace=True):
    """Exact ``E ||P - A B||_F^2`` of a single-level estimate ``P`` of ``A @ B`` with `c` samples.

    Parameters
    ----------
    A : (m, n) array
        Left factor of the product.
    B : (n, p) array
        Right factor of the product.
    c : int
        Number of sampled pairs or sketch size, ``c >= 1``.
    method : {"norm", "uniform", "gaussian", "countsketch", "sparse_sign"} or (n,) array
        Column-row sampling with norm, uniform or given probabilities (:func:`sampled_matmul`), or a sketch
        (:func:`sketched_matmul`; SRHT has no closed form independent of its random signs).
    replace : bool
        For ``"uniform"``: with (default) or without replacement.

    Returns
    -------
    float
        The expected squared Frobenius error (the trace of the estimator's covariance: all estimators are
        unbiased).

    Raises
    ------
    ValueError
        If the inner dimensions disagree, `c` is out of range, `method` is unknown, given probabilities are
        invalid, ``replace=False`` comes with another method than "uniform", an input holds NaN or Inf, or the
        variance is outside the float64 range (it scales with the square of the scales of A and B).
    TypeError
        If an input is not a dense real array (lists, tuples, DataFrames and ``numpy.matrix`` are converted).

    See Also
    --------
    sampled_matmul : The sampled estimator whose error this gives.
    sketched_matmul : The sketched estimator.

    Notes
    -----
    With ``T1 = ||A||_F^2 ||B||_F^2``, ``T2 = sum_k ||A_k||^2 ||B_k||^2`` and ``F = ||A B||_F^2``: sampling with
    probabilities p gives ``(sum_k ||A_k||^2 ||B_k||^2 / p_k - F) / c`` (times ``(n - c)/(n - 1)`` for uniform
    sampling without replacement, where the sum is ``n T2``); Gaussian ``(T1 + F) / c``; CountSketch and sparse
    sign ``(T1 - 2 T2 + F) / c``. Costs one product ``A B`` (meant for tests and experiments; on Dask arrays two
    passes of per-chunk reductions, the product summed over the chunks of the inner dimension). A and B are
    scaled by powers of two (exact) to a largest entry near one before the squares are formed, so inputs of any
    scale give ``c_A^2 c_B^2`` times the variance of the unscaled ones.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.matmul import matmul_variance
    >>> A = np.eye(3)
    >>> matmul_variance(A, A, 10, method="uniform")  # (3 * 3 - 3) / 10
    0.6
    """
    ops = Operands(A, B)
    if isinstance(method, str):
        check_option(method, "method", _METHODS)
    check_option(replace, "replace", (True, False))
    if not replace and not (isinstance(method, str) and method == "uniform"):
        raise ValueError("replace=False is only available with method='uniform'")
    c = check_count(c, "c", ops.n, replace=replace)
    if ops.dask:  # two passes of per-chunk reductions (the product is a sum of chunk products): no gather
        import dask

        ea, eb = (exponent(v) for v in dask.compute(abs(ops.A).max(), abs(ops.B).max()))
        A64, B64 = scale_pow2(ops.A.astype(np.float64), -ea), scale_pow2(ops.B.astype(np.float64), -eb)
        a, b, F = dask.compute((A64 * A64).sum(axis=0), (B64 * B64).sum(axis=1), ((A64 @ B64) ** 2).sum())
        a, b, F = np.asarray(a), np.asarray(b), float(F)
    else:
        A64, B64 = (np.asarray(to_numpy(X), dtype=np.float64) for X in (ops.A, ops.B))
        ea, eb = exponent(np.abs(A64).max()), exponent(np.abs(B64).max())
        A64, B64 = scale_pow2(A64, -ea), scale_pow2(B64, -eb)
        a, b = (A64 * A64).sum(axis=0), (B64 * B64).sum(axis=1)
        F = float(np.sum((A64 @ B64) ** 2))
    t1, t2 = a.sum() * b.sum(), float((a * b).sum())
    n = ops.n
    if isinstance(method, str) and method == "gaussian":
        value = (t1 + F) / c
    elif isinstance(method, str) and method in ("countsketch", "sparse_sign"):
        value = (t1 - 2 * t2 + F) / c
    elif isinstance(method, str) and method == "uniform":
        factor = 1.0 / c if replace else (n - c) / (c * (n - 1)) if n > 1 else 0.0
        value = max(n * t2 - F, 0.0) * factor
    else:
        p = ColumnRowSampler(ops, method).p
        ratio = np.divide(a * b, p, out=np.zeros_like(p), where=p > 0)
        value = max(ratio.sum() - F, 0.0) / c
    return ldexp_checked(max(float(value), 0.0), 2 * (ea + eb), "the expected squared error")
