"""Matrix completion by alternating minimization, with exact, sketched and warm-started iterative half-steps."""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import numpy as np

from .._backend import (
    array_namespace,
    device_of,
    is_numpy_namespace,
    qr_econ,
    to_numpy,
    working_dtype,
)
from .._kernels.completion import (
    sampled_product as _sampled_product,
)
from .._kernels.completion import (
    segment_solve_cg,
    segment_solve_exact,
    segment_solve_sketch,
)
from .._validate import (
    as_matrix,
    check_int,
    check_option,
    check_real,
    check_shape_agrees,
    check_tolerance,
)
from ..svd._common import ldexp_safe, pow2_exponent, times_pow2
from ._batched import batched_exact_solve, device_segments, sampled_residual
from ._observations import Observations, Segments, _index_array

__all__ = ["SOLVERS", "completion_error", "half_step", "halfstep_costs", "sampled_product", "segment_ridges"]

#: The half-step solvers of :func:`altmin_complete` (`solver`); ``"auto"`` picks one by the cost model.
SOLVERS = ("auto", "exact", "sketch", "cg")
SKETCH_OVERSAMPLE = 4  # sketch rows per unknown: kappa(A R^-1) <= about 3 (see lstsq_sketched)
CG_MAXITER = 8  # default steps per row of the warm-started CG half-step
SKETCH_MAXITER = 100  # cap on the preconditioned CGLS steps per row of the sketched half-step
BLAS3_SPEEDUP = 4.0  # flops in BLAS-3/LAPACK (Gram, QR, k x k solves) run about 4x faster than in the loop kernels
AUTO_RIDGE = 1e-3  # ridge of the rows with fewer than k observations, relative to the design's mean row norm^2


def halfstep_costs(counts, k, solver_tol=1e-10, cg_maxiter=CG_MAXITER, oversample=SKETCH_OVERSAMPLE):
    """Model flop counts of one half-step with each solver, for segments of `counts` observations.

    * ``exact``: ``N_j k^2 + k^3 / 3`` per segment (Gram matrix, then the k x k factorisation);
    * ``sketch``: segments with ``N_j > oversample k`` cost ``8 N_j k`` (sparse sign sketch) ``+ 2 s k^2``
      (QR of the s x k sketch, ``s = oversample k``) ``+ I (2 N_j k + 2 k^2)`` with
      ``I = ln(1/solver_tol) / ln 2`` CGLS steps (``kappa(A R^-1) <= 3`` halves the error per step); the
      others are solved exactly;
    * ``cg``: ``I_j 2 N_j k`` with ``I_j = min(cg_maxiter, kappa_j ln(2 / solver_tol) / 2)`` steps, where
      ``kappa_j = (1 + sqrt(k/N_j)) / (1 - sqrt(k/N_j))`` is the Marchenko-Pastur condition number of an
      incoherent ``N_j x k`` design (segments with ``N_j <= k`` cost ``cg_maxiter`` steps).

    The flops of BLAS-3 and LAPACK work (Gram matrices, QRs, k x k factorisations) are divided by
    ``BLAS3_SPEEDUP = 4``, measured on this library's kernels (at m = n = 3000, 200 observations per column, the
    exact half-step beats 8 CG steps at k = 32 and loses to them by about 4x at k = 128). ``solver="auto"``
    picks the cheapest.

    Parameters
    ----------
    counts : (n_segments,) array_like
        Observations ``N_j >= 0`` in each segment (row or column) of the half-step.
    k : int
        Rank of the factors, ``k >= 1``.
    solver_tol : float
        Relative accuracy the iterative solvers aim at, in ``(0, 1)``.
    cg_maxiter : int
        Most CG steps per segment (8 by default, as in :func:`altmin_complete`).
    oversample : int
        Sketch rows per unknown of the sketched solver (4 by default).

    Returns
    -------
    dict
        ``{solver: model flops}`` for ``"exact"``, ``"sketch"`` and ``"cg"`` (BLAS-3 work divided by
        ``BLAS3_SPEEDUP``, so the numbers compare as times).

    See Also
    --------
    altmin_complete : The completion whose ``solver="auto"`` this cost model drives.
    lowrank_la.sketch.lstsq_sketched : The sketch-and-precondition solver costed for ``solver="sketch"``.

    Examples
    --------
    >>> costs = halfstep_costs([200] * 3000, 128)
    >>> min(costs, key=costs.get)
    'cg'
    >>> costs = halfstep_costs([200] * 3000, 32)
    >>> min(costs, key=costs.get)
    'exact'
    >>> costs = halfstep_costs([100000] * 10, 1024, solver_tol=1e-6)
    >>> costs["sketch"] < costs["exact"]
    True
    """
    counts = as_matrix(counts, "counts", ndim=1)
    if not is_numpy_namespace(array_namespace(counts)):
        counts = to_numpy(counts)
    if counts.dtype.kind not in "iub" and not np.all(counts == np.round(counts)):
        raise TypeError(f"counts must hold whole numbers of observations, got dtype {counts.dtype}")
    if int(np.min(counts)) < 0:
        raise ValueError(f"counts must satisfy counts[j] >= 0, got {int(np.min(counts))}")
    k = check_int(k, "k", low=1)
    solver_tol = check_tolerance(solver_tol, "solver_tol", high=1)
    cg_maxiter = check_int(cg_maxiter, "cg_maxiter", low=1)
    oversample = check_int(oversample, "oversample", low=1)
    N = np.asarray(counts, dtype=np.float64)
    exact_each = (N * k * k + k**3 / 3.0) / BLAS3_SPEEDUP
    s = oversample * k
    sketched = N > s
    steps = math.log(1.0 / solver_tol) / math.log(2.0)
    sketch_each = np.where(sketched, 8 * N * k + 2 * s * k * k / BLAS3_SPEEDUP + steps * (2 * N * k + 2 * k * k),
                           exact_each)
    ratio = np.sqrt(np.minimum(k / np.maximum(N, 1.0), 1.0))
    with np.errstate(divide="ignore"):
        kappa = np.where(ratio < 1, (1 + ratio) / (1 - ratio), np.inf)
    cg_steps = np.minimum(cg_maxiter, np.ceil(kappa * math.log(2.0 / solver_tol) / 2))
    cg_each = cg_steps * 2 * N * k + 2 * k
    return {"exact": float(exact_each.sum()), "sketch": float(sketch_each.sum()), "cg": float(cg_each.sum())}


def completion_error(U, V, truth) -> float:
    """``||U V^T - M||_F / ||M||_F`` in factored form (two thin QRs), never forming an m x n matrix.

    Parameters
    ----------
    U : (m, k) array
        Left factor of the estimate ``U V^T``.
    V : (n, k) array
        Right factor of the estimate.
    truth : tuple
        ``(L, R)`` with ``M = L @ R.T``, or ``(U*, s*, Vt*)`` with ``M = U* @ diag(s*) @ Vt*``.

    Returns
    -------
    float
        The relative Frobenius error of ``U V^T`` against ``M``.

    See Also
    --------
    altmin_complete : The completion whose factors this measures.
    CompletionResult : The completed model, whose ``to_dense`` forms the matrix for small problems.

    Examples
    --------
    >>> import numpy as np
    >>> L, R = np.ones((5, 1)), np.ones((4, 1))
    >>> completion_error(2 * L, R, (L, R))
    1.0
    """
    U = _host_factor(U, "U")
    V = _host_factor(V, "V")
    check_shape_agrees("V.shape[1]", V.shape[1], U.shape[1], "U.shape[1]")
    L, R = _truth_factors(truth)
    check_shape_agrees("truth's left factor shape[0]", L.shape[0], U.shape[0], "U.shape[0]")
    check_shape_agrees("truth's right factor shape[0]", R.shape[0], V.shape[0], "V.shape[0]")
    # at a unit scale (powers of two, exact): the QRs and the product R1 R2^T neither under- nor overflow
    eu, ev, el, er = (pow2_exponent(float(np.max(np.abs(X)))) for X in (U, V, L, R))
    U, V, L, R = np.ldexp(U, eu), np.ldexp(V, ev), np.ldexp(L, el), np.ldexp(R, er)
    RL, RR = (np.asarray(np.linalg.qr(X, mode="r")) for X in (L, R))
    norm_m = float(np.linalg.norm(RL @ RR.T))  # 2^(el+er) ||M||
    # U V^T carries the factor 2^(eu+ev) and L R^T 2^(el+er): bring both to the smaller one, `common`
    common = min(eu + ev, el + er)
    U, L = np.ldexp(U, common - (eu + ev)), np.ldexp(L, common - (el + er))
    # U V^T - L R^T = [U, L] [V, -R]^T = Q1 (R1 R2^T) Q2^T: accurate to rounding, unlike the Gram expansion
    R1 = np.asarray(np.linalg.qr(np.hstack([U, L]), mode="r"))
    R2 = np.asarray(np.linalg.qr(np.hstack([V, -R]), mode="r"))
    err = float(np.linalg.norm(R1 @ R2.T))  # 2^common ||U V^T - M||
    if norm_m == 0:
        return ldexp_safe(err, -common)
    return ldexp_safe(err / norm_m, el + er - common)


def _host_factor(X, name, ndim=2):
    """A factor argument as a float64 NumPy array, by the input rule (finite, real, non-empty)."""
    return np.asarray(to_numpy(as_matrix(X, name, ndim=ndim, sparse=False)), dtype=np.float64)


def _truth_factors(truth):
    if not isinstance(truth, (tuple, list)) or len(truth) not in (2, 3):
        raise ValueError("truth must be (L, R) with M = L @ R.T or (U, s, Vt) with M = U @ diag(s) @ Vt, got "
                         f"{type(truth).__name__} of length {len(truth) if hasattr(truth, '__len__') else '-'}")
    if len(truth) == 2:
        return _host_factor(truth[0], "truth[0]"), _host_factor(truth[1], "truth[1]")
    Ut, st, Vt = (_host_factor(x, f"truth[{i}]", ndim=nd) for i, (x, nd) in enumerate(zip(truth, (2, 1, 2))))
    check_shape_agrees("truth[1].shape[0]", st.shape[0], Ut.shape[1], "truth[0].shape[1]")
    check_shape_agrees("truth[2].shape[0]", Vt.shape[0], Ut.shape[1], "truth[0].shape[1]")
    return Ut * st, Vt.T


def sampled_product(U, V, rows, cols):
    """The entries ``(U @ V.T)[rows, cols]`` without forming the product: ``O(n_obs k)`` (Numba, parallel).

    Parameters
    ----------
    U : (m, k) array
        Left factor: row ``i`` of ``U V^T`` is ``U[i] @ V.T``.
    V : (n, k) array
        Right factor, with as many columns as `U`.
    rows, cols : (n_obs,) int arrays
        The coordinates, ``0 <= rows < m`` and ``0 <= cols < n``.

    Returns
    -------
    (n_obs,) NumPy array
        In the dtype of `U` (accumulated in float64).

    See Also
    --------
    completion_error : The relative error of the whole product, also in factored form.
    CompletionResult.predict : The completed model's entries, offsets included.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.completion import sampled_product
    >>> sampled_product(np.arange(6.0).reshape(3, 2), np.ones((4, 2)), [0, 2], [1, 3]).tolist()
    [1.0, 9.0]
    """
    U = to_numpy(as_matrix(U, "U", sparse=False))
    V = to_numpy(as_matrix(V, "V", sparse=False))
    check_shape_agrees("V.shape[1]", V.shape[1], U.shape[1], "U.shape[1]")
    dtype = np.result_type(working_dtype(U.dtype, np, name="U"), working_dtype(V.dtype, np, name="V"))
    obs_rows = _index_array(rows, "rows", U.shape[0])
    obs_cols = _index_array(cols, "cols", V.shape[0])
    check_shape_agrees("cols.shape[0]", obs_cols.shape[0], obs_rows.shape[0], "rows.shape[0]")
    return _sampled_product(U.astype(dtype, copy=False), V.astype(dtype, copy=False), obs_rows, obs_cols)


def segment_ridges(seg: Segments, k: int, n_other: int, reg: float = 0.0) -> np.ndarray:
    """The ridge of each regression of a half-step, as :func:`altmin_complete` sets it.

    Parameters
    ----------
    seg : Segments
        The index structure of the half-step (``obs.by_col`` for the V half-step, ``obs.by_row`` for U).
    k : int
        The rank (the number of unknowns per regression), ``k >= 1``.
    n_other : int
        The length of the other factor (the rows of the design), ``n_other >= 1``.
    reg : float
        The user's ridge, ``reg >= 0``.

    Returns
    -------
    (n_seg,) float64 array
        `reg` everywhere; with ``reg=0``, the segments with fewer than `k` observations get
        ``AUTO_RIDGE k / n_other`` so that their regressions stay well posed.

    See Also
    --------
    half_step : The half-step whose regressions take these ridges.
    altmin_complete : The completion that sets them from `reg`.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.completion import parse_observations, segment_ridges
    >>> obs = parse_observations([0, 0, 1], [0, 1, 1], [1.0, 2.0, 3.0], (2, 2))
    >>> segment_ridges(obs.by_row, 2, 2).tolist()
    [0.0, 0.001]
    """
    k = check_int(k, "k", low=1)
    n_other = check_int(n_other, "n_other", low=1)
    reg = check_real(reg, "reg", low=0)
    counts = seg.counts
    ridge = np.full(counts.shape[0], reg, dtype=np.float64)
    if reg == 0.0:
        ridge[counts < k] = AUTO_RIDGE * k / n_other
    return ridge


def half_step(design, seg: Segments, *, solver="exact", warm=None, tol=1e-10, maxiter=None, ridge=None, seed=0):
    """One AltMin half-step: every segment's ridge regression on the rows ``design[idx_j]``.

    Parameters
    ----------
    design : (n_other, k) array_like
        The fixed factor (``U`` for the V half-step): finite, with at least one row and one column. float32
        (and float16) compute in float32, other real dtypes in float64; a C-contiguous NumPy array of that dtype
        is used as it is, anything else is converted.
    seg : Segments
        The observations indexed along the solved factor (``obs.by_col`` for V, ``obs.by_row`` for U), with
        values in the dtype of `design`.
    solver : {"exact", "sketch", "cg"}
        As in :func:`altmin_complete`.
    warm : (n_seg, k) array, optional
        Starting point of ``"cg"`` (zeros by default).
    tol : float
        Relative accuracy of ``"sketch"`` and ``"cg"``, ``0 <= tol < 1``.
    maxiter : int, optional
        Inner steps per segment (default 8 for ``"cg"``, 100 for ``"sketch"``).
    ridge : (n_seg,) array, optional
        Per-segment ridge (default :func:`segment_ridges` with ``reg=0``).
    seed : int
        Seed of the sketches of ``"sketch"``.

    Returns
    -------
    X : (n_seg, k) array
        The solutions, in the working dtype of `design` (float32 or float64).
    inner_steps : float
        The mean number of inner steps per solved segment (0 for ``"exact"``).

    See Also
    --------
    altmin_complete : The completion that alternates these half-steps.
    segment_ridges : The ridge of each regression.
    halfstep_costs : The cost of one half-step with each solver.
    lowrank_la.sketch.lstsq_sketched : The sketch-and-precondition solver of one tall regression.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.completion import half_step, parse_observations
    >>> U = np.ascontiguousarray(np.linalg.qr(np.random.default_rng(0).standard_normal((6, 2)))[0])
    >>> V = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
    >>> rows, cols = np.nonzero(np.ones((6, 3)))
    >>> obs = parse_observations(rows, cols, (U @ V.T)[rows, cols], (6, 3))
    >>> X, _ = half_step(U, obs.by_col)
    >>> bool(np.allclose(X, V))
    True
    """
    solver = check_option(solver, "solver", ("exact", "sketch", "cg"))
    design = to_numpy(as_matrix(design, "design", sparse=False))
    design = np.ascontiguousarray(design, dtype=working_dtype(design.dtype, np, name="design"))
    k = design.shape[1]
    n_seg = seg.indptr.shape[0] - 1
    if seg.idx.size and int(seg.idx.max()) >= design.shape[0]:
        raise ValueError(f"seg holds the index {int(seg.idx.max())}, out of range for design of shape "
                         f"{design.shape}: indices must satisfy 0 <= idx < design.shape[0] = {design.shape[0]}")
    vals = seg.vals.astype(design.dtype, copy=False)
    seg = Segments(seg.indptr, seg.idx, vals)
    tol = check_real(tol, "tol", low=0, high=1)
    if maxiter is None:
        maxiter = {"cg": CG_MAXITER, "sketch": SKETCH_MAXITER}.get(solver, 0)
    maxiter = check_int(maxiter, "maxiter", low=0)
    if ridge is None:
        ridge = segment_ridges(seg, k, design.shape[0])
    ridge = as_matrix(ridge, "ridge", ndim=1).astype(np.float64)
    check_shape_agrees("ridge.shape[0]", ridge.shape[0], n_seg, "the number of segments")
    if warm is None:
        warm = np.zeros((n_seg, k), dtype=design.dtype)
    warm = np.ascontiguousarray(as_matrix(warm, "warm", ndim=2), dtype=design.dtype)
    check_shape_agrees("warm.shape[0]", warm.shape[0], n_seg, "the number of segments")
    check_shape_agrees("warm.shape[1]", warm.shape[1], k, "design.shape[1]")
    return _half_step(design, seg, warm, solver, tol, maxiter, ridge, check_int(seed, "seed", low=0))


def _half_step(design, seg: Segments, warm, solver, tol, maxiter, ridge, seed):
    """One half-step: every segment's regression on the rows `design[idx_j]`. Returns (X, mean inner steps)."""
    k = design.shape[1]
    if solver == "exact":
        return segment_solve_exact(design, seg.indptr, seg.idx, seg.vals, ridge), 0.0
    if solver == "cg":
        X, iters = segment_solve_cg(design, seg.indptr, seg.idx, seg.vals, ridge, warm, tol, maxiter)
        return X, float(iters.mean())
    use = seg.counts > SKETCH_OVERSAMPLE * k
    X = np.zeros((seg.indptr.shape[0] - 1, k), dtype=design.dtype)
    if not use.all():
        small = ~use
        # the small segments exactly (through a sub-structure, so that the kernel skips the others)
        sub_ptr = np.zeros(int(small.sum()) + 1, dtype=np.int64)
        np.cumsum(seg.counts[small], out=sub_ptr[1:])
        take = np.concatenate([np.arange(seg.indptr[j], seg.indptr[j + 1]) for j in np.flatnonzero(small)] or
                              [np.zeros(0, dtype=np.int64)])
        X[small] = segment_solve_exact(design, sub_ptr, seg.idx[take], seg.vals[take], ridge[small])
    if use.any():
        X, iters = segment_solve_sketch(design, seg.indptr, seg.idx, seg.vals, ridge, use=use,
                                        oversample=SKETCH_OVERSAMPLE, seed=seed, tol=tol, maxiter=maxiter, out=X)
        return X, float(iters[use].mean())
    return X, 0.0


def _orthonormalize(X, xp=None):
    Q, R = qr_econ(X, xp)
    return Q, R


def _contiguous(X):
    return np.ascontiguousarray(X) if isinstance(X, np.ndarray) else X


class _DeviceSteps:
    """The half-steps on a non-NumPy namespace: batched exact solves over padded buckets (see ``_batched``)."""

    def __init__(self, obs: Observations, k, xp, device):
        self.xp, self.device, self.k = xp, device, k
        self._segs: dict = {}
        self._entries: dict = {}

    def put(self, x):
        return self.xp.asarray(x, device=self.device)

    def segments(self, seg: Segments):
        key = id(seg)
        if key not in self._segs:
            self._segs[key] = (seg, device_segments(seg, self.k, self.xp, self.device))
        return self._segs[key][1]

    def residual(self, U, V, obs: Observations, norm_vals):
        key = id(obs)
        if key not in self._entries:
            self._entries[key] = (obs, self.put(obs.rows.astype(np.int64)), self.put(obs.cols.astype(np.int64)),
                                  self.put(obs.vals))
        _, rows, cols, vals = self._entries[key]
        return sampled_residual(U, V, rows, cols, vals, self.xp) / norm_vals


STALL = 1e-4  # default stall_tol: an objective lowered by less than this (relative), twice in a row: stationary
PATIENCE = 3  # iterations without a better held-out error before early stopping
GROWTH = 10.0  # the divergence guard: ||U V^T||_F above GROWTH times the data's scale, and growing


def balance(U, V, xp=None):
    """Balanced factors of ``U V^T``: ``(Q_u W sqrt(s), Q_v Y sqrt(s), s)`` from the SVD ``W s Y^T`` of ``R_u R_v^T``.

    For a fixed product, the balanced pair minimises ``||U||_F^2 + ||V||_F^2`` (to ``2 sum(s)``, the nuclear norm),
    so rebalancing never raises the ridge-penalised objective. ``O((m + n) k^2)``.
    """
    Qu, Ru = qr_econ(U, xp)
    Qv, Rv = qr_econ(V, xp)
    W, s, Yt = np.linalg.svd(to_numpy(Ru @ Rv.T).astype(np.float64))
    root = np.sqrt(s)
    W, Y = W * root, Yt.T * root
    if xp is not None and not is_numpy_namespace(xp):
        W, Y = (xp.asarray(x, dtype=U.dtype, device=device_of(U)) for x in (W, Y))
    else:
        W, Y = W.astype(U.dtype), Y.astype(U.dtype)
    return _contiguous(Qu @ W), _contiguous(Qv @ Y), s


def svd_form(U, V, xp=None):
    """``(U', s, V')`` with ``U' V'^T = U V^T``: ``U'`` orthonormal, ``V'`` with orthogonal columns of norms ``s``."""
    Qu, Ru = qr_econ(U, xp)
    Qv, Rv = qr_econ(V, xp)
    W, s, Yt = np.linalg.svd(to_numpy(Ru @ Rv.T).astype(np.float64))
    Y = Yt.T * s
    if xp is not None and not is_numpy_namespace(xp):
        W, Y = (xp.asarray(x, dtype=U.dtype, device=device_of(U)) for x in (W, Y))
    else:
        W, Y = W.astype(U.dtype), Y.astype(U.dtype)
    return _contiguous(Qu @ W), s, _contiguous(Qv @ Y)


class Holdout(NamedTuple):
    """Held-out observations (host arrays) the early stopping watches."""

    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray  # float64 observed values

    def rmse(self, U, V, offsets=None) -> float:
        """Root mean square error of the model ``offsets + U V^T`` on the held-out entries."""
        U, V = (np.ascontiguousarray(to_numpy(x), dtype=np.float64) for x in (U, V))
        pred = _sampled_product(U, V, self.rows, self.cols) if U.shape[1] else np.zeros(self.rows.shape[0])
        if offsets is not None:
            pred = pred + offsets.at(self.rows, self.cols)
        return float(np.sqrt(np.mean((pred - self.vals) ** 2)))


def als_fit(obs: Observations, k, lam, U, V, *, solvers, maxiter, solver_tol, n_iter, tol, seeds, steps=None,
            obs_for=None, offsets=None, holdout=None, patience=PATIENCE, bound=None, truth=None, scale_exp=0,
            stall_tol=STALL):
    """AltMin iterations from the model ``offsets + U V^T``; the engine behind :func:`altmin_complete`.

    ``lam == 0``: least squares with orthonormal designs (``U`` orthonormal; the QR factor of each half-step
    carried into the other factor). ``lam > 0``: the ridge ``lam (||U||^2 + ||V||^2) / 2`` on balanced factors (the
    nuclear-norm objective ``||P(UV^T - M)||^2 / 2 + lam ||UV^T||_*`` for ``k`` at least the solution's rank).
    `offsets` (an :class:`~lowrank_la.completion._offsets.Offsets`, copied), when given, get one sweep per
    iteration (block coordinate descent on the joint objective; host only). Stops at ``residual <= tol``, at a
    stationary objective (lowered by less than `stall_tol`, relative, twice in a row), at the best held-out
    error of `holdout` (``patience`` iterations without improvement), or when ``||UV^T||_F`` exceeds `bound`
    and grows for three iterations (the state before is returned). Returns a dict: ``U, V, offsets,
    converged, n_iter, history, stop, holdout_error``.
    """
    xp = steps.xp if steps is not None else None
    offsets = offsets.copy() if offsets is not None else None
    target = offsets.targets(obs) if offsets is not None else obs
    obs_for = obs_for or (lambda h: target)
    m, n = obs.shape
    norm_vals = float(np.linalg.norm(obs.vals.astype(np.float64))) or 1.0
    history: dict[str, list] = {"residual": [], "time": [], "inner_steps": []}
    if truth is not None:
        history["error"] = []
    if holdout is not None:
        history["holdout"] = []
    if lam > 0:
        U, V, s = balance(U, V, xp)
    start = time.perf_counter()

    def solve(design, seg, warm, axis, n_other, eps, seed):
        ridge = segment_ridges(seg, k, n_other, 0.0) if lam == 0 else np.full(seg.counts.shape[0], lam)
        if steps is not None:
            return batched_exact_solve(design, steps.segments(seg), steps.put(ridge), xp), 0.0
        return _half_step(design, seg, warm, solvers[axis], eps, maxiter[solvers[axis]], ridge, int(seed))

    def model_norm(U, V, s):
        if lam > 0:
            return float(np.linalg.norm(s))
        return float(np.linalg.norm(to_numpy(V).astype(np.float64)))  # U is orthonormal

    def snapshot(U, V):
        return U, V, (offsets.copy() if offsets is not None else None)

    converged, stop, it = False, "n_iter", 0
    objective, flat, growing = math.inf, 0, 0
    safe = snapshot(U, V)
    best = (math.inf, safe, 0)
    for it in range(1, n_iter + 1):
        eps = solver_tol(it - 1)
        # V half-step: one regression per column on the rows U[I_j]; U half-step: one per row on V[J_i]
        V_raw, steps_v = solve(U, obs_for(2 * it - 1).by_col, V, "V", m, eps, seeds[2 * it - 2])
        if lam > 0:
            V = V_raw  # one rebalancing per iteration (after the U half-step) is enough
        else:
            V, R_v = _orthonormalize(V_raw, xp)
            U, V = _contiguous(U @ R_v.T), _contiguous(V)
        U_raw, steps_u = solve(V, obs_for(2 * it).by_row, U, "U", n, eps, seeds[2 * it - 1])
        if lam > 0:
            U, V, s = balance(U_raw, V, xp)
        else:
            U, R_u = _orthonormalize(U_raw, xp)
            U, V, s = _contiguous(U), _contiguous(V @ R_u.T), None  # U V^T == U_raw V_old^T: the model
        if steps is not None:
            residual = steps.residual(U, V, target, norm_vals)
        else:
            model = _sampled_product(U, V, obs.rows, obs.cols).astype(np.float64)
            if offsets is not None:
                offsets.fit(obs, model)
                target = offsets.targets(obs)
                model = model + offsets.at(obs.rows, obs.cols)
            residual = float(np.linalg.norm(model - obs.vals) / norm_vals)
        history["residual"].append(residual)
        history["time"].append(time.perf_counter() - start)
        history["inner_steps"].append((steps_v, steps_u))
        if truth is not None:
            history["error"].append(completion_error(to_numpy(U), times_pow2(to_numpy(V), -scale_exp), truth))
        if not math.isfinite(residual):
            stop = "nonfinite"
            U, V, offsets = safe
            break
        if residual <= tol:
            converged, stop = True, "tol"
            break
        if bound is not None and model_norm(U, V, s) > bound:
            growing += 1
            if growing >= 3:
                stop = "diverged"
                U, V, offsets = safe
                break
        else:
            growing, safe = 0, snapshot(U, V)
        if holdout is not None:
            err = holdout.rmse(U, V, offsets)
            history["holdout"].append(err)
            if err < best[0] * (1 - 1e-4):
                best = (err, snapshot(U, V), it)
            elif it - best[2] >= patience:
                stop = "holdout"
                U, V, offsets = best[1]
                break
        value = (residual * norm_vals) ** 2 + (2 * lam * float(np.sum(s)) if lam > 0 else 0.0)
        if offsets is not None:
            value += offsets.penalty()
        flat = flat + 1 if value > objective * (1 - stall_tol) else 0
        objective = value
        if flat >= 2:
            converged, stop = True, "stationary"
            break
    if holdout is not None and stop != "holdout" and best[2] and best[0] <= holdout.rmse(U, V, offsets):
        U, V, offsets = best[1]
    return {"U": U, "V": V, "offsets": offsets, "converged": converged, "n_iter": it, "history": history,
            "stop": stop, "holdout_error": best[0] if holdout is not None else None, "best_iter": best[2]}
