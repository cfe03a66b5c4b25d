"""Trace and diagonal estimators: exact cases, unbiasedness, honest error estimates, operators, bad input."""

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg as spl

from lowrank_la.psd import DiagonalEstimate, TraceEstimate, hutchinson, hutchpp, xdiag, xnystrace, xtrace

from ._problems import low_rank_psd, with_spectrum

TRACE = {"hutchinson": hutchinson, "hutchpp": hutchpp, "xtrace": xtrace, "xnystrace": xnystrace}


def test_rademacher_hutchinson_is_exact_on_a_diagonal_matrix():
    res = hutchinson(np.diag(np.arange(1.0, 51.0)), 8, rng=0)
    assert res == TraceEstimate(1275.0, 0.0, 8)


@pytest.mark.parametrize("name", ["hutchpp", "xtrace", "xnystrace"])
def test_exact_low_rank_gives_the_exact_trace(name):
    A = low_rank_psd(200, 5, seed=1)
    res = TRACE[name](A, 36, rng=0)  # rank 5 < every low-rank part (12, 18 or 36 vectors)
    assert abs(res.estimate - np.trace(A)) < 1e-10 * np.trace(A)
    assert res.error_estimate < 1e-8 * np.trace(A)
    assert res.n_matvecs <= 36


def test_xdiag_exact_on_low_rank_and_keeps_float32():
    A = low_rank_psd(150, 4, seed=2)
    res = xdiag(A, 20, rng=0)
    np.testing.assert_allclose(res.estimate, np.diag(A), rtol=1e-9)
    assert isinstance(res, DiagonalEstimate) and res.n_matvecs == 20
    res32 = xdiag(A.astype(np.float32), 20, rng=0)
    assert res32.estimate.dtype == np.float32 and res32.error_estimate.dtype == np.float32
    np.testing.assert_allclose(res32.estimate, np.diag(A), rtol=1e-3)


def _recording(A):
    """``A`` as a LinearOperator that keeps the first block it is multiplied with (the test vectors)."""
    seen = []

    def matmat(X):
        seen.append(np.array(X))
        return A @ X

    return spl.LinearOperator(A.shape, matvec=matmat, matmat=matmat, rmatmat=matmat, dtype=A.dtype), seen


def _orth(X):
    return np.linalg.qr(X)[0]


@pytest.mark.parametrize("distribution", ["rademacher", "sphere"])
def test_xtrace_and_xnystrace_are_the_mean_of_their_leave_one_out_estimates(distribution):
    # the definitions of Epperly, Tropp and Webber computed directly, one leave-one-out estimate at a time;
    # "sphere" rescales the residual term to ||w_i||^2 = n - m + 1 orthogonal to the other vectors' span
    A, _ = with_spectrum(1.0 / np.arange(1, 61), seed=4)
    n, I = A.shape[0], np.eye(A.shape[0])
    op, seen = _recording(A)
    est = xtrace(op, 20, distribution=distribution, rng=5).estimate
    Om, m = seen[0], seen[0].shape[1]
    ts = []
    for i in range(m):
        Qi, w = _orth(A @ np.delete(Om, i, axis=1)), Om[:, i]
        Pw = w - Qi @ (Qi.T @ w)
        scale = (n - m + 1) / (Pw @ Pw) if distribution == "sphere" else 1.0
        ts.append(np.trace(Qi.T @ A @ Qi) + scale * Pw @ A @ Pw)
    assert est == pytest.approx(np.mean(ts), rel=1e-10)

    op, seen = _recording(A)
    est = xnystrace(op, 10, distribution=distribution, rng=6).estimate
    Om, m = seen[0], seen[0].shape[1]
    ts = []
    for i in range(m):
        Oi, w = np.delete(Om, i, axis=1), Om[:, i]
        Ahat = A @ Oi @ np.linalg.solve(Oi.T @ A @ Oi, Oi.T @ A)
        Po = I - _orth(Oi) @ _orth(Oi).T
        scale = (n - m + 1) / (w @ Po @ w) if distribution == "sphere" else 1.0
        ts.append(np.trace(Ahat) + scale * w @ (A - Ahat) @ w)
    assert est == pytest.approx(np.mean(ts), rel=1e-10)


# 300 seeds on a 120 x 120 matrix with a slowly decaying spectrum: the mean error over the seeds must be within
# 4 standard errors of zero (unbiased); |error| <= 2 error_estimate must hold for at least 75% of the seeds
# (measured 88-94% for hutchinson, hutchpp, xtrace; 80% for xnystrace, whose estimate is the least conservative)
@pytest.mark.parametrize("name", ["hutchinson", "hutchpp", "xtrace", "xnystrace"])
def test_unbiased_with_honest_error_estimates(name):
    lam = 1.0 / np.arange(1, 121)
    A, _ = with_spectrum(lam, seed=3)
    errs, covered = [], []
    for seed in range(300):
        res = TRACE[name](A, 18, rng=seed)
        errs.append(res.estimate - lam.sum())
        covered.append(abs(res.estimate - lam.sum()) <= 2 * res.error_estimate)
    errs = np.array(errs)
    assert abs(errs.mean()) <= 4 * errs.std() / np.sqrt(errs.size)
    assert np.mean(covered) >= 0.75


def test_variance_reduction_ordering_on_a_decaying_spectrum():
    # relative RMS error over 100 seeds with 60 matvecs on 1/j^2 (measured: Hutchinson 0.11, Hutch++ 1.9e-3,
    # XTrace 9.7e-4, XNysTrace 8.1e-4 at n = 500)
    lam = 1.0 / np.arange(1, 301) ** 2
    A, _ = with_spectrum(lam, seed=4)
    rms = {name: np.sqrt(np.mean([(f(A, 60, rng=s).estimate - lam.sum()) ** 2 for s in range(100)])) / lam.sum()
           for name, f in TRACE.items()}
    assert rms["hutchpp"] < rms["hutchinson"] / 10
    assert rms["xtrace"] <= rms["hutchpp"] and rms["xnystrace"] <= rms["hutchpp"]


def test_unsymmetric_matrices():
    gen = np.random.default_rng(5)
    A = gen.standard_normal((100, 4)) @ gen.standard_normal((4, 100))  # rank 4, not symmetric
    for f in (hutchpp, xtrace):
        assert abs(f(A, 30, rng=0).estimate - np.trace(A)) < 1e-9 * np.abs(A).sum()
    np.testing.assert_allclose(xdiag(A, 20, rng=0).estimate, np.diag(A), atol=1e-9 * np.abs(A).max())
    B = gen.standard_normal((80, 80))
    diag = np.mean([xdiag(B, 40, rng=s).estimate for s in range(200)], axis=0)
    # unbiased entrywise: the mean over 200 seeds is within 4 standard errors per entry (the error estimate's
    # own spread stands in for the standard error)
    spread = np.std([xdiag(B, 40, rng=s).estimate for s in range(200)], axis=0) / np.sqrt(200)
    assert np.all(np.abs(diag - np.diag(B)) <= 5 * spread)


def test_trace_of_a_matrix_function_through_a_matvec():
    A, _ = with_spectrum(-np.linspace(0.0, 8.0, 200), seed=6)
    op = spl.LinearOperator(A.shape, matvec=lambda x: spl.expm_multiply(A, x), dtype=np.float64)
    exact = np.trace(scipy.linalg.expm(A))
    res = xtrace(op, 80, rng=0)
    assert abs(res.estimate - exact) <= 4 * res.error_estimate + 1e-10 * exact
    assert abs(res.estimate - exact) < 0.05 * exact


def test_inputs_agree_untouched_and_seeded():
    A = low_rank_psd(60, 8, seed=7) + np.eye(60)
    kept = A.copy()
    for name, f in TRACE.items():
        ref = f(A, 12, rng=3)
        assert f(A, 12, rng=3) == ref
        for M in (sp.csr_matrix(A), spl.aslinearoperator(A), A.tolist()):
            assert abs(f(M, 12, rng=3).estimate - ref.estimate) < 1e-10 * abs(ref.estimate), name
    np.testing.assert_array_equal(A, kept)


def test_scale_invariance():
    A = low_rank_psd(40, 3, seed=8) + 0.1 * np.eye(40)
    for name, f in TRACE.items():
        ref = f(A, 12, rng=0)
        for c in (2.0 ** -1030, 1e-300, 1e300):
            got = f(A * c, 12, rng=0)
            assert abs(got.estimate / c - ref.estimate) <= 1e-8 * abs(ref.estimate), (name, c)
            assert abs(got.error_estimate / c - ref.error_estimate) <= 1e-6 * abs(ref.estimate), (name, c)


def test_array_api_strict():
    xp = pytest.importorskip("array_api_strict")
    A = low_rank_psd(50, 3, seed=9)
    for f in (hutchpp, xtrace, xnystrace):
        assert abs(f(xp.asarray(A), 12, rng=0).estimate - np.trace(A)) < 1e-9 * np.trace(A)
    res = xdiag(xp.asarray(A), 12, rng=0)
    np.testing.assert_allclose(np.asarray(res.estimate), np.diag(A), rtol=1e-8)


def test_bad_input_is_refused_by_name():
    A = low_rank_psd(20, 3, seed=10)
    with pytest.raises(ValueError, match="A must be square"):
        hutchinson(np.ones((3, 4)), 4)
    with pytest.raises(ValueError, match="n_matvecs=5"):
        hutchpp(A, 5)
    with pytest.raises(ValueError, match="n_matvecs=3"):
        xtrace(A, 3)
    with pytest.raises(ValueError, match="n_matvecs"):
        xtrace(A, 50)  # 25 test vectors > n = 20
    with pytest.raises(ValueError, match="distribution"):
        hutchinson(A, 4, distribution="cauchy")
    with pytest.raises(ValueError, match="A must be positive semidefinite"):
        xnystrace(-A - np.eye(20), 6)
    with pytest.raises(ValueError, match="A must be symmetric"):
        xnystrace(A + np.triu(A, 1), 6)
    with pytest.raises(TypeError, match="rng"):
        xdiag(A, 6, random_state=1)
