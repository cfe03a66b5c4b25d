"""Randomly pivoted Cholesky and its baselines: exact recovery, entry counts, kernels, the variants, bad input."""

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spl

from lowrank_la.psd import KernelMatrix, RPCholeskyResult, rpcholesky

from ._problems import low_rank_psd


def rbf(X, Y):
    return np.exp(-((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1) / 2)


VARIANTS = [("rp", 1, True), ("rp", 5, True), ("rp", 5, False), ("greedy", 1, True), ("greedy", 4, True),
            ("uniform", "auto", True)]


@pytest.mark.parametrize("method, block_size, accelerated", VARIANTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exact_low_rank_is_recovered_and_stops_at_the_rank(method, block_size, accelerated, dtype):
    A = low_rank_psd(120, 6, seed=1).astype(dtype)
    res = rpcholesky(A, 20, method=method, block_size=block_size, accelerated=accelerated, rng=0)
    assert isinstance(res, RPCholeskyResult) and res.F.dtype == dtype
    assert res.F.shape == (120, 6) and res.pivots.shape == (6,) and len(set(res.pivots)) == 6
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(res.F @ res.F.T, A, atol=tol * np.abs(A).max())
    assert res.residual_trace <= tol * res.trace
    np.testing.assert_allclose(np.triu(res.F[res.pivots], 1), 0.0, atol=tol * np.abs(res.F).max())


def test_residual_trace_is_the_trace_norm_error_and_entries_are_counted():
    X = np.random.default_rng(2).standard_normal((300, 3))
    K = rbf(X, X)
    res = rpcholesky(K, 25, block_size=1, rng=0)
    R = K - res.F @ res.F.T
    assert np.linalg.eigvalsh(R)[0] > -1e-10  # the residual stays PSD
    np.testing.assert_allclose(res.residual_trace, np.trace(R), rtol=1e-8, atol=1e-12)
    assert res.trace == pytest.approx(np.trace(K))
    assert res.n_entries == 300 * 26  # the diagonal and one column per pivot


def test_kernel_function_matrix_and_kernel_matrix_agree_without_forming_it():
    X = np.random.default_rng(3).standard_normal((400, 2))
    calls = []

    def kernel(P, Q):
        calls.append(P.shape[0] * Q.shape[0])
        return rbf(P, Q)

    res = rpcholesky(kernel, 30, points=X, rng=7)
    assert max(calls) < 400 * 400  # no call evaluates the whole matrix
    for A in (rbf(X, X), KernelMatrix(rbf, X, diag=lambda P: np.ones(len(P)))):
        other = rpcholesky(A, 30, rng=7)
        np.testing.assert_array_equal(other.pivots, res.pivots)
        np.testing.assert_allclose(other.F, res.F, atol=1e-12)
    res_sparse = rpcholesky(sp.csr_matrix(rbf(X, X)), 30, rng=7)
    np.testing.assert_array_equal(res_sparse.pivots, res.pivots)


def test_kernel_matrix_is_a_linear_operator():
    X = np.random.default_rng(4).standard_normal((90, 2))
    K = KernelMatrix(rbf, X, block_rows=16)
    V = np.random.default_rng(5).standard_normal((90, 3))
    np.testing.assert_allclose(K @ V, rbf(X, X) @ V, rtol=1e-12)
    np.testing.assert_allclose(K.diagonal(), np.ones(90))
    np.testing.assert_allclose(K.rmatmat(V[:, 0]), rbf(X, X) @ V[:, 0], rtol=1e-12)
    with pytest.raises(ValueError, match="V.shape"):
        K @ np.ones((89, 2))
    with pytest.raises(ValueError, match="idx"):
        K.columns([90])


def test_rp_beats_uniform_with_outliers_and_greedy_with_clusters():
    # mean trace-norm error over 5 seeds (measured: outliers, k = 100, rp 27 vs uniform 49 (at k < 60, below the
    # outliers' share, uniform is ahead); clusters, k = 60, rp 5.6e2 vs greedy 1.2e3)
    gen = np.random.default_rng(0)
    X = 0.5 * gen.standard_normal((800, 20)) / np.sqrt(20)
    X[gen.choice(800, 40, replace=False)] += 100 * gen.standard_normal((40, 20))
    err = {m: np.mean([rpcholesky(rbf, 100, points=X, method=m, rng=s).residual_trace for s in range(5)])
           for m in ("rp", "uniform")}
    assert err["rp"] < err["uniform"] / 1.5
    big = 3 * gen.standard_normal((800, 2))
    tiny = np.repeat(gen.uniform(-200, 200, (40, 2)), 3, axis=0) + 0.05 * gen.standard_normal((120, 2))
    X = np.vstack([big, tiny])
    err = {m: np.mean([rpcholesky(rbf, 60, points=X, method=m, rng=s).residual_trace for s in range(5)])
           for m in ("rp", "greedy")}
    assert err["rp"] < err["greedy"] / 1.5


def test_tol_stops_early_and_seeds_repeat():
    X = np.random.default_rng(6).standard_normal((300, 2))
    res = rpcholesky(rbf, 200, points=X, tol=1e-3, rng=1)
    assert res.residual_trace <= 1e-3 * res.trace and res.F.shape[1] < 200
    again = rpcholesky(rbf, 200, points=X, tol=1e-3, rng=1)
    np.testing.assert_array_equal(again.pivots, res.pivots)


def test_input_untouched_and_scale():
    A = low_rank_psd(50, 4, seed=7) + 0.01 * np.eye(50)
    kept = A.copy()
    ref = rpcholesky(A, 10, rng=0)
    np.testing.assert_array_equal(A, kept)
    for c in (2.0 ** -1030, 1e-300, 1e300):
        got = rpcholesky(A * c, 10, rng=0)
        np.testing.assert_array_equal(got.pivots, ref.pivots)
        np.testing.assert_allclose(got.F / np.sqrt(c), ref.F, rtol=1e-10, atol=1e-12 * np.abs(ref.F).max())


def test_bad_input_is_refused_by_name():
    A = low_rank_psd(30, 3, seed=8)
    X = np.random.default_rng(9).standard_normal((30, 2))
    with pytest.raises(ValueError, match="A must be square"):
        rpcholesky(np.ones((3, 4)), 2)
    with pytest.raises(ValueError, match="A must be positive semidefinite"):
        rpcholesky(-A, 2)
    with pytest.raises(ValueError, match="A must be symmetric"):
        rpcholesky(A + np.triu(A, 1), 10, block_size=10, rng=0)
    with pytest.raises(ValueError, match="kernel returned shape"):
        rpcholesky(lambda P, Q: rbf(P, Q)[:, :1], 3, points=X)
    with pytest.raises(ValueError, match="kernel returned NaN"):
        rpcholesky(lambda P, Q: rbf(P, Q) * np.nan, 3, points=X)
    with pytest.raises(TypeError, match="points"):
        rpcholesky(rbf, 3)
    with pytest.raises(TypeError, match="points"):
        rpcholesky(A, 3, points=X)
    with pytest.raises(TypeError, match="entry access"):
        rpcholesky(spl.aslinearoperator(A), 3)
    with pytest.raises(ValueError, match="method"):
        rpcholesky(A, 3, method="best")
    with pytest.raises(ValueError, match="k=31"):
        rpcholesky(A, 31)
    with pytest.raises(ValueError, match="points must be finite"):
        KernelMatrix(rbf, np.full((3, 2), np.nan))
    with pytest.raises(TypeError, match="kernel must be callable"):
        KernelMatrix("rbf", X)
