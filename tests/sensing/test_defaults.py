"""Issue 18 at a test's size: ScaledGD(lambda)'s defaults without an oracle, the noise stop, bad input."""

import math
import warnings

import numpy as np
import pytest

from lowrank_la import ConvergenceWarning, datasets
from lowrank_la.sensing import GaussianSensing, gd, precgd, scaled_gd, scaled_gd_lambda
from lowrank_la.sensing._problem import Problem


def problem(n=20, rank=2, kappa=1.0, seed=0, noise=0.0):
    """M = U diag(linspace(1, 1/kappa, rank)) U^T, m = 10 n rank Gaussian measurements, noise of std `noise`."""
    M = datasets.psd_low_rank(n, rank, condition_number=kappa, shape="linear", rng=seed)
    op = GaussianSensing(n, 10 * n * rank, rng=seed + 1)
    y = op.forward(M) + noise * np.random.default_rng(seed + 2).standard_normal(op.n_measurements)
    return op, y, M


def first_below(errors, level):
    hit = np.flatnonzero(np.asarray(errors) <= level)
    return int(hit[0]) if hit.size else None


def test_defaults_reach_1e_10_whatever_kappa_when_overparameterized():
    # r = 2 r*, defaults only: no stall, and the count does not grow with kappa (the paper's claim; a fixed
    # lam = 0.1 sigma_1, the former default, needed 9.5x more at kappa = 100 than at kappa = 1)
    counts = {}
    for kappa in (1.0, 100.0, 1e4):
        op, y, M = problem(kappa=kappa)
        res = scaled_gd_lambda(op, y, 4, truth=M, rng=3)
        assert res.converged and not res.diverged
        counts[kappa] = first_below(res.history["error"], 1e-10)
        assert counts[kappa] is not None, f"stalled at kappa={kappa}: {min(res.history['error']):.2e}"
        lam = np.asarray(res.history["lam"])
        assert np.allclose(lam, 0.3 * np.asarray(res.history["residual"][:-1]) * np.linalg.norm(y))
    assert max(counts.values()) <= 1.5 * counts[1.0]


def test_a_fixed_lambda_is_the_papers_rule_and_is_reported():
    op, y, M = problem(kappa=10.0)
    res = scaled_gd_lambda(op, y, 2, lam=0.05, truth=M, rng=3)
    assert res.lam == 0.05 and set(res.history["lam"]) == {0.05}
    assert res.converged and res.history["error"][-1] < 1e-10


def test_noise_stop_error_timing_and_estimate():
    sigma = 1e-3
    for kappa in (1.0, 100.0):
        op, y, M = problem(kappa=kappa, noise=sigma, seed=4)
        ls = scaled_gd(op, y, 2, asymmetric=False, truth=M, tol=1e-15, n_iter=3000)  # the rank-r* fit
        res = scaled_gd_lambda(op, y, 4, truth=M, rng=5)
        errors = np.asarray(res.history["error"])
        assert res.converged and "noise level" in res.message
        assert errors[-1] <= 1.5 * ls.history["error"][-1]
        assert res.n_iter <= 1.2 * first_below(errors, 1.1 * errors[-1])
        assert 0.8 * sigma <= res.noise_level <= 1.2 * sigma
    # noise below tol's reach in float64, noiseless: tol stops first and the noise estimate is tiny
    op, y, M = problem()
    res = scaled_gd_lambda(op, y, 4, rng=5)
    assert "tol=" in res.message and res.noise_level < 1e-12 * np.linalg.norm(y)


def test_noise_test_tells_noise_from_a_plateau():
    op, y0, M = problem(kappa=100.0, seed=6)
    w, U = np.linalg.eigh(M)
    X1 = U[:, -1:] * np.sqrt(w[-1])  # the large component fitted, the small one (1e-2) not yet grown
    pb = Problem(op, y0, 1)
    res, _ = pb.residual(X1 @ X1.T)
    assert not pb.at_noise(res, pb.adjoint(res), X1)
    # at the least-squares fit of noisy data the residual is noise
    op, y, M = problem(seed=6, noise=1e-2)
    fit = scaled_gd(op, y, 2, asymmetric=False, tol=1e-15, n_iter=500)
    pb = Problem(op, y, 2)
    res, _ = pb.residual(fit.X @ fit.X.T)
    assert pb.at_noise(res, pb.adjoint(res), fit.X)


@pytest.mark.parametrize("solver", [gd, precgd])
def test_exact_rank_solvers_stop_at_the_noise_level(solver):
    op, y, M = problem(kappa=10.0, noise=1e-2, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # no warning: the stop is a convergence
        res = solver(op, y, 2, truth=M, n_iter=3000)
    assert res.converged and "noise level" in res.message and res.n_iter < 3000
    assert 0.8e-2 <= res.noise_level <= 1.2e-2


@pytest.mark.parametrize("bad, error, match", [
    ({"r": 0}, ValueError, "r=0 must satisfy 1 <= r"), ({"r": 21}, ValueError, "r=21 must satisfy"),
    ({"lam": -0.5}, ValueError, "lam=-0.5 must satisfy 0 <= lam"), ({"lam": math.inf}, ValueError, "lam=inf"),
    ({"lam": math.nan}, ValueError, "lam=nan"), ({"eta": -1.0}, ValueError, "eta=-1.0 must satisfy 0 < eta"),
    ({"eta": math.inf}, ValueError, "eta=inf"), ({"alpha": 0.0}, ValueError, "alpha=0.0 must satisfy 0 < alpha"),
    ({"alpha": math.nan}, ValueError, "alpha=nan"), ({"y": "short"}, ValueError, "y has 399 entries"),
])
def test_bad_input_names_the_argument(bad, error, match):
    op, y, _ = problem()
    kw = {"r": 4, **bad}
    if kw.pop("y", None) == "short":
        y = y[:-1]
    with pytest.raises(error, match=match):
        scaled_gd_lambda(op, y, **kw)
