"""Fixed-accuracy randomized factorisations: blocked QB (randQB_EI) and the SVD to a tolerance."""

from __future__ import annotations

import math
import warnings
from typing import Any, NamedTuple

import numpy as np

from .._backend import ConvergenceWarning, SVDResult, as_rng, to_numpy
from .._validate import check_int, check_option, check_rank, check_tolerance, refuse_random_state
from ._common import (
    draw,
    finish,
    host_float,
    ldexp_safe,
    orthonormalize,
    pow2_exponent,
    prepare,
    svd_of_projection,
    times_pow2,
)

__all__ = ["QBResult", "SVDTolResult", "rand_qb", "svd_tol"]

#: The indicator ``||A||_F^2 - ||B||_F^2`` is trusted while ``tol_rel^2 >= _RELIABLE * eps`` of the dtype.
_RELIABLE = 100.0
#: Entries per dense temporary block of the directly computed residual.
_BLOCK_ENTRIES = 2**22


class QBResult(NamedTuple):
    """``A ~ Q @ B`` from :func:`rand_qb`.

    Attributes
    ----------
    Q : (m, r) array
        Orthonormal columns.
    B : (r, n) array
        ``Q^T A``.
    rank : int
        ``r``.
    error_estimate : float or None
        Estimate of ``||A - QB||_F / ||A||_F`` (the free indicator, or the directly computed residual where
        the indicator is unreliable); None when stopped by `rank` alone.
    converged : bool
        Whether the tolerance was met (True when stopped by `rank` alone).
    err2_history : list of float
        The squared relative indicator after each block (empty when stopped by `rank` alone).
    """

    Q: Any
    B: Any
    rank: int
    error_estimate: Any
    converged: bool
    err2_history: list


class SVDTolResult(SVDResult):
    """``(U, s, Vh)`` of :func:`svd_tol`, with the attributes ``rank``, ``error_estimate`` and ``converged``.

    Unpacks as ``U, s, Vh`` (it is an :class:`~lowrank_la.SVDResult`). ``error_estimate`` estimates
    ``||A - U diag(s) Vh||_F``, relative to ``||A||_F`` when ``relative=True`` (in the units of ``tol``).
    """

    def __new__(cls, U, s, Vh, *, rank, error_estimate, converged):
        self = super().__new__(cls, U, s, Vh)
        self.rank = rank
        self.error_estimate = error_estimate
        self.converged = converged
        return self

    def __repr__(self):
        return (f"SVDTolResult(rank={self.rank}, error_estimate={self.error_estimate!r}, "
                f"converged={self.converged}, U={self.U!r}, s={self.s!r}, Vh={self.Vh!r})")

    def __reduce__(self):
        return (_rebuild_tol, (tuple(self), self.rank, self.error_estimate, self.converged))


def _rebuild_tol(fields, rank, error_estimate, converged):
    return SVDTolResult(*fields, rank=rank, error_estimate=error_estimate, converged=converged)


# --------------------------------------------------------------------------- norms

def _blocks(prod):
    """The blocks of ``A`` (float64, unscaled) as ``(block, rows, cols)`` slices, read once (one pass).

    Dense input in row blocks and sparse input in densified row blocks of about ``2^22`` entries (the whole
    matrix is never densified); a LinearOperator applied to blocks of the identity (``n / 256`` products).
    """
    op, xp = prod.op, prod.xp
    m, n = op.shape
    A = op._A
    if op.kind == "linear_operator":
        for c0 in range(0, n, 256):
            c1 = min(n, c0 + 256)
            E = np.zeros((n, c1 - c0), dtype=prod.dtype)
            E[np.arange(c0, c1), np.arange(c1 - c0)] = 1
            yield np.asarray(op.matmat(E), dtype=np.float64), slice(None), slice(c0, c1)
        return
    op._counter.count += 1
    if op.kind == "sparse":
        A = A.tocsr()
    rows = max(1, _BLOCK_ENTRIES // n)
    for r0 in range(0, m, rows):
        r1 = min(m, r0 + rows)
        block = A[r0:r1].toarray() if op.kind == "sparse" else A[r0:r1, :]
        yield xp.astype(block, xp.float64), slice(r0, r1), slice(None)


def _lassq_pair(block, xp):
    """``(e, ssq)`` with ``||block||_F^2 = ssq 2^(-2e)`` and ``ssq`` of order one (LAPACK's lassq idea)."""
    big = host_float(xp.max(xp.abs(block)))
    if big == 0:
        return 0, 0.0
    e = pow2_exponent(big)
    scaled = times_pow2(block, e, np.float64)
    return e, host_float(xp.sum(scaled * scaled))


def _lassq_chunk(block):
    e, ssq = _lassq_pair(np.asarray(block, dtype=np.float64), np)
    return np.array([[float(e), ssq]])


def _fro_scaled(prod):
    """``(e, ||2^e A||_F^2)`` with ``2^e ||A||_F`` about one: no square under- or overflows; one read of A."""
    op, xp = prod.op, prod.xp
    if op.kind == "dask":
        A = op._A
        pairs = A.map_blocks(_lassq_chunk, dtype=np.float64,
                             chunks=((1,) * len(A.chunks[0]), (2,) * len(A.chunks[1])))
        op._counter.count += 1
        pairs = np.asarray(pairs.compute()).reshape(-1, 2)
        pairs = [(int(e), ssq) for e, ssq in pairs]
    elif op.kind == "sparse":
        S = op._A
        if not getattr(S, "has_canonical_format", True):
            S = S.tocsr().copy()
            S.sum_duplicates()
        op._counter.count += 1
        data = S.data
        mod = xp if not hasattr(data, "get") else __import__("cupy")
        pairs = [_lassq_pair(mod.astype(data, mod.float64) if mod is xp else data.astype(np.float64), mod)]
    else:
        pairs = [_lassq_pair(block, np if isinstance(block, np.ndarray) else xp) for block, _, _ in _blocks(prod)]
    pairs = [(e, ssq) for e, ssq in pairs if ssq > 0]
    if not pairs:
        return 0, 0.0
    top = min(e for e, _ in pairs)  # the exponent of the largest block
    total = sum(math.ldexp(ssq, 2 * (top - e)) for e, ssq in pairs)
    e = top - round(math.log2(total) / 2)
    return e, math.ldexp(total, 2 * (e - top))


def _fro2(prod, Q, Bt):
    """``||2^e A - Q Bt^T||_F^2`` (``e = prod.scale_exp``) computed directly in float64; one read of ``A``."""
    op, xp = prod.op, prod.xp
    e = prod.scale_exp
    if op.kind == "dask":
        R = times_pow2(op._A.astype(np.float64), e, np.float64) - (Q @ Bt.T).astype(np.float64)
        op._counter.count += 1
        return host_float((R * R).sum())
    total = 0.0
    for block, rows, cols in _blocks(prod):
        mod = np if isinstance(block, np.ndarray) else xp
        R = times_pow2(block, e, np.float64) - mod.astype(Q[rows, :] @ Bt[cols, :].T, mod.float64)
        total += host_float(mod.sum(R * R))
    return total


# --------------------------------------------------------------------------- the blocked QB loop

def _qb(prod, gen, *, block_size, n_power, max_rank, threshold=None, norm2=None, reliable=True):
    """randQB_EI (Yu, Gu, Li 2018, Alg. 2) on ``prod``; stops at `max_rank` or when the error is met.

    Returns ``(Q, Bt, rank, err2, converged, history)`` with ``Bt = B^T`` and ``err2`` the absolute squared
    error estimate (None without a threshold).
    """
    xp, dask = prod.xp, prod.dask
    Q = Bt = None
    rank = 0
    sumB2 = 0.0
    history = []
    err2 = None
    converged = threshold is None

    def orth(Y):
        return orthonormalize(Y, xp, method="qr", dask=dask)

    def cat(a, b):
        if a is None:
            return b
        if dask:
            import dask.array as da

            return da.concatenate([a, b], axis=1)
        return xp.concat([a, b], axis=1)

    while rank < max_rank:
        w = min(block_size, max_rank - rank)
        Om = draw(prod, gen, w)
        Y = prod.matmat(Om)
        if Q is not None:
            Y = Y - Q @ (Bt.T @ Om)
        Qi = orth(Y)
        for _ in range(n_power):
            Z = prod.rmatmat(Qi)
            if Q is not None:
                Z = Z - Bt @ (Q.T @ Qi)
            Z = orth(Z)
            Y = prod.matmat(Z)
            if Q is not None:
                Y = Y - Q @ (Bt.T @ Z)
            Qi = orth(Y)
        if Q is not None:  # re-orthogonalise twice ("twice is enough"), robust when the range is exhausted
            for _ in range(2):
                Qi = orth(Qi - Q @ (Q.T @ Qi))
        Bti = prod.rmatmat(Qi)
        if Q is not None:
            Bti = Bti - Bt @ (Q.T @ Qi)
        if dask and threshold is not None:
            import dask as dask_mod

            Qi, Bti = dask_mod.persist(Qi, Bti)
        Q, Bt = cat(Q, Qi), cat(Bt, Bti)
        rank += w
        if threshold is None:
            continue
        rows2 = np.asarray(to_numpy(xp.sum(Bti * Bti, axis=0)), dtype=np.float64)
        indicator = norm2 - (sumB2 + float(rows2.sum()))
        history.append(indicator / norm2 if norm2 > 0 else 0.0)
        if reliable:
            if indicator < threshold:
                # the exact rank inside the block: drop rows of B_i from the end while the error allows
                keep = w
                tail = indicator
                while keep > 1 and tail + rows2[keep - 1] < threshold:
                    tail += rows2[keep - 1]
                    keep -= 1
                rank -= w - keep
                Q, Bt = Q[:, :rank], Bt[:, :rank]
                err2, converged = max(tail, 0.0), True
                break
            sumB2 += float(rows2.sum())
            err2 = max(indicator, 0.0)
        else:
            sumB2 += float(rows2.sum())
            eps = _eps(prod.dtype)
            err2 = max(indicator, 0.0)
            if indicator < threshold + _RELIABLE * eps * norm2 or rank >= min(prod.shape):
                direct = _fro2(prod, Q, Bt)
                err2 = direct
                if direct < threshold:
                    keep, tail = w, direct
                    while keep > 1 and tail + rows2[keep - 1] < threshold:
                        tail += rows2[keep - 1]
                        keep -= 1
                    rank -= w - keep
                    Q, Bt = Q[:, :rank], Bt[:, :rank]
                    err2, converged = tail, True
                    break
    return Q, Bt, rank, err2, converged, history


def _eps(dtype):
    name = str(dtype).rsplit(".", 1)[-1]
    return float(np.finfo(np.float32 if "32" in name else np.float64).eps)


@refuse_random_state
def rand_qb(A, *, tol=None, rank=None, block_size=10, n_power=0, rng=None):
    """Blocked randomized QB factorisation ``A ~ Q B`` stopped by a relative Frobenius tolerance or a rank.

    Parameters
    ----------
    A : (m, n) array, sparse matrix, LinearOperator or Dask array
        The matrix, touched only through block products (and, with `tol`, one read for ``||A||_F``).
    tol : float, optional
        Relative tolerance ``0 < tol < 1``: stop once ``||A - QB||_F <= tol ||A||_F``.
    rank : int, optional
        Stop at this rank, ``1 <= rank <= min(m, n)`` (with `tol`: an upper bound; reaching it first warns).
        At least one of `tol` and `rank` is needed; with `tol` alone the bound is ``min(m, n)``.
    block_size : int
        Columns added per step, ``b >= 1``.
    n_power : int
        Power iterations per block, ``P >= 0``.
    rng : None, int or numpy.random.Generator
        Source of randomness. The same seed gives the same bits on the same backend.

    Returns
    -------
    QBResult
        ``Q`` (m, r) orthonormal, ``B`` (r, n), ``rank`` r, ``error_estimate`` (relative; None without
        `tol`), ``converged``, ``err2_history``.

    Raises
    ------
    ValueError
        If neither `tol` nor `rank` is given, or an argument is out of range, or `A` holds NaN or Inf.
    TypeError
        If `A` is not a matrix, is complex, or is a LinearOperator without ``rmatmat``.

    Warns
    -----
    ConvergenceWarning
        If `rank` (or ``min(m, n)``) is reached before `tol`.

    Notes
    -----
    randQB_EI [1]_: for ``i = 1, 2, ...``, ``Q_i = orth(A Omega_i - Q (B Omega_i))``, ``P`` power steps on the
    deflated matrix ``A - QB`` (never formed), a double re-orthogonalisation against ``Q``, and
    ``B_i = Q_i^T A - (Q_i^T Q) B``. Since ``||A - QB||_F^2 = ||A||_F^2 - ||B||_F^2``, the error indicator
    is free; inside the last block the exact rank is found by dropping rows of ``B_i``. Once
    ``tol^2 < 100 eps`` (about ``tol < 3.5e-3`` in float32 and ``1.5e-7`` in float64) the difference of squares
    cancels, and the residual is computed directly (densified row blocks) whenever the indicator is below
    its noise floor. With `rank` alone the computation is lazy on Dask; with `tol` it persists each block.

    Cost: ``2P + 2`` passes over `A` per block of `b` columns, ``O(mn r (2P + 2))`` flops dense
    (``O(nnz r (2P+2))`` sparse) plus ``O((m + n) r^2)`` for the orthogonalisation; memory ``O((m + n) r)``.
    Martinsson and Voronin's randQB_b [2]_ is the same loop down-dating ``A`` instead, which needs a copy.

    References
    ----------
    .. [1] W. Yu, Y. Gu, Y. Li, "Efficient randomized algorithms for the fixed-precision low-rank matrix
       approximation", SIAM J. Matrix Anal. Appl. 39(3), 2018.
    .. [2] P.-G. Martinsson, S. Voronin, "A randomized blocked algorithm for efficiently computing
       rank-revealing factorizations of matrices", SIAM J. Sci. Comput. 38(5), 2016.

    Examples
    --------
    >>> import numpy as np
    >>> import lowrank_la as la
    >>> from lowrank_la.svd import rand_qb
    >>> A = la.datasets.low_rank_matrix(300, 200, rank=12, rng=0)
    >>> res = rand_qb(A, tol=1e-8, block_size=5, rng=0)
    >>> res.rank, bool(np.linalg.norm(A - res.Q @ res.B) <= 1e-8 * np.linalg.norm(A))
    (12, True)
    >>> rand_qb(A, rank=7, rng=0).Q.shape
    (300, 7)
    """
    if tol is None and rank is None:
        raise ValueError("rand_qb needs tol or rank (or both); got tol=None and rank=None")
    if tol is not None:
        tol = check_tolerance(tol, "tol", high=1)
    block_size = check_int(block_size, "block_size", low=1)
    n_power = check_int(n_power, "n_power", low=0)
    prod, _ = prepare(A, transpose=False)
    max_rank = min(prod.shape) if rank is None else check_rank(rank, prod.shape, "rank")
    gen = as_rng(rng)
    threshold = norm2 = None
    reliable = True
    if tol is not None:
        e, norm2 = _fro_scaled(prod)
        prod.rescale(e)  # run on 2^e A, ||2^e A||_F about 1: no square under- or overflows
        threshold = tol**2 * norm2
        reliable = tol**2 >= _RELIABLE * _eps(prod.dtype)
    Q, Bt, r, err2, converged, history = _qb(prod, gen, block_size=block_size, n_power=n_power,
                                             max_rank=max_rank, threshold=threshold, norm2=norm2,
                                             reliable=reliable)
    error = None if tol is None else (math.sqrt(err2 / norm2) if norm2 > 0 else 0.0)
    B = times_pow2(Bt.T, -prod.scale_exp, prod.dtype)
    if error is not None and not math.isfinite(error):
        converged = False
    if not converged:
        warnings.warn(f"rand_qb reached rank={r} before ||A - QB||_F <= tol ||A||_F with tol={tol} "
                      f"(estimate {error:.3g}); raise rank", ConvergenceWarning, stacklevel=2)
    return QBResult(Q, B, r, error, converged, history)


@refuse_random_state
def svd_tol(A, tol, *, relative=True, block_size=10, n_power=1, max_rank=None, flip_sign=True, rng=None):
    """Truncated SVD meeting a Frobenius-norm tolerance, with a near-optimal rank (randQB_EI).

    Parameters
    ----------
    A : (m, n) array, sparse matrix, LinearOperator or Dask array
        The matrix, touched only through block products plus one read for ``||A||_F``.
    tol : float
        The tolerance: ``||A - U diag(s) Vh||_F <= tol ||A||_F`` with ``0 < tol < 1`` when `relative`,
        ``<= tol`` with ``tol > 0`` otherwise.
    relative : bool
        Whether `tol` is relative to ``||A||_F``.
    block_size : int
        Columns added per step, ``b >= 1`` (Yu, Gu and Li use 10, and 40 for a hard case).
    n_power : int
        Power iterations per block, ``P >= 0`` (1 in the paper's experiments).
    max_rank : int, optional
        Largest rank to try, ``1 <= max_rank <= min(m, n)``; default ``min(m, n)``.
    flip_sign : bool
        Apply the library's sign rule (largest-magnitude entry of each column of ``U`` positive).
    rng : None, int or numpy.random.Generator
        Source of randomness. The same seed gives the same bits on the same backend.

    Returns
    -------
    SVDTolResult
        Unpacks as ``U`` (m, r), ``s`` (r,) descending, ``Vh`` (r, n), in the namespace and dtype of `A`;
        attributes ``rank`` (r), ``error_estimate`` (of ``||A - U diag(s) Vh||_F``, in the units of `tol`)
        and ``converged``.

    Raises
    ------
    ValueError
        If `tol` is outside ``(0, 1)`` (relative) or not positive, an argument is out of range, or `A` is
        empty or holds NaN or Inf.
    TypeError
        If `A` is not a matrix, is complex, or is a LinearOperator without ``rmatmat``.

    Warns
    -----
    ConvergenceWarning
        If `max_rank` is reached before the tolerance; then ``converged`` is False.

    Notes
    -----
    Runs :func:`rand_qb`'s randQB_EI loop [1]_ until the free indicator
    ``||A - QB||_F^2 = ||A||_F^2 - ||B||_F^2`` is below ``tol^2 ||A||_F^2`` (or, where ``tol^2 < 100 eps``
    makes that difference cancel, until a directly computed residual is), then takes the SVD
    ``B = U_B diag(s) Vh`` and keeps the fewest triplets with
    ``||A - QB||_F^2 + sum_{i > r} s_i^2 <= tol^2 ||A||_F^2`` (an identity, as ``A - QB`` is orthogonal to
    ``range(Q)``). The rank is then usually within a few of the optimal rank ``min{r : ||A - A_r||_F <= tol
    ||A||_F}``.

    ``||A||_F`` is accumulated over blocks rescaled by powers of two (LAPACK's lassq), and the loop runs on
    ``2^e A`` with ``||2^e A||_F`` near one (the factor folded into the blocks, `A` untouched), so the result
    is scale invariant from ``1e-310 A`` to ``1e300 A``. A NaN or Inf error estimate is never reported as
    converged.

    Cost: ``(2P + 2) ceil(r / b)`` passes over `A` plus one for ``||A||_F``; ``O(mn r (2P + 2))`` flops dense,
    ``O(nnz r (2P + 2))`` sparse, plus ``O((m + n) r^2)``; memory ``O((m + n) r)``.

    References
    ----------
    .. [1] W. Yu, Y. Gu, Y. Li, "Efficient randomized algorithms for the fixed-precision low-rank matrix
       approximation", SIAM J. Matrix Anal. Appl. 39(3), 2018.

    Examples
    --------
    >>> import numpy as np
    >>> import lowrank_la as la
    >>> from lowrank_la.svd import svd_tol
    >>> s_true = la.datasets.spectrum("exponential", 200, scale=7)
    >>> A = la.datasets.matrix_with_spectrum(400, 200, s_true, rng=0)
    >>> res = svd_tol(A, 1e-4, rng=0)
    >>> U, s, Vh = res
    >>> optimal = int(np.argmax(np.sqrt(np.cumsum(s_true[::-1] ** 2))[::-1] <= 1e-4 * np.linalg.norm(s_true)))
    >>> res.converged, res.rank, optimal
    (True, 66, 65)
    >>> bool(np.linalg.norm(A - (U * s) @ Vh) <= 1e-4 * np.linalg.norm(A))
    True
    """
    relative = check_option(relative, "relative", [True, False])
    tol = check_tolerance(tol, "tol", high=1) if relative else check_tolerance(tol, "tol")
    block_size = check_int(block_size, "block_size", low=1)
    n_power = check_int(n_power, "n_power", low=0)
    flip_sign = check_option(flip_sign, "flip_sign", [False, True])
    prod, _ = prepare(A, transpose=False)
    max_rank = min(prod.shape) if max_rank is None else check_rank(max_rank, prod.shape, "max_rank")
    gen = as_rng(rng)
    xp, dask = prod.xp, prod.dask
    e, norm2 = _fro_scaled(prod)
    prod.rescale(e)  # run on 2^e A, ||2^e A||_F about 1: no square under- or overflows
    if relative:
        threshold = tol**2 * norm2
    else:
        t = ldexp_safe(tol, e)
        threshold = t * t  # Inf where tol is beyond the range: rank 1 suffices
    rel2 = threshold / norm2 if norm2 > 0 else 1.0
    reliable = rel2 >= _RELIABLE * _eps(prod.dtype)
    if norm2 == 0 or threshold >= norm2:  # the zero matrix, or tol above ||A||_F: rank 1 suffices
        max_rank_run = 1
    else:
        max_rank_run = max_rank
    Q, Bt, r, err2, converged, _ = _qb(prod, gen, block_size=block_size, n_power=n_power, max_rank=max_rank_run,
                                       threshold=threshold, norm2=norm2, reliable=reliable)
    if max_rank_run == 1:
        converged = True
        err2 = max(norm2 - _host_sum2(Bt, xp), 0.0)
    U, s, Vh = svd_of_projection(Q, Bt, xp, dask=dask)
    s2 = np.asarray(to_numpy(s), dtype=np.float64) ** 2
    tails = np.concatenate([np.cumsum(s2[::-1])[::-1], [0.0]])  # tails[j] = sum_{i >= j} s_i^2
    keep = r
    if converged:
        fits = np.nonzero(err2 + tails <= threshold)[0]
        keep = max(1, int(fits[0])) if fits.size else r
    err2 = err2 + float(tails[keep])
    if relative:
        error = math.sqrt(err2 / norm2) if norm2 > 0 else 0.0
    else:
        error = ldexp_safe(math.sqrt(err2), -e)
    if not (math.isfinite(err2) and np.all(np.isfinite(s2))):
        converged = False  # NaN or Inf from the products: never reported as converged
    if not converged:
        warnings.warn(f"svd_tol reached max_rank={max_rank} before the tolerance tol={tol} "
                      f"(error estimate {error:.3g}); raise max_rank", ConvergenceWarning, stacklevel=2)
    U, s, Vh = finish(U, s, Vh, keep, transposed=False, flip_sign=flip_sign, xp=xp, dask=dask)
    s = times_pow2(s, -e, prod.dtype)  # the singular values of A, not of 2^e A
    return SVDTolResult(U, s, Vh, rank=keep, error_estimate=error, converged=bool(converged))


def _host_sum2(X, xp):
    return float(np.sum(np.asarray(to_numpy(xp.sum(X * X, axis=0)), dtype=np.float64)))

