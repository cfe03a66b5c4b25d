"""The Numba kernels of AltMin matrix completion against their NumPy references."""

import numpy as np
import pytest
import scipy.sparse as sp

from lowrank_la._kernels import completion as kc

TOL = {np.float32: 1e-5, np.float64: 1e-11}


def _segments(n_other, n_seg, density, seed, dtype):
    """A CSC structure with some empty and some single-entry columns, and an orthonormal design."""
    M = sp.random(n_other, n_seg, density=density, format="csc", random_state=seed, dtype=np.float64)
    M = M.tolil()
    M[:, 0] = 0  # an empty segment
    M[:, 1] = 0
    M[2, 1] = 1.5  # a single observation
    M = M.tocsc()
    M.eliminate_zeros()
    return M.indptr.astype(np.int64), M.indices.astype(np.int32), M.data.astype(dtype)


def _design(n_other, k, seed, dtype):
    return np.linalg.qr(np.random.default_rng(seed).standard_normal((n_other, k)))[0].astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sampled_product_matches_reference(dtype, rng):
    B1 = rng.standard_normal((30, 4)).astype(dtype)
    B2 = rng.standard_normal((20, 4)).astype(dtype)
    rows, cols = rng.integers(0, 30, 100), rng.integers(0, 20, 100)
    out = kc.sampled_product(B1, B2, rows, cols)
    assert out.dtype == dtype
    assert np.allclose(out, (B1.astype(np.float64) @ B2.T.astype(np.float64))[rows, cols], rtol=TOL[dtype],
                       atol=TOL[dtype])
    assert np.allclose(out, kc.sampled_product_reference(B1, B2, rows, cols), rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 3, 7])
def test_normal_equations_and_exact_solve_match_reference(k, dtype):
    indptr, idx, vals = _segments(60, 25, 0.3, 0, dtype)
    B = _design(60, k, 1, dtype)
    counts = np.diff(indptr)
    reg = np.where(counts < k, 1e-3, 0.0)
    G, c = kc.segment_normal_equations(B, indptr, idx, vals, reg)
    G_ref, c_ref = kc.segment_normal_equations_reference(B, indptr, idx, vals, reg)
    assert np.allclose(G, G_ref, atol=TOL[dtype]) and np.allclose(c, c_ref, atol=TOL[dtype])
    X = kc.segment_solve_exact(B, indptr, idx, vals, reg)
    X_ref = kc.segment_solve_exact_reference(B, indptr, idx, vals, reg)
    assert X.dtype == dtype
    assert np.allclose(X, X_ref, rtol=100 * TOL[dtype], atol=100 * TOL[dtype] * np.abs(X_ref).max())
    assert np.all(X[0] == 0)  # the empty segment: zero


def test_cholesky_solve_and_its_lu_fallback():
    rng = np.random.default_rng(4)
    A = rng.standard_normal((9, 5))
    G, c = A.T @ A + 0.1 * np.eye(5), rng.standard_normal(5)
    x = np.empty(5)
    assert kc._cholesky_solve(G, c, x)
    np.testing.assert_allclose(x, np.linalg.solve(G, c), rtol=1e-12)
    x[:] = np.nan
    assert not kc._cholesky_solve(G - 10 * np.eye(5) * np.linalg.norm(G), c, x)  # not positive definite
    # designs whose Gram matrix is singular (repeated rows, fewer rows than unknowns, no ridge): the kernel's
    # Cholesky or its LU fallback agree with the minimum-norm reference on the fitted values
    B = np.repeat(rng.standard_normal((3, 6)), 4, axis=0)  # 12 rows of rank 3
    indptr = np.array([0, 12, 14])
    idx = np.array([*range(12), 0, 5])
    vals = rng.standard_normal(14)
    X = kc.segment_solve_exact(B, indptr, idx, vals, np.zeros(2))
    X_ref = kc.segment_solve_exact_reference(B, indptr, idx, vals, np.zeros(2))
    for j in range(2):
        rows = idx[indptr[j]:indptr[j + 1]]
        np.testing.assert_allclose(B[rows] @ X[j], B[rows] @ X_ref[j], atol=1e-6)


def test_exact_solve_without_ridge_on_an_empty_segment_gives_zero():
    indptr, idx, vals = _segments(40, 6, 0.5, 2, np.float64)
    B = _design(40, 3, 0, np.float64)
    X = kc.segment_solve_exact(B, indptr, idx, vals, np.zeros(6))
    assert np.all(X[0] == 0) and np.all(np.isfinite(X[2:]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cg_matches_reference_and_converges_to_exact(dtype):
    indptr, idx, vals = _segments(80, 20, 0.4, 3, dtype)
    B = _design(80, 5, 2, dtype)
    reg = np.where(np.diff(indptr) < 5, 1e-3, 0.0)
    X0 = np.random.default_rng(0).standard_normal((20, 5)).astype(dtype)
    X, iters = kc.segment_solve_cg(B, indptr, idx, vals, reg, X0, 1e-12, 3)
    X_ref, iters_ref = kc.segment_solve_cg_reference(B, indptr, idx, vals, reg, X0, 1e-12, 3)
    assert np.allclose(X, X_ref, rtol=100 * TOL[dtype], atol=100 * TOL[dtype])
    busy = np.diff(indptr) > 0  # an empty segment stops when its residual rounds to zero: rounding-dependent
    assert np.array_equal(iters[busy], iters_ref[busy]) or dtype == np.float32
    X, iters = kc.segment_solve_cg(B, indptr, idx, vals, reg, X0, 1e-12, 50)
    exact = kc.segment_solve_exact(B, indptr, idx, vals, reg)
    tol = 1e-3 if dtype == np.float32 else 1e-8
    assert np.allclose(X, exact, atol=tol * max(1.0, np.abs(exact).max()))


def test_cg_from_the_solution_takes_no_step():
    indptr, idx, vals = _segments(80, 10, 0.5, 4, np.float64)
    B = _design(80, 4, 3, np.float64)
    reg = np.full(10, 1e-3)
    exact = kc.segment_solve_exact(B, indptr, idx, vals, reg)
    X, iters = kc.segment_solve_cg(B, indptr, idx, vals, reg, exact, 1e-8, 50)
    assert iters.max() == 0 and np.array_equal(X, exact)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reg", [0.0, 1e-2])
def test_sketch_solve_reaches_exact_solution(dtype, reg):
    indptr, idx, vals = _segments(400, 12, 0.5, 5, dtype)
    B = _design(400, 6, 4, dtype)
    ridge = np.full(12, reg)
    ridge[np.diff(indptr) < 6] = 1e-3
    use = np.diff(indptr) > 24
    X, iters = kc.segment_solve_sketch(B, indptr, idx, vals, ridge, use=use, oversample=4, seed=7, tol=1e-12)
    exact = kc.segment_solve_exact_reference(B, indptr, idx, vals, ridge)
    tol = 1e-4 if dtype == np.float32 else 1e-9
    assert np.allclose(X[use], exact[use], atol=tol * np.abs(exact).max())
    assert np.all(X[~use] == 0) and np.all(iters[~use] == 0)
    assert 0 < iters[use].max() < 60  # kappa(A R^-1) ~ 3: the error halves per step
    X2, _ = kc.segment_solve_sketch(B, indptr, idx, vals, ridge, use=use, oversample=4, seed=7, tol=1e-12)
    assert np.array_equal(X, X2)  # the keyed hash draws: same seed, same bits


def test_sketch_draws_are_a_sparse_sign_embedding():
    S = kc.sketch_rows_reference(3, 5, 200, 40, 8)
    assert S.shape == (40, 200)
    assert np.all((S != 0).sum(axis=0) <= 8)
    # columns have unit norm up to the rare collisions of independent hashing
    norms = np.linalg.norm(S, axis=0)
    assert np.mean(np.abs(norms - 1) < 1e-12) > 0.4
    assert abs(np.mean(norms**2) - 1) < 0.2
    assert not np.array_equal(S, kc.sketch_rows_reference(4, 5, 200, 40, 8))
