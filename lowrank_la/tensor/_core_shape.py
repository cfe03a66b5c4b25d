"""Tucker core-shape search under a parameter budget (Ghadiri, Fahrbach, Fu, Mirrokni, ICML 2023).

Choose the multilinear rank ``r = (R_1, ..., R_N)`` with ``tucker_size(shape, r) <= budget`` that minimises the
separable surrogate ``S(r) = sum_n tail_n(R_n)``, ``tail_n(R) = sum_{i > R} sigma_i(X_(n))^2``. Since
``max_n tail_n(R_n) <= L*(r) <= S(r)`` for the best Tucker error ``L*(r)`` of that shape, a minimiser of S is an
N-approximation of the best core shape.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .._backend import ConvergenceWarning
from .._validate import check_option, check_real, refuse_random_state
from ._spectrum import HosvdSpectrum, _scaled_hosvd_spectrum
from ._tucker import _check_count, _check_tensor, _unscale_squares, hooi

__all__ = ["EXACT_STATE_LIMIT", "CoreShapeResult", "core_shape_path", "core_shape_search", "rre_greedy"]

METHODS = ("auto", "milp", "exact", "greedy", "bang_for_buck", "rre_greedy")

#: The most partial shapes the exact enumeration keeps before "auto" falls back to the MILP (and "exact" refuses).
EXACT_STATE_LIMIT = 4_000_000

#: Two surrogate values closer than this fraction of ||X||^2 are a tie (broken by the smaller parameter count).
_TIE = 1e-13


class CoreShapeResult(NamedTuple):
    """A core shape chosen under a parameter budget, with its surrogate bounds.

    Attributes
    ----------
    ranks : tuple of int
        The core shape ``(R_1, ..., R_N)``.
    n_params : int
        ``tucker_size(shape, ranks) <= budget``.
    budget : int
        The budget.
    packed : float
        ``sum_n sum_{i <= R_n} sigma_{n,i}^2``, the packed higher-order singular value mass.
    surrogate_tail : float
        ``S(r) = sum_n tail_n(R_n) = N ||X||^2 - packed``.
    lower_bound, upper_bound : float
        ``max_n tail_n(R_n) <= min_{Tucker of shape r} ||X - X_hat||_F^2 <= sum_n tail_n(R_n)``; the upper bound
        is attained by the truncated HOSVD (and is ``surrogate_tail``).
    norm_sq : float
        ``||X||_F^2`` (divide the bounds by it for squared relative errors).
    n_milps : int
        Integer programs solved (``"milp"``; 0 otherwise).
    n_fits : int
        Tucker decompositions fitted (``"rre_greedy"``; 0 otherwise).
    solve_time : float
        Seconds of the search, excluding the spectrum.
    spectrum_time : float
        Seconds spent computing the spectrum here (0 when it was passed in).
    method : str
        The method that produced the shape (``"auto"`` reports the one it picked).
    rre : float or None
        ``"rre_greedy"`` only: the squared relative error ``||X - X_hat||^2 / ||X||^2`` of its last fit (None
        for the other methods, which fit nothing).

    See Also
    --------
    core_shape_search : Returns a CoreShapeResult.
    core_shape_path : Returns one per budget.
    """

    ranks: tuple
    n_params: int
    budget: int
    packed: float
    surrogate_tail: float
    lower_bound: float
    upper_bound: float
    norm_sq: float
    n_milps: int
    n_fits: int
    solve_time: float
    spectrum_time: float
    method: str
    rre: float | None = None


class _TooManyShapes(Exception):
    pass


# --------------------------------------------------------------------------- the packing problem

class _Packing:
    """The Tucker packing problem of one spectrum and one budget: prefix sums and the usable ranks per mode."""

    def __init__(self, spectrum: HosvdSpectrum, budget: int, consistent: bool):
        self.shape = spectrum.shape
        self.N = len(self.shape)
        self.budget = budget
        self.norm_sq = float(spectrum.norm_sq)
        self.consistent = consistent
        self.prefix = [np.concatenate([[0.0], np.cumsum(np.asarray(v, dtype=np.float64))])
                       for v in spectrum.values]
        total_i = sum(self.shape)
        self.rmax = []
        for n, size in enumerate(self.shape):
            others = math.prod(self.shape[:n] + self.shape[n + 1:])
            by_budget = (budget - (total_i - size)) // (1 + size)  # the other ranks at 1
            self.rmax.append(int(max(1, min(len(self.prefix[n]) - 1, others, by_budget))))
        self.tie = _TIE * max(self.norm_sq, np.finfo(float).tiny)

    def size(self, ranks) -> int:
        return math.prod(ranks) + sum(i * r for i, r in zip(self.shape, ranks))

    def tails(self, ranks) -> np.ndarray:
        return np.array([max(self.norm_sq - self.prefix[n][r], 0.0) for n, r in enumerate(ranks)])

    def packed(self, ranks) -> float:
        return float(sum(self.prefix[n][r] for n, r in enumerate(ranks)))

    def consistent_ranks(self, ranks) -> bool:
        p = math.prod(ranks)
        return all(r * r <= p for r in ranks)


def _enumerate(prob: _Packing, rmax):
    """Best shape with ``R_n <= rmax[n]`` by pruned, vectorised enumeration; None if none is feasible.

    The first N - 1 ranks are enumerated (pruned as soon as the partial shape padded with ones exceeds the
    budget); the last rank is then the largest that fits, which is optimal because the prefix sums are
    non-decreasing (lowered to the smallest rank with the same mass, to save parameters).
    """
    shape, c, N = prob.shape, prob.budget, prob.N
    rest = np.concatenate([np.cumsum(np.array(shape[::-1], dtype=np.int64))[::-1], [0]])  # sum_{k >= n} I_k
    ranks = np.zeros((1, 0), dtype=np.int64)
    prod = np.ones(1, dtype=np.int64)
    ssum = np.zeros(1, dtype=np.int64)
    mass = np.zeros(1)
    for n in range(N - 1):
        r = np.arange(1, rmax[n] + 1, dtype=np.int64)
        new_prod = prod[:, None] * r[None, :]
        new_sum = ssum[:, None] + shape[n] * r[None, :]
        keep = new_prod + new_sum + rest[n + 1] <= c
        i, j = np.nonzero(keep)
        if i.size > EXACT_STATE_LIMIT:
            raise _TooManyShapes(i.size)
        ranks = np.concatenate([ranks[i], r[j, None]], axis=1)
        prod, ssum = new_prod[i, j], new_sum[i, j]
        mass = mass[i] + prob.prefix[n][r[j]]
    last_size, last_prefix = shape[-1], prob.prefix[-1]
    r_last = np.minimum((c - ssum) // (prod + last_size), rmax[-1])
    low = np.ones_like(r_last)
    if prob.consistent and N > 1:
        r_last = np.minimum(r_last, prod)
        low = np.maximum(low, -(-np.max(ranks * ranks, axis=1) // prod))
    ok = r_last >= low
    if not ok.any():
        return None
    ranks, prod, ssum, mass, r_last, low = ranks[ok], prod[ok], ssum[ok], mass[ok], r_last[ok], low[ok]
    first_equal = np.searchsorted(last_prefix, last_prefix - prob.tie, side="left")  # smallest rank, same mass
    r_last = np.maximum(first_equal[r_last], low)
    total = mass + last_prefix[r_last]
    sizes = prod * r_last + ssum + last_size * r_last
    best = total.max()
    near = np.nonzero(total >= best - prob.tie)[0]
    full = np.concatenate([ranks[near], r_last[near, None]], axis=1)
    order = np.lexsort((*full.T[::-1], sizes[near]))  # smallest size, then lexicographic ranks
    return tuple(int(v) for v in full[order[0]])


def _greedy(prob: _Packing, per_parameter: bool):
    """Grow ``(1, ..., 1)`` one rank at a time by the largest next value (per added parameter, if asked)."""
    ranks = [1] * prob.N
    if prob.size(ranks) > prob.budget:
        return None
    size = prob.size(ranks)
    while True:
        best, best_score = None, 0.0
        for n in range(prob.N):
            if ranks[n] >= prob.rmax[n]:
                continue
            trial = ranks.copy()
            trial[n] += 1
            if prob.consistent and not prob.consistent_ranks(trial):
                continue
            grown = prob.size(trial)
            if grown > prob.budget:
                continue
            gain = prob.prefix[n][ranks[n] + 1] - prob.prefix[n][ranks[n]]
            score = gain / (grown - size) if per_parameter else gain
            if score > best_score:
                best, best_score = n, score
        if best is None:
            return tuple(ranks)
        ranks[best] += 1
        size = prob.size(ranks)


def _milp(prob: _Packing, eps: float, small_start: bool, refine: bool, options: dict | None):
    """The paper's method: small shapes by brute force, then one MILP per product/sum split of the budget.

    For each split ``(b_prod, b_sum)`` with ``b_prod + b_sum = budget`` on the geometric grid
    ``b_prod = (1 + eps)^k`` (and the swapped split), the integer program over one-hot variables ``x_{n,j}``
    minimises ``sum tail_n(j) x_{n,j}`` subject to ``sum log(j) x_{n,j} <= log(b_prod)`` and
    ``sum I_n j x_{n,j} <= b_sum``. Splits are reduced to their effective integer budgets (clipped to the largest
    usable product and sum); duplicates and splits dominated by another are dropped, each split's program only
    has the ranks that fit it, and a split is skipped when even its largest ranks cannot beat the incumbent.
    With `refine` (not in the paper), the best shape is then improved by a local
    search (raise one rank, lower another as little as the budget needs) and re-solved on its two tight splits
    ``(prod r, budget - prod r)`` and ``(budget - sum I_n R_n, sum I_n R_n)``, whose feasible sets contain it,
    until neither improves it.
    """
    c, shape, rmax = prob.budget, prob.shape, prob.rmax
    state: dict[str, Any] = {"best": None, "mass": -math.inf, "n_milps": 0}

    def consider(ranks):
        if ranks is None or prob.size(ranks) > c:
            return False
        if prob.consistent and not prob.consistent_ranks(ranks):
            return False
        mass, best = prob.packed(ranks), state["best"]
        if mass > state["mass"] + prob.tie or (mass > state["mass"] - prob.tie and prob.size(ranks) < prob.size(best)):
            state["best"], state["mass"] = tuple(ranks), mass
            return True
        return False

    def solve(b_prod, b_sum):
        state["n_milps"] += 1
        return _solve_split(prob, b_prod, b_sum, options)

    if small_start:
        cap = math.ceil(1 / eps)
        consider(_enumerate(prob, [min(cap, r) for r in rmax]))
    max_prod = math.prod(rmax)
    max_sum = sum(i * r for i, r in zip(shape, rmax))
    min_sum = sum(shape)

    def effective(b_prod, b_sum):
        b_prod = min(int(math.floor(b_prod + 1e-9)), max_prod)
        b_sum = min(int(math.floor(b_sum + 1e-9)), max_sum)
        return (b_prod, b_sum) if b_prod >= 1 and b_sum >= min_sum else None

    splits: set[tuple[int, int]] = set()
    for k in range(int(math.floor(math.log(c) / math.log1p(eps)))):
        p = (1 + eps) ** k
        splits.update(filter(None, (effective(p, c - p), effective(c - p, p))))
    if refine:  # a cheap incumbent, so that the bound below skips more programs
        consider(_greedy(prob, per_parameter=True))
    kept, best_sum = [], -1
    for b_prod, b_sum in sorted(splits, key=lambda s: (-s[0], -s[1])):
        if b_sum > best_sum:  # not dominated by a split with a larger product budget
            best_sum = b_sum
            kept.append((_split_bound(prob, b_prod, b_sum), b_prod, b_sum))
    for bound, b_prod, b_sum in sorted(kept, reverse=True):
        if bound > state["mass"] + prob.tie:  # else no shape of this split can beat the incumbent
            consider(solve(b_prod, b_sum))
    tried = set()
    while refine and state["best"] is not None:
        improved = consider(_local_search(prob, state["best"]))
        r = state["best"]
        for split in (effective(math.prod(r), c - math.prod(r)), effective(c - prob.size(r) + math.prod(r),
                                                                          prob.size(r) - math.prod(r))):
            if split is not None and split not in tried and split not in splits:
                tried.add(split)
                improved |= consider(solve(*split))
        if not improved:
            break
    return state["best"], state["n_milps"]


def _local_search(prob: _Packing, ranks):
    """Hill-climb from `ranks`: raise one rank by 1, lowering another by as little as keeps the shape in budget."""
    ranks, N = list(ranks), prob.N
    mass = prob.packed(ranks)
    while True:
        best, best_mass = None, mass + prob.tie
        for n in range(N):
            if ranks[n] >= prob.rmax[n]:
                continue
            for m in [None, *range(N)]:
                if m == n:
                    continue
                trial = ranks.copy()
                trial[n] += 1
                while m is not None and trial[m] > 1 and prob.size(trial) > prob.budget:
                    trial[m] -= 1
                if prob.size(trial) > prob.budget or (prob.consistent and not prob.consistent_ranks(trial)):
                    continue
                trial_mass = prob.packed(trial)
                if trial_mass > best_mass:
                    best, best_mass = trial, trial_mass
        if best is None:
            return tuple(ranks)
        ranks, mass = best, best_mass


#: scipy.optimize.milp options of the split programs; HiGHS's presolve costs more than it saves on these.
MILP_DEFAULTS = {"presolve": False}


def _split_limits(prob: _Packing, b_prod: int, b_sum: int) -> list:
    """Largest rank per mode in a split: ``R_n <= b_prod`` and ``I_n R_n + sum_{k != n} I_k <= b_sum``."""
    min_sum = sum(prob.shape)
    return [min(r, b_prod, (b_sum - min_sum + i) // i) for r, i in zip(prob.rmax, prob.shape)]


def _split_bound(prob: _Packing, b_prod: int, b_sum: int) -> float:
    """An upper bound on the packed mass of a split: every mode at its largest rank there."""
    limits = _split_limits(prob, b_prod, b_sum)
    return -math.inf if min(limits) < 1 else float(sum(p[r] for p, r in zip(prob.prefix, limits)))


def _solve_split(prob: _Packing, b_prod: int, b_sum: int, options):
    """One integer program: the best shape with ``prod R_n <= b_prod`` and ``sum I_n R_n <= b_sum``, or None."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    shape, N = prob.shape, prob.N
    limits = _split_limits(prob, b_prod, b_sum)
    if min(limits) < 1:
        return None
    js = np.concatenate([np.arange(1, r + 1) for r in limits]).astype(float)
    mode_of = np.repeat(np.arange(N), limits)
    scale = prob.norm_sq if prob.norm_sq > 0 else 1.0
    cost = np.concatenate([(prob.norm_sq - prob.prefix[n][1:r + 1]) / scale for n, r in enumerate(limits)])
    log_j = np.log(js)
    rows = [log_j, np.asarray(shape, dtype=float)[mode_of] * js]
    bounds = [math.log(b_prod) + 1e-9, b_sum + 1e-6]
    if prob.consistent:
        rows += [np.where(mode_of == n, log_j, -log_j) for n in range(N)]
        bounds += [1e-9] * N
    rows.append((mode_of[None, :] == np.arange(N)[:, None]).astype(float))
    A = np.vstack(rows)
    lower = np.concatenate([np.full(len(bounds), -np.inf), np.ones(N)])
    upper = np.concatenate([bounds, np.ones(N)])
    res = milp(cost, constraints=LinearConstraint(A, lower, upper), integrality=np.ones(js.size),
               bounds=Bounds(0, 1), options={**MILP_DEFAULTS, **(options or {})})
    if res.x is None:
        return None
    chosen = np.nonzero(res.x > 0.5)[0]
    if chosen.size != N:
        return None
    ranks = [0] * N
    for v in chosen:
        ranks[mode_of[v]] = int(js[v])
    return ranks


# --------------------------------------------------------------------------- the true-loss greedy baseline

def _default_fit(X, ranks, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = hooi(X, ranks, init="svd", n_iter_max=20, tol=0, rng=seed)
    return res.history["error"][-1] ** 2


def _rre_greedy(X, prob: _Packing, fit, seed):
    """Ghadiri et al.'s rre-greedy: grow one rank at a time by the lowest squared relative error of a fit."""
    ranks = [1] * prob.N
    current = fit(X, tuple(ranks), seed)
    n_fits = 1
    while current >= 1e-15:
        best, best_err = None, math.inf
        for n in range(prob.N):
            if ranks[n] >= prob.shape[n]:
                continue
            trial = ranks.copy()
            trial[n] += 1
            if prob.size(trial) > prob.budget or (prob.consistent and not prob.consistent_ranks(trial)):
                continue
            err = fit(X, tuple(trial), seed)
            n_fits += 1
            if err < best_err:
                best, best_err = trial, err
        if best is None or best_err > current + 1e-9:
            break
        ranks, current = best, best_err
    return tuple(ranks), n_fits, float(current)


# --------------------------------------------------------------------------- public functions

def _resolve_spectrum(X, spectrum, spectrum_method, needs_x, fn):
    """``(X, spectrum, seconds)``: validate X and/or the spectrum, computing it when not given.

    A computed spectrum is in float64 whatever the tensor's dtype (the search works in float64): a float32
    tensor far from unit scale, whose squared singular values float32 cannot hold, is searched all the same.
    """
    if X is None and spectrum is None:
        raise ValueError("give the tensor X, or its spectrum (spectrum=hosvd_spectrum(X)), or both")
    if X is None and needs_x:
        raise ValueError("method='rre_greedy' fits Tucker decompositions: it needs the tensor X")
    seconds = 0.0
    if X is not None:
        X, xp = _check_tensor(X)
    if spectrum is None:
        start = time.perf_counter()
        values, norm_sq, e = _scaled_hosvd_spectrum(X, spectrum_method, None, None, xp)
        values, norm_sq = _unscale_squares([np.asarray(v, dtype=np.float64) for v in values], norm_sq, e,
                                           np.float64, fn)
        spectrum = HosvdSpectrum(values, norm_sq, tuple(int(s) for s in X.shape))
        seconds = time.perf_counter() - start
    else:
        spectrum = _check_spectrum(spectrum)
        if X is not None and tuple(X.shape) != spectrum.shape:
            raise ValueError(f"spectrum is of a tensor of shape {spectrum.shape}, but X has shape {tuple(X.shape)}")
    return X, spectrum, seconds


def _check_spectrum(spectrum) -> HosvdSpectrum:
    if isinstance(spectrum, HosvdSpectrum):
        values, norm_sq, shape = spectrum
    elif isinstance(spectrum, Sequence) and not isinstance(spectrum, (str, bytes)):
        values = list(spectrum)
        shape = tuple(len(np.ravel(v)) for v in values)
        norm_sq = float(np.sum(np.asarray(values[0], dtype=np.float64))) if values else 0.0
    else:
        raise TypeError("spectrum must be a HosvdSpectrum (from hosvd_spectrum) or a sequence of 1-D arrays of "
                        f"squared singular values, one per mode; got {type(spectrum).__name__}")
    if len(values) < 2:
        raise ValueError(f"spectrum must have one entry per mode and order >= 2, got {len(values)}")
    clean = []
    for n, v in enumerate(values):
        v = np.asarray(v, dtype=np.float64)
        if v.ndim != 1 or v.size == 0 or not np.all(np.isfinite(v)) or np.any(v < 0):
            raise ValueError(f"spectrum[{n}] must be a non-empty 1-D array of finite non-negative values")
        if np.any(np.diff(v) > 1e-12 * float(v[0])):
            raise ValueError(f"spectrum[{n}] must be non-increasing (squared singular values, descending)")
        clean.append(v)
    return HosvdSpectrum(clean, float(norm_sq), tuple(int(s) for s in shape))


def _search(X, spectrum, budget, opts):
    method, eps, consistent = opts["method"], opts["eps"], opts["enforce_rank_consistency"]
    milp_args = (eps, opts["include_small_bruteforce"], opts["refine"], opts["milp_options"])
    shape = spectrum.shape
    smallest = 1 + sum(shape)
    budget = _check_count(budget, "budget")
    if budget < smallest:
        raise ValueError(f"budget={budget} must be at least the size of the smallest shape (1, ..., 1), "
                         f"1 + sum(shape) = {smallest} for shape {shape}")
    prob = _Packing(spectrum, budget, consistent)
    start = time.perf_counter()
    n_milps = n_fits = 0
    rre = None
    used = method
    if method == "auto":
        try:
            ranks = _enumerate(prob, prob.rmax)
            used = "exact"
        except _TooManyShapes:
            ranks, n_milps = _milp(prob, *milp_args)
            used = "milp"
    elif method == "exact":
        try:
            ranks = _enumerate(prob, prob.rmax)
        except _TooManyShapes as exc:
            raise ValueError(f"method='exact' would enumerate more than {EXACT_STATE_LIMIT} partial shapes "
                             f"({exc.args[0]} at one step) for shape {shape} and budget={budget}; use "
                             "method='milp' (or 'auto')") from None
    elif method == "milp":
        ranks, n_milps = _milp(prob, *milp_args)
    elif method in ("greedy", "bang_for_buck"):
        ranks = _greedy(prob, per_parameter=method == "bang_for_buck")
    else:
        fit = opts["tucker_fn"] if opts["tucker_fn"] is not None else _default_fit
        ranks, n_fits, rre = _rre_greedy(X, prob, fit, opts["rng"])
    seconds = time.perf_counter() - start
    if ranks is None:
        raise ValueError(f"no core shape fits budget={budget} with enforce_rank_consistency={consistent} "
                         f"(the smallest shape (1, ..., 1) has {smallest} parameters)")
    tails = prob.tails(ranks)
    return CoreShapeResult(ranks=tuple(ranks), n_params=prob.size(ranks), budget=budget, packed=prob.packed(ranks),
                           surrogate_tail=float(tails.sum()), lower_bound=float(tails.max()),
                           upper_bound=float(tails.sum()), norm_sq=prob.norm_sq, n_milps=n_milps, n_fits=n_fits,
                           solve_time=seconds, spectrum_time=0.0, method=used, rre=rre)


def _options(method, eps, include_small_bruteforce, refine, enforce_rank_consistency, milp_options, spectrum_method,
             tucker_fn, rng):
    if milp_options is not None and not isinstance(milp_options, dict):
        raise TypeError("milp_options must be a dict of scipy.optimize.milp options, got "
                        f"{type(milp_options).__name__}")
    if tucker_fn is not None and not callable(tucker_fn):
        raise TypeError("tucker_fn must be callable as tucker_fn(X, ranks, seed) -> squared relative error")
    return {"method": check_option(method, "method", METHODS),
            "eps": check_real(eps, "eps", low=0, high=1, low_inclusive=False),
            "include_small_bruteforce": check_option(include_small_bruteforce, "include_small_bruteforce",
                                                     [True, False]),
            "refine": check_option(refine, "refine", [True, False]),
            "enforce_rank_consistency": check_option(enforce_rank_consistency, "enforce_rank_consistency",
                                                     [False, True]),
            "milp_options": milp_options,
            "spectrum_method": check_option(spectrum_method, "spectrum_method", ["gram", "svd"]),
            "tucker_fn": tucker_fn, "rng": rng}


@refuse_random_state
def core_shape_search(X=None, budget=None, *, spectrum=None, method="auto", eps=0.5, include_small_bruteforce=True,
                      refine=True, enforce_rank_consistency=False, milp_options=None, spectrum_method="gram",
                      tucker_fn=None, rng=0):
    """Tucker core shape ``(R_1, ..., R_N)`` of at most `budget` parameters that minimises the HOSVD surrogate.

    Parameters
    ----------
    X : array of order N >= 2, optional
        The tensor (real, finite, any array-API namespace). May be None when `spectrum` is given, except for
        ``method="rre_greedy"``. A Dask tensor is never gathered: its spectrum comes from the mode Gram matrices
        reduced over the chunks (``spectrum_method`` must be "gram"), and "rre_greedy" runs :func:`hooi` on it
        chunk by chunk (one pass per mode per sweep, for every candidate: slow).
    budget : int
        Largest parameter count ``tucker_size(shape, r) = prod R_n + sum I_n R_n``, at least that of
        ``(1, ..., 1)``, ``1 + sum I_n``; an integral float (``4e4``) is taken as that integer.
    spectrum : HosvdSpectrum or sequence of 1-D arrays, optional
        The squared higher-order singular values (:func:`hosvd_spectrum`), to share between budgets. A plain
        sequence is read as the full spectra (length ``I_n`` each).
    method : {"auto", "milp", "exact", "greedy", "bang_for_buck", "rre_greedy"}
        * "milp": the paper's method: every shape with ``R_n <= ceil(1/eps)``, then one integer program
          (:func:`scipy.optimize.milp`, HiGHS) per split ``(b_prod, b_sum)`` of the budget on a geometric grid of
          ratio ``1 + eps``; each is solved exactly, the grid may miss the surrogate optimum.
        * "exact": the surrogate optimum by pruned, vectorised enumeration (fast for orders up to about 4).
        * "greedy": grow ``(1, ..., 1)`` by the mode with the largest next squared singular value, until no
          increment fits the budget or adds mass.
        * "bang_for_buck": the same per added parameter.
        * "rre_greedy": the paper's baseline: grow by the mode whose increment gives the lowest true error
          of a Tucker fit (HOOI from the HOSVD, 20 sweeps, per candidate by default); needs `X`.
        * "auto" (default): "exact" when the enumeration stays below ``EXACT_STATE_LIMIT`` partial shapes,
          else "milp". Both are exact or within the MILP's guarantee; "exact" is usually the faster.
    eps : float
        Grid ratio of "milp", ``0 < eps <= 1``.
    include_small_bruteforce : bool
        "milp": also enumerate the shapes with every ``R_n <= ceil(1/eps)`` (the paper's first step).
    refine : bool
        "milp": after the grid, improve the best shape by a local search (raise one rank, lower another) and
        re-solve the two tight splits of its own product and sum, until neither improves it: never worse than
        the paper's grid, for a few more programs. False gives the paper's method exactly.
    enforce_rank_consistency : bool
        Forbid wasteful shapes: require ``R_n <= prod_{k != n} R_k`` (a tensor of multilinear rank r exists).
    milp_options : dict, optional
        Options of :func:`scipy.optimize.milp` (``time_limit``, ``mip_rel_gap``, ...).
    spectrum_method : {"gram", "svd", "randomized"}
        How the spectrum is computed when not given (see :func:`hosvd_spectrum`; "randomized" is refused
        here because it needs a `max_rank`: compute the spectrum yourself).
    tucker_fn : callable, optional
        "rre_greedy": ``tucker_fn(X, ranks, seed) -> float``, the squared relative error of a Tucker fit of
        shape `ranks`. Default: :func:`hooi` with ``init="svd"`` and ``n_iter_max=20`` (see :func:`rre_greedy`
        for why not the official code's random start).
    rng : int or numpy.random.Generator
        Seed of the fits of "rre_greedy" (the same seed for every fit, as the official code).

    Returns
    -------
    CoreShapeResult
        The ranks, their parameter count, the packed mass, the surrogate tail and its lower and upper bounds on
        the best Tucker error of that shape, the number of integer programs and fits, the search time
        (excluding the spectrum) and the spectrum time.

    Raises
    ------
    ValueError
        If `budget` is below ``1 + sum I_n`` or not a whole number, `X` has order < 2 or holds NaN or Inf, the
        spectrum is malformed or does not match `X`, no shape satisfies the consistency rule, "exact" would
        enumerate too many shapes, or ``||X||_F^2`` (reported in ``norm_sq`` and the bounds) is outside the normal
        range of float64 (a float64 tensor at the scale ``1e300`` or ``1e-300``; the shape does not depend on the
        scale, so divide X by a power of two first).

    See Also
    --------
    core_shape_path : The same search for many budgets, sharing one spectrum.
    rre_greedy : The greedy baseline on the true Tucker loss (slower: a HOOI fit per candidate).
    hosvd_spectrum : The spectrum the surrogate is built from.
    hosvd : The Tucker decomposition at the chosen shape.
    tt_rank_search : The same budgeted choice for tensor-train ranks.

    Notes
    -----
    ``tail_n(R) = ||X||^2 - sum_{i <= R} sigma_{n,i}^2``. Because ``max_n tail_n <= L*(r) <= sum_n tail_n``, the
    minimiser of ``S(r) = sum_n tail_n(R_n)`` is within a factor N of the best core shape's Tucker error.
    Minimising S under ``prod R_n + sum I_n R_n <= budget`` is the Tucker packing problem (NP-hard); it is a
    two-dimensional knapsack with a choose-one-per-mode constraint once the budget is split between the product
    and the sum, which is what the MILP's grid of splits does. Ties are broken by the smaller parameter count.

    References
    ----------
    .. [1] M. Ghadiri, M. Fahrbach, G. Fu, V. Mirrokni, "Approximately optimal core shapes for tensor
       decompositions", ICML 2023, arXiv:2302.03886.

    Examples
    --------
    >>> import lowrank_la as la
    >>> from lowrank_la.tensor import core_shape_search, tucker_size
    >>> X = la.datasets.tucker_tensor((30, 30, 30), (2, 3, 4), rng=0)
    >>> res = core_shape_search(X, tucker_size((30, 30, 30), (2, 3, 4)))
    >>> res.ranks, res.method, bool(res.surrogate_tail < 1e-10 * res.norm_sq)
    ((2, 3, 4), 'exact', True)
    >>> core_shape_search(X, 400, method="milp").ranks
    (2, 3, 4)
    """
    opts = _options(method, eps, include_small_bruteforce, refine, enforce_rank_consistency, milp_options,
                    spectrum_method, tucker_fn, rng)
    return _search_one(X, budget, spectrum, opts, "core_shape_search")


def _search_one(X, budget, spectrum, opts, fn):
    """One search, `fn` being the public function's name for the messages."""
    if budget is None:
        raise TypeError(f"{fn}() needs a budget (an int)")
    X, spectrum, spectrum_seconds = _resolve_spectrum(X, spectrum, opts["spectrum_method"],
                                                      opts["method"] == "rre_greedy", fn)
    result = _search(X, spectrum, budget, opts)
    return result._replace(spectrum_time=spectrum_seconds)


@refuse_random_state
def core_shape_path(X=None, budgets=(), *, spectrum=None, method="auto", eps=0.5, include_small_bruteforce=True,
                    refine=True, enforce_rank_consistency=False, milp_options=None, spectrum_method="gram",
                    tucker_fn=None, rng=0):
    """:func:`core_shape_search` for many budgets, sharing one spectrum.

    Parameters
    ----------
    X : array of order N >= 2, optional
        The tensor; may be None when `spectrum` is given (except for ``method="rre_greedy"``); a Dask tensor as in
        :func:`core_shape_search`.
    budgets : sequence of int
        The budgets, each at least ``1 + sum I_n`` (integral floats such as ``4e4`` accepted).
    spectrum : HosvdSpectrum or sequence of 1-D arrays, optional
        As in :func:`core_shape_search`.
    method : {"auto", "milp", "exact", "greedy", "bang_for_buck", "rre_greedy"}
        As in :func:`core_shape_search`.
    eps : float
        As in :func:`core_shape_search`.
    include_small_bruteforce : bool
        As in :func:`core_shape_search`.
    refine : bool
        As in :func:`core_shape_search`.
    enforce_rank_consistency : bool
        As in :func:`core_shape_search`.
    milp_options : dict, optional
        As in :func:`core_shape_search`.
    spectrum_method : {"gram", "svd", "randomized"}
        As in :func:`core_shape_search`.
    tucker_fn : callable, optional
        As in :func:`core_shape_search`.
    rng : int or numpy.random.Generator
        As in :func:`core_shape_search`.

    Returns
    -------
    list of CoreShapeResult
        One per budget, in order. The spectrum's time is reported once, in the first result's
        ``spectrum_time``.

    See Also
    --------
    core_shape_search : The search for a single budget.
    hosvd_spectrum : The spectrum computed once and shared by all budgets.

    Examples
    --------
    >>> import lowrank_la as la
    >>> from lowrank_la.tensor import core_shape_path
    >>> X = la.datasets.tucker_tensor((30, 30, 30), (2, 3, 4), noise=0.01, rng=0)
    >>> [(r.ranks, r.n_params) for r in core_shape_path(X, [200, 400, 800])]
    [((2, 2, 2), 188), ((2, 3, 6), 366), ((2, 3, 18), 798)]
    """
    opts = _options(method, eps, include_small_bruteforce, refine, enforce_rank_consistency, milp_options,
                    spectrum_method, tucker_fn, rng)
    if isinstance(budgets, (str, bytes)) or not isinstance(budgets, (Sequence, np.ndarray)):
        raise TypeError(f"budgets must be a sequence of ints, got {type(budgets).__name__}")
    X, spectrum, spectrum_seconds = _resolve_spectrum(X, spectrum, opts["spectrum_method"],
                                                      opts["method"] == "rre_greedy", "core_shape_path")
    results = [_search(X, spectrum, b, opts) for b in budgets]
    if results:
        results[0] = results[0]._replace(spectrum_time=spectrum_seconds)
    return results


@refuse_random_state
def rre_greedy(X, budget, *, tucker_fn=None, enforce_rank_consistency=False, rng=0):
    """The greedy core-shape search on the true Tucker loss (the baseline of Ghadiri et al.).

    Starting from ``(1, ..., 1)``, each step fits a Tucker decomposition for every one-rank increment that fits
    the budget and keeps the one with the lowest squared relative error; it stops when no increment fits, when
    the best error exceeds the current one by more than 1e-9, or when it is below 1e-15. About
    ``N sum_n R_n`` fits.

    Parameters
    ----------
    X : array of order N >= 2
        The tensor.
    budget : int
        Parameter budget, at least ``1 + sum I_n`` (an integral float such as ``4e4`` is accepted).
    tucker_fn : callable, optional
        ``tucker_fn(X, ranks, seed) -> float``: the squared relative error of a fit. Default: :func:`hooi` with
        ``init="svd"`` and ``n_iter_max=20``. The official code starts each fit at random (TensorLy's
        ``tucker(init="random", n_iter_max=20)``); pass
        ``lambda X, r, s: hooi(X, r, init="random", n_iter_max=20, tol=0, rng=s).history["error"][-1] ** 2``
        for that. On tensors without a dominant direction (a Tucker tensor with a Gaussian core) 20 random-start
        sweeps do not converge, the first increments look no better than ``(1, ..., 1)`` and the greedy stops
        there: the HOSVD start avoids that.
    enforce_rank_consistency : bool
        Skip increments that make ``R_n > prod_{k != n} R_k``.
    rng : int or numpy.random.Generator
        Seed passed to every fit.

    Returns
    -------
    CoreShapeResult
        With ``method="rre_greedy"``, ``n_fits`` and ``rre`` (the squared relative error of the chosen shape's
        fit) set.

    See Also
    --------
    core_shape_search : The surrogate search, far cheaper, of which this is the baseline.
    hooi : The Tucker fit evaluated for every candidate shape.

    Examples
    --------
    >>> import lowrank_la as la
    >>> from lowrank_la.tensor import rre_greedy
    >>> X = la.datasets.tucker_tensor((12, 10, 8), (2, 2, 3), noise=0.01, rng=0)
    >>> res = rre_greedy(X, 120)
    >>> res.ranks, res.n_params, res.n_fits
    ((3, 3, 3), 117, 19)
    """
    opts = _options("rre_greedy", 0.5, True, True, enforce_rank_consistency, None, "gram", tucker_fn, rng)
    return _search_one(X, budget, None, opts, "rre_greedy")
