"""altmin_complete: the public entry point. Reads the data, chooses the model from held-out entries, fits it."""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.sparse as sp

from .._backend import ConvergenceWarning, as_rng, blas_beside_kernels, qr_econ, to_numpy
from .._validate import check_int, check_option, check_rank, check_real, check_tolerance, refuse_random_state
from ..svd._common import pow2_exponent, times_pow2
from ._altmin import (
    CG_MAXITER,
    SKETCH_MAXITER,
    SOLVERS,
    STALL,
    Holdout,
    _DeviceSteps,
    _orthonormalize,
    als_fit,
    halfstep_costs,
    svd_form,
)
from ._input import read_data
from ._observations import Observations
from ._offsets import Offsets
from ._result import CompletionResult
from ._softimpute import softimpute_fit

__all__ = ["altmin_complete"]

METHODS = ("auto", "altmin", "softimpute")
#: The path of `reg` values tried when ``reg="auto"`` (fractions of the top singular value of the observations).
REG_PATH = tuple(float(r) for r in np.geomspace(0.5, 1e-3, 13)) + (0.0,)
HOLDOUT = 0.1  # fraction of the observed entries held out when anything is chosen from the data
PATH_ITER = 20  # iterations per point of the selection path (early stopping on the held-out entries ends most)
SOFT_TOL = 1e-3  # soft-impute's relative model change that ends a path point (the final fit uses `tol`, at most it)


def _default_max_rank(obs: Observations) -> int:
    """The largest rank tried by ``rank="auto"``: the rank whose ``k (m + n)`` unknowns the data determine."""
    m, n = obs.shape
    return int(max(1, min(m, n, 100, obs.nnz // (m + n))))


def _svd_init(obs: Observations, k, gen, *, rescale=True):
    """Top-k SVD of the zero-filled observations (divided by the sampling rate with `rescale`), in their dtype."""
    from ..svd import rsvd

    m, n = obs.shape
    p_hat = obs.nnz / (m * n) if rescale else 1.0
    Y = sp.csr_array((obs.vals / obs.vals.dtype.type(p_hat), (obs.rows, obs.cols)), shape=(m, n))
    U, s, Vh = rsvd(Y, k, rng=gen)
    return np.asarray(U, dtype=obs.vals.dtype), np.asarray(s, dtype=np.float64), Vh.T.astype(obs.vals.dtype), p_hat


def _top_singular_value(obs: Observations, gen) -> float:
    """``sigma_1(P_Omega(M))``: the threshold above which soft-impute's (and AltMin's ridge) model is zero."""
    return float(_svd_init(obs, 1, gen, rescale=False)[1][0])


def _split(obs: Observations, fraction, gen):
    """Random training and held-out parts of the observations."""
    held = gen.random(obs.nnz) < fraction
    if held.all() or not held.any():
        held[:] = False
        held[gen.integers(obs.nnz)] = True
    return obs.subset(~held), obs.subset(held)


class _Fitter:
    """Shared settings of the AltMin and soft-impute fits of one call."""

    def __init__(self, solver, solver_tol, solver_maxiter, gen):
        self.solver, self.solver_tol, self.solver_maxiter = solver, solver_tol, solver_maxiter
        self.gen = gen

    def solvers(self, obs, k, on_device):
        chosen = {}
        for axis, seg in (("V", obs.by_col), ("U", obs.by_row)):
            if on_device:
                chosen[axis] = "exact"
            elif self.solver == "auto":
                costs = halfstep_costs(seg.counts, k, self.solver_tol(0), self.solver_maxiter or CG_MAXITER)
                chosen[axis] = min(costs, key=costs.get)
            else:
                chosen[axis] = self.solver
        maxiter = {name: self.solver_maxiter or {"cg": CG_MAXITER, "sketch": SKETCH_MAXITER}.get(name, 0)
                   for name in chosen.values()}
        return chosen, maxiter

    def altmin(self, obs, k, lam, U, V, *, n_iter, tol, offsets=None, holdout=None, bound=None, steps=None,
               obs_for=None, truth=None, scale_exp=0, stall_tol=STALL):
        solvers, maxiter = self.solvers(obs, k, steps is not None)
        seeds = self.gen.integers(0, 2**63 - 1, size=2 * n_iter, dtype=np.int64)
        fit = als_fit(obs, k, lam, U, V, solvers=solvers, maxiter=maxiter, solver_tol=self.solver_tol,
                      n_iter=n_iter, tol=tol, seeds=seeds, steps=steps, obs_for=obs_for, offsets=offsets,
                      holdout=holdout, bound=bound, truth=truth, scale_exp=scale_exp, stall_tol=stall_tol)
        fit["solver"] = (solvers["V"], solvers["U"])
        return fit


def _orthonormal_start(U, V):
    """``(Q, V R^T)`` with ``U = Q R``: the same model with an orthonormal left factor (AltMin's ``reg=0`` form)."""
    Q, R = _orthonormalize(U)
    return np.ascontiguousarray(Q), np.ascontiguousarray(V @ R.T)


def _truncate(U, V, rank):
    """The model ``U V^T`` cut to its top `rank` singular triplets, as ``(U s^1/2, V s^1/2)`` (balanced)."""
    Uo, s, Vs = svd_form(U, V)
    r = max(1, min(rank, s.shape[0]))
    root = np.sqrt(s[:r]).astype(U.dtype)
    scale = np.where(s[:r] > 0, 1.0 / np.where(s[:r] > 0, s[:r], 1.0), 0.0).astype(U.dtype)
    return np.ascontiguousarray(Uo[:, :r] * root), np.ascontiguousarray(Vs[:, :r] * scale * root)


def _effective_rank(s, rel=1e-6) -> int:
    return int(np.count_nonzero(s > rel * s[0])) if s.size and s[0] > 0 else 0


def _start_offsets(obs: Observations, on: bool):
    """The offsets fitted with no low-rank part (4 sweeps), or None without offsets."""
    if not on:
        return None
    offsets = Offsets(obs)
    offsets.fit(obs, sweeps=4)
    return offsets


class _Prepared:
    """One offsets option on the training part: its first offsets, the held-out entries, the SVD start."""

    def __init__(self, train, held, offsets_on, top, gen):
        self.on = offsets_on
        self.obs = train
        self.hold = Holdout(held.rows, held.cols, held.vals.astype(np.float64))
        offsets = _start_offsets(train, offsets_on)
        U0, s0, V0, p_hat = _svd_init(offsets.targets(train) if offsets is not None else train, top, gen)
        self.sigma1 = float(s0[0]) * p_hat
        root = np.sqrt(s0)
        self.start = tuple(np.ascontiguousarray(F * root.astype(F.dtype)) for F in (U0, V0)) + (offsets,)


def _record(log, method, prep, k, reg, fit, model, s):
    rank = _effective_rank(s) if (reg > 0 or method == "softimpute") else k
    log.append({"method": method, "rank": rank, "reg": reg, "offsets": prep.on,
                "holdout_error": fit["holdout_error"], "n_iter": fit["n_iter"], "model": model, "fit_rank": k,
                "early": fit["stop"] == "holdout", "best_iter": fit["best_iter"]})
    return log[-1]


def _altmin_path(prep, k, regs, start, fitter, log):
    """AltMin at rank `k` along `regs`, each point warm-started from the previous one; stops when two points in a
    row are worse than the best. Returns the points fitted (each a `log` entry)."""
    U, V = _truncate(start[0], start[1], k)
    offsets = start[2]
    best, worse, points = math.inf, 0, []
    for reg in regs:
        if reg == 0.0:
            U, V = _orthonormal_start(U, V)
        fit = fitter.altmin(prep.obs, k, reg * prep.sigma1, U, V, n_iter=PATH_ITER, tol=0.0, offsets=offsets,
                            holdout=prep.hold)
        U, V, offsets = fit["U"], fit["V"], fit["offsets"]
        points.append(_record(log, "altmin", prep, k, reg, fit, (U, V, offsets), svd_form(U, V)[1]))
        if fit["holdout_error"] < best:
            best, worse = fit["holdout_error"], 0
        else:
            worse += 1
            if worse >= 2:
                break
    return points


def _softimpute_path(prep, regs, start, cap, gen, log):
    """Soft-impute along `regs` from the model `start` (its first offsets and ``Z = 0`` when `start` is the
    prepared SVD start), each point warm-started."""
    dtype = prep.obs.vals.dtype
    m, n = prep.obs.shape
    offsets = start[2]
    if start is prep.start:
        U, s, V = np.zeros((m, 0), dtype), np.zeros(0), np.zeros((n, 0), dtype)
    else:
        U, s, V = _orthonormal_svd(start[0], start[1])
    best, worse = math.inf, 0
    for reg in regs:
        fit = softimpute_fit(prep.obs, reg * prep.sigma1, U, s, V, max_rank=cap, n_iter=PATH_ITER, tol=SOFT_TOL,
                             gen=gen, offsets=offsets, holdout=prep.hold)
        U, s, V, offsets = fit["U"], fit["s"], fit["V"], fit["offsets"]
        _record(log, "softimpute", prep, cap, reg, fit, (U * s.astype(dtype), V, offsets), s)
        if fit["holdout_error"] < best:
            best, worse = fit["holdout_error"], 0
        else:
            worse += 1
            if worse >= 2:
                break


def _orthonormal_svd(U, V):
    """``(U', s, V')`` with orthonormal ``U'``, ``V'`` and ``U' diag(s) V'^T = U V^T``, zero triplets dropped."""
    Uo, s, Vs = svd_form(U, V)
    r = _effective_rank(s, 0.0) if s.size else 0
    return (np.ascontiguousarray(Uo[:, :r]), s[:r],
            np.ascontiguousarray(Vs[:, :r] / s[:r].astype(Vs.dtype)))


def _keep_models(log, *keep):
    """Drop the models of the candidates other than `keep` (memory: O((m + n) k) per model kept)."""
    for c in log:
        if not any(c is k for k in keep):
            c["model"] = None


def _select(train, held, *, methods, rank, cap, reg, offsets, fitter, gen):
    """The candidates of the held-out selection (see altmin_complete's Notes); ``_chosen`` of them is returned."""
    log = []
    regs = REG_PATH if reg is None else (reg,)
    top = cap if rank is None else rank
    prep = _Prepared(train, held, offsets in ("auto", True), top, gen)
    if "altmin" not in methods:  # soft-impute alone: its whole path, from zero
        _softimpute_path(prep, regs, prep.start, top, gen, log)
        _keep_models(log, min(log, key=_error))
        return log
    if rank is None and reg is not None:  # a rank ladder at the given reg
        points = []
        for k in sorted({min(r, top) for r in (1, 2, 4, 8, 16, 32, 64, top)}):
            points += _altmin_path(prep, k, regs, prep.start, fitter, log)
            _keep_models(log, min(log, key=_error))
            if len(points) > 2 and points[-1]["holdout_error"] > min(_error(p) for p in points[:-1]):
                if points[-2]["holdout_error"] > min(_error(p) for p in points[:-2]):
                    break
    else:  # phase A: AltMin at the top rank along the path (without reg = 0 when the rank is free: it over-fits)
        points = _altmin_path(prep, top, tuple(r for r in regs if r > 0) or regs if rank is None else regs,
                              prep.start, fitter, log)
    best = min(points, key=_error)
    at = points.index(best)
    before = points[at - 1] if at > 0 and points[at - 1]["model"] is not None else best
    _keep_models(log, best, before)
    # phase B: lower ranks than the best point's effective rank (a rank constraint in place of shrinkage: a less
    # biased estimate), each along the path from the best reg down, warm-started from the best point's top
    # triplets; the ladder (ranks / 1.25) stops past a minimum over the ranks, or after two ranks in a row worse
    # than the rank before them
    if rank is None and reg is None:
        tail = tuple(r for r in regs if r <= best["reg"])
        worse, ladder, r = 0, [], min(best["rank"], top - 1)
        while r >= 1:
            ladder.append(r)
            r = min(r - 1, int(r / 1.25))
        previous, improved = math.inf, False
        for r in ladder:
            error = min(_error(c) for c in _altmin_path(prep, r, tail, best["model"], fitter, log))
            _keep_models(log, best, before, min(log, key=_error))
            worse = 0 if error < previous else worse + 1
            improved = improved or (worse == 0 and previous < math.inf)
            previous = error
            if worse >= 2 or (worse and improved):  # past a minimum over the ranks, or no gain at all
                break
    # the path ends at reg = 0 (exactly low-rank data): offsets would bias it, so plain AltMin at that rank too
    best_now = min(log, key=_error)
    if offsets == "auto" and best_now["reg"] == 0.0:
        plain = _Prepared(train, held, False, top, gen)
        _altmin_path(plain, best_now["fit_rank"], (0.0,), plain.start, fitter, log)
    # soft-impute around the best AltMin point, warm-started from the point before it
    if "softimpute" in methods:
        i = regs.index(best["reg"]) if best["reg"] in regs else 0
        _softimpute_path(prep, regs[max(i - 1, 0):i + 2], before["model"], top, gen, log)
    _keep_models(log, _chosen(log, held.nnz))
    return log


def _error(candidate):
    return candidate["holdout_error"]


def _chosen(log, n_held):
    """The candidate the selection returns: the least held-out error, except that a soft-impute point (a model at
    the rank cap, shrunk) is preferred to the best AltMin point only when it beats it by more than one standard
    error of a held-out root-mean-square error, about ``error / sqrt(2 n_held)`` (the one-standard-error rule:
    within the noise of the split, the model with fewer free parameters)."""
    best = min(log, key=_error)
    altmin = [c for c in log if c["method"] == "altmin"]
    if best["method"] == "softimpute" and altmin:
        rival = min(altmin, key=_error)
        if _error(rival) <= _error(best) * (1 + 1 / math.sqrt(2 * max(n_held, 1))):
            return rival
    return best


@refuse_random_state
@blas_beside_kernels()
def altmin_complete(X, cols=None, vals=None, shape=None, rank=None, *, mask=None, method="auto", reg="auto",
                    offsets="auto", max_rank=None, holdout=None, solver="auto", n_iter=50, tol=1e-9,
                    stall_tol=STALL, solver_tol=1e-10, solver_maxiter=None, init="svd", clip=False, mu=None,
                    sample_split=False, truth=None, rng=None):
    r"""Complete a matrix from some of its entries: a low-rank model, its rank and regularisation chosen from the data.

    Called with nothing but the data, ``altmin_complete(X)`` (``X`` with NaN for the missing entries) holds out
    a tenth of the observed entries, fits a warm-started path of models on the rest (AltMin at several ridges,
    and soft-impute at several thresholds), keeps the one with the smallest error on the held-out entries (see
    Notes for the tie rule), and refits it on all of them. With `rank` and `reg` given as numbers it is plain
    alternating minimization (AltMin), which recovers exactly low-rank, incoherent matrices to rounding.

    Parameters
    ----------
    X : (m, n) array_like, sparse matrix, or (n_obs,) int array
        The data, in any of these forms:

        * a dense matrix of any array-API namespace (NumPy, CuPy, array-api-strict), a list of lists, a
          ``numpy.matrix`` or a pandas DataFrame, with NaN for the missing entries (or with `mask`);
        * a scipy.sparse matrix whose stored entries (explicit zeros included) are the observations;
        * the row indices ``rows`` of coordinate observations ``(rows, cols, vals, shape)``,
          ``0 <= rows < m``.

        With a matrix (dense or sparse), the second positional argument is the rank: ``altmin_complete(X, 5)``.
    cols : (n_obs,) int array, optional
        Column indices of coordinate observations, ``0 <= cols < n``.
    vals : (n_obs,) array, optional
        Observed values of coordinate observations: finite (NaN is refused here: coordinates list only what
        was observed). Duplicate coordinates with equal values are merged. When `vals` (or a dense `X`) is a
        CuPy (or any other array-API) array, the final fit runs in its namespace and on its device, with
        batched exact half-steps; the selection path runs on the host.
    shape : (int, int), optional
        ``(m, n)`` of coordinate observations.
    rank : int, "auto" or None
        The rank ``k`` of the low-rank part, ``1 <= k <= min(m, n)``. None or "auto" (default): chosen on the
        held-out entries, up to `max_rank`.
    mask : (m, n) bool array, optional
        With a dense `X`: True for the observed entries (the others are ignored, whatever they hold).
    method : {"auto", "altmin", "softimpute"}
        ``"altmin"``: alternating minimization of the observed squared error plus the ridge
        ``lam (||A||_F^2 + ||B||_F^2) / 2`` on balanced factors ``A B^T`` of rank `rank` (for ``reg > 0``,
        the rank-constrained version of soft-impute's problem). ``"softimpute"``: Mazumder, Hastie and
        Tibshirani's soft-impute, ``min ||P_Omega(Z - M)||_F^2 / 2 + lam ||Z||_*``: each step soft-thresholds
        the singular values of the "sparse plus low rank" filled matrix, computed by :func:`lowrank_la.rsvd`
        on a LinearOperator (never densified); the rank follows from ``lam`` (at most `rank` or `max_rank`).
        ``"auto"``: the method with the smaller held-out error (AltMin when `rank` and `reg` are both given).
    reg : float or "auto"
        The regularisation as a fraction of ``sigma_1``, the largest singular value of the zero-filled
        observations (after the offsets): ``lam = reg * sigma_1`` is subtracted from every singular value
        (soft-impute) or is the factors' ridge (AltMin). ``reg >= 1`` leaves nothing but the offsets (at once
        for soft-impute, at the optimum for AltMin); ``reg = 0`` is no regularisation (the setting for exactly
        low-rank data); real, noisy data typically want ``1e-3`` to ``0.2``. "auto" (default): chosen from
        ``REG_PATH`` (0.5 down to 1e-3 geometrically, then 0), warm-started from the largest, by the held-out
        error.
    offsets : {"auto", True, False}
        Model ``mean + row_offsets[i] + col_offsets[j] + (U V^T)[i, j]`` (True) or ``(U V^T)[i, j]`` (False).
        ``mean`` is the mean of the observations; the offsets are damped (a row with ``N_i`` observations gets
        ``sum(residuals) / (N_i + 5)``) and fitted together with the low-rank part (one sweep per iteration).
        "auto": True when anything is chosen from the data, except that a path ending at ``reg = 0`` (exactly
        low-rank data) is also fitted without them and the better one kept; False when `rank` and `reg` are
        both given.
    max_rank : int, optional
        The largest rank tried by ``rank="auto"`` (and soft-impute's cap): default
        ``min(m, n, 100, |Omega| / (m + n))``.
    holdout : float, optional
        Fraction of the observed entries held out, ``0 < holdout <= 0.5``. Default 0.1 when anything is
        chosen from the data. With `rank` and `reg` both given, a `holdout` fits on the other entries and
        stops at the smallest held-out error (early stopping; a ``ConvergenceWarning`` when that error rose
        for 3 iterations); the held-out entries are then not refitted.
    solver : {"auto", "exact", "sketch", "cg"}
        How the regressions of an AltMin half-step are solved:

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
        Maximum number of iterations of the final fit (AltMin: one V and one U half-step each), ``>= 1``.
    tol : float
        Stop when the relative residual on the observed entries ``||P_Omega(Z - M)|| / ||P_Omega(M)||`` is at
        most `tol` (AltMin; exact low-rank data stop there), or when one step changes the model by at most
        `tol` (relative, Frobenius; soft-impute).
    stall_tol : float
        Stop when two iterations in a row lower the objective (squared error plus penalties) by less than
        `stall_tol` of itself, ``0 <= stall_tol < 1``: the fit is stationary, and noisy data stop there, at
        their noise level, with ``converged=True``. 0 switches this test off.
    solver_tol : float or callable
        Accuracy of the inner solves (relative, see `solver`). A callable ``solver_tol(t)`` gives the
        tolerance of iteration ``t`` (e.g. ``lambda t: max(1e-12, 1e-2 * 0.3**t)``: tightening it
        geometrically keeps the convergence of exact AltMin at a lower cost).
    solver_maxiter : int, optional
        Cap on the inner steps per row: 8 for ``"cg"``, 100 for ``"sketch"``.
    init : {"svd", "random"}
        Start of a fit with given `rank` and `reg`: ``"svd"``, the top-k singular vectors of the rescaled
        observations ``P_Omega(M) / p`` by this library's randomized SVD (sparse, ``O(|Omega| k)`` per pass);
        ``"random"``, a Haar-random ``U``. The selection path always starts from the SVD.
    clip : bool
        JNS13 clipping of the initial ``U``: zero the entries larger than ``2 mu sqrt(k / m)``, then
        re-orthonormalize. Off by default (it hurts with non-uniform sampling).
    mu : float, optional
        Incoherence used by `clip`; by default estimated as ``sqrt(m / k)`` times the median row norm of
        the initial ``U``.
    sample_split : bool
        Use a fresh part of ``Omega`` for the initialisation and for each half-step (``2 n_iter + 1``
        disjoint random parts), as the theory assumes. Wastes samples in practice. AltMin with given `rank`
        and `reg` only.
    truth : tuple, optional
        For testing: ``(L, R)`` with ``M = L @ R.T`` (or ``(U, s, Vt)``); the full relative error of the final
        AltMin fit is then recorded in ``history["error"]``, in factored form.
    rng : None, int or numpy.random.Generator
        Randomness of the held-out split, of the initialisation, of the sketches and of the splitting.

    Returns
    -------
    CompletionResult
        The model ``mean + row_offsets[i] + col_offsets[j] + (U @ V.T)[i, j]``: ``U`` (m, r) with orthonormal
        columns and ``V`` (n, r) carrying the scale (columns of norms ``s``, descending), in the namespace and
        dtype of the data; ``result.fill(X)`` completes a dense ``X``, ``result.predict(rows, cols)`` gives
        any entries. Also ``converged``, ``n_iter``, ``history`` (per iteration: ``residual``, relative on the
        observed entries; AltMin: ``time``, ``inner_steps`` and, with `truth`, ``error``; soft-impute:
        ``change``), ``stop`` (``"tol"``, ``"stationary"``, ``"early"``, ``"n_iter"``, ``"holdout"``, ``"diverged"``),
        what was used: ``method``, ``rank``, ``reg``, ``offsets``, ``solver`` (AltMin's V and U half-step
        solvers), and, when anything was chosen from the data, ``holdout_error`` (root mean square, on the
        held-out entries, of the chosen model fitted on the others) and ``selection`` (every candidate of the
        path: method, rank, reg, offsets, held-out error, iterations).

    Raises
    ------
    ValueError
        Indices out of range, duplicates with different values, NaN inside `vals`, infinite values, no
        observed entry, a `mask` of another shape, a rank out of ``1 <= rank <= min(m, n)``, or another
        argument out of range.
    TypeError
        Non-integer indices, complex values, a non-boolean `mask`, or an argument of the wrong type.

    Warns
    -----
    ConvergenceWarning
        If the final fit did not converge within `n_iter` iterations, if its model grew without bound (more
        than 10 times the scale of the data for 3 iterations: under-determined, typically ``reg=0`` with a
        rank the data cannot support; the state before is returned), or if, with given `rank`, `reg` and a
        `holdout`, the held-out error rose for 3 iterations. The message says what to change.
    UserWarning
        If a row or a column has no observation: its factor row is zero, so its entries are completed by the
        offsets alone (0 without offsets), never NaN.

    See Also
    --------
    CompletionResult : The returned model: ``fill``, ``predict`` and ``to_dense``.
    altmin_distributed : The same alternating minimization on a Dask cluster, for observations too many for one
        machine.
    halfstep_costs : The cost model that picks the half-step solver for ``solver="auto"``.
    lowrank_la.sklearn.LowRankImputer : The scikit-learn transformer over this function.
    lowrank_la.datasets.ratings_matrix : A synthetic ratings matrix to complete.

    Notes
    -----
    **Model and regularisation.** With balanced factors ``A B^T``, the ridge ``lam (||A||^2 + ||B||^2) / 2`` equals
    ``lam ||A B^T||_*`` at its minimum over the factorisations, so AltMin with ``reg > 0`` solves soft-impute's
    problem restricted to rank `k`; a rank above the solution's gives soft-impute's solution, a lower one a
    less shrunk (less biased) low-rank estimate. ``reg`` scales with the data: multiplying ``M`` by ``c``
    leaves the fitted ``reg`` unchanged and multiplies the model by ``c``.

    **Choosing from the data** (`reg` "auto", or `rank` "auto" with AltMin). A random `holdout` fraction of
    the observed entries is set aside; every fit below runs on the others, is scored by its root mean square
    error on them, and stops early when that error has not improved for 3 iterations. (A) AltMin at rank
    `max_rank` (or the given rank) along ``REG_PATH``, each point warm-started from the previous one; a path
    stops when two points in a row are worse than its best. (B) With the rank free: lower ranks than the
    best point's effective rank (a rank constraint instead of shrinkage: less bias), ``r, r / 1.25, ...``, each
    along the path from the best `reg` down, until a rank does worse after a better one, or two ranks in a row
    do worse than the rank before them. A
    path that ends best at ``reg = 0`` is also fitted without offsets. (C) Soft-impute at the three path
    points around the best AltMin one, warm-started from its neighbour. The candidate with the smallest
    held-out error (a soft-impute one only if it beats the best AltMin one by more than the standard error
    ``error / sqrt(2 n_held)`` of the score: the one-standard-error rule, preferring the model with fewer free
    parameters within the noise of the split) is refitted on all the observations from its model and offsets
    (``lam`` recomputed from all of them), at its effective rank (singular values above ``1e-6 s_1``), until
    converged; when the held-out error stopped it early, for the iterations the held-out error chose (at least 2;
    ``stop="early"``, converged by that criterion).

    **AltMin iteration** (``reg = 0``: Gu et al.'s robust AltMin). Each iteration does
    ``V <- argmin ||P_Omega(U V^T - M)||`` then the same for ``U``. With ``reg = 0`` the designs stay orthonormal
    (a QR after each half-step, its triangle carried into the other factor), which is what the incoherence
    analysis tracks, and the rows with fewer than ``k`` observations get a tiny ridge (``1e-3 k / n``); with
    ``reg > 0`` the factors are rebalanced after each half-step (an SVD of a k x k core), which never raises
    the objective. The warm start of CG is the previous iterate carried through these rotations.

    Off NumPy (CuPy), a half-step is a few batched operations instead of a loop over rows: the rows are grouped
    into buckets of similar observation counts (powers of two), each padded to its largest count, and a
    bucket's normal equations are formed by one gather and one batched GEMM and solved by one batched solve
    (padding at most doubles the gathered ``|Omega| k`` entries).

    Cost per half-step: exact ``O(|Omega| k^2 + n k^3)``; sketched ``O(|Omega| k log(1/eps) + n k^3)``
    (Gu et al.'s ``O~(|Omega| k)``, which pays only where ``N_j >> k``); CG ``O(|Omega| k I)`` with ``I``
    steps. A soft-impute step costs one randomized SVD of rank ``r + 8`` of the sparse-plus-low-rank
    operator, ``O((|Omega| + (m + n) r) r)`` per pass. Memory ``O(|Omega| + (m + n) k)``: the observations are
    indexed by row and by column (CSR and CSC); nothing of size m x n is formed (a dense `X` is read once).

    References
    ----------
    .. [1] Y. Gu, Z. Song, J. Yin, L. Zhang, "Low Rank Matrix Completion via Robust Alternating Minimization in
           Nearly Linear Time", ICLR 2024, arXiv:2302.11068.
    .. [2] P. Jain, P. Netrapalli, S. Sanghavi, "Low-rank matrix completion using alternating minimization",
           STOC 2013, arXiv:1212.0467.
    .. [3] R. Mazumder, T. Hastie, R. Tibshirani, "Spectral Regularization Algorithms for Learning Large
           Incomplete Matrices", JMLR 11, 2010.
    .. [4] T. Hastie, R. Mazumder, J. Lee, R. Zadeh, "Matrix Completion and Low-Rank SVD via Fast Alternating
           Least Squares", JMLR 16, 2015.

    Examples
    --------
    Exactly low-rank data, rank and regularisation given: recovered to rounding.

    >>> import numpy as np
    >>> from lowrank_la.completion import altmin_complete
    >>> from lowrank_la.datasets import incoherent_low_rank
    >>> M = incoherent_low_rank(120, 100, 3, rng=0)
    >>> rows, cols = np.nonzero(np.random.default_rng(1).random(M.shape) < 0.3)
    >>> res = altmin_complete(rows, cols, M[rows, cols], M.shape, 3, reg=0.0, solver="exact", rng=0)
    >>> bool(res.converged), bool(np.linalg.norm(res.to_dense() - M) < 1e-8 * np.linalg.norm(M))
    (True, True)

    A noisy matrix with missing entries, everything chosen from the data:

    >>> X = M + 0.001 * np.random.default_rng(2).standard_normal(M.shape)   # entries of M: about 0.016
    >>> X[np.random.default_rng(3).random(M.shape) < 0.5] = np.nan
    >>> res = altmin_complete(X, rng=0)
    >>> filled = res.fill(X)                      # X with its NaN completed (X itself is unchanged)
    >>> bool(np.linalg.norm(filled - M) < 0.1 * np.linalg.norm(M)), res.method, res.rank
    (True, 'altmin', 3)
    """
    data = read_data(X, cols, vals, shape, mask)
    if data.kind != "coordinates" and cols is not None:
        if rank is not None:
            raise TypeError("with a matrix X, pass the rank as the second argument or as rank=, not both")
        rank = cols
    obs = data.obs
    xp, device = data.xp, data.device
    on_device = xp is not None
    # run on 2^e M with max |2^e M_ij| in [0.5, 1): no square or residual norm under- or overflows
    scale_exp = pow2_exponent(float(np.max(np.abs(obs.vals))))
    obs = obs.scaled(scale_exp)
    m, n = obs.shape
    rank_auto = rank is None or (isinstance(rank, str) and rank == "auto")
    k = None if rank_auto else check_rank(rank, (m, n), "rank")
    method = check_option(method, "method", METHODS)
    reg_auto = isinstance(reg, str) and check_option(reg, "reg", ("auto",)) == "auto"
    reg = None if reg_auto else check_real(reg, "reg", low=0)
    offsets = check_option(offsets, "offsets", ("auto", True, False))
    cap = _default_max_rank(obs) if max_rank is None else check_rank(max_rank, (m, n), "max_rank")
    if k is not None:
        cap = k
    choose = reg_auto or (rank_auto and method != "softimpute")  # soft-impute's rank follows from its reg
    if holdout is not None:
        holdout = check_real(holdout, "holdout", low=0, high=0.5, low_inclusive=False)
    check_option(solver, "solver", ("auto", "exact") if on_device else SOLVERS)
    n_iter = check_int(n_iter, "n_iter", low=1)
    tol = check_real(tol, "tol", low=0)
    if not callable(solver_tol):
        fixed_tol = check_tolerance(solver_tol, "solver_tol", high=1)
        solver_tol = lambda t: fixed_tol  # noqa: E731
    if solver_maxiter is not None:
        solver_maxiter = check_int(solver_maxiter, "solver_maxiter", low=1)
    check_option(init, "init", ("svd", "random"))
    check_option(bool(clip), "clip", (True, False))
    if mu is not None:
        mu = check_real(mu, "mu", low=1)
    gen = as_rng(rng)
    stall_tol = check_real(stall_tol, "stall_tol", low=0, high=1)
    fitter = _Fitter(solver, solver_tol, solver_maxiter, gen)

    empty_rows = int(np.sum(obs.by_row.counts == 0))
    empty_cols = int(np.sum(obs.by_col.counts == 0))
    if empty_rows or empty_cols:
        warnings.warn(f"{empty_rows} row(s) and {empty_cols} column(s) have no observation: their factor rows "
                      "are set to zero, so those entries are completed by the offsets alone (0 without offsets)",
                      UserWarning, stacklevel=2)

    selection, holdout_error, start, early_iter = None, None, None, None
    if choose:
        train, held = _split(obs, HOLDOUT if holdout is None else holdout, gen)
        methods = ("altmin", "softimpute") if method == "auto" else (method,)
        log = _select(train, held, methods=methods, rank=k, cap=cap, reg=reg, offsets=offsets, fitter=fitter,
                      gen=gen)
        best = _chosen(log, held.nnz)
        method, reg, offsets, holdout_error = best["method"], best["reg"], best["offsets"], best["holdout_error"]
        k = best["rank"] if best["method"] == "softimpute" or reg > 0 else best["fit_rank"]
        start = best["model"]
        if best["early"]:  # the held-out error chose the iteration count: refit that many, at least 2
            early_iter = min(n_iter, max(2, best["best_iter"]))
        selection = [{key: c[key] for key in ("method", "rank", "reg", "offsets", "holdout_error", "n_iter")}
                     for c in log]
        holdout_error = math.ldexp(holdout_error, -scale_exp)
        for c in selection:
            c["holdout_error"] = math.ldexp(c["holdout_error"], -scale_exp)
    else:
        method = "altmin" if method == "auto" else method
        offsets = offsets is True
        k = cap
    k = max(1, k)
    fit_obs, hold_t = obs, None
    if not choose and holdout is not None:
        fit_obs, held = _split(obs, holdout, gen)
        hold_t = Holdout(held.rows, held.cols, held.vals.astype(np.float64))
    offsets_fit = _start_offsets(fit_obs, offsets)
    targets = offsets_fit.targets(fit_obs) if offsets_fit is not None else fit_obs
    sigma1 = _top_singular_value(targets, gen) if (reg or 0) > 0 or method == "softimpute" else 0.0
    lam = reg * sigma1
    if start is not None and start[2] is not None:  # continue from the offsets of the selection's fit
        offsets_fit.row, offsets_fit.col = start[2].row.copy(), start[2].col.copy()
    p_hat = fit_obs.nnz / (m * n)
    bound = 10.0 * float(np.linalg.norm(targets.vals.astype(np.float64))) / math.sqrt(p_hat)

    if method == "softimpute":
        if start is None:
            U = np.zeros((m, 0), fit_obs.vals.dtype)
            s, V = np.zeros(0), np.zeros((n, 0), fit_obs.vals.dtype)
        else:
            U, s, V = _orthonormal_svd(start[0], start[1])
        fit = softimpute_fit(fit_obs, lam, U, s, V, max_rank=cap if rank_auto else k, n_iter=early_iter or n_iter,
                             tol=tol, gen=gen, offsets=offsets_fit, holdout=hold_t, stall_tol=stall_tol)
        _early_stop(fit, early_iter)
        U, s, V = fit["U"], fit["s"], fit["V"]
        V = np.ascontiguousarray(V * s.astype(V.dtype))
        fit["solver"] = None
        if fit["stop"] == "n_iter":
            warnings.warn(f"altmin_complete (soft-impute) did not converge in {fit['n_iter']} iteration(s): the "
                          f"model still changed by {fit['history']['change'][-1]:.3g} (relative) in the last one; "
                          "raise n_iter", ConvergenceWarning, stacklevel=2)
        elif fit["stop"] == "holdout":
            _warn_altmin(fit, tol, k, reg)
    else:
        steps = _DeviceSteps(fit_obs, k, xp, device) if on_device else None
        obs_for = None
        if start is not None:
            U, V = start[0], start[1]
            if U.shape[1] != k:
                U, V = _truncate(U, V, k)
            if lam == 0:
                U, V = _orthonormal_start(U, V)
        else:
            U, V, obs_for = _fixed_start(targets, k, init, clip, mu, sample_split, n_iter, gen)
            if obs_for is not None and offsets_fit is not None:
                raise ValueError("sample_split=True fits no offsets: pass offsets=False with it")
        if on_device:
            U, V = steps.put(U), steps.put(V)
        fit = fitter.altmin(fit_obs, k, lam, U, V, n_iter=early_iter or n_iter, tol=tol, offsets=offsets_fit,
                            holdout=hold_t, bound=bound, steps=steps, obs_for=obs_for, truth=truth,
                            scale_exp=scale_exp, stall_tol=stall_tol)
        _early_stop(fit, early_iter)
        _warn_altmin(fit, tol, k, reg)
        U, s, V = svd_form(fit["U"], fit["V"], xp)
    if hold_t is not None:
        holdout_error = math.ldexp(fit["holdout_error"], -scale_exp)
    out_dtype = obs.vals.dtype
    final = fit["offsets"]
    mean, row_off, col_off = (final.mean, final.row, final.col) if final is not None else (0.0, np.zeros(m),
                                                                                          np.zeros(n))
    U, V = np.array(to_numpy(U)), np.array(to_numpy(times_pow2(V, -scale_exp)))
    U[obs.by_row.counts == 0] = 0  # no observation: a zero factor row (rounding of the QRs left aside)
    V[obs.by_col.counts == 0] = 0
    U, V = (_to_caller(x, xp, device, out_dtype) for x in (U, V))
    if "holdout" in fit["history"]:
        fit["history"]["holdout"] = [math.ldexp(e, -scale_exp) for e in fit["history"]["holdout"]]
    row_off, col_off = (_to_caller(np.ldexp(x, -scale_exp), xp, device, out_dtype) for x in (row_off, col_off))
    return CompletionResult(U=U, V=V, s=np.ldexp(np.asarray(s, dtype=np.float64), -scale_exp),
                            mean=math.ldexp(mean, -scale_exp), row_offsets=row_off, col_offsets=col_off,
                            shape=(m, n), converged=fit["converged"], n_iter=fit["n_iter"], history=fit["history"],
                            stop=fit["stop"], method=method, rank=int(s.shape[0]), reg=reg, offsets=bool(offsets),
                            solver=fit["solver"], holdout_error=holdout_error, selection=selection)


def _to_caller(x, xp, device, dtype):
    if xp is None:
        return np.asarray(to_numpy(x), dtype=dtype)
    return xp.asarray(x, device=device) if hasattr(x, "__array_namespace__") and not isinstance(x, np.ndarray) \
        else xp.asarray(np.asarray(x, dtype=dtype), device=device)


def _fixed_start(obs, k, init, clip, mu, sample_split, n_iter, gen):
    """AltMin's start with given rank and regularisation (orthonormal ``U``), and the parts of Omega per step."""
    m, n = obs.shape
    dtype = obs.vals.dtype
    part = None
    if sample_split:
        labels = gen.integers(0, 2 * n_iter + 1, size=obs.nnz)
        part = {h: obs.subset(labels == h) for h in range(2 * n_iter + 1)}
    init_obs = obs if part is None else part[0]
    if init == "svd":
        U, s, Vs, _ = _svd_init(init_obs, k, gen)
        V = np.ascontiguousarray((Vs * s).astype(dtype))
    else:
        U, _ = qr_econ(gen.standard_normal((m, k)).astype(dtype))
        V = np.zeros((n, k), dtype=dtype)
    if clip:
        norms = np.linalg.norm(U, axis=1)
        mu_used = mu if mu is not None else math.sqrt(m / k) * float(np.median(norms))
        U_old = U
        U, _ = qr_econ(np.where(np.abs(U) > 2 * mu_used * math.sqrt(k / m), 0, U).astype(dtype))
        V = np.ascontiguousarray(V @ (U_old.T @ U))
    return np.ascontiguousarray(U), V, (None if part is None else part.__getitem__)


def _early_stop(fit, early_iter):
    """A refit that ran the iterations chosen on the held-out entries has converged by that criterion."""
    if early_iter is not None and fit["stop"] == "n_iter":
        fit["converged"], fit["stop"] = True, "early"


def _warn_altmin(fit, tol, k, reg):
    stop = fit["stop"]
    if stop == "n_iter":
        warnings.warn(f"altmin_complete did not reach tol={tol:g} in {fit['n_iter']} iteration(s): the relative "
                      f"residual on the observed entries is {fit['history']['residual'][-1]:.3g}; raise n_iter",
                      ConvergenceWarning, stacklevel=3)
    elif stop in ("diverged", "nonfinite"):
        warnings.warn(f"altmin_complete stopped at iteration {fit['n_iter']}: the model grew without bound (more than "
                      "10 times the scale of the data for 3 iterations), so the data do not determine a rank-"
                      f"{k} model with reg={reg:g}; the iterate before is returned. Use reg='auto' (or reg > 0) "
                      "or a smaller rank", ConvergenceWarning, stacklevel=3)
    elif stop == "holdout":
        warnings.warn(f"altmin_complete stopped at iteration {fit['n_iter']}: the error on the held-out entries "
                      "rose for 3 iterations (the model over-fits), so the best iterate is returned; use "
                      "reg='auto' (or a larger reg) or a smaller rank", ConvergenceWarning, stacklevel=3)
