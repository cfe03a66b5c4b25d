"""Sketched products ``(A S^T)(S B)`` with the sketch operators of :mod:`lowrank_la.sketch`."""

from __future__ import annotations

import numpy as np

from .._validate import check_int, check_option, refuse_random_state
from ._common import (
    Operands,
    check_count,
    exponent,
    ldexp_checked,
    max_exponent,
    outside_safe_range,
    scale_pow2,
    terms_variance,
)

__all__ = ["SKETCHED_KINDS", "sketched_matmul"]

#: The sketches :func:`sketched_matmul` accepts as `kind`.
SKETCHED_KINDS = ("gaussian", "countsketch", "srht", "sparse_sign")
_SPARSE_SIGN_NNZ = 8


@refuse_random_state
def sketched_matmul(A, B, s, *, kind="gaussian", rng=None, return_variance=False):
    """Approximate ``A @ B`` by ``(A S^T)(S B)`` with a random ``s x n`` sketch ``S``.

    Parameters
    ----------
    A : (m, n) array
        Dense array of any array-API namespace or a Dask array (lists, tuples, DataFrames and ``numpy.matrix``
        are converted to NumPy arrays). A Dask array is never gathered: ``A S^T`` and ``S B`` are sums over
        the chunks of the inner dimension of per-chunk sketches (:meth:`lowrank_la.sketch.SketchOperator.apply`),
        with the same draws as for NumPy, so the result equals the NumPy one up to the order of the sums.
    B : (n, p) array
        As `A`.
    s : int
        Sketch size, ``s >= 1`` (``s <= next_pow2(n)`` for ``"srht"``).
    kind : {"gaussian", "countsketch", "srht", "sparse_sign"}
        The sketch (:func:`lowrank_la.sketch.make_sketch`): i.i.d. ``N(0, 1/s)`` entries; one ``+-1`` per
        column; subsampled randomized Hadamard transform; ``min(8, s)`` entries ``+-1/sqrt(8)`` per column.
    rng : None, int or numpy.random.Generator
        Source of randomness. Same seed, same bits.
    return_variance : bool
        Also return an unbiased estimate of ``E ||(A S^T)(S B) - A B||_F^2`` (see Notes).

    Returns
    -------
    P : (m, p) array
        The estimate, in the namespace and working dtype of the inputs (a NumPy array for Dask inputs).
    variance : float
        Only with ``return_variance=True``.

    Raises
    ------
    ValueError
        If the inner dimensions disagree, `s` is out of range, `kind` is unknown, an input holds NaN or Inf, or
        the estimate (or the variance) is outside the float range.
    TypeError
        If an input is sparse, complex or not an array.

    See Also
    --------
    sampled_matmul : Column-row sampling, which reads only the sampled columns of `A` and rows of `B`.
    matmul_variance : The exact expected squared error with the Gaussian, CountSketch and sparse sign sketches.
    lowrank_la.sketch.make_sketch : The sketch operators this draws by name.

    Notes
    -----
    Every kind is unbiased, ``E[S^T S] = I``. Expected squared Frobenius errors (:func:`matmul_variance`),
    with ``T1 = ||A||_F^2 ||B||_F^2`` and ``T2 = sum_k ||A_k||^2 ||B_k||^2``:

    * Gaussian: ``(T1 + ||A B||_F^2) / s``;
    * CountSketch and sparse sign (any number of nonzeros per column, in distinct rows):
      ``(T1 - 2 T2 + ||A B||_F^2) / s``;
    * SRHT: given the signs it samples ``s`` of the ``n' = next_pow2(n)`` mixed column-row pairs uniformly
      without replacement, so the variance is that of uniform sampling of the mixed pairs (about the Gaussian
      one once the mixing has flattened the pair norms).

    The variance estimate is the spread of the ``s`` rank-one terms for Gaussian (i.i.d. terms) and SRHT
    (a simple random sample of the mixed pairs, with the finite-population factor ``1 - s/n'``), and the
    closed form with ``||A B||_F^2`` replaced by its unbiased estimate ``||P||_F^2 - variance`` for
    CountSketch and sparse sign (``(T1 - 2 T2 + ||P||_F^2) / (s + 1)``, one more pass over A and B). Cost:
    the sketch applications (``O(m n s)`` Gaussian, ``O(nnz)`` CountSketch, ``O((m + p) n log n)`` SRHT)
    plus ``O(m p s)``. The sketched factors ``A S^T`` and ``S B`` are rescaled by powers of two (exact) where
    their entries are extreme enough for the product or the squares to over- or underflow, so that
    ``sketched_matmul(c A, B) = c sketched_matmul(A, B)`` for any representable result.

    References
    ----------
    .. [1] T. Sarlos, "Improved approximation algorithms for large matrices via random projections", FOCS 2006.
    .. [2] D. P. Woodruff, "Sketching as a tool for numerical linear algebra", Found. Trends TCS 10, 2014.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.matmul import sketched_matmul
    >>> gen = np.random.default_rng(0)
    >>> A, B = gen.standard_normal((20, 3000)), gen.standard_normal((3000, 10))
    >>> P, var = sketched_matmul(A, B, 1000, kind="countsketch", rng=0, return_variance=True)
    >>> bool(np.linalg.norm(P - A @ B) < 4 * np.sqrt(var))
    True
    """
    from ..sketch import make_sketch, next_pow2  # lazily: the sketch package loads the Numba kernels

    ops = Operands(A, B)
    check_option(kind, "kind", SKETCHED_KINDS)
    check_option(return_variance, "return_variance", (False, True))
    n = ops.n
    if kind == "srht":
        s = check_int(s, "s", low=1, high=next_pow2(n), high_text=f"next_pow2(A.shape[1]) = {next_pow2(n)}")
    else:
        s = check_count(s, "s")
    options = {"nnz_per_col": min(_SPARSE_SIGN_NNZ, s)} if kind == "sparse_sign" else {}
    S = make_sketch(kind, s, n, rng=rng, **options)
    AS = S.apply(ops.A, axis=-1)
    SB = S.apply(ops.B, axis=0)
    if ops.dask:
        import dask

        AS, SB = dask.compute(AS, SB)
    xp = ops.xp
    AS, SB = xp.astype(AS, ops.dtype), xp.astype(SB, ops.dtype)
    ea, eb = max_exponent(AS, xp), max_exponent(SB, xp)
    if not (outside_safe_range(ea, ops.dtype) or outside_safe_range(eb, ops.dtype)):
        ea = eb = 0
    AS, SB = scale_pow2(AS, -ea), scale_pow2(SB, -eb)
    P0 = xp.matmul(AS, SB)
    P = scale_pow2(P0, ea + eb)
    if ea + eb and not bool(xp.all(xp.isfinite(P))):
        raise ValueError("the estimate of A @ B overflows the float range of its dtype: its entries exceed "
                         f"{float(np.finfo(ops.dtype).max):.3g}")
    if not return_variance:
        return P
    if kind == "gaussian":
        return P, terms_variance(AS, SB, P0, s, shift=ea + eb)
    if kind == "srht":
        return P, terms_variance(AS, SB, P0, s, fpc=1.0 - s / next_pow2(n), shift=ea + eb)
    t1, t2, e = _frobenius_terms(ops)
    est = xp.astype(P0, xp.float64)
    est_sq = float(xp.sum(scale_pow2(est, ea + eb - e) ** 2))
    return P, ldexp_checked(max(t1 - 2 * t2 + est_sq, 0.0) / (s + 1), 2 * e, "the estimated squared error")


def _frobenius_terms(ops):
    """``(T1, T2, e)``: ``||A||_F^2 ||B||_F^2 = T1 4^e`` and ``sum_k ||A_k||^2 ||B_k||^2 = T2 4^e``, in one pass over
    A and B (two where the norms need rescaling)."""
    xp = np if ops.dask else ops.xp
    (a, ea), (b, eb) = ops.norms(ops.A, 0), ops.norms(ops.B, 1)
    ka, kb = exponent(xp.max(a)), exponent(xp.max(b))
    a, b = scale_pow2(a, -ka) ** 2, scale_pow2(b, -kb) ** 2
    return float(xp.sum(a)) * float(xp.sum(b)), float(xp.sum(a * b)), ea + ka + eb + kb
