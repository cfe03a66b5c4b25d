"""Sketched products ``(A S^T)(S B)`` with the sketch operators of :mod:`lowrank_la.sketch`."""

from __future__ import annotations

from .._validate import check_int, check_option
from ._common import Operands, check_count, terms_variance

__all__ = ["SKETCHED_KINDS", "sketched_matmul"]

SKETCHED_KINDS = ("gaussian", "countsketch", "srht", "sparse_sign")
_SPARSE_SIGN_NNZ = 8


def sketched_matmul(A, B, s, *, kind="gaussian", rng=None, return_variance=False):
    """Approximate ``A @ B`` by ``(A S^T)(S B)`` with a random ``s x n`` sketch ``S``.

    Parameters
    ----------
    A : (m, n) array
        Dense array of any array-API namespace or a Dask array.
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
        If the inner dimensions disagree, `s` is out of range, `kind` is unknown, or an input holds NaN or Inf.

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
    plus ``O(m p s)``.

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
    P = xp.matmul(AS, SB)
    if not return_variance:
        return P
    if kind == "gaussian":
        return P, terms_variance(AS, SB, P, s)
    if kind == "srht":
        return P, terms_variance(AS, SB, P, s, fpc=1.0 - s / next_pow2(n))
    t1, t2 = _frobenius_terms(ops)
    est_sq = float(xp.sum(xp.astype(P, xp.float64) ** 2))
    return P, max(t1 - 2 * t2 + est_sq, 0.0) / (s + 1)


def _frobenius_terms(ops):
    """``(||A||_F^2 ||B||_F^2, sum_k ||A_k||^2 ||B_k||^2)`` in one pass over A and B."""
    if ops.dask:
        import dask
        import dask.array as da

        a, b = dask.compute(da.sum(da.square(ops.A.astype("f8")), axis=0),
                            da.sum(da.square(ops.B.astype("f8")), axis=1))
        return float(a.sum()) * float(b.sum()), float((a * b).sum())
    xp = ops.xp
    A, B = xp.astype(ops.A, xp.float64), xp.astype(ops.B, xp.float64)
    a, b = xp.sum(A * A, axis=0), xp.sum(B * B, axis=1)
    return float(xp.sum(a)) * float(xp.sum(b)), float(xp.sum(a * b))
