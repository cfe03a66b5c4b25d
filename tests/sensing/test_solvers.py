"""Sensing solvers: known answers, limits between the methods, invariances, divergence, bad input."""

import warnings

import hypothesis
import hypothesis.strategies as st
import numpy as np
import pytest

from lowrank_la import ConvergenceWarning, SolverResult
from lowrank_la.sensing import (
    GaussianSensing,
    SamplingOperator,
    gd,
    precgd,
    scaled_gd,
    scaled_gd_lambda,
    subgradient_l1,
)
from lowrank_la.sensing._problem import Problem


def psd_problem(n=30, rank=2, kappa=1.0, m_factor=10, seed=0, symmetric=True):
    """M = U diag(linspace(1, 1/kappa, rank)) U^T with Haar U; m = m_factor n rank Gaussian measurements."""
    gen = np.random.default_rng(seed)
    U = np.linalg.qr(gen.standard_normal((n, rank)))[0]
    M = (U * np.linspace(1.0, 1.0 / kappa, rank)) @ U.T
    op = GaussianSensing(n, m_factor * n * rank, symmetric=symmetric, rng=seed + 1000)
    return op, op.forward(M), M


def rel_err(X, M):
    return np.linalg.norm(X @ X.T - M) / np.linalg.norm(M)


def quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return func(*args, **kwargs)


# ------------------------------------------------------------------ the gradient

def test_gradient_matches_finite_differences():
    op, y, _ = psd_problem(n=8, rank=2, m_factor=6, seed=1)
    problem = Problem(op, y, 3)
    gen = np.random.default_rng(2)
    X, D = gen.standard_normal((8, 3)), gen.standard_normal((8, 3))

    def f(X):
        return 0.25 * np.sum((op.forward(X @ X.T) - y) ** 2)

    grad = problem.adjoint(op.forward(X @ X.T) - y) @ X
    h = 1e-6
    fd = (f(X + h * D) - f(X - h * D)) / (2 * h)
    assert abs(fd - np.sum(grad * D)) <= 1e-6 * abs(fd)


def test_asymmetric_gradient_matches_finite_differences():
    op = GaussianSensing((7, 5), 60, symmetric=False, rng=0)
    gen = np.random.default_rng(1)
    y = gen.standard_normal(60)
    L, R, DL, DR = (gen.standard_normal(s) for s in [(7, 2), (5, 2), (7, 2), (5, 2)])
    problem = Problem(op, y, 2, psd=False)

    def f(L, R):
        return 0.5 * np.sum((op.forward(L @ R.T) - y) ** 2)

    G = problem.adjoint(op.forward(L @ R.T) - y)
    h = 1e-6
    fd = (f(L + h * DL, R + h * DR) - f(L - h * DL, R - h * DR)) / (2 * h)
    assert abs(fd - np.sum((G @ R) * DL) - np.sum((G.T @ L) * DR)) <= 1e-6 * abs(fd)


# ------------------------------------------------------------------ known answers

def test_well_conditioned_recovery_for_19_of_20_seeds():
    # spec section 7: kappa = 1, r = r* = 2, n = 30, m = 10 n r*: error <= 1e-10 within 500 iterations
    wins = 0
    for seed in range(20):
        op, y, M = psd_problem(seed=seed)
        res = quiet(scaled_gd_lambda, op, y, 2, n_iter=500, truth=M, rng=seed)
        wins += min(res.history["error"]) <= 1e-10
    assert wins >= 19


def test_result_fields():
    op, y, M = psd_problem(seed=3)
    res = scaled_gd_lambda(op, y, 2, truth=M, rng=0)
    assert isinstance(res, SolverResult)
    assert res.converged and not res.diverged
    assert res.X.shape == (30, 2)
    assert len(res.history["residual"]) == len(res.history["error"]) == res.n_iter + 1
    assert res.history["residual"][-1] <= 1e-12 and res.history["error"][-1] < 1e-10
    assert res.lam > 0 and res.alpha == pytest.approx(10 * np.finfo(float).eps)
    assert res.lam == res.history["lam"][-1] and len(res.history["lam"]) == res.n_iter


def test_overparameterized_error_is_set_by_the_initialization_scale():
    # r = 2 r*, kappa = 10, a fixed lam = 0.1 sigma_1: the error stalls at a level set by alpha; a tiny alpha
    # reaches 1e-9 within 1000 iterations (spec section 7), alpha = 1e-3 stalls orders of magnitude higher
    op, y, M = psd_problem(kappa=10, seed=0)
    small = quiet(scaled_gd_lambda, op, y, 4, lam=0.1, alpha=1e-12, n_iter=1000, truth=M, rng=1)
    large = quiet(scaled_gd_lambda, op, y, 4, lam=0.1, alpha=1e-3, n_iter=1000, truth=M, rng=1)
    assert min(small.history["error"]) <= 1e-9
    assert min(large.history["error"]) > 100 * min(small.history["error"])
    assert min(large.history["error"]) < 1e-2


def test_scaled_gd_exact_rank_is_insensitive_to_kappa_where_gd_is_not():
    # Tong, Ma, Chi: ScaledGD's rate does not depend on kappa; GD's step eta / sigma_1 makes it ~kappa slower
    counts = {}
    for kappa in (1, 20):
        op, y, M = psd_problem(n=20, rank=2, kappa=kappa, m_factor=10, seed=5, symmetric=False)
        res_s = scaled_gd(op, y, 2, tol=1e-10)
        res_g = quiet(gd, op, y, 2, asymmetric=True, tol=1e-10, n_iter=3000)
        assert res_s.converged and np.linalg.norm(res_s.L @ res_s.R.T - M) < 1e-8
        counts[kappa] = (res_s.n_iter, res_g.n_iter)
    assert counts[20][0] <= 2 * counts[1][0]
    assert counts[20][1] >= 5 * counts[1][1]


def test_scaled_gd_recovers_a_rectangular_matrix():
    gen = np.random.default_rng(0)
    M = gen.standard_normal((12, 2)) @ gen.standard_normal((2, 9))
    op = GaussianSensing((12, 9), 300, symmetric=False, rng=1)
    res = scaled_gd(op, op.forward(M), 2)
    assert res.converged and np.linalg.norm(res.L @ res.R.T - M) < 1e-10 * np.linalg.norm(M)


def test_precgd_overparameterized_from_spectral_init():
    op, y, M = psd_problem(kappa=10, m_factor=10, seed=2)
    res = precgd(op, y, 4, truth=M, n_iter=500)
    assert res.converged and res.history["error"][-1] < 1e-9
    assert res.history["lam"][-1] < 1e-9 < res.history["lam"][0]  # the damping fades with the residual


def test_completion_through_the_sampling_operator():
    gen = np.random.default_rng(0)
    n, k = 40, 2
    M = np.linalg.qr(gen.standard_normal((n, k)))[0] @ np.diag([1.0, 0.5]) @ np.linalg.qr(
        gen.standard_normal((n, k)))[0].T
    lin = gen.choice(n * n, n * n // 2, replace=False)
    op = SamplingOperator(*np.divmod(lin, n), n)
    res = scaled_gd(op, op.forward(M), k, n_iter=500, tol=1e-10)
    assert res.converged and np.linalg.norm(res.L @ res.R.T - M) < 1e-8 * np.linalg.norm(M)


def test_subgradient_l1_is_robust_to_gross_outliers_where_l2_fails():
    op, y, M = psd_problem(n=20, rank=2, m_factor=20, seed=4)
    gen = np.random.default_rng(5)
    bad = gen.choice(y.shape[0], y.shape[0] // 5, replace=False)  # 20% outliers, 10 ||M|| in size
    y = y.copy()
    y[bad] += 10 * np.linalg.norm(M) * gen.standard_normal(bad.shape[0])
    robust = subgradient_l1(op, y, 2, truth=M, rng=1)
    l2 = quiet(scaled_gd_lambda, op, y, 2, n_iter=300, truth=M, rng=1)
    assert robust.converged and robust.history["error"][-1] < 1e-9
    assert min(l2.history["error"]) > 0.1
    assert robust.history["l1"][-1] < robust.history["l1"][0]


def _stalling_problem():
    """8 x 8, rank 2, 150 Gaussian measurements: from rng=0 the default schedule (decay 0.95) runs its step down to
    tol about 0.21 away from the solution (in 1 of 30 such problems)."""
    from lowrank_la.sensing import GaussianSensing

    L = np.random.default_rng(6).standard_normal((8, 2))
    M = L @ L.T
    return GaussianSensing(8, 150, rng=0), M


def test_subgradient_l1_restarts_a_schedule_that_ran_out_before_the_minimiser():
    op, M = _stalling_problem()
    res = subgradient_l1(op, op.forward(M), 2, n_iter=2000, truth=M, rng=0)
    assert res.restarts == 1 and res.converged
    assert res.history["error"][-1] < 1e-10
    # the schedule's first run-down: still 0.2 from M where the step fell below tol (iteration 539)
    assert res.history["error"][539] > 0.1


def test_subgradient_l1_reports_a_stall_it_cannot_restart(monkeypatch):
    from lowrank_la.sensing import _solvers

    monkeypatch.setattr(_solvers, "SUBGRADIENT_RESTARTS", 0)
    op, M = _stalling_problem()
    with pytest.warns(ConvergenceWarning, match="stalled short of a minimiser"):
        res = subgradient_l1(op, op.forward(M), 2, n_iter=2000, truth=M, rng=0)
    assert not res.converged and res.restarts == 0 and res.history["error"][-1] > 0.1


# ------------------------------------------------------------------ limits and invariances

def _start(n=30, r=2, scale=1e-2, seed=9):
    return scale * np.random.default_rng(seed).standard_normal((n, r))


def test_lambda_to_zero_is_scaled_gd():
    op, y, M = psd_problem(kappa=5, seed=6)
    X0 = _start()
    a = quiet(scaled_gd_lambda, op, y, 2, lam=1e-13, x0=X0, n_iter=40, tol=1e-14)
    b = quiet(scaled_gd, op, y, 2, init=X0, asymmetric=False, n_iter=40, tol=1e-14)
    c = quiet(scaled_gd, op, y, 2, init=(X0, X0), n_iter=40, tol=1e-14)  # asymmetric factors stay equal
    M_a = a.X @ a.X.T
    assert np.linalg.norm(M_a - b.X @ b.X.T) <= 1e-8 * np.linalg.norm(M_a)
    assert np.linalg.norm(M_a - c.L @ c.R.T) <= 1e-8 * np.linalg.norm(M_a)


def test_lambda_to_infinity_with_rescaled_step_is_gd():
    op, y, M = psd_problem(kappa=5, seed=7)
    X0 = _start(scale=0.3)
    g = quiet(gd, op, y, 2, init=X0, n_iter=30, tol=1e-14)
    big = 1e9
    s = quiet(scaled_gd_lambda, op, y, 2, lam=big, eta=g.step * big, x0=X0, n_iter=30, tol=1e-14)
    assert np.linalg.norm(s.X - g.X) <= 1e-6 * np.linalg.norm(g.X)


def test_iterates_are_orthogonally_equivariant():
    op, y, M = psd_problem(kappa=10, seed=8)
    X0 = _start(r=4, scale=1e-3)
    O = np.linalg.qr(np.random.default_rng(1).standard_normal((4, 4)))[0]
    a = quiet(scaled_gd_lambda, op, y, 4, lam=0.05, x0=X0, n_iter=60)
    b = quiet(scaled_gd_lambda, op, y, 4, lam=0.05, x0=X0 @ O, n_iter=60)
    np.testing.assert_allclose(b.X, a.X @ O, atol=1e-9 * np.abs(a.X).max())


def test_loss_decreases_monotonically_with_a_small_step():
    op, y, M = psd_problem(kappa=10, seed=10)
    res = quiet(scaled_gd_lambda, op, y, 3, eta=0.1, n_iter=200, rng=0)
    r = np.array(res.history["residual"])
    assert np.all(np.diff(r) <= 1e-12 * r[:-1] + 1e-15)


# ------------------------------------------------------------------ conventions

def test_divergence_is_reported_not_returned_as_nan():
    op, y, M = psd_problem(seed=11)
    with pytest.warns(ConvergenceWarning, match="diverged"):
        res = gd(op, y, 2, eta=50.0, n_iter=200)
    assert not res.converged and res.diverged
    assert np.all(np.isfinite(res.X))


def test_iteration_limit_warns():
    op, y, M = psd_problem(kappa=10, seed=12)
    with pytest.warns(ConvergenceWarning, match="did not reach"):
        res = gd(op, y, 2, n_iter=5)
    assert not res.converged and res.n_iter == 5


def test_float32_stays_float32():
    op, y, M = psd_problem(seed=13)
    y32 = y.astype(np.float32)
    res = scaled_gd_lambda(op, y32, 2, rng=0, n_iter=300)
    assert res.X.dtype == np.float32
    assert res.converged and rel_err(res.X.astype(np.float64), M) < 1e-4
    res = quiet(scaled_gd, op, y32, 2, asymmetric=False)
    assert res.X.dtype == np.float32


def test_inputs_are_not_modified_and_seeds_repeat():
    op, y, M = psd_problem(seed=14)
    y0, X0 = y.copy(), _start()
    X0_copy = X0.copy()
    a = scaled_gd_lambda(op, y, 2, rng=3)
    b = scaled_gd_lambda(op, y, 2, rng=3)
    quiet(scaled_gd_lambda, op, y, 2, x0=X0, n_iter=5)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(X0, X0_copy)
    np.testing.assert_array_equal(a.X, b.X)


@pytest.mark.parametrize("solver, start", [(scaled_gd_lambda, "x0"), (scaled_gd, "init"), (gd, "init"),
                                           (precgd, "init"), (subgradient_l1, "x0")])
def test_every_solver_leaves_its_inputs_untouched(solver, start):
    op, y, M = psd_problem(n=12, rank=2, m_factor=10, seed=18)
    X0 = _start(n=12)
    kw = {start: X0, "asymmetric": False} if solver is scaled_gd else {start: X0}
    copies = y.copy(), X0.copy(), M.copy()
    res = quiet(solver, op, y, 2, n_iter=5, truth=M, rng=0, **kw)
    assert res.n_iter == 5
    for arg, copy in zip((y, X0, M), copies):
        np.testing.assert_array_equal(arg, copy)


def test_precondition_solve_matches_a_cholesky_solve():
    # the (r, r) solve runs in numpy.linalg (one BLAS library inside the loops); it must agree with scipy's posv
    scipy_linalg = pytest.importorskip("scipy.linalg")
    from lowrank_la._backend import array_namespace
    from lowrank_la.sensing._solvers import _precondition

    gen = np.random.default_rng(4)
    X, grad = gen.standard_normal((30, 4)), gen.standard_normal((30, 4))
    gram = X.T @ X
    for lam in (0.0, 0.3):
        ref = scipy_linalg.solve(gram + lam * np.eye(4), grad.T, assume_a="pos").T
        got = _precondition(grad, gram, lam, array_namespace(grad))
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
        assert _precondition(grad.astype(np.float32), gram.astype(np.float32), lam,
                             array_namespace(grad)).dtype == np.float32


def test_callback_sees_every_iteration_and_can_stop():
    op, y, M = psd_problem(seed=15)
    seen = []

    def callback(state):
        seen.append((state.iteration, state.residual, state.X.shape, hasattr(state, "error")))
        return state.iteration == 7

    res = scaled_gd_lambda(op, y, 2, callback=callback, rng=0)
    assert [s[0] for s in seen] == list(range(1, 8)) and res.n_iter == 7 and not res.converged
    assert "callback" in res.message
    assert not any(s[3] for s in seen)  # no truth, no error

    errors = []
    res = scaled_gd_lambda(op, y, 2, truth=M, callback=lambda state: errors.append(state.error), n_iter=20, rng=0)
    assert errors == res.history["error"][1:]  # the error the history records, after each iteration


def test_array_api_backends_agree_with_numpy(xp_dense_backend):
    op, y, M = psd_problem(seed=16)
    X0 = _start()
    ref = quiet(scaled_gd_lambda, op, y, 2, x0=X0, n_iter=30)
    got = quiet(scaled_gd_lambda, op, xp_dense_backend.asarray(y), 2, x0=xp_dense_backend.asarray(X0), n_iter=30)
    np.testing.assert_allclose(xp_dense_backend.tonumpy(got.X), ref.X, rtol=1e-8, atol=1e-10)
    ref = quiet(scaled_gd, op, y, 2, n_iter=10)
    got = quiet(scaled_gd, op, xp_dense_backend.asarray(y), 2, n_iter=10)
    np.testing.assert_allclose(xp_dense_backend.tonumpy(got.L @ got.R.T), ref.L @ ref.R.T, atol=1e-8)


@pytest.mark.parametrize("solver", [scaled_gd_lambda, scaled_gd, gd, precgd, subgradient_l1])
def test_bad_input_is_refused_with_its_name(solver):
    op, y, M = psd_problem(n=6, rank=1, m_factor=5, seed=0)
    with pytest.raises(ValueError, match="r=0 must satisfy 1 <= r"):
        solver(op, y, 0)
    with pytest.raises(ValueError, match="r=7 must satisfy"):
        solver(op, y, 7)
    with pytest.raises(ValueError, match="y has 29 entries but the operator takes 30"):
        solver(op, y[:-1], 1)
    y_nan = y.copy()
    y_nan[3] = np.nan
    with pytest.raises(ValueError, match="y must be finite"):
        solver(op, y_nan, 1)
    with pytest.raises(ValueError, match="eta=0.0 must satisfy 0 < eta"):
        solver(op, y, 1, eta=0.0)
    with pytest.raises(TypeError, match="op must be a lowrank_la.sensing operator"):
        solver(np.ones((30, 36)), y, 1)


def test_negative_lambda_and_non_square_psd_are_refused():
    op, y, M = psd_problem(n=6, rank=1, m_factor=5, seed=0)
    with pytest.raises(ValueError, match="lam=-1.0 must satisfy 0 <= lam"):
        scaled_gd_lambda(op, y, 1, lam=-1.0)
    with pytest.raises(ValueError, match="lam='big' must be one of 'auto'"):
        scaled_gd_lambda(op, y, 1, lam="big")
    rect = GaussianSensing((6, 5), 30, symmetric=False, rng=0)
    with pytest.raises(ValueError, match="square operator"):
        scaled_gd_lambda(rect, y, 1)
    with pytest.raises(ValueError, match="x0 must have shape"):
        scaled_gd_lambda(op, y, 1, x0=np.ones((6, 2)))
    with pytest.raises(ValueError, match="decay=1.5"):
        subgradient_l1(op, y, 1, decay=1.5)
    with pytest.raises(TypeError, match="x0 has complex dtype"):
        scaled_gd_lambda(op, y, 1, x0=np.ones((6, 1)) + 1j)
    with pytest.raises(ValueError, match="truth must be finite"):
        scaled_gd_lambda(op, y, 1, truth=np.full((6, 6), np.nan))
    with pytest.raises(TypeError, match="callback must be None or a callable"):
        scaled_gd_lambda(op, y, 1, callback=3)


@pytest.mark.parametrize("solver", [gd, precgd, subgradient_l1])
def test_other_solvers_run_on_array_api_backends(xp_dense_backend, solver):
    op, y, M = psd_problem(n=12, rank=2, m_factor=10, seed=17)
    ref = quiet(solver, op, y, 2, n_iter=15, rng=0)
    got = quiet(solver, op, xp_dense_backend.asarray(y), 2, n_iter=15, rng=0)
    X = xp_dense_backend.tonumpy(got.X)
    np.testing.assert_allclose(X @ X.T, ref.X @ ref.X.T, rtol=1e-7, atol=1e-9)


@hypothesis.settings(max_examples=30, deadline=None)
@hypothesis.given(r=st.integers(-3, 12), eta=st.one_of(st.floats(-2, 2), st.just(float("nan"))), lam=st.floats(-1, 1))
def test_fuzzed_arguments_are_refused_or_accepted_cleanly(r, eta, lam):
    op, y, M = psd_problem(n=6, rank=1, m_factor=5, seed=0)
    valid = 1 <= r <= 6 and np.isfinite(eta) and eta > 0 and lam >= 0
    if not valid:
        with pytest.raises(ValueError, match="r=|eta=|lam="):
            scaled_gd_lambda(op, y, r, eta=eta, lam=lam, n_iter=3)
        return
    res = quiet(scaled_gd_lambda, op, y, r, eta=eta, lam=lam, n_iter=3, rng=0)
    assert res.X.shape == (6, r) and np.all(np.isfinite(res.X))
