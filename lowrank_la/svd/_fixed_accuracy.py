"""Fixed-accuracy randomized factorisations: blocked QB (randQB_EI) and the SVD to a tolerance."""

from __future__ import annotations

import math
import sys
import warnings
from typing import Any, NamedTuple

import numpy as np

from .._backend import (
    ConvergenceWarning,
    SVDResult,
    as_rng,
    blas_beside_kernels,
    qr_econ,
    sparse_kernel_input,
    to_numpy,
)
from .._validate import check_int, check_option, check_rank, check_tolerance, refuse_random_state
from ._common import (
    draw,
    finish,
    herm,
    host_float,
    ldexp_safe,
    normalize,
    orthonormalize,
    pow2_exponent,
    prepare,
    svd_of_projection,
    times_pow2,
)
from ._rsvd import _refuse_complex_dask

__all__ = ["QBResult", "SVDTolResult", "rand_qb", "svd_tol"]

#: The indicator ``||A||_F^2 - ||B||_F^2`` is trusted while ``tol_rel^2 >= _RELIABLE * eps`` of the dtype.
_RELIABLE = 100.0
#: Entries per dense temporary block of the directly computed residual.
_BLOCK_ENTRIES = 2**22
#: svd_tol's "auto" block: ``min(_AUTO_CAP, max(_AUTO_MIN, ceil(rank / _AUTO_GROWTH)))`` columns next.
_AUTO_MIN, _AUTO_GROWTH, _AUTO_CAP = 10, 4, 1000
#: The spectrum is flat where a block captured less than ``_FLAT`` times the mean energy of a direction left.
_FLAT = 10.0
#: Flat spectra: relative oversampling of the predicted and of the final rank.
_FLAT_OVERSAMPLE = 0.1
#: svd_tol's columns beyond the QB-optimal rank, for the SVD of B to choose from.
_OVERSAMPLE = 10
#: svd_tol takes the singular values of B from its Gram matrix while ``tol^2 >= _GRAM r eps`` (float64 eps).
_GRAM = 1e3
#: One re-orthogonalisation suffices where the smallest ``|R_jj|`` of the projected block stays above this.
_KAHAN = 2 ** -0.5


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

    See Also
    --------
    rand_qb : Returns a QBResult.
    svd_tol : The SVD of ``Q B`` to a tolerance.
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

    See Also
    --------
    svd_tol : Returns an SVDTolResult.
    lowrank_la.SVDAccuracyResult : The result of `rsvd`, with its own accuracy report.
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

def _abs2(X, xp):
    """``|X|^2`` entrywise, real."""
    if xp.isdtype(X.dtype, "complex floating"):
        X = xp.abs(X)
    return X * X


def _blocks(prod):
    """The blocks of the (centred) ``C = A - 1 mu^T`` in float64 or complex128, unscaled, as
    ``(block, rows, cols)``, read once (one pass).

    Dense input in row blocks and sparse input in densified row blocks of about ``2^22`` entries (the whole
    matrix is never densified); a LinearOperator applied to blocks of the identity (``n / 256`` products).
    """
    op, xp = prod.op, prod.xp
    m, n = op.shape
    A = op._A
    wide = xp.complex128 if op.is_complex else xp.float64
    mu = None if prod.mu is None else xp.reshape(xp.astype(prod.mu, wide), (1, -1))
    if op.kind == "linear_operator":
        for c0 in range(0, n, 256):
            c1 = min(n, c0 + 256)
            E = np.zeros((n, c1 - c0), dtype=prod.dtype)
            E[np.arange(c0, c1), np.arange(c1 - c0)] = 1
            block = np.asarray(op.matmat(E), dtype=wide)
            yield (block if mu is None else block - mu[:, c0:c1]), slice(None), slice(c0, c1)
        return
    op._counter.count += 1
    if op.kind == "sparse":
        A = A.tocsr()
    rows = max(1, _BLOCK_ENTRIES // n)
    for r0 in range(0, m, rows):
        r1 = min(m, r0 + rows)
        block = A[r0:r1].toarray() if op.kind == "sparse" else A[r0:r1, :]
        block = xp.astype(block, wide)
        yield (block if mu is None else block - mu), slice(r0, r1), slice(None)


def _lassq_pair(block, xp):
    """``(e, ssq)`` with ``||block||_F^2 = ssq 2^(-2e)`` and ``ssq`` of order one (LAPACK's lassq idea)."""
    if xp.isdtype(block.dtype, "complex floating"):
        block = xp.abs(block)
    if math.prod(block.shape) == 0:  # no entries (a sparse matrix without stored values, an empty block)
        return 0, 0.0
    big = host_float(xp.max(xp.abs(block)))
    if big == 0:
        return 0, 0.0
    e = pow2_exponent(big)
    scaled = times_pow2(xp.astype(block, xp.float64), e, np.float64)
    return e, host_float(xp.sum(scaled * scaled))


def _lassq_chunk(block):
    e, ssq = _lassq_pair(np.asarray(block), np)
    return np.array([[float(e), ssq]])


def _sparse_pairs(prod):
    """lassq pairs of a sparse ``A`` (its stored entries), or of ``A - 1 mu^T`` without densifying it.

    Centred, ``||C||_F^2 = sum_stored |a_ij - mu_j|^2 + sum_j (m - nnz_j) |mu_j|^2``: a sum of non-negative
    terms, free of the cancellation of ``||A||_F^2 - m ||mu||^2``.
    """
    op, xp = prod.op, prod.xp
    S = op._A
    if not getattr(S, "has_canonical_format", True):
        S = S.tocsr().copy()
        S.sum_duplicates()
    op._counter.count += 1
    mod = xp if not hasattr(S.data, "get") else __import__("cupy")
    if prod.mu is None:
        return [_lassq_pair(S.data, mod)]
    coo = S.tocoo()
    mu = prod.mu
    wide = mod.complex128 if op.is_complex else mod.float64
    mu = mod.astype(mu, wide) if mod is xp else mu.astype(wide)
    centred = coo.data.astype(wide) - mu[coo.col]
    counts = mod.bincount(coo.col, minlength=S.shape[1])
    absent = mod.abs(mu) * mod.sqrt((S.shape[0] - counts).astype(np.float64))
    return [_lassq_pair(centred, mod), _lassq_pair(absent, mod)]


def _fro_scaled(prod):
    """``(e, ||2^e C||_F^2)`` with ``2^e ||C||_F`` about one (``C`` the centred `A`, or `A`): no square under- or
    overflows; one read of A."""
    op = prod.op
    if op.kind == "dask":
        A = op._A if prod.mu is None else op._A - prod.mu[None, :]
        pairs = A.map_blocks(_lassq_chunk, dtype=np.float64,
                             chunks=((1,) * len(A.chunks[0]), (2,) * len(A.chunks[1])))
        op._counter.count += 1
        pairs = np.asarray(pairs.compute()).reshape(-1, 2)
        pairs = [(int(e), ssq) for e, ssq in pairs]
    elif op.kind == "sparse":
        pairs = _sparse_pairs(prod)
    else:
        pairs = [_lassq_pair(block, np if isinstance(block, np.ndarray) else prod.xp)
                 for block, _, _ in _blocks(prod)]
    pairs = [(e, ssq) for e, ssq in pairs if ssq > 0]
    if not pairs:
        return 0, 0.0
    top = min(e for e, _ in pairs)  # the exponent of the largest block
    total = sum(math.ldexp(ssq, 2 * (top - e)) for e, ssq in pairs)
    e = top - round(math.log2(total) / 2)
    return e, math.ldexp(total, 2 * (e - top))


def _fro2(prod, Q, Bt):
    """``||2^e C - Q Bt^H||_F^2`` (``e = prod.scale_exp``) computed directly in double precision; one read."""
    op, xp = prod.op, prod.xp
    e = prod.scale_exp
    if op.kind == "dask":  # real only: complex Dask input is refused
        C = op._A if prod.mu is None else op._A - prod.mu[None, :]
        R = times_pow2(C.astype(np.float64), e, np.float64) - (Q @ Bt.T).astype(np.float64)
        op._counter.count += 1
        return host_float((R * R).sum())
    total = 0.0
    for block, rows, cols in _blocks(prod):
        mod = np if isinstance(block, np.ndarray) else xp
        R = times_pow2(block, e, block.dtype) - mod.astype(Q[rows, :] @ herm(Bt[cols, :], mod), block.dtype)
        total += host_float(mod.sum(_abs2(R, mod)))
    return total


# --------------------------------------------------------------------------- the blocked QB loop

def _qb(prod, gen, *, block_size, n_power, max_rank, threshold=None, norm2=None, reliable=True, drop=True,
        report=None):
    """randQB_EI (Yu, Gu, Li 2018, Alg. 2) on ``prod``; stops at `max_rank` or when the error is met.

    With `drop`, the rows of the last block that the tolerance does not need are dropped (the QB-optimal rank);
    without, the loop goes on to oversample that rank (for a truncated SVD of ``B`` to choose the rank).
    ``block_size="auto"`` and ``n_power="auto"`` adapt the next block to the spectrum seen so far (see
    :func:`svd_tol`). `report` is called with ``(rank, err2)`` after each block.

    Returns ``(Q, Bt, rank, err2, converged, history)`` with ``Bt = B^H`` and ``err2`` the absolute squared
    error estimate (None without a threshold).
    """
    xp, dask = prod.xp, prod.dask
    dim = min(prod.shape)
    Q = Bt = None
    rank = 0
    sumB2 = 0.0
    history = []
    err2 = None
    converged = threshold is None
    flat = False  # whether the spectrum beyond the rank reached is flat (see below)
    needed = None  # the columns still needed if the next ones capture as much as the last block's did
    target = None  # without `drop`: the rank to reach, the QB-optimal rank plus oversampling, once it is known

    def orth(Y):
        return orthonormalize(Y, xp, method="qr", dask=dask)

    buffers = {}

    def cat(a, b, key):
        """``[a, b]``; on NumPy a view of a buffer of doubling capacity (no copy of `a`)."""
        if a is None and not isinstance(b, np.ndarray):
            return b
        if dask:
            import dask.array as da

            return da.concatenate([a, b], axis=1)
        if not isinstance(b, np.ndarray):
            return xp.concat([a, b], axis=1)
        used = 0 if a is None else a.shape[1]
        buf = buffers.get(key)
        if buf is None or buf.shape[1] < used + b.shape[1]:
            grown = np.empty((b.shape[0], max(2 * used, used + b.shape[1])), dtype=b.dtype)
            if a is not None:
                grown[:, :used] = a
            buffers[key] = buf = grown
        buf[:, used:used + b.shape[1]] = b
        return buf[:, :used + b.shape[1]]

    def reorthogonalize(V):
        """The orthonormal `V` made orthogonal to ``range(Q)``: "twice is enough" (Giraud et al.), and once where
        the projected block stays well conditioned (every ``|R_jj|`` of its QR above ``1/sqrt(2)``, Kahan's
        criterion), as it does unless the range of `A` is exhausted and `Y` was rounding noise."""
        for _ in range(2):
            X = V - Q @ (herm(Q, xp) @ V)
            if dask:
                V = orth(X)
                continue
            V, R = qr_econ(X, xp)
            if bool(xp.all(xp.abs(xp.linalg.diagonal(R)) > _KAHAN)):
                break
        return V

    def flat_extra(r):
        """Oversampling of rank `r` on a flat spectrum: a tenth of the rank, or of the dimensions left beyond it
        (where those are fewer, B's SVD resolves the rank with fewer)."""
        return math.ceil(_FLAT_OVERSAMPLE * max(0, min(r, dim - r)))

    def truncate(w, tail, rows2):
        """The rank within the last block of width `w`: drop rows of ``B_i`` from the end while the error allows."""
        keep = w
        while keep > 1 and tail + rows2[keep - 1] < threshold:
            tail += rows2[keep - 1]
            keep -= 1
        return keep, tail

    while rank < max_rank:
        if target is not None:
            w = target - rank
        elif block_size == "auto":  # grow with the rank; on a flat spectrum, no further than predicted
            w = min(_AUTO_CAP, max(_AUTO_MIN, -(-rank // _AUTO_GROWTH)))
            if flat and needed is not None:
                w = min(w, needed)
        else:
            w = block_size
        w = min(w, max_rank - rank)
        P = n_power if n_power != "auto" else 1 + flat
        Om = draw(prod, gen, w)
        Y = prod.matmat(Om)
        if Q is not None:
            Y = Y - Q @ (herm(Bt, xp) @ Om)
        # Y is orthogonal to range(Q), and so (A - QB)^H Y = A^H Y, and A Z = (A - QB) Z for Z orthogonal to
        # range(B^H): the power steps need no deflation, but for rounding. Each product leaves about eps of its
        # input along range(Q) or range(B^H), which the next amplifies by s_1 / s_(r+1) against the rest; so
        # deflate only the last product while eps (s_1 / s_(r+1))^(2P) < 1e-4, with the bound
        # s_(r+1)^2 >= err2 / (min(m, n) - r), and every product otherwise
        between = Q is not None and (err2 is None or _eps(prod.dtype) * (norm2 * (dim - rank)) ** P
                                     > 1e-4 * err2 ** P)
        for p in range(P):  # between products, the cheaper LU normaliser keeps the columns apart
            Y = normalize(Y, xp, method="lu", dask=dask)
            Z = prod.rmatmat(Y)
            if between:
                Z = Z - Bt @ (herm(Q, xp) @ Y)
            Z = normalize(Z, xp, method="lu", dask=dask)
            Y = prod.matmat(Z)
            if Q is not None and (between or p == P - 1):
                Y = Y - Q @ (herm(Bt, xp) @ Z)
        Qi = orth(Y)
        if Q is not None:
            Qi = reorthogonalize(Qi)
        Bti = prod.rmatmat(Qi)  # = (A - QB)^H Qi, as Q^H Qi is rounding
        if dask and threshold is not None:
            import dask as dask_mod

            Qi, Bti = dask_mod.persist(Qi, Bti)
        Q, Bt = cat(Q, Qi, "Q"), cat(Bt, Bti, "Bt")
        rank += w
        if threshold is None:
            continue
        rows2 = np.asarray(to_numpy(xp.sum(_abs2(Bti, xp), axis=0)), dtype=np.float64)
        captured = float(rows2.sum())
        indicator = norm2 - (sumB2 + captured)
        sumB2 += captured
        history.append(indicator / norm2 if norm2 > 0 else 0.0)
        err2 = max(indicator, 0.0)
        if not reliable and (indicator < threshold + _RELIABLE * _eps(prod.dtype) * norm2 or rank >= dim):
            err2 = _fro2(prod, Q, Bt)  # the indicator is below its noise floor: the residual, computed
        if report is not None:
            report(rank, err2)
        # flat: the block captured less than _FLAT times the mean energy of a direction left over
        per_column = captured / w
        flat = rank < dim and per_column * (dim - rank) < _FLAT * err2
        if per_column > 0 and err2 >= threshold:
            missing = math.ceil((err2 - threshold) / per_column)
            needed = max(_AUTO_MIN, missing + flat_extra(rank + missing))
        if err2 < threshold:
            converged = True
            if drop:
                keep, err2 = truncate(w, err2, rows2)
                rank -= w - keep
                Q, Bt = Q[:, :rank], Bt[:, :rank]
                break
            if target is None:  # oversample the QB-optimal rank: the SVD of B then finds a near-optimal rank
                qb_rank = rank - w + truncate(w, err2, rows2)[0]
                target = qb_rank + _OVERSAMPLE + (flat_extra(qb_rank) if flat and block_size == "auto" else 0)
            if rank >= target:
                break
    return Q, Bt, rank, err2, converged, history


def _eps(dtype):
    """The machine epsilon of a dtype of any namespace (that of its real part for complex)."""
    return float(np.finfo(np.dtype(str(dtype).rsplit(".", 1)[-1])).eps)


@refuse_random_state
@blas_beside_kernels(sparse_kernel_input)
def rand_qb(A, *, tol=None, rank=None, block_size=10, n_power=0, center=False, rng=None):
    """Blocked randomized QB factorisation ``A ~ Q B`` stopped by a relative Frobenius tolerance or a rank.

    Parameters
    ----------
    A : (m, n) array, sparse matrix, LinearOperator or Dask array
        The matrix, real or complex (complex64, complex128; not on Dask), touched only through block products
        (and, with `tol`, one read for ``||A||_F``).
    tol : float, optional
        Relative tolerance ``0 < tol < 1``: stop once ``||A - QB||_F <= tol ||A||_F``.
    rank : int, optional
        Stop at this rank, ``1 <= rank <= min(m, n)`` (with `tol`: an upper bound; reaching it first warns).
        At least one of `tol` and `rank` is needed; with `tol` alone the bound is ``min(m, n)``.
    block_size : int
        Columns added per step, ``b >= 1``.
    n_power : int
        Power iterations per block, ``P >= 0``.
    center : bool
        Factor the column-centred ``A - 1 mu^T`` (mu: the column means of `A`) instead of `A`, implicitly (a
        rank-one correction of every product: sparse input stays sparse); one more pass, for mu. `tol` is then
        relative to the centred matrix's norm.
    rng : None, int or numpy.random.Generator
        Source of randomness. The same seed gives the same bits on the same backend.

    Returns
    -------
    QBResult
        ``Q`` (m, r) orthonormal, ``B = Q^H A`` (r, n), in the namespace and dtype of `A`, ``rank`` r,
        ``error_estimate`` (relative; None without `tol`), ``converged``, ``err2_history``.

    Raises
    ------
    ValueError
        If neither `tol` nor `rank` is given, or an argument is out of range, or `A` holds NaN or Inf.
    TypeError
        If `A` is not a matrix, is a complex Dask array, or is a LinearOperator without ``rmatmat``.

    Warns
    -----
    ConvergenceWarning
        If `rank` (or ``min(m, n)``) is reached before `tol`.

    See Also
    --------
    svd_tol : The truncated SVD to a tolerance, built on this factorisation.
    randomized_range_finder : A range basis of fixed size.
    QBResult : The returned factorisation and its error history.

    Notes
    -----
    randQB_EI [1]_: for ``i = 1, 2, ...``, ``Q_i = orth(A Omega_i - Q (B Omega_i))``, ``P`` power steps on the
    deflated matrix ``A - QB`` (never formed; see :func:`svd_tol` for which products are deflated), a
    re-orthogonalisation against ``Q`` (with the deflation "twice is enough"; once more by Kahan's criterion),
    and ``B_i = Q_i^H A``. Since
    ``||A - QB||_F^2 = ||A||_F^2 - ||B||_F^2``, the error indicator is free; inside the last block the exact
    rank is found by dropping rows of ``B_i``. Once
    ``tol^2 < 100 eps`` (about ``tol < 3.5e-3`` in float32 and ``1.5e-7`` in float64) the difference of squares
    cancels, and the residual is computed directly (densified row blocks) whenever the indicator is below
    its noise floor. With `rank` alone the computation is lazy on Dask; with `tol` it persists each block.

    Centred, ``||A - 1 mu^T||_F`` is computed as in :func:`svd_tol`, without densifying sparse input.

    With `rank` alone, ask for a few columns more than the rank you need: a range of exactly the numerical rank
    ``r`` has no oversampling to absorb an unlucky sketch. On 200 random 24 x 16 matrices of rank 3 plus noise,
    ``rank=3`` gave an error over 10x the best rank-3 error in 13.5% of the draws (up to 63x, median 3.4x);
    ``rank=5`` never over 7.6x (median 1.4x). With `tol` the rank grows until the error is met, so this does not
    arise.

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
    center = check_option(center, "center", [False, True])
    prod, _ = prepare(A, center=center, transpose=False, allow_complex=True)
    _refuse_complex_dask(prod)
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
    B = times_pow2(herm(Bt, prod.xp), -prod.scale_exp, prod.dtype)
    if error is not None and not math.isfinite(error):
        converged = False
    if not converged:
        warnings.warn(f"rand_qb reached rank={r} before ||A - QB||_F <= tol ||A||_F with tol={tol} "
                      f"(estimate {error:.3g}); raise rank", ConvergenceWarning, stacklevel=2)
    return QBResult(Q, B, r, error, converged, history)


@refuse_random_state
@blas_beside_kernels(sparse_kernel_input)
def svd_tol(A, tol, *, relative=True, block_size="auto", n_power="auto", max_rank=None, center=False, progress=False,
            callback=None, flip_sign=True, rng=None):
    """Truncated SVD meeting a Frobenius-norm tolerance, with the smallest rank that meets it (randQB_EI).

    Parameters
    ----------
    A : (m, n) array, sparse matrix, LinearOperator or Dask array
        The matrix, real or complex (complex64, complex128; not on Dask), touched only through block products
        plus one read for ``||A||_F``.
    tol : float
        The tolerance: ``||A - U diag(s) Vh||_F <= tol ||A||_F`` with ``0 < tol < 1`` when `relative`,
        ``<= tol`` with ``tol > 0`` otherwise.
    relative : bool
        Whether `tol` is relative to ``||A||_F``.
    block_size : "auto" or int
        Columns added per step. "auto" (default) grows the block with the rank (see Notes); an int ``b >= 1``
        fixes it (Yu, Gu and Li use 10, the default before "auto").
    n_power : "auto" or int
        Power iterations per block. "auto" (default) does 1, and 2 where the spectrum left is flat (see Notes);
        an int ``P >= 0`` fixes it (1 in the paper's experiments).
    max_rank : int, optional
        Largest rank to try, ``1 <= max_rank <= min(m, n)``; default ``min(m, n)``.
    center : bool
        Approximate the column-centred ``A - 1 mu^T`` (mu: the column means of `A`) instead of `A`: PCA to a
        tolerance. Implicit, as a rank-one correction of every product: sparse input stays sparse. Costs one
        more pass (for mu); `tol` is then relative to the centred matrix's norm.
    progress : bool
        Show the rank reached and the error estimate after each block: a tqdm bar where tqdm is installed,
        else one line per block on standard error.
    callback : callable, optional
        Called as ``callback(rank, error_estimate)`` after each block, with the error estimate of the QB
        factorisation so far in the units of `tol`.
    flip_sign : bool
        Apply the library's sign rule (largest-magnitude entry of each column of ``U`` real and positive).
    rng : None, int or numpy.random.Generator
        Source of randomness. The same seed gives the same bits on the same backend.

    Returns
    -------
    SVDTolResult
        Unpacks as ``U`` (m, r), ``s`` (r,) descending, ``Vh`` (r, n), in the namespace and dtype of `A`
        (``s`` real); attributes ``rank`` (r), ``error_estimate`` (of ``||A - U diag(s) Vh||_F``, in the units
        of `tol`) and ``converged``.

    Raises
    ------
    ValueError
        If `tol` is outside ``(0, 1)`` (relative) or not positive, `block_size` is below 1, `n_power` below 0,
        `max_rank` outside ``[1, min(m, n)]``, or `A` is empty or holds NaN or Inf.
    TypeError
        If `A` is not a matrix, is a complex Dask array, or is a LinearOperator without ``rmatmat``, or
        `callback` is not callable.

    Warns
    -----
    ConvergenceWarning
        If `max_rank` is reached before the tolerance; then ``converged`` is False.

    See Also
    --------
    rsvd : Fixed-rank variant, by block Krylov or subspace iteration.
    rand_qb : The QB factorisation it is built on.
    SVDTolResult : The returned SVD with its rank and error estimate.
    svd_error_estimate : An a-posteriori error estimate for factors from anywhere.

    Notes
    -----
    Runs the randQB_EI loop of :func:`rand_qb` [1]_: each block ``Q_i = orth((I - Q Q^H) A Omega_i)`` after
    ``P`` power steps, ``B_i = Q_i^H A``, and the free indicator ``||A - QB||_F^2 = ||A||_F^2 - ||B||_F^2``
    (where ``tol^2 < 100 eps`` makes that difference cancel, about ``tol < 1.5e-7`` in float64, a directly
    computed residual). It stops once the indicator is below ``tol^2 ||A||_F^2``, at the QB rank ``r_QB``.

    *The rank.* The loop then goes on to ``r_QB + 10`` columns (on a flat spectrum, with "auto" blocks,
    ``r_QB + 10 + min(r_QB, min(m, n) - r_QB) / 10``), and the returned rank is the smallest ``r`` whose error
    ``||A - QB||_F^2 + sum_{i > r} s_i(B)^2`` (exact: ``A - QB`` is orthogonal to ``range(Q)``) meets the
    tolerance, and ``error_estimate`` is that error. The oversampling lets ``B``'s SVD find the optimal rank
    ``min{r : ||A - A_r||_F <= tol ||A||_F}``: on matrices of known spectrum, the optimal rank whenever its error
    is below ``0.99 tol``; on the real-data panel (``la.datasets.real_panel()``: text, digits, images, a
    power-law sparse matrix) within 3.4% of it for tol from 0.5 to 0.05 (at tol 0.7 on its flattest spectra,
    up to 8.5%).

    *The block.* "auto" adds ``min(1000, max(10, ceil(r / 4)))`` columns at rank ``r``: the blocks grow
    geometrically, so the loop takes ``O(log r)`` blocks of BLAS-3 work. A block that captured less than 10
    times the mean energy of a direction left over (``||A - QB||_F^2 / (min(m, n) - r)``) marks the spectrum
    as flat: there "auto" does 2 power steps (a small gap needs them) and sizes the next block to the rank
    that the energy still missing would need at the energy per column of the last block, plus the same
    oversampling, so that the last block does not overshoot. The power steps deflate only their last product
    while ``eps (s_1 / s_(r+1))^(2P) < 1e-4``, bounded from the indicator (the orthogonality to ``range(Q)``
    carries over), and the block is re-orthogonalised against ``Q`` once, twice where its QR shows it lost
    more than ``1 - 1/sqrt(2)`` of a column (Kahan's criterion; it does where the range of `A` is exhausted).
    The former defaults (``block_size=10``, ``n_power=1``, every product deflated, three orthogonalisations
    per block and no oversampling) took 3.1x as long on the TF-IDF matrix of ``la.datasets.real_panel()``
    (8,582 x 3,146) at tol 0.1 (68.7 s against 22.2 s on one thread), with a rank 2.8% above the optimal one
    (14% at tol 0.5, where "auto" is 3% above it).

    The singular values of ``B`` come from the eigenvalues of ``B B^H`` formed in double precision (exact to
    about ``r eps ||A||_F^2``, far below the threshold while ``tol^2 >= 1000 r eps``), and only the kept
    triplets are lifted; at tighter tolerances, and on Dask, from the SVD of ``B``.

    ``||A||_F`` is accumulated over blocks rescaled by powers of two (LAPACK's lassq), and the loop runs on
    ``2^e A`` with ``||2^e A||_F`` near one (the factor folded into the blocks, `A` untouched), so the result
    is scale invariant from ``1e-310 A`` to ``1e300 A``. Centred, ``||A - 1 mu^T||_F^2`` is summed as
    ``sum_stored |a_ij - mu_j|^2 + sum_j (m - nnz_j) |mu_j|^2`` over a sparse matrix's stored entries (no
    cancellation, nothing densified), and over centred row blocks otherwise. A NaN or Inf error estimate is
    never reported as converged.

    Cost: about ``(2P + 2)`` passes over `A` per block plus one for ``||A||_F`` (one more centred), i.e.
    ``O(mn r (2P + 2))`` flops dense, ``O(nnz r (2P + 2))`` sparse; ``O((m + n) r^2)`` for the deflations and
    the final ``B B^H``; ``O(r^3)`` for its eigenvalues; memory ``O((m + n) r)``.

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
    (True, 65, 65)
    >>> bool(np.linalg.norm(A - (U * s) @ Vh) <= 1e-4 * np.linalg.norm(A))
    True

    PCA of a sparse matrix to 30% of its centred norm, with the error after each block:

    >>> import scipy.sparse as sp
    >>> X = sp.random(500, 300, density=0.05, format="csr", random_state=0)
    >>> seen = []
    >>> res = svd_tol(X, 0.3, center=True, callback=lambda r, err: seen.append((r, err)), rng=0)
    >>> Xc = X.toarray() - X.toarray().mean(axis=0)
    >>> bool(np.linalg.norm(Xc - (res.U * res.s) @ res.Vh) <= 0.3 * np.linalg.norm(Xc))
    True
    >>> seen[-1][1] <= 0.3 < seen[0][1]
    True
    """
    relative = check_option(relative, "relative", [True, False])
    tol = check_tolerance(tol, "tol", high=1) if relative else check_tolerance(tol, "tol")
    block_size = _int_or_auto(block_size, "block_size", low=1)
    n_power = _int_or_auto(n_power, "n_power", low=0)
    center = check_option(center, "center", [False, True])
    progress = check_option(progress, "progress", [False, True])
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
    flip_sign = check_option(flip_sign, "flip_sign", [False, True])
    prod, _ = prepare(A, center=center, transpose=False, allow_complex=True)
    _refuse_complex_dask(prod)
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

    def in_units(err2):  # the error estimate in the units of tol
        if relative:
            return math.sqrt(err2 / norm2) if norm2 > 0 else 0.0
        return ldexp_safe(math.sqrt(err2), -e)

    report, bar = _reporter(progress, callback, in_units, tol)
    try:
        Q, Bt, r, err2, converged, _ = _qb(prod, gen, block_size=block_size, n_power=n_power,
                                           max_rank=max_rank_run, threshold=threshold, norm2=norm2,
                                           reliable=reliable, drop=False, report=report)
    finally:
        if bar is not None:
            bar.close()
    if max_rank_run == 1:
        converged = True
        err2 = max(norm2 - _host_sum2(Bt, xp), 0.0)
    # the singular values of B from the eigenvalues of its Gram matrix (accurate to ~ r eps ||A||_F^2 absolute,
    # far below the threshold); at tight tolerances, and on Dask, from the SVD of B
    gram = not dask and rel2 >= _GRAM * r * np.finfo(np.float64).eps
    if gram:
        eig = _gram_eigh(Bt, xp)
        s2 = eig[0]
    else:
        U, s, Vh = svd_of_projection(Q, Bt, xp, dask=dask)
        s2 = np.asarray(to_numpy(s), dtype=np.float64) ** 2
    tails = np.concatenate([np.cumsum(s2[::-1])[::-1], [0.0]])  # tails[j] = sum_{i >= j} s_i^2
    keep = r
    if converged:
        fits = np.nonzero(err2 + tails <= threshold)[0]
        keep = max(1, int(fits[0])) if fits.size else r
    if gram:
        U, s, Vh = _lift_gram(Q, Bt, eig, keep, xp)
    err2 = err2 + float(tails[keep])
    error = in_units(err2)
    if not (math.isfinite(err2) and np.all(np.isfinite(s2))):
        converged = False  # NaN or Inf from the products: never reported as converged
    if not converged:
        warnings.warn(f"svd_tol reached max_rank={max_rank} before the tolerance tol={tol} "
                      f"(error estimate {error:.3g}); raise max_rank", ConvergenceWarning, stacklevel=2)
    U, s, Vh = finish(U, s, Vh, keep, transposed=False, flip_sign=flip_sign, xp=xp, dask=dask)
    s = times_pow2(s, -e, prod.dtype)  # the singular values of A, not of 2^e A
    return SVDTolResult(U, s, Vh, rank=keep, error_estimate=error, converged=bool(converged))


def _int_or_auto(value, name, *, low):
    """``"auto"``, or an int ``>= low``."""
    if isinstance(value, str):
        return check_option(value, name, ["auto"])
    return check_int(value, name, low=low)


def _reporter(progress, callback, in_units, tol):
    """``(report, bar)``: the per-block hook of :func:`_qb` calling `callback` and showing the progress."""
    if not progress and callback is None:
        return None, None
    bar = None
    if progress:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None:
            bar = tqdm(total=None, unit="col", desc="svd_tol")

    def report(rank, err2):
        error = in_units(err2)
        if bar is not None:
            bar.update(rank - bar.n)
            bar.set_postfix(error=f"{error:.3g}", tol=f"{tol:.3g}")
        elif progress:
            print(f"svd_tol: rank {rank}, error estimate {error:.3g} (tol {tol:.3g})", file=sys.stderr)
        if callback is not None:
            callback(rank, error)

    return report, bar


def _gram_eigh(Bt, xp):
    """``(s2, lam, Z)``: ``Bt^H Bt = Z diag(lam) Z^H`` formed in double precision, `lam` descending, and `s2` the
    squared singular values of ``Bt`` (n, r) as float64 on the host (``O(n r^2)`` flops and an (r, r) eigh)."""
    wide = xp.complex128 if xp.isdtype(Bt.dtype, "complex floating") else xp.float64
    Bw = xp.astype(Bt, wide)
    lam, Z = xp.linalg.eigh(herm(Bw, xp) @ Bw)
    lam, Z = xp.flip(lam), xp.flip(Z, axis=1)
    return np.maximum(np.asarray(to_numpy(lam), dtype=np.float64), 0.0), lam, Z


def _lift_gram(Q, Bt, eig, k, xp):
    """The top `k` triplets of ``Q B`` (``B = Bt^H``) from :func:`_gram_eigh`: ``U = Q Z_k``, ``s = sqrt(lam_k)``,
    ``Vh = (Bt Z_k / s)^H``; the loss of orthogonality of ``Vh`` is ``eps lam_1 / lam_k``, so where that exceeds
    ``1e-10`` the SVD of ``B`` itself."""
    s2, lam, Z = eig
    if not s2[k - 1] > 1e10 * np.finfo(np.float64).eps * s2[0]:
        return svd_of_projection(Q, Bt, xp, k=k)
    dtype = Q.dtype
    Zk = Z[:, :k]
    s = xp.sqrt(lam[:k])
    Vh = herm((xp.astype(Bt, Zk.dtype) @ Zk) / xp.reshape(s, (1, -1)), xp)
    return Q @ xp.astype(Zk, dtype), xp.astype(s, xp.finfo(dtype).dtype), xp.astype(Vh, dtype)


def _host_sum2(X, xp):
    """``||X||_F^2`` as a host float (the sum of ``|x|^2``, also for complex `X`)."""
    sq = xp.real(X * xp.conj(X)) if xp.isdtype(X.dtype, "complex floating") else X * X
    return float(np.sum(np.asarray(to_numpy(xp.sum(sq, axis=0)), dtype=np.float64)))

