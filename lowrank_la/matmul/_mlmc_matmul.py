"""``mlmc_matmul``: multilevel Monte Carlo estimate of ``A @ B`` or of an entrywise function of it."""

from __future__ import annotations

import math
import sys
import warnings

import numpy as np

from .._backend import ConvergenceWarning, array_namespace
from .._validate import check_int, check_option, check_real, refuse_random_state
from ._common import ldexp_checked, max_exponent, outside_safe_range, scale_pow2
from ._levels import MatmulLevels
from ._mlmc import mlmc

__all__ = ["UnbiasedLevelsWarning", "mlmc_matmul"]

#: The default budget of :func:`mlmc_matmul` is this multiple of the cost ``m n p`` of the exact product.
DEFAULT_COST_FACTOR = 2


class UnbiasedLevelsWarning(UserWarning):
    """The levels are unbiased estimates of the same quantity, so a single level is used.

    Their corrections have mean zero, so multilevel Monte Carlo cannot beat one level.

    See Also
    --------
    mlmc_matmul : The estimator that issues it for ``f=None``.
    sampled_matmul : The single-level estimator to use for the product itself.
    """


@refuse_random_state
def mlmc_matmul(A, B, *, f=None, rtol=None, atol=None, max_cost=None, c0=8, M=2, L_max=None, sampler="norm",
                coupling="antithetic", n_pilot=100, callback=None, verbose=False, rng=None, return_info=False):
    """Estimate ``f(A @ B)`` (entrywise `f`) by multilevel Monte Carlo over column-row sampled products.

    Level ``l`` is ``P_l = f(C_l R_l)``, with ``C_l R_l`` a Drineas-Kannan-Mahoney estimate of ``A B`` from
    ``c_l = c0 M^l`` sampled column-row pairs (:class:`MatmulLevels`). For nonlinear smooth `f` the bias of
    ``P_l`` is ``O(1/c_l)`` and, with antithetic coupling, ``Var(P_l - P_{l-1}) = O(1/c_l^2)``; the adaptive
    driver :func:`mlmc` allocates samples per level and adds levels until the bias estimate is within
    tolerance. This is "MLMC in the spirit of Wu and Polydorides" (reading R1 of the spec), not their exact
    construction, whose text could not be checked.

    Parameters
    ----------
    A : (m, n) array
        Dense array of any array-API namespace, or a Dask array (only sampled columns are read); lists,
        tuples, DataFrames and ``numpy.matrix`` are converted to NumPy arrays. A stack ``(K, m, n)`` (with `B`
        ``(K, n, p)``) estimates ``mean_k f(A[k] @ B[k])`` (:class:`MatmulLevels`).
    B : (n, p) array
        As `A`.
    f : callable, optional
        Entrywise function of the product, vectorised over stacks ``(N, m, p)`` (e.g. ``numpy.tanh`` or
        ``lambda G: numpy.exp(G / 10)``: a dot-product kernel matrix). None estimates ``A @ B`` itself; then
        every level is unbiased, the corrections have mean zero, and an :class:`UnbiasedLevelsWarning` is
        issued and a single level is used (the design caveat of the spec).
    rtol, atol : float, optional
        Target root-mean-square error ``atol + rtol ||estimate||_F`` (Frobenius); both > 0 when given;
        ``rtol = 1e-2`` when neither is given.
    max_cost : float, optional
        Budget in multiply-adds (the cost model of :class:`MatmulLevels`); the run stops there with
        ``converged=False`` and a ``ConvergenceWarning``. Default: ``2 m n p``, twice the cost of the exact
        product (``2 K m n p`` for stacks): an estimate that costs more than computing ``f(A @ B)`` exactly is
        pointless. Pass ``math.inf`` for no budget (studies of the estimator itself).
    c0 : int
        Column-row pairs on level 0, ``c0 >= 1``.
    M : int
        Refinement factor, ``M >= 2``.
    L_max : int, optional
        Finest level; by default the largest L with ``c0 M^L <= n``.
    sampler : {"norm", "uniform"} or (n,) array
        Column-row probabilities (see :func:`sampled_matmul`).
    coupling : {"antithetic", "nested"}
        Coarse estimate of a correction: the mean of `f` over the M sub-blocks, or `f` of the first sub-block.
    n_pilot : int
        Pilot samples per level, ``>= 2``.
    callback : callable, optional
        Progress: ``callback(progress)`` after every round of sampling (see :func:`mlmc`); returning True stops.
    verbose : bool
        Show the progress: a tqdm bar over the budget where tqdm is installed, else one line per round on
        standard error.
    rng : None, int or numpy.random.Generator
        Same seed, same bits.
    return_info : bool
        Also return the :class:`MLMCInfo` (per-level ``N_l``, means, variances, costs, fitted alpha, beta,
        gamma, bias estimate, total cost, the cost single-level MC would need, and the per-entry variance).

    Returns
    -------
    F : (m, p) array
        The estimate, in the inputs' namespace and working dtype (accumulated in float64).
    info : MLMCInfo
        Only with ``return_info=True``.

    Raises
    ------
    ValueError
        If the inner dimensions disagree, one of `A` and `B` is 3-D and the other not, a tolerance is <= 0,
        `c0`, `M`, `n_pilot`, `L_max` or `max_cost` is out of range, `sampler` is invalid, an input holds NaN
        or Inf, `f` of a sampled product is not finite, or (``return_info=True``, ``f = None``) the variances
        of an extreme-scale product are outside float64.
    TypeError
        If an input is sparse, complex or not an array, or `f` or `callback` is not callable.

    Warns
    -----
    ConvergenceWarning
        The budget `max_cost` or ``L_max`` was reached before the error target (``info.converged`` is False
        and ``info.message`` says which).

    See Also
    --------
    sampled_matmul : The single-level estimator at each level.
    MatmulLevels : The coupled level sampler it builds.
    mlmc : The adaptive multilevel driver it runs.
    UnbiasedLevelsWarning : Issued when `f` is None and a single level is used.

    Notes
    -----
    Cost: ``sum_l N_l c_l (m p + m + p)`` multiply-adds plus the evaluations of `f`, and one pass over A and B
    for the norm probabilities. With ``alpha = 1``, ``beta = 2``, ``gamma = 1`` the MLMC cost is
    ``O(eps^-2)``. Note that plain Monte Carlo on one level ``L`` also costs ``O(eps^-2)`` for a fixed product,
    because ``Var(P_L) ~ 1/c_L`` itself decays: the multilevel gain is then a constant factor, not a rate (see
    the reproduction ``mlmc-matmul``). For ``f = None`` the sampled columns and rows are rescaled by powers of two
    (exact) when A and B are extreme enough for the squared samples to overflow or underflow, and the estimate
    scaled back: ``mlmc_matmul(c A, B) = c mlmc_matmul(A, B)`` (with ``atol`` scaled by c).

    References
    ----------
    .. [1] Y. Wu, N. Polydorides, "A multilevel Monte Carlo estimator for matrix multiplication",
       arXiv:1904.00429, 2019.
    .. [2] M. B. Giles, "Multilevel Monte Carlo methods", Acta Numerica 24, 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.matmul import mlmc_matmul
    >>> gen = np.random.default_rng(0)
    >>> A = gen.standard_normal((4, 4000)) / 40
    >>> F, info = mlmc_matmul(A, A.T, f=np.tanh, atol=2e-2, rng=0, return_info=True, max_cost=np.inf)
    >>> bool(np.linalg.norm(F - np.tanh(A @ A.T)) < 3 * 2e-2), info.converged
    (True, True)

    Within the default budget (twice the exact product's cost) this target is out of reach, and it says so:

    >>> import warnings
    >>> with warnings.catch_warnings(record=True):
    ...     warnings.simplefilter("always")
    ...     F, info = mlmc_matmul(A, A.T, f=np.tanh, atol=2e-3, rng=0, return_info=True)
    >>> info.converged, bool(info.total_cost <= 2.1 * 4 * 4000 * 4)
    (False, True)
    """
    levels = MatmulLevels(A, B, f=f, c0=c0, M=M, sampler=sampler, coupling=coupling)
    if rtol is None and atol is None:
        rtol = 1e-2
    rtol = 0.0 if rtol is None else check_real(rtol, "rtol", low=0, low_inclusive=False)
    atol = 0.0 if atol is None else check_real(atol, "atol", low=0, low_inclusive=False)
    L_max = levels.default_L_max if L_max is None else check_int(L_max, "L_max", low=0)
    n_pilot = check_int(n_pilot, "n_pilot", low=2)
    check_option(return_info, "return_info", (False, True))
    check_option(verbose, "verbose", (False, True))
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be None or a callable, got {type(callback).__name__}")
    if max_cost is None:
        max_cost = DEFAULT_COST_FACTOR * levels.exact_cost
    if f is None:
        warnings.warn("mlmc_matmul with f=None: every level is an unbiased estimate of A @ B, so the multilevel "
                      "corrections have mean zero and cannot beat one level; using single-level Monte Carlo "
                      "with c0 pairs per sample (pass a nonlinear f for a multilevel hierarchy)",
                      UnbiasedLevelsWarning, stacklevel=3)
        options = {"L_min": 0, "L_max": 0, "theta": 0.0}
        levels.shift = _shift(levels.ops)
    else:
        options = {"L_min": min(2, L_max), "L_max": L_max}
    e = sum(levels.shift)
    report, bar = _reporter(verbose, callback, max_cost, e)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            estimate, info = mlmc(levels, math.ldexp(atol, -e), rtol=rtol, M=M, n_pilot=n_pilot, max_cost=max_cost,
                                  callback=report, rng=rng, **options)
    finally:
        if bar is not None:
            bar.close()
    default_budget = max_cost == DEFAULT_COST_FACTOR * levels.exact_cost
    if not info.converged and info.message.startswith("max_cost") and default_budget:
        info.message += (f" (the default budget, {DEFAULT_COST_FACTOR} x the {levels.exact_cost:.3g} multiply-adds "
                         "of the exact product: an estimate costing more than computing f(A @ B) exactly is "
                         "pointless; pass max_cost=math.inf to go on)")
    for w in caught:  # re-issued at the caller, the budget's warning with the explanation
        text = f"mlmc_matmul: {info.message}" if issubclass(w.category, ConvergenceWarning) else w.message
        warnings.warn(text, w.category, stacklevel=3)
    xp = levels.ops.xp
    estimate = xp.astype(estimate, levels.ops.dtype)
    if e:
        estimate = scale_pow2(estimate, e)
        if not bool(xp.all(xp.isfinite(estimate))):
            raise ValueError("the estimate of A @ B overflows the float range of its dtype")
        if return_info:
            _rescale_info(info, e)
    return (estimate, info) if return_info else estimate


def _shift(ops):
    """``(ea, eb)``: powers of two that bring extreme A and B near one, for ``f = None`` (else ``(0, 0)``)."""
    if ops.dask:
        import dask

        amax = dask.compute(abs(ops.A).max(), abs(ops.B).max())
        ea, eb = (max_exponent(np.asarray(a), np) for a in amax)
    else:
        ea, eb = max_exponent(ops.A, ops.xp), max_exponent(ops.B, ops.xp)
    return (ea, eb) if outside_safe_range(abs(ea) + abs(eb), ops.dtype) else (0, 0)


def _rescale_info(info, e):
    """Express the diagnostics of a run on ``2^-e A B`` in the units of ``A B`` (``ValueError`` where they do not
    fit in float64)."""
    what = "the variances reported in MLMCInfo (return_info=True)"
    info.variance = ldexp_checked(info.variance, 2 * e, what)
    info.eps, info.bias_hat = ldexp_checked(info.eps, e, what), ldexp_checked(info.bias_hat, e, what)
    info.mean_l, info.var_l = _scaled(info.mean_l, e, what), _scaled(info.var_l, 2 * e, what)
    info.var_entries = _scaled(info.var_entries, 2 * e, what)
    if info.var_fine_l is not None:
        info.var_fine_l = _scaled(info.var_fine_l, 2 * e, what)
    info.level_means = [_scaled(v, e, what) for v in info.level_means]


def _scaled(x, e, what):
    xp = array_namespace(x)
    out = scale_pow2(x, e)
    if not bool(xp.all(xp.isfinite(out))) or bool(xp.any((x != 0) & (out == 0))):
        raise ValueError(f"{what} are outside the float64 range at this scale of A and B; pass return_info=False "
                         "or rescale A or B")
    return out


def _reporter(verbose, callback, max_cost, e):
    """The callback handed to :func:`mlmc`: the user's, in the units of ``A B``, and the progress display."""
    if not verbose and callback is None:
        return None, None
    bar = None
    if verbose:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None:
            bar = tqdm(total=max_cost if math.isfinite(max_cost) else None, unit="madd", unit_scale=True,
                       desc="mlmc_matmul")

    def report(progress):
        progress.eps = _ldexp_or_inf(progress.eps, e)
        progress.variance = _ldexp_or_inf(progress.variance, 2 * e)
        if bar is not None:
            bar.update(progress.total_cost - bar.n)
            bar.set_postfix(levels=progress.levels, rmse=f"{math.sqrt(progress.variance):.3g}",
                            target=f"{progress.eps:.3g}")
        elif verbose:
            print(f"mlmc_matmul round {progress.round}: {progress.levels} levels, N_l = {progress.N_l.tolist()}, "
                  f"cost {progress.total_cost:.3g} of {progress.max_cost:.3g}, sampling RMSE "
                  f"{math.sqrt(progress.variance):.3g} (target {progress.eps:.3g})", file=sys.stderr)
        return callback(progress) if callback is not None else None

    return report, bar


def _ldexp_or_inf(value, e):
    try:
        return math.ldexp(value, e)
    except OverflowError:
        return math.inf
