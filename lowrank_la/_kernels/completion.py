"""Kernels of alternating-minimization matrix completion (Numba, parallel over rows or columns).

A half-step of AltMin solves one small least-squares problem per column ``j`` (or per row):

    x_j = argmin_x ||B[idx_j] x - b_j||^2 + reg_j ||x||^2,

where ``B`` is the fixed (n_other, k) factor, ``idx_j`` the observed indices of segment ``j`` of a CSR/CSC
structure ``(indptr, idx, vals)`` and ``b_j`` the observed values. The kernels here solve all segments at once,
in parallel over segments, with the design rows read in place (``B[idx[t]]`` is contiguous):

=========================  ==================================================================================
sampled_product            ``out[t] = B1[rows[t]] . B2[cols[t]]``: the model at the observed entries
segment_normal_equations   ``G_j = A_j^T A_j + reg_j I`` and ``c_j = A_j^T b_j`` (small sizes: tests, docs)
segment_solve_exact        exact solve by the normal equations (BLAS-3 Gram, then LAPACK), ``O(N_j k^2 + k^3)``
segment_solve_cg           warm-started conjugate gradients on the normal equations, ``O(N_j k)`` per step
segment_solve_sketch       sketch-and-precondition (sparse sign sketch, QR, preconditioned CGLS from the
                           sketch-and-solve point), ``O(8 N_j k + s k^2 + iters N_j k)``
=========================  ==================================================================================

Each has a NumPy reference (``*_reference``) that the tests hold it to. Accumulation is in float64 for float32
data; results come back in the dtype of ``B``.

The sparse sign sketch of segment ``j`` is drawn from a counter-based hash (splitmix64) of ``(seed, j, t, h)``:
the draws do not depend on the thread schedule, so a seed gives the same bits however many threads run.
"""

from __future__ import annotations

import contextlib
import math

import numba
import numpy as np

from .._backend import one_blas_thread

__all__ = [
    "sampled_product",
    "sampled_product_reference",
    "segment_normal_equations",
    "segment_normal_equations_reference",
    "segment_solve_cg",
    "segment_solve_cg_reference",
    "segment_solve_exact",
    "segment_solve_exact_reference",
    "segment_solve_sketch",
    "sketch_rows_reference",
]

_NNZ_PER_COL = 8  # nonzeros per column of the sparse sign sketch
_JITTER = 1e-13  # relative ridge of the exact solve, at rounding level


_PARALLEL_MIN_WORK = 2_000_000  # flops below which a kernel runs on one thread (a parallel region costs ~10 us,
# and far more on an oversubscribed machine, where the second thread waits to be scheduled)


@contextlib.contextmanager
def _threads_for(work):
    """Run the kernel on one Numba thread when `work` (flops) is too small to pay for a parallel region."""
    if work >= _PARALLEL_MIN_WORK:
        yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def _f64(x):
    """float64, C-contiguous (the kernels are compiled for float64 only: one compilation, float64 accumulation)."""
    return np.ascontiguousarray(x, dtype=np.float64)


def _i64(x):
    return np.asarray(x, dtype=np.int64)


# --------------------------------------------------------------------------- sampled product

def sampled_product_reference(B1, B2, rows, cols):
    """NumPy reference: ``sum(B1[rows] * B2[cols], axis=1)``."""
    return np.einsum("ij,ij->i", B1[rows].astype(np.float64), B2[cols].astype(np.float64)).astype(B1.dtype)


_FAST = {"reassoc", "contract"}  # lets LLVM vectorise the dot-product reductions (the inputs are finite)


@numba.njit(cache=True, parallel=True, fastmath=_FAST)
def _sampled_product(B1, B2, rows, cols, out):
    k = B1.shape[1]
    for t in numba.prange(rows.shape[0]):
        a = B1[rows[t]]
        b = B2[cols[t]]
        acc = 0.0
        for c in range(k):
            acc += a[c] * b[c]
        out[t] = acc
    return out


def sampled_product(B1, B2, rows, cols):
    """``(B1 @ B2.T)[rows, cols]`` without forming the product: ``O(|Omega| k)``.

    Examples
    --------
    >>> import numpy as np
    >>> B1, B2 = np.arange(6.0).reshape(3, 2), np.ones((4, 2))
    >>> sampled_product(B1, B2, np.array([0, 2]), np.array([1, 3])).tolist()
    [1.0, 9.0]
    """
    dtype = B1.dtype
    out = np.empty(rows.shape[0])
    with _threads_for(rows.shape[0] * B1.shape[1]):
        _sampled_product(_f64(B1), _f64(B2), _i64(rows), _i64(cols), out)
    return out.astype(dtype, copy=False)


# --------------------------------------------------------------------------- normal equations

def segment_normal_equations_reference(B, indptr, idx, vals, reg):
    """NumPy reference: the stacked ``(G, c)`` of every segment."""
    n_seg, k = indptr.shape[0] - 1, B.shape[1]
    G = np.zeros((n_seg, k, k))
    c = np.zeros((n_seg, k))
    for j in range(n_seg):
        A = B[idx[indptr[j]:indptr[j + 1]]].astype(np.float64)
        G[j] = A.T @ A + reg[j] * np.eye(k)
        c[j] = A.T @ vals[indptr[j]:indptr[j + 1]]
    return G, c


@numba.njit(cache=True, parallel=True)
def _segment_normal_equations(B, indptr, idx, vals, reg, G, c):
    k = B.shape[1]
    for j in numba.prange(indptr.shape[0] - 1):
        for t in range(indptr[j], indptr[j + 1]):
            a = B[idx[t]]
            v = vals[t]
            for p in range(k):
                ap = a[p]
                c[j, p] += ap * v
                for q in range(k):
                    G[j, p, q] += ap * a[q]
        for p in range(k):
            G[j, p, p] += reg[j]
    return G, c


def segment_normal_equations(B, indptr, idx, vals, reg):
    """Every segment's ``G_j = A_j^T A_j + reg_j I`` (n_seg, k, k) and ``c_j = A_j^T b_j`` (n_seg, k), float64.

    Stores ``n_seg k^2`` numbers: for small problems (tests, inspection). The solvers assemble one segment at a
    time instead.
    """
    n_seg, k = indptr.shape[0] - 1, B.shape[1]
    G = np.zeros((n_seg, k, k))
    c = np.zeros((n_seg, k))
    return _segment_normal_equations(_f64(B), _i64(indptr), _i64(idx), _f64(vals), _f64(reg), G, c)


# --------------------------------------------------------------------------- exact solve

def segment_solve_exact_reference(B, indptr, idx, vals, reg):
    """NumPy reference: each segment solved by ``numpy.linalg.lstsq`` on the ridge-augmented system."""
    n_seg, k = indptr.shape[0] - 1, B.shape[1]
    X = np.zeros((n_seg, k))
    for j in range(n_seg):
        A = B[idx[indptr[j]:indptr[j + 1]]].astype(np.float64)
        b = vals[indptr[j]:indptr[j + 1]].astype(np.float64)
        A = np.vstack([A, math.sqrt(reg[j]) * np.eye(k)])
        b = np.concatenate([b, np.zeros(k)])
        X[j] = np.linalg.lstsq(A, b, rcond=None)[0]
    return X.astype(B.dtype)


@numba.njit(cache=True, parallel=True)
def _segment_solve_exact(B, indptr, idx, vals, reg, out):
    k = B.shape[1]
    for j in numba.prange(indptr.shape[0] - 1):
        lo, hi = indptr[j], indptr[j + 1]
        n = hi - lo
        A = np.empty((n, k))
        b = np.empty(n)
        for t in range(n):
            row = B[idx[lo + t]]
            for p in range(k):
                A[t, p] = row[p]
            b[t] = vals[lo + t]
        G = A.T @ A
        c = A.T @ b
        scale = 0.0
        for p in range(k):
            G[p, p] += reg[j]
            scale = max(scale, G[p, p])
        if scale == 0.0:  # no observation and no ridge: the minimum-norm solution
            for p in range(k):
                out[j, p] = 0.0
            continue
        for p in range(k):  # a ridge at rounding level: a singular G gives the minimum-norm limit, no exception
            G[p, p] += _JITTER * scale
        if not _cholesky_solve(G, c, out[j]):  # not positive definite to rounding (a near-singular design): LU
            x = np.linalg.solve(G, c)
            for p in range(k):
                out[j, p] = x[p]
    return out


@numba.njit(cache=True)
def _cholesky_solve(G, c, x):
    """``x = G^{-1} c`` by LAPACK's Cholesky ``G = R^T R`` (half the flops of LU) and two triangular solves; False
    where `G` is not positive definite to rounding. (Kept out of the caller's ``prange`` loop, whose body must have
    one exit to run in parallel.)"""
    try:
        R = np.linalg.cholesky(G).T
    except Exception:
        return False
    y = np.empty_like(c)
    _forward_substitute_t(R, c, y)
    _back_substitute(R, y, x)
    return True


def segment_solve_exact(B, indptr, idx, vals, reg):
    """Exact solve of every segment by its normal equations; returns (n_seg, k) in ``B``'s dtype.

    Gathers ``A_j = B[idx_j]`` (float64), forms ``A_j^T A_j`` by one BLAS-3 product and solves with LAPACK's
    Cholesky (LU where rounding leaves the matrix not positive definite): ``O(N_j k^2 + k^3)`` per segment. A
    segment with no observation and no ridge gets ``x = 0``; a singular system (fewer observations than unknowns,
    no ridge) about the minimum-norm solution: a ridge of ``1e-13 max(diag G)`` is always added, which keeps the
    factorisations from breaking down; if LU still meets an exactly zero pivot (degenerate designs, such as
    coordinate vectors), every segment is solved again by
    :func:`segment_solve_exact_reference` (SVD least squares, minimum norm).
    """
    n_seg, k = indptr.shape[0] - 1, B.shape[1]
    out = np.empty((n_seg, k))
    try:
        with one_blas_thread(), _threads_for(idx.shape[0] * k * k + n_seg * k**3):  # parallel over segments
            _segment_solve_exact(_f64(B), _i64(indptr), idx, _f64(vals), _f64(reg), out)
    except (SystemError, np.linalg.LinAlgError):  # LU met an exactly zero pivot (a degenerate, coherent design)
        return segment_solve_exact_reference(B, indptr, idx, vals, reg)
    return out.astype(B.dtype, copy=False)


# --------------------------------------------------------------------------- warm-started CG

def segment_solve_cg_reference(B, indptr, idx, vals, reg, X0, tol, maxiter):
    """NumPy reference of :func:`segment_solve_cg` (the same iteration, one segment at a time)."""
    n_seg, k = indptr.shape[0] - 1, B.shape[1]
    X = np.zeros((n_seg, k))
    iters = np.zeros(n_seg, dtype=np.int64)
    for j in range(n_seg):
        A = B[idx[indptr[j]:indptr[j + 1]]].astype(np.float64)
        b = vals[indptr[j]:indptr[j + 1]].astype(np.float64)
        x = X0[j].astype(np.float64)
        atb = A.T @ b
        r = atb - A.T @ (A @ x) - reg[j] * x
        p = r.copy()
        gamma = r @ r
        stop = tol * math.sqrt(atb @ atb)
        it = 0
        while it < maxiter and math.sqrt(gamma) > stop:
            q = A.T @ (A @ p) + reg[j] * p
            pq = p @ q
            if pq <= 0:
                break
            alpha = gamma / pq
            x += alpha * p
            r -= alpha * q
            new = r @ r
            p = r + new / gamma * p
            gamma = new
            it += 1
        X[j] = x
        iters[j] = it
    return X.astype(B.dtype), iters


@numba.njit(cache=True, parallel=True, fastmath=_FAST)
def _segment_solve_cg(B, indptr, idx, vals, reg, X0, tol, maxiter, out, iters):
    k = B.shape[1]
    for j in numba.prange(indptr.shape[0] - 1):
        lo, hi = indptr[j], indptr[j + 1]
        x = np.empty(k)
        for p in range(k):
            x[p] = X0[j, p]
        r = np.empty(k)
        atb = np.zeros(k)
        for p in range(k):
            r[p] = -reg[j] * x[p]
        for t in range(lo, hi):  # one pass: A^T b and A^T (b - A x)
            a = B[idx[t]]
            ax = 0.0
            for p in range(k):
                ax += a[p] * x[p]
            res = vals[t] - ax
            for p in range(k):
                atb[p] += a[p] * vals[t]
                r[p] += a[p] * res
        gamma = 0.0
        norm_atb = 0.0
        for p in range(k):
            gamma += r[p] * r[p]
            norm_atb += atb[p] * atb[p]
        stop = tol * math.sqrt(norm_atb)
        pvec = r.copy()
        q = np.empty(k)
        it = 0
        while it < maxiter and math.sqrt(gamma) > stop:
            for p in range(k):
                q[p] = reg[j] * pvec[p]
            for t in range(lo, hi):
                a = B[idx[t]]
                ap = 0.0
                for p in range(k):
                    ap += a[p] * pvec[p]
                for p in range(k):
                    q[p] += a[p] * ap
            pq = 0.0
            for p in range(k):
                pq += pvec[p] * q[p]
            if pq <= 0.0:
                break
            alpha = gamma / pq
            new = 0.0
            for p in range(k):
                x[p] += alpha * pvec[p]
                r[p] -= alpha * q[p]
                new += r[p] * r[p]
            beta = new / gamma
            for p in range(k):
                pvec[p] = r[p] + beta * pvec[p]
            gamma = new
            it += 1
        for p in range(k):
            out[j, p] = x[p]
        iters[j] = it
    return out, iters


def segment_solve_cg(B, indptr, idx, vals, reg, X0, tol, maxiter):
    """Conjugate gradients on ``(A_j^T A_j + reg_j I) x = A_j^T b_j`` from ``X0[j]``, for every segment.

    Stops a segment when ``||A_j^T (b_j - A_j x) - reg_j x|| <= tol ||A_j^T b_j||`` or after `maxiter` steps of
    ``O(N_j k)`` each, never forming ``A_j^T A_j``. Returns ``(X, iters)``.
    """
    n_seg, k = indptr.shape[0] - 1, B.shape[1]
    out = np.empty((n_seg, k))
    iters = np.zeros(n_seg, dtype=np.int64)
    with _threads_for(2 * idx.shape[0] * k * (maxiter + 1)):
        _segment_solve_cg(_f64(B), _i64(indptr), idx, _f64(vals), _f64(reg), _f64(X0), float(tol), int(maxiter), out,
                          iters)
    return out.astype(B.dtype, copy=False), iters


# --------------------------------------------------------------------------- sketch and precondition

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@numba.njit(cache=True, inline="always")
def _splitmix(z):
    z = z + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True)
def _hash(seed, j, t, h):
    z = _splitmix(np.uint64(seed) ^ _splitmix(np.uint64(j)))
    z = _splitmix(z ^ np.uint64(t))
    return _splitmix(z ^ np.uint64(h))


def sketch_rows_reference(seed, j, n, s, nnz):
    """The (s, n) sparse sign sketch of segment `j` as a dense array (the kernel's draws, in Python)."""
    S = np.zeros((s, n))
    scale = 1.0 / math.sqrt(nnz)
    for t in range(n):
        for h in range(nnz):
            z = int(_hash(seed, j, t, h))
            S[(z >> 1) % s, t] += scale if z & 1 else -scale
    return S


@numba.njit(cache=True)
def _back_substitute(R, y, x):
    """Solve ``R x = y`` (upper triangular)."""
    k = R.shape[0]
    for p in range(k - 1, -1, -1):
        acc = y[p]
        for q in range(p + 1, k):
            acc -= R[p, q] * x[q]
        x[p] = acc / R[p, p]


@numba.njit(cache=True)
def _forward_substitute_t(R, y, x):
    """Solve ``R^T x = y`` (R upper triangular)."""
    k = R.shape[0]
    for p in range(k):
        acc = y[p]
        for q in range(p):
            acc -= R[q, p] * x[q]
        x[p] = acc / R[p, p]


@numba.njit(cache=True, parallel=True, fastmath=_FAST)
def _segment_solve_sketch(B, indptr, idx, vals, reg, use, oversample, seed, tol, maxiter, out, iters):
    k = B.shape[1]
    nnz = min(_NNZ_PER_COL, oversample * k)
    scale = 1.0 / math.sqrt(nnz)
    for j in numba.prange(indptr.shape[0] - 1):
        if not use[j]:
            continue
        lo, hi = indptr[j], indptr[j + 1]
        s = oversample * k
        ridge = math.sqrt(reg[j])
        SA = np.zeros((s + k, k)) if ridge > 0 else np.zeros((s, k))
        Sb = np.zeros(SA.shape[0])
        for t in range(lo, hi):
            a = B[idx[t]]
            for h in range(nnz):
                z = _hash(seed, j, t - lo, h)
                row = np.int64((z >> np.uint64(1)) % np.uint64(s))
                sign = scale if (z & np.uint64(1)) else -scale
                for p in range(k):
                    SA[row, p] += sign * a[p]
                Sb[row] += sign * vals[t]
        if ridge > 0:
            for p in range(k):
                SA[s + p, p] = ridge
        Q, R = np.linalg.qr(SA)
        y = np.zeros(k)
        for r in range(SA.shape[0]):
            for p in range(k):
                y[p] += Q[r, p] * Sb[r]
        x = np.empty(k)
        _back_substitute(R, y, x)  # the sketch-and-solve point
        # preconditioned CGLS on min ||[A; ridge I] R^{-1} y - [b; 0]||, in the variable x = R^{-1} y
        resid = np.empty(hi - lo)
        atr = np.empty(k)
        for p in range(k):
            atr[p] = -reg[j] * x[p]
        norm_b = 0.0
        for t in range(lo, hi):
            a = B[idx[t]]
            ax = 0.0
            for p in range(k):
                ax += a[p] * x[p]
            resid[t - lo] = vals[t] - ax
            norm_b += vals[t] * vals[t]
            for p in range(k):
                atr[p] += a[p] * resid[t - lo]
        zvec = np.empty(k)
        _forward_substitute_t(R, atr, zvec)
        gamma = 0.0
        for p in range(k):
            gamma += zvec[p] * zvec[p]
        stop = tol * math.sqrt(norm_b)
        pvec = zvec.copy()
        w = np.empty(k)
        q = np.empty(hi - lo)
        it = 0
        while it < maxiter and math.sqrt(gamma) > stop:
            _back_substitute(R, pvec, w)
            qq = 0.0
            for p in range(k):
                qq += reg[j] * w[p] * w[p]
            for t in range(lo, hi):
                a = B[idx[t]]
                aw = 0.0
                for p in range(k):
                    aw += a[p] * w[p]
                q[t - lo] = aw
                qq += aw * aw
            if qq <= 0.0:
                break
            alpha = gamma / qq
            for p in range(k):
                x[p] += alpha * w[p]
                atr[p] = -reg[j] * x[p]
            for t in range(lo, hi):
                resid[t - lo] -= alpha * q[t - lo]
                a = B[idx[t]]
                rt = resid[t - lo]
                for p in range(k):
                    atr[p] += a[p] * rt
            _forward_substitute_t(R, atr, zvec)
            new = 0.0
            for p in range(k):
                new += zvec[p] * zvec[p]
            beta = new / gamma
            for p in range(k):
                pvec[p] = zvec[p] + beta * pvec[p]
            gamma = new
            it += 1
        for p in range(k):
            out[j, p] = x[p]
        iters[j] = it
    return out, iters


def segment_solve_sketch(B, indptr, idx, vals, reg, *, use=None, oversample=4, seed=0, tol=1e-10, maxiter=100,
                         out=None):
    """Sketch-and-precondition solve of the segments flagged in `use` (all by default).

    Per segment: ``S A_j`` and ``S b_j`` with an ``(oversample k) x N_j`` sparse sign sketch (8 nonzeros per
    column, drawn by hashing ``(seed, j, t, h)``), ``S A_j = Q R``, the sketch-and-solve point
    ``x_0 = R^{-1} Q^T S b_j``, then CGLS on ``A_j R^{-1}`` (condition number about 3 for ``oversample = 4``)
    until ``||R^{-T} A_j^T r|| <= tol ||b_j||``. Segments not in `use` are left as they are in `out`.
    Returns ``(X, iters)``.
    """
    n_seg, k = indptr.shape[0] - 1, B.shape[1]
    dtype = B.dtype
    out = np.zeros((n_seg, k)) if out is None else _f64(out).copy()
    if use is None:
        use = np.ones(n_seg, dtype=np.bool_)
    iters = np.zeros(n_seg, dtype=np.int64)
    with one_blas_thread(), _threads_for(idx.shape[0] * k * 40 + n_seg * oversample * k**3):
        _segment_solve_sketch(_f64(B), _i64(indptr), idx, _f64(vals), _f64(reg), np.asarray(use, np.bool_),
                              int(oversample), np.uint64(seed), float(tol), int(maxiter), out, iters)
    return out.astype(dtype, copy=False), iters
