"""A generic adaptive multilevel Monte Carlo driver (Giles 2008, 2015)."""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from .._backend import ConvergenceWarning, SolverResult, array_namespace, as_rng
from .._validate import check_int, check_real, refuse_random_state

__all__ = ["MLMCInfo", "mlmc"]


@dataclass
class MLMCInfo:
    """Diagnostics of an MLMC run.

    Attributes
    ----------
    levels : int
        Number of levels used, ``L + 1``.
    N_l : (L+1,) int array
        Samples taken on each level.
    mean_l : (L+1,) array
        ``||mean of dP_l||`` (Frobenius norm for matrix-valued samples; ``dP_0 = P_0``).
    var_l : (L+1,) array
        ``V_l``, the sum over entries of the sample variance of ``dP_l``.
    cost_l : (L+1,) array
        Mean cost of one sample of ``dP_l``.
    var_fine_l : (L+1,) array or None
        ``Var(P_l)`` (summed over entries) when the level sampler reports it, for the single-level comparison.
    alpha_hat, beta_hat, gamma_hat : float
        Fitted rates ``|E dP_l| ~ M^(-alpha l)``, ``V_l ~ M^(-beta l)``, ``C_l ~ M^(gamma l)`` over levels >= 1
        (NaN where fewer than two levels >= 1 have a positive value).
    bias_hat : float
        Estimated bias ``|E[P_L - P]|``, from the last levels' means and alpha.
    variance : float
        Estimated variance of the estimate, ``sum_l V_l / N_l``.
    var_entries : array
        Estimated variance of each entry of the estimate.
    eps : float
        The target root-mean-square error the run aimed at (``atol + rtol ||estimate||``).
    total_cost : float
        ``sum_l N_l C_l``.
    single_level_cost : float
        Cost of plain Monte Carlo on the finest level at the same eps, ``(1 - theta)^-1 eps^-2 Var(P_L) C_L``
        (NaN without ``var_fine_l``); the bias of both is the same.
    converged : bool
        Whether the bias and variance targets were met within ``L_max`` and ``max_cost``.
    seconds : float
        Wall time.
    max_cost : float
        The budget the run had (``inf`` without one).
    message : str
        Why the run stopped: the targets met, the budget or ``L_max`` reached, or the callback.

    The repr shows the scalars and the per-level arrays; matrix-valued fields (``var_entries``,
    ``level_means``) appear by their shape only.

    See Also
    --------
    mlmc : Returns it with the estimate.
    mlmc_matmul : Returns it with ``return_info=True``.
    """

    levels: int
    N_l: np.ndarray
    mean_l: np.ndarray
    var_l: np.ndarray
    cost_l: np.ndarray
    alpha_hat: float
    beta_hat: float
    gamma_hat: float
    bias_hat: float
    variance: float
    eps: float
    total_cost: float
    converged: bool
    var_fine_l: np.ndarray | None = None
    single_level_cost: float = math.nan
    var_entries: Any = None
    seconds: float = 0.0
    level_means: list = field(default_factory=list, repr=False)
    max_cost: float = math.inf
    message: str = ""

    def __repr__(self) -> str:
        parts = [f"{f.name}={_brief(getattr(self, f.name))}" for f in fields(self) if f.repr]
        return f"MLMCInfo({', '.join(parts)})"


def _brief(value) -> str:
    """Scalars and short 1-D arrays as values; anything larger by its shape and dtype."""
    shape = getattr(value, "shape", None)
    if shape is None:
        return f"{value:.6g}" if isinstance(value, float) else repr(value)
    if len(shape) == 1 and shape[0] <= 12 and isinstance(value, np.ndarray):
        return np.array2string(value, precision=4, separator=", ")
    return f"<{type(value).__name__} shape={tuple(shape)} dtype={value.dtype}>"


class _Level:
    """Running sums of one level."""

    def __init__(self):
        self.N = 0
        self.s1 = self.s2 = None
        self.cost = 0.0
        self.f1 = self.f2 = None

    def add(self, out, N):
        s1, s2, cost = out[0], out[1], out[2]
        self.s1 = s1 if self.s1 is None else self.s1 + s1
        self.s2 = s2 if self.s2 is None else self.s2 + s2
        if len(out) == 5:
            self.f1 = out[3] if self.f1 is None else self.f1 + out[3]
            self.f2 = out[4] if self.f2 is None else self.f2 + out[4]
        self.cost += float(cost)
        self.N += N

    def stats(self):
        """(mean array, ||mean||, summed variance, entrywise variance of the mean, cost per sample, Var(P_l))."""
        xp = array_namespace(self.s1)
        mean = self.s1 / self.N
        var_e = _variance(self.s1, self.s2, self.N, xp)
        fine = math.nan if self.f1 is None else float(xp.sum(_variance(self.f1, self.f2, self.N, xp)))
        return (mean, _norm(mean, xp), float(xp.sum(var_e)), var_e / self.N, self.cost / self.N, fine)


def _variance(s1, s2, N, xp):
    mean = s1 / N
    var = s2 / N - mean * mean
    return xp.where(var > 0, var, 0.0 * var) * (N / max(N - 1, 1))


def _sample(level, level_sampler, lvl, n_new, gen):
    """Take `n_new` samples of level `lvl` into `level`; returns their cost. Non-finite sums are refused."""
    out = level_sampler(lvl, int(n_new), gen)
    sums = tuple(_as_array(o) for o in out[:2])
    xp = array_namespace(*sums)
    if not all(bool(xp.all(xp.isfinite(x))) for x in sums) or not math.isfinite(float(out[2])):
        raise ValueError(f"the level sampler returned non-finite sums (NaN or Inf) for {int(n_new)} samples of level "
                         f"{lvl}: the samples or their squares overflowed; rescale the problem (for mlmc_matmul, "
                         "f of the sampled products must stay finite and well below sqrt of the float maximum)")
    level.add(sums + (out[2],) + tuple(_as_array(o) for o in out[3:]), int(n_new))
    return float(out[2])


def _estimate(levels):
    estimate = sum(lv.s1 / lv.N for lv in levels)
    return estimate, array_namespace(estimate)


def _norm(x, xp):
    return math.sqrt(float(xp.sum(x * x)))


def _as_array(x):
    return x if hasattr(x, "shape") else np.asarray(x, dtype=np.float64)


def _fit_rate(values, M, sign):
    """``sign * slope`` of ``log_M(values[l])`` against l over levels >= 1 with positive values."""
    pts = [(lvl, math.log(v) / math.log(M)) for lvl, v in enumerate(values) if lvl >= 1 and v > 0]
    if len(pts) < 2:
        return math.nan
    ls, ys = zip(*pts)
    return float(sign * np.polyfit(ls, ys, 1)[0])


@refuse_random_state
def mlmc(level_sampler, eps, *, rtol=0.0, M=2, n_pilot=100, L_min=2, L_max=10, theta=0.5, alpha=None,
         beta=None, gamma=None, min_samples=10, max_cost=None, callback=None, rng=None):
    """Adaptive multilevel Monte Carlo estimate of ``E[P]`` from a coupled level sampler (Giles' algorithm).

    Parameters
    ----------
    level_sampler : callable
        ``level_sampler(l, N, rng) -> (sum_dP, sum_dP2, cost)`` or ``(..., sum_P, sum_P2)``: for `N`
        independent samples of the correction ``dP_l = P_l - P_{l-1}`` (``dP_0 = P_0``), fine and coarse
        computed from the same randomness, the sum of the samples, the sum of their squares (entrywise; floats
        or arrays of any namespace), the total cost, and optionally the same two sums for the fine ``P_l``
        alone (then :attr:`MLMCInfo.single_level_cost` is reported). `rng` is a ``numpy.random.Generator``.
    eps : float
        Absolute target root-mean-square error (Frobenius norm for arrays), ``eps >= 0``.
    rtol : float
        Relative target: the run aims at ``eps + rtol * ||estimate||``; ``eps`` and ``rtol`` are not both 0.
    M : int
        Refinement factor between levels (for the rates and the bias extrapolation), ``M >= 2``.
    n_pilot : int
        Pilot samples on each of the levels ``0..L_min``, ``n_pilot >= 2``.
    L_min, L_max : int
        Levels used at least and at most, ``0 <= L_min <= L_max``.
    theta : float
        Share of the mean squared error given to the bias, ``0 <= theta < 1``: the variance target is
        ``(1 - theta) eps^2`` and levels are added until the bias is at most ``sqrt(theta) eps``. ``theta = 0``
        declares the finest level unbiased (no bias test; levels stay at ``L_min``).
    alpha, beta, gamma : float, optional
        Known rates (``|E dP_l| ~ M^(-alpha l)``, ``V_l ~ M^(-beta l)``, ``C_l ~ M^(gamma l)``); fitted from
        the samples when None.
    min_samples : int
        Least number of samples on a level, ``>= 2`` (pilot variances of small ``V_l`` are noisy).
    max_cost : float, optional
        Budget for ``sum_l N_l C_l``, ``> 0`` (None or ``inf``: no budget). The pilot starts with
        ``min(min_samples, n_pilot)`` samples per level, and every later round is sized to fit what is left;
        when the allocation would exceed it, the rest is spent in proportion and the run stops with
        ``converged=False`` and a :class:`~lowrank_la.ConvergenceWarning`. The spent cost can exceed the budget
        only by the first ``min_samples`` samples of each pilot level.
    callback : callable, optional
        ``callback(progress)`` after every round of sampling, with ``progress`` a
        :class:`~lowrank_la.SolverResult` holding ``round``, ``levels``, ``N_l``, ``total_cost``, ``max_cost``,
        ``variance`` (``sum_l V_l / N_l`` so far) and ``eps`` (the current target); returning True stops the
        run (``converged=False``, no warning).
    rng : None, int or numpy.random.Generator
        Passed to the sampler (one generator for the whole run: same seed, same bits).

    Returns
    -------
    estimate : float or array
        ``sum_l mean(dP_l)``.
    info : MLMCInfo
        The levels, samples, costs, fitted rates and variance estimates of the run, and whether it converged.

    Raises
    ------
    ValueError
        An argument out of range, or the sampler returned NaN or Inf.
    TypeError
        `level_sampler` or `callback` is not callable.

    See Also
    --------
    MatmulLevels : The level sampler of approximate products.
    mlmc_matmul : The front end for ``f(A @ B)``.
    MLMCInfo : The diagnostics it returns.

    Notes
    -----
    The optimal allocation for a variance ``(1 - theta) eps^2`` at cost ``sum_l N_l C_l`` is
    ``N_l = (1 - theta)^-1 eps^-2 sqrt(V_l / C_l) sum_k sqrt(V_k C_k)``. When no level needs more than 1 % extra
    samples, the bias is estimated as ``max_{j <= 2} |mean dP_{L-j}| M^(-alpha j) / (M^alpha - 1)``; above
    ``sqrt(theta) eps`` a level is added with ``V`` and ``C`` extrapolated by beta and gamma. Small noisy
    ``|mean dP_l|`` and ``V_l`` (l >= 2) are floored at half their extrapolation from level ``l - 1``, and
    fitted alpha, beta are floored at 0.5, as in Giles' reference driver. If ``beta > gamma`` the cost is
    ``O(eps^-2)``; ``O(eps^-2 log^2 eps)`` if equal; ``O(eps^-2-(gamma-beta)/alpha)`` otherwise.

    References
    ----------
    .. [1] M. B. Giles, "Multilevel Monte Carlo path simulation", Oper. Res. 56(3), 2008.
    .. [2] M. B. Giles, "Multilevel Monte Carlo methods", Acta Numerica 24, 2015.

    Examples
    --------
    Levels ``P_l = (1 + U / 2^l)^2`` with ``U ~ Uniform(0, 1)`` shared by fine and coarse; ``E[P_l] -> 1``.

    >>> import numpy as np
    >>> from lowrank_la.matmul import mlmc
    >>> def level(l, N, rng):
    ...     u = rng.random(N)
    ...     d = (1 + u / 2**l) ** 2 - ((1 + u / 2**(l - 1)) ** 2 if l else 0)
    ...     return d.sum(), (d * d).sum(), N * 2.0**l
    >>> est, info = mlmc(level, 1e-2, rng=0)
    >>> bool(abs(est - 1) < 3e-2), info.levels > 3, info.converged
    (True, True, True)
    """
    if not callable(level_sampler):
        raise TypeError(f"level_sampler must be callable, got {type(level_sampler).__name__}")
    eps = check_real(eps, "eps", low=0)
    rtol = check_real(rtol, "rtol", low=0)
    if eps == 0 and rtol == 0:
        raise ValueError("eps=0 and rtol=0: at least one tolerance must be > 0")
    M = check_int(M, "M", low=2)
    n_pilot = check_int(n_pilot, "n_pilot", low=2)
    L_max = check_int(L_max, "L_max", low=0)
    L_min = check_int(L_min, "L_min", low=0, high=L_max, high_text=f"L_max = {L_max}")
    theta = check_real(theta, "theta", low=0, high=1, high_inclusive=False)
    min_samples = check_int(min_samples, "min_samples", low=2)
    rates = {}
    for name, value in (("alpha", alpha), ("beta", beta), ("gamma", gamma)):
        rates[name] = None if value is None else check_real(value, name, low=0, low_inclusive=False)
    if max_cost is None or (isinstance(max_cost, (int, float)) and max_cost == math.inf):
        max_cost = math.inf
    else:
        max_cost = check_real(max_cost, "max_cost", low=0, low_inclusive=False)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be None or a callable, got {type(callback).__name__}")
    gen = as_rng(rng)
    start = time.perf_counter()

    levels = [_Level() for _ in range(L_min + 1)]
    probe = min(min_samples, n_pilot) if math.isfinite(max_cost) else n_pilot
    todo = [probe] * (L_min + 1)  # a capped run learns the cost per sample before the rest of the pilot
    pilot = [n_pilot] * (L_min + 1)
    spent, rounds = 0.0, 0
    converged, message = True, ""
    while True:
        for lvl, n_new in enumerate(todo):
            if n_new > 0:
                spent += _sample(levels[lvl], level_sampler, lvl, n_new, gen)
        rounds += 1
        state = _State([lv.stats() for lv in levels], M, rates, theta)
        tol = eps + rtol * _norm(*_estimate(levels))
        if callback is not None and callback(_progress(rounds, levels, spent, max_cost, tol)):
            converged, message = False, f"stopped by the callback after round {rounds}"
            break
        todo = _todo(state.allocation(tol, min_samples), pilot, levels)
        if not any(t > 0.01 * lv.N for t, lv in zip(todo, levels)):
            if theta == 0 or state.bias() <= math.sqrt(theta) * tol:
                message = f"reached the target RMSE {tol:.3g} (bias and variance)"
                break
            if len(levels) - 1 >= L_max:
                message = (f"the bias estimate {state.bias():.3g} is above sqrt(theta) eps = "
                           f"{math.sqrt(theta) * tol:.3g} at L_max={L_max}; the error target is not met")
                warnings.warn(f"MLMC: {message}", ConvergenceWarning, stacklevel=3)
                converged = False
                break
            levels.append(_Level())
            pilot.append(0)
            state.extend()
            todo = _todo(state.allocation(tol, min_samples), pilot, levels)
        need = sum(t * c for t, c in zip(todo, state.C))
        if spent + need > max_cost:
            share = max(0.0, (max_cost - spent) / need)
            for lvl, t in enumerate(todo):
                if int(t * share) > 0 and levels[lvl].N > 0:  # a level without samples is not started
                    spent += _sample(levels[lvl], level_sampler, lvl, int(t * share), gen)
            levels = [lv for lv in levels if lv.N > 0]
            message = (f"max_cost={max_cost:g} reached before the error target: spent {spent:.3g}, the next round "
                       f"needed {need:.3g} more")
            warnings.warn(f"MLMC: {message}", ConvergenceWarning, stacklevel=3)
            converged = False
            break
    estimate, info = _finish(levels, M, rates, theta, eps, rtol, converged, start)
    info.max_cost, info.message = max_cost, message
    return estimate, info


def _todo(allocation, pilot, levels):
    """New samples per level: up to the allocation, and at least up to the pilot size."""
    return [max(0, max(w, n) - lv.N) for w, n, lv in zip(allocation, pilot, levels)]


def _progress(rounds, levels, spent, max_cost, tol):
    stats = [lv.stats() for lv in levels]
    return SolverResult(round=rounds, levels=len(levels), N_l=np.array([lv.N for lv in levels]), total_cost=spent,
                        max_cost=max_cost, variance=float(sum(s[2] / lv.N for s, lv in zip(stats, levels))),
                        eps=tol)


class _State:
    """Level statistics with Giles' regularisation, fitted rates, allocation and bias estimate."""

    def __init__(self, stats, M, rates, theta):
        self.M, self.theta = M, theta
        self.m = [s[1] for s in stats]
        self.V = [s[2] for s in stats]
        self.C = [s[4] for s in stats]
        fit_a, fit_b = _fit_rate(self.m, M, -1), _fit_rate(self.V, M, -1)
        self.alpha = rates["alpha"] or max(0.5, fit_a if math.isfinite(fit_a) else 1.0)
        self.beta = rates["beta"] or max(0.5, fit_b if math.isfinite(fit_b) else 1.0)
        fit_c = _fit_rate(self.C, M, 1)
        self.gamma = rates["gamma"] or (fit_c if math.isfinite(fit_c) else 1.0)
        for lvl in range(2, len(self.m)):
            self.m[lvl] = max(self.m[lvl], 0.5 * self.m[lvl - 1] / M**self.alpha)
            self.V[lvl] = max(self.V[lvl], 0.5 * self.V[lvl - 1] / M**self.beta)

    def allocation(self, tol, min_samples):
        total = sum(math.sqrt(v * c) for v, c in zip(self.V, self.C))
        return [max(min_samples, math.ceil(math.sqrt(v / c) * total / ((1 - self.theta) * tol * tol)))
                for v, c in zip(self.V, self.C)]

    def bias(self):
        L = len(self.m) - 1
        Ma = self.M**self.alpha
        return max(self.m[L - j] / Ma**j for j in range(min(2, L) + 1)) / (Ma - 1)

    def extend(self):
        self.m.append(self.m[-1] / self.M**self.alpha)
        self.V.append(self.V[-1] / self.M**self.beta)
        self.C.append(self.C[-1] * self.M**self.gamma)


def _finish(levels, M, rates, theta, eps, rtol, converged, start):
    stats = [lv.stats() for lv in levels]
    estimate, xp = _estimate(levels)
    m = np.array([s[1] for s in stats])
    V = np.array([s[2] for s in stats])
    C = np.array([s[4] for s in stats])
    N = np.array([lv.N for lv in levels])
    fine = np.array([s[5] for s in stats])
    state = _State(stats, M, rates, theta)
    tol = eps + rtol * _norm(estimate, xp)
    single = (float(fine[-1] * C[-1] / ((1 - theta) * tol * tol)) if np.isfinite(fine[-1]) else math.nan)
    return estimate, MLMCInfo(
        levels=len(levels), N_l=N, mean_l=m, var_l=V, cost_l=C, alpha_hat=_fit_rate(m, M, -1),
        beta_hat=_fit_rate(V, M, -1), gamma_hat=_fit_rate(C, M, 1), bias_hat=state.bias() if theta > 0 else 0.0,
        variance=float(np.sum(V / N)), eps=tol, total_cost=float(np.sum(N * C)), converged=converged,
        var_fine_l=fine if np.isfinite(fine).any() else None, single_level_cost=single,
        var_entries=sum(s[3] for s in stats), seconds=time.perf_counter() - start,
        level_means=[s[0] for s in stats])
