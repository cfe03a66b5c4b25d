"""Nystrom PCG for (A + mu I) x = b against dense solves, and its iteration counts against plain CG."""

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spl

from lowrank_la import ConvergenceWarning, SolverResult
from lowrank_la.psd import KernelMatrix, nystrom_pcg

from ._problems import with_spectrum


def _cg_iterations(M, b, tol):
    count = [0]
    spl.cg(M, b, rtol=tol, maxiter=20000, callback=lambda _: count.__setitem__(0, count[0] + 1))
    return count[0]


def test_solution_matches_a_dense_solve():
    lam = 1.0 / np.arange(1, 301) ** 2
    A, _ = with_spectrum(lam, seed=0)
    b = np.random.default_rng(1).standard_normal(300)
    res = nystrom_pcg(A, b, 1e-4, tol=1e-10, rng=0)
    assert isinstance(res, SolverResult) and res.converged
    x = np.linalg.solve(A + 1e-4 * np.eye(300), b)
    np.testing.assert_allclose(res.x, x, rtol=1e-7, atol=1e-7 * np.abs(x).max())
    assert res.residual <= 1e-10 and res.history["residual"].size == res.n_iter
    assert res.rank >= 16 and res.n_passes >= 1 + res.n_iter


def test_iterations_nearly_flat_in_the_condition_number_where_cg_grows():
    # mu from 1e-2 to 1e-5 (condition numbers 1e2..1e5) on lambda_j = j^-2, n = 400, tol 1e-8: measured PCG
    # 10, 15, 23, 19 iterations against CG's 19, 45, 115, 291
    lam = 1.0 / np.arange(1, 401) ** 2
    A, _ = with_spectrum(lam, seed=2)
    b = np.random.default_rng(3).standard_normal(400)
    pcg = [nystrom_pcg(A, b, mu, tol=1e-8, rng=0).n_iter for mu in (1e-2, 1e-5)]
    cg = [_cg_iterations(A + mu * np.eye(400), b, 1e-8) for mu in (1e-2, 1e-5)]
    assert pcg[1] <= 2.5 * pcg[0] and pcg[1] <= 40
    assert cg[1] >= 5 * cg[0]


def test_kernel_ridge_regression_with_an_implicit_kernel():
    gen = np.random.default_rng(4)
    X = gen.uniform(-3, 3, (500, 2))
    y = np.sin(X[:, 0]) * np.cos(X[:, 1]) + 0.05 * gen.standard_normal(500)

    def rbf(P, Q):
        return np.exp(-((P[:, None, :] - Q[None, :, :]) ** 2).sum(-1))

    K = KernelMatrix(rbf, X)
    res = nystrom_pcg(K, y, 1e-3 * 500, tol=1e-9, rng=0)
    alpha = np.linalg.solve(rbf(X, X) + 0.5 * np.eye(500), y)
    np.testing.assert_allclose(res.x, alpha, rtol=1e-6, atol=1e-7 * np.abs(alpha).max())


def test_fixed_rank_inputs_dtype_and_untouched():
    A, _ = with_spectrum(np.linspace(1.0, 0.0, 80) ** 4, seed=5)
    b = np.random.default_rng(6).standard_normal(80)
    kept = (A.copy(), b.copy())
    ref = nystrom_pcg(A, b, 1e-3, rank=10, tol=1e-10, rng=0)
    assert ref.rank == 10 and ref.converged
    for M in (sp.csr_matrix(A), spl.aslinearoperator(A)):
        np.testing.assert_allclose(nystrom_pcg(M, b.tolist(), 1e-3, rank=10, tol=1e-10, rng=0).x, ref.x, rtol=1e-8)
    np.testing.assert_array_equal(A, kept[0])
    np.testing.assert_array_equal(b, kept[1])
    res32 = nystrom_pcg(A.astype(np.float32), b.astype(np.float32), 1e-3, tol=1e-5, rng=0)
    assert res32.x.dtype == np.float32 and res32.converged
    with_x0 = nystrom_pcg(A, b, 1e-3, x0=ref.x, tol=1e-8, rng=0)
    assert with_x0.n_iter == 0 and with_x0.converged


def test_scale_of_b_and_a():
    A, _ = with_spectrum(0.8 ** np.arange(60), seed=7)
    b = np.random.default_rng(8).standard_normal(60)
    ref = nystrom_pcg(A, b, 1e-3, tol=1e-10, rng=0).x
    for c in (2.0 ** -1030, 1e-300, 1e300):
        np.testing.assert_allclose(nystrom_pcg(A, b * c, 1e-3, tol=1e-10, rng=0).x / c, ref, rtol=1e-8)
    for c in (1e-300, 1e300):  # (A 2^-1030 is subnormal, and its solution would overflow)
        np.testing.assert_allclose(nystrom_pcg(A * c, b, 1e-3 * c, tol=1e-10, rng=0).x * c, ref, rtol=1e-8)


def test_maxiter_warns_and_bad_input_is_refused():
    A, _ = with_spectrum(1.0 / np.arange(1, 101), seed=9)
    b = np.ones(100)
    with pytest.warns(ConvergenceWarning, match="maxiter"):
        res = nystrom_pcg(A, b, 0.0, rank=2, maxiter=2, tol=1e-12, rng=0)
    assert not res.converged and res.n_iter == 2
    with pytest.raises(ValueError, match="mu=-1"):
        nystrom_pcg(A, b, -1.0)
    with pytest.raises(ValueError, match="b.shape"):
        nystrom_pcg(A, np.ones(99), 1.0)
    with pytest.raises(ValueError, match="b must be finite"):
        nystrom_pcg(A, np.full(100, np.nan), 1.0)
    with pytest.raises(ValueError, match="A must be square"):
        nystrom_pcg(np.ones((3, 4)), np.ones(3), 1.0)
    with pytest.raises(ValueError, match="A must be symmetric"):
        nystrom_pcg(A + np.triu(A, 1), b, 1.0)
    with pytest.raises(ValueError, match="rank=101"):
        nystrom_pcg(A, b, 1.0, rank=101)
