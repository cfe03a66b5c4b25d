"""Matrix completion by alternating minimization, with exact, sketched and warm-started iterative half-steps."""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import scipy.sparse as sp

from .._backend import (
    ConvergenceWarning,
    SolverResult,
    array_namespace,
    as_rng,
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
    check_rank,
    check_real,
    check_shape_agrees,
    check_tolerance,
    is_sparse,
    refuse_random_state,
)
from ..svd._common import ldexp_safe, pow2_exponent, times_pow2
from ._batched import batched_exact_solve, device_segments, sampled_residual
from ._observations import Observations, Segments, _index_array, parse_observations

__all__ = ["SOLVERS", "altmin_complete", "completion_error", "half_step", "halfstep_costs", "sampled_product",
           "segment_ridges"]

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
    exact half-step beats 8 CG steps at k = 32 and loses to them by about 4x at k = 128). Returns a dict
    ``{solver: model seconds-equivalent flops}``. ``solver="auto"`` picks the cheapest.

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
    V : (n, k) array
    truth : tuple
        ``(L, R)`` with ``M = L @ R.T``, or ``(U*, s*, Vt*)`` with ``M = U* @ diag(s*) @ Vt*``.

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
    norm_m = float(np.linalg.norm(np.linalg.qr(L, mode="r") @ np.linalg.qr(R, mode="r").T))  # 2^(el+er) ||M||
    # U V^T carries the factor 2^(eu+ev) and L R^T 2^(el+er): bring both to the smaller one, `common`
    common = min(eu + ev, el + er)
    U, L = np.ldexp(U, common - (eu + ev)), np.ldexp(L, common - (el + er))
    # U V^T - L R^T = [U, L] [V, -R]^T = Q1 (R1 R2^T) Q2^T: accurate to rounding, unlike the Gram expansion
    R1 = np.linalg.qr(np.hstack([U, L]), mode="r")
    R2 = np.linalg.qr(np.hstack([V, -R]), mode="r")
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
    V : (n, k) array
    rows, cols : (n_obs,) int arrays
        The coordinates, ``0 <= rows < m`` and ``0 <= cols < n``.

    Returns
    -------
    (n_obs,) NumPy array
        In the dtype of `U` (accumulated in float64).

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


def _observed_residual(U, V, obs: Observations, norm_vals: float) -> float:
    model = _sampled_product(U, V, obs.rows, obs.cols)
    return float(np.linalg.norm(model.astype(np.float64) - obs.vals) / norm_vals)


def _orthonormalize(X, xp=None):
    Q, R = qr_econ(X, xp)
    return Q, R


def _contiguous(X):
    return np.ascontiguousarray(X) if isinstance(X, np.ndarray) else X


def _input_namespace(vals):
    """The namespace the caller's observations live in: NumPy, or the array-API namespace of `vals`."""
    if hasattr(vals, "__array_namespace__") and not isinstance(vals, np.ndarray):
        return array_namespace(vals), device_of(vals)
    return None, None


class _DeviceSteps:
    """The half-steps on a non-NumPy namespace: batched exact solves over padded buckets (see ``_batched``)."""

    def __init__(self, obs: Observations, k, xp, device):
        self.xp, self.device, self.k = xp, device, k
        self._segs = {}
        self._entries = {}

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


@refuse_random_state
def altmin_complete(rows, cols=None, vals=None, shape=None, rank=None, *, solver="auto", n_iter=50, tol=1e-9,
                    solver_tol=1e-10, solver_maxiter=None, reg=0.0, init="svd", clip=False, mu=None,
                    sample_split=False, truth=None, rng=None):
    r"""Complete a low-rank matrix from some of its entries by alternating minimization (AltMin).

    Finds ``U`` (m, k) and ``V`` (n, k) minimizing ``sum_{(i,j) in Omega} (U_i . V_j - M_ij)^2`` by alternating
    least-squares half-steps, each split into independent k-variable regressions (one per column for V, one per
    row for U), solved exactly, by sketch-and-precondition, or by a few warm-started CG steps.

    Parameters
    ----------
    rows, cols : (n_obs,) int arrays
        Row and column indices of the observed entries, ``0 <= rows < m``, ``0 <= cols < n``. Alternatively
        pass a scipy.sparse matrix as `rows` (each stored entry, explicit zeros included, is an observation)
        and the rank as the second argument: ``altmin_complete(X, k)``.
    vals : (n_obs,) array
        Observed values, finite. float32 stays float32 (the small solves accumulate in float64); integers
        promote to float64. Duplicate coordinates with equal values are merged. When `vals` is a CuPy (or any
        other array-API) array, the iterations run in its namespace and on its device, with batched exact
        half-steps (``solver`` "exact" or "auto"; see Notes) and ``U``, ``V`` returned there; the index
        structures and the initial SVD are built on the host once.
    shape : (int, int)
        ``(m, n)``.
    rank : int
        Target rank ``k``, ``1 <= k <= min(m, n)``.
    solver : {"auto", "exact", "sketch", "cg"}
        How the regressions of a half-step are solved:

        * ``"exact"``: normal equations, gathered and solved per row in parallel (Numba + LAPACK),
          ``O(N_j k^2 + k^3)`` for ``N_j`` observations;
        * ``"sketch"``: Gu et al.'s robust step: per row, a sparse sign sketch of ``4k`` rows, a QR of the
          sketch, then preconditioned CGLS from the sketch-and-solve point until the preconditioned normal
          residual is below ``solver_tol ||b_j||``; rows with ``N_j <= 4k`` are solved exactly;
        * ``"cg"``: conjugate gradients on the normal equations, warm-started from the previous iterate
          (rotated into the new basis), stopped at ``solver_tol`` or after `solver_maxiter` steps of
          ``O(N_j k)`` (8 by default): the cheap inexact update where ``N_j`` is a small multiple of ``k``;
        * ``"auto"``: per half-step direction, the cheapest by the cost model of :func:`halfstep_costs`.
    n_iter : int
        Maximum number of AltMin iterations (one V and one U half-step each), ``>= 1``.
    tol : float
        Stop when the relative residual on the observed entries ``||P_Omega(U V^T - M)|| / ||P_Omega(M)||``
        is at most `tol`.
    solver_tol : float or callable
        Accuracy of the inner solves (relative, see `solver`). A callable ``solver_tol(t)`` gives the
        tolerance of iteration ``t`` (e.g. ``lambda t: max(1e-12, 1e-2 * 0.3**t)``: tightening it
        geometrically keeps the convergence of exact AltMin at a lower cost).
    solver_maxiter : int, optional
        Cap on the inner steps per row: 8 for ``"cg"``, 100 for ``"sketch"``.
    reg : float
        Ridge ``reg ||x||^2`` added to every regression (the designs have orthonormal columns, so `reg` is
        relative to ``N_j / n``). With ``reg=0``, rows and columns with fewer than ``k`` observations get the
        ridge ``1e-3 k / n_other`` so that their regressions stay well posed; a row or column with no
        observation then gets a zero factor row (its entries are completed as 0) and a ``UserWarning``.
    init : {"svd", "random"}
        ``"svd"``: top-k singular vectors of the rescaled observations ``P_Omega(M) / p`` by this library's
        randomized SVD (sparse, ``O(|Omega| k)`` per pass); ``"random"``: a Haar-random ``U``.
    clip : bool
        JNS13 clipping of the initial ``U``: zero the entries larger than ``2 mu sqrt(k / m)``, then
        re-orthonormalize. Off by default (it hurts with non-uniform sampling).
    mu : float, optional
        Incoherence used by `clip`; by default estimated as ``sqrt(m / k)`` times the median row norm of
        the initial ``U``.
    sample_split : bool
        Use a fresh part of ``Omega`` for the initialisation and for each half-step (``2 n_iter + 1``
        disjoint random parts), as the theory assumes. Wastes samples in practice.
    truth : tuple, optional
        For testing: ``(L, R)`` with ``M = L @ R.T`` (or ``(U, s, Vt)``); the full relative error is then
        recorded in ``history["error"]``, in factored form.
    rng : None, int or numpy.random.Generator
        Randomness of the initialisation, of the sketches and of the splitting.

    Returns
    -------
    SolverResult
        ``U`` (m, k) with orthonormal columns and ``V`` (n, k) carrying the scale, so that ``U @ V.T`` is the
        completed matrix (never formed here); ``converged``; ``n_iter``; ``history`` with per-iteration lists
        ``residual`` (relative, on the observed entries), ``time`` (seconds since the start), ``inner_steps``
        (mean inner steps per row, V then U half-step) and, with `truth`, ``error``; ``solver`` (the solver of
        the V and of the U half-steps).

    Raises
    ------
    ValueError
        Indices out of range, duplicates with different values, NaN or Inf values, no observation, a rank out
        of ``1 <= rank <= min(m, n)``, or another argument out of range.
    TypeError
        Non-integer indices, complex values, or an argument of the wrong type.

    Warns
    -----
    ConvergenceWarning
        If the residual did not reach `tol` within `n_iter` iterations.
    UserWarning
        If a row or a column has no observation.

    Notes
    -----
    Each iteration does ``V <- argmin ||P_Omega(U V^T - M)||``, ``V = Q_V R_V`` (QR), then the same for ``U``.
    The designs stay orthonormal, which is what the incoherence analysis tracks, and the warm start of the
    next half-step is the previous solution rotated into the new basis (``U R_V^T`` after the V step), so the
    model ``U V^T`` is carried exactly through the QRs. The returned ``V`` is that carried solution.

    Off NumPy (CuPy), a half-step is a few batched operations instead of a loop over rows: the rows are grouped
    into buckets of similar observation counts (powers of two), each padded to its largest count, and a
    bucket's normal equations are formed by one gather and one batched GEMM and solved by one batched solve
    (padding at most doubles the gathered ``|Omega| k`` entries).

    Cost per half-step: exact ``O(|Omega| k^2 + n k^3)``; sketched ``O(|Omega| k log(1/eps) + n k^3)``
    (Gu et al.'s ``O~(|Omega| k)``, which pays only where ``N_j >> k``); CG ``O(|Omega| k I)`` with ``I``
    steps. Memory ``O(|Omega| + (m + n) k)``: the observations are indexed by row and by column (CSR and CSC).

    References
    ----------
    .. [1] Y. Gu, Z. Song, J. Yin, L. Zhang, "Low Rank Matrix Completion via Robust Alternating Minimization in
           Nearly Linear Time", ICLR 2024, arXiv:2302.11068.
    .. [2] P. Jain, P. Netrapalli, S. Sanghavi, "Low-rank matrix completion using alternating minimization",
           STOC 2013, arXiv:1212.0467.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.completion import altmin_complete
    >>> from lowrank_la.datasets import incoherent_low_rank
    >>> M, Ut, st, Vt = incoherent_low_rank(120, 100, 3, rng=0, return_factors=True)
    >>> rows, cols = np.nonzero(np.random.default_rng(1).random(M.shape) < 0.3)
    >>> res = altmin_complete(rows, cols, M[rows, cols], M.shape, 3, solver="exact", rng=0)
    >>> bool(res.converged), bool(np.linalg.norm(res.U @ res.V.T - M) < 1e-8 * np.linalg.norm(M))
    (True, True)
    """
    if is_sparse(rows):
        if rank is None:
            rank = cols
        elif cols is not None:
            raise TypeError("with a sparse matrix of observations, pass the rank as the second argument only")
        cols = vals = shape = None
    elif cols is None or vals is None:
        raise TypeError("altmin_complete needs (rows, cols, vals, shape, rank) or (sparse_matrix, rank)")
    if rank is None:
        raise TypeError("rank must be given")
    xp, device = _input_namespace(vals)
    on_device = xp is not None and not is_numpy_namespace(xp)
    if on_device:
        rows, cols, vals = (to_numpy(x) for x in (rows, cols, vals))
    obs = parse_observations(rows, cols, vals, shape)
    # run on 2^e M with max |2^e M_ij| in [0.5, 1): no square or residual norm under- or overflows
    scale_exp = pow2_exponent(float(np.max(np.abs(obs.vals))))
    obs = obs.scaled(scale_exp)
    m, n = obs.shape
    k = check_rank(rank, (m, n), "rank")
    check_option(solver, "solver", ("auto", "exact") if on_device else SOLVERS)
    n_iter = check_int(n_iter, "n_iter", low=1)
    tol = check_real(tol, "tol", low=0)
    if not callable(solver_tol):
        fixed_tol = check_tolerance(solver_tol, "solver_tol", high=1)
        solver_tol = lambda t: fixed_tol  # noqa: E731
    if solver_maxiter is not None:
        solver_maxiter = check_int(solver_maxiter, "solver_maxiter", low=1)
    reg = check_real(reg, "reg", low=0)
    check_option(init, "init", ("svd", "random"))
    check_option(bool(clip), "clip", (True, False))
    if mu is not None:
        mu = check_real(mu, "mu", low=1)
    gen = as_rng(rng)
    dtype = obs.vals.dtype

    empty_rows = int(np.sum(obs.by_row.counts == 0))
    empty_cols = int(np.sum(obs.by_col.counts == 0))
    if empty_rows or empty_cols:
        warnings.warn(f"{empty_rows} row(s) and {empty_cols} column(s) have no observation: their factor rows "
                      "are set to zero, so those entries are completed as 0", UserWarning, stacklevel=2)

    # the parts of Omega each step uses
    if sample_split:
        labels = gen.integers(0, 2 * n_iter + 1, size=obs.nnz)
        part = {h: obs.subset(labels == h) for h in range(2 * n_iter + 1)}
    else:
        part = None

    def obs_for(h):
        return obs if part is None else part[h]

    # initialisation
    start = time.perf_counter()
    init_obs = obs_for(0)
    if init == "svd":
        from ..svd import rsvd

        p_hat = init_obs.nnz / (m * n)
        Y = sp.csr_array((init_obs.vals / dtype.type(p_hat), (init_obs.rows, init_obs.cols)), shape=(m, n))
        U, s, Vh = rsvd(Y, k, rng=gen)
        U = np.asarray(U, dtype=dtype)
        V_warm = np.ascontiguousarray((Vh.T * s).astype(dtype))
    else:
        U, _ = _orthonormalize(gen.standard_normal((m, k)).astype(dtype))
        V_warm = np.zeros((n, k), dtype=dtype)
    if clip:
        norms = np.linalg.norm(U, axis=1)
        mu_used = mu if mu is not None else math.sqrt(m / k) * float(np.median(norms))
        U_old = U
        U, _ = _orthonormalize(np.where(np.abs(U) > 2 * mu_used * math.sqrt(k / m), 0, U).astype(dtype))
        V_warm = np.ascontiguousarray(V_warm @ (U_old.T @ U))
    U = np.ascontiguousarray(U)
    steps = _DeviceSteps(obs, k, xp, device) if on_device else None
    if on_device:
        U, V_warm = steps.put(U), steps.put(V_warm)

    # solvers and ridges per direction
    chosen = {}
    for axis, seg in (("V", obs.by_col), ("U", obs.by_row)):
        if on_device:
            chosen[axis] = "exact"
        elif solver == "auto":
            costs = halfstep_costs(seg.counts, k, solver_tol(0), solver_maxiter or CG_MAXITER)
            chosen[axis] = min(costs, key=costs.get)
        else:
            chosen[axis] = solver
    maxiter = {name: solver_maxiter or {"cg": CG_MAXITER, "sketch": SKETCH_MAXITER}.get(name, 0)
               for name in chosen.values()}
    seeds = gen.integers(0, 2**63 - 1, size=2 * n_iter, dtype=np.int64)

    norm_vals = float(np.linalg.norm(obs.vals.astype(np.float64)))
    if norm_vals == 0.0:
        norm_vals = 1.0
    history = {"residual": [], "time": [], "inner_steps": []}
    if truth is not None:
        history["error"] = []
    def half_step(design, seg, warm, axis, n_other, eps, seed):
        """Every regression of one half-step: batched on a device namespace, by the chosen solver on NumPy."""
        ridge = segment_ridges(seg, k, n_other, reg)
        if on_device:
            return batched_exact_solve(design, steps.segments(seg), steps.put(ridge), xp), 0.0
        return _half_step(design, seg, warm, chosen[axis], eps, maxiter[chosen[axis]], ridge, int(seed))

    converged = False
    it = 0
    for it in range(1, n_iter + 1):
        eps = solver_tol(it - 1)
        # V half-step: one regression per column on the rows U[I_j]
        V_raw, steps_v = half_step(U, obs_for(2 * it - 1).by_col, V_warm, "V", m, eps, seeds[2 * it - 2])
        V, R_v = _orthonormalize(V_raw, xp)
        U_warm = _contiguous(U @ R_v.T)
        V = _contiguous(V)
        # U half-step: one regression per row on the rows V[J_i]
        U_raw, steps_u = half_step(V, obs_for(2 * it).by_row, U_warm, "U", n, eps, seeds[2 * it - 1])
        U, R_u = _orthonormalize(U_raw, xp)
        U = _contiguous(U)
        V_warm = _contiguous(V @ R_u.T)  # U @ V_warm.T == U_raw @ V.T: the model after this iteration
        if on_device:
            residual = steps.residual(U, V_warm, obs, norm_vals)
        else:
            residual = _observed_residual(U, V_warm, obs, norm_vals)
        history["residual"].append(residual)
        history["time"].append(time.perf_counter() - start)
        history["inner_steps"].append((steps_v, steps_u))
        if truth is not None:
            history["error"].append(completion_error(to_numpy(U), times_pow2(to_numpy(V_warm), -scale_exp), truth))
        if not math.isfinite(residual):
            break
        if residual <= tol:
            converged = True
            break
    if not converged:
        warnings.warn(f"altmin_complete did not reach tol={tol:g} in {it} iteration(s): the relative residual on "
                      f"the observed entries is {history['residual'][-1]:.3g}", ConvergenceWarning, stacklevel=2)
    return SolverResult(U=U, V=times_pow2(V_warm, -scale_exp), converged=converged, n_iter=it, history=history,
                        solver=(chosen["V"], chosen["U"]))
