"""The backend layer: namespaces, dtype policy, rng rules, small dense helpers, signs, threads."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from lowrank_la import ConvergenceWarning, SolverResult, SVDResult, thread_limit
from lowrank_la._backend import (
    array_namespace,
    as_rng,
    cholesky_qr2,
    device_of,
    flip_signs,
    lu_normalize,
    qr_econ,
    random_normal,
    solve,
    spawn_rngs,
    svd_small,
    svd_tall,
    to_numpy,
    working_dtype,
)

XP = array_namespace(np.empty(0))


# ---------------------------------------------------------------- dtype policy

@pytest.mark.parametrize(("given", "expected"), [
    (np.float32, np.float32), (np.float64, np.float64), (np.float16, np.float32),
    (np.int8, np.float64), (np.int64, np.float64), (np.uint32, np.float64), (np.bool_, np.float64),
])
def test_dtype_policy(given, expected):
    assert working_dtype(np.dtype(given), XP) == np.dtype(expected)


def test_complex_is_kept_when_allowed_and_refused_otherwise():
    assert working_dtype(np.dtype(np.complex64), XP, allow_complex=True) == np.complex64
    with pytest.raises(TypeError, match=r"^M has complex dtype complex128"):
        working_dtype(np.dtype(np.complex128), XP, name="M")


def test_dtype_policy_on_array_api_strict():
    import array_api_strict as xps

    assert working_dtype(xps.float32, xps) == xps.float32
    assert working_dtype(xps.int16, xps) == xps.float64


def test_namespaces_of_every_input_kind():
    import array_api_strict as xps
    import dask.array as da
    from scipy.sparse.linalg import aslinearoperator

    A = np.ones((3, 3))
    assert array_namespace(A).__name__ == "array_api_compat.numpy"
    assert array_namespace(sp.csr_matrix(A)).__name__ == "array_api_compat.numpy"
    assert array_namespace(aslinearoperator(A)).__name__ == "array_api_compat.numpy"
    assert array_namespace(da.from_array(A)).__name__ == "array_api_compat.dask.array"
    assert array_namespace(xps.asarray(A)) is xps
    assert array_namespace(A, 2.0, None).__name__ == "array_api_compat.numpy"
    assert device_of(A) == "cpu" and device_of(sp.csr_matrix(A)) == "cpu"


# ---------------------------------------------------------------- randomness

def test_same_seed_same_bits_and_different_seed_different_bits():
    a = as_rng(3).standard_normal(50)
    assert np.array_equal(a, as_rng(3).standard_normal(50))
    assert not np.array_equal(a, as_rng(4).standard_normal(50))


def test_a_generator_is_used_as_is_and_seed_sequences_are_accepted():
    gen = np.random.default_rng(0)
    assert as_rng(gen) is gen
    assert np.array_equal(as_rng(np.random.SeedSequence(5)).integers(1 << 30, size=4),
                          np.random.default_rng(5).integers(1 << 30, size=4))
    assert isinstance(as_rng(None), np.random.Generator)


@pytest.mark.parametrize("bad", [1.5, "0", True, [1, 2]])
def test_bad_rng_is_refused_by_type(bad):
    with pytest.raises(TypeError, match=r"^rng must be None, an int or a numpy.random.Generator"):
        as_rng(bad)


def test_legacy_randomstate_and_negative_seeds_are_refused():
    with pytest.raises(TypeError, match=r"RandomState is not accepted"):
        as_rng(np.random.RandomState(0))
    with pytest.raises(ValueError, match=r"^seed=-2 must satisfy seed >= 0$"):
        as_rng(-2, name="seed")


def test_spawned_streams_are_reproducible_and_independent():
    first = [g.standard_normal(4) for g in spawn_rngs(11, 3)]
    again = [g.standard_normal(4) for g in spawn_rngs(11, 3)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0], first[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_random_normal_draws_in_the_requested_dtype(xp_backend, dtype):
    xp = xp_backend.xp
    target = xp.float32 if dtype == np.float32 else xp.float64
    gen = as_rng(0, xp)
    Z = random_normal(gen, (6, 2), dtype=target, xp=xp)
    assert Z.dtype == target and tuple(Z.shape) == (6, 2)
    if xp_backend.name != "cupy":  # NumPy draws on the host for every CPU namespace: same bits
        assert np.array_equal(xp_backend.tonumpy(Z), as_rng(0).standard_normal((6, 2), dtype=dtype))


# ---------------------------------------------------------------- small dense work

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_orthonormalisers_span_the_input_and_keep_the_dtype(xp_dense_backend, dtype):
    xp_backend = xp_dense_backend
    rng = np.random.default_rng(1)
    X = rng.standard_normal((80, 6)).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    Xb = xp_backend.asarray(X)
    for Q in (qr_econ(Xb)[0], cholesky_qr2(Xb)):
        Q = xp_backend.tonumpy(Q)
        assert Q.dtype == dtype
        assert np.abs(Q.T @ Q - np.eye(6)).max() < 10 * tol
        assert np.linalg.norm(Q @ (Q.T @ X) - X) < 10 * tol * np.linalg.norm(X)
    L = xp_backend.tonumpy(lu_normalize(Xb))
    assert L.dtype == dtype and np.linalg.matrix_rank(L) == 6
    # the LU normaliser spans the same column space as X
    assert np.linalg.norm(L @ np.linalg.lstsq(L, X, rcond=None)[0] - X) < 10 * tol * np.linalg.norm(X)


def test_cholesky_qr2_falls_back_on_rank_deficient_input():
    X = np.ones((20, 3))
    Q = cholesky_qr2(X)
    assert np.all(np.isfinite(Q))
    assert np.allclose(Q @ (Q.T @ X), X)


def test_small_svd_and_solve_agree_with_lapack():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((30, 7))
    U, s, Vh = svd_small(X)
    assert np.allclose(s, np.linalg.svd(X, compute_uv=False), rtol=1e-12)
    assert np.allclose((U * s) @ Vh, X)
    A = X.T @ X
    B = rng.standard_normal((7, 2))
    for assume_a in ("gen", "pos"):
        assert np.allclose(A @ solve(A, B, assume_a=assume_a), B)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
def test_tall_svd_agrees_with_lapack_and_keeps_the_dtype(xp_dense_backend, dtype):
    if np.dtype(dtype).kind == "c" and xp_dense_backend.name != "numpy":
        pytest.skip("complex input is exercised on NumPy")
    rng = np.random.default_rng(3)
    X = rng.standard_normal((400, 12)) * np.logspace(0, -3, 12)  # cond 1e3: past float32's CholeskyQR2 limit
    if np.dtype(dtype).kind == "c":
        X = X + 1j * rng.standard_normal((400, 12))
    X = X.astype(dtype)
    U, s, Vh = (xp_dense_backend.tonumpy(f) for f in svd_tall(xp_dense_backend.asarray(X)))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert U.dtype == dtype and Vh.dtype == dtype and s.dtype == np.finfo(dtype).dtype
    exact = np.linalg.svd(X.astype(np.complex128 if np.dtype(dtype).kind == "c" else np.float64), compute_uv=False)
    assert np.abs(s - exact).max() < tol * exact[0]
    assert np.abs(U.conj().T @ U - np.eye(12)).max() < 10 * tol
    assert np.abs((U * s) @ Vh - X).max() < 10 * tol * exact[0]


def test_tall_svd_falls_back_to_lapack_on_rank_deficient_input():
    X = np.ones((50, 4))
    X[:, 1] = np.arange(50)
    U, s, Vh = svd_tall(X)
    assert np.allclose(s, np.linalg.svd(X, compute_uv=False), atol=1e-10)
    assert np.allclose((U * s) @ Vh, X)
    assert np.allclose(U.T @ U, np.eye(4))


def test_to_numpy_returns_the_values_on_the_host(xp_backend):
    a = np.arange(12.0).reshape(4, 3)
    out = to_numpy(xp_backend.asarray(a))
    assert type(out) is np.ndarray and np.array_equal(out, a)
    assert to_numpy(a) is a


def test_flip_signs_rule_and_invariance(xp_dense_backend):
    xp_backend = xp_dense_backend
    rng = np.random.default_rng(3)
    U, _, Vh = np.linalg.svd(rng.standard_normal((9, 4)), full_matrices=False)
    U2, Vh2 = (xp_backend.tonumpy(a) for a in flip_signs(xp_backend.asarray(-U), xp_backend.asarray(-Vh)))
    idx = np.abs(U2).argmax(axis=0)
    assert np.all(U2[idx, np.arange(4)] > 0)
    assert np.allclose(U2 @ Vh2, U @ Vh)
    assert np.allclose(flip_signs(U2), U2)  # idempotent


# ---------------------------------------------------------------- results, warnings, threads

def test_result_types():
    res = SVDResult(np.eye(2), np.ones(2), np.eye(2))
    U, s, Vh = res
    assert res.s is s
    out = SolverResult(converged=False, n_iter=4, history={"residual": np.ones(4)})
    assert out.n_iter == 4 and out["converged"] is False and "n_iter" in repr(out)
    with pytest.raises(AttributeError):
        _ = out.missing
    assert issubclass(ConvergenceWarning, UserWarning)
    with pytest.warns(ConvergenceWarning):
        warnings.warn("stopped", ConvergenceWarning, stacklevel=1)


def test_thread_limit_bounds_numba_and_blas_then_restores():
    import numba
    from threadpoolctl import threadpool_info

    before = numba.get_num_threads()
    with thread_limit(1):
        assert numba.get_num_threads() == 1
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    assert numba.get_num_threads() == before
    with pytest.raises(ValueError, match=r"^n=0 must satisfy n >= 1$"):
        with thread_limit(0):
            pass


# ---------------------------------------------------------------- the operator's block arguments

def test_operator_blocks_are_named_dense_and_may_have_no_columns():
    from lowrank_la import as_operator

    A = np.arange(12.0).reshape(4, 3) - 5
    op = as_operator(A)
    # errors name the argument the caller passed: X for matmat, Y for rmatmat
    for call, name, good in ((op.matmat, "X", np.ones((3, 2))), (op.rmatmat, "Y", np.ones((4, 2)))):
        bad = good.copy()
        bad[0, 0] = np.nan
        with pytest.raises(ValueError, match=rf"^{name} must be finite"):
            call(bad)
        with pytest.raises(ValueError, match=rf"^{name}\.shape\[0\]"):
            call(good[1:])
        with pytest.raises(TypeError, match=rf"^{name} must be a dense array, got a sparse csr_matrix"):
            call(sp.csr_matrix(good))
    # an (n, 0) block is valid: an (m, 0) result, no pass over A
    assert op.matmat(np.ones((3, 0))).shape == (4, 0)
    assert op.rmatmat(np.ones((4, 0))).shape == (3, 0)
    assert op.n_passes == 0


def test_transpose_of_a_complex_operator_conjugates_in_both_directions():
    from lowrank_la import as_operator

    gen = np.random.default_rng(0)
    A = gen.standard_normal((4, 3)) + 1j * gen.standard_normal((4, 3))
    X, Y = gen.standard_normal((3, 2)) + 1j, gen.standard_normal((4, 2)) - 1j
    op = as_operator(A, allow_complex=True)
    np.testing.assert_allclose(op.T.matmat(Y), A.T @ Y, rtol=1e-12)
    np.testing.assert_allclose(op.T.rmatmat(X), A.conj() @ X, rtol=1e-12)
    np.testing.assert_allclose(op.T.H.rmatmat(Y), A.T @ Y, rtol=1e-12)


# ---------------------------------------------------------------- BLAS threads beside the parallel kernels

@pytest.fixture
def blas_limits(monkeypatch):
    """Records each entry into ``one_blas_thread`` (by the decorator and the input check), with Numba on 2
    threads whatever the machine has."""
    import numba

    from lowrank_la._backend import threads

    entered = []
    real = threads.one_blas_thread
    monkeypatch.setattr(threads, "one_blas_thread", lambda: entered.append(1) or real())
    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)
    return entered


def test_blas_beside_kernels_limits_blas_only_for_kernel_work(blas_limits, monkeypatch):
    import numba
    import scipy.sparse as sp

    from lowrank_la._backend import as_operator, blas_beside_kernels, sparse_kernel_input

    @blas_beside_kernels(sparse_kernel_input)
    def work(A, k):
        return k

    dense = np.ones((3, 3))
    assert work(dense, 1) == 1 and blas_limits == []  # dense: its GEMMs keep every thread
    assert work(as_operator(dense), 2) == 2 and blas_limits == []
    assert work(sp.csr_array(np.eye(3)), 3) == 3 and blas_limits == [1]
    assert work(as_operator(sp.csc_matrix(np.eye(3))), 4) == 4 and blas_limits == [1, 1]
    assert work(sp.csr_array(np.eye(3) * 1j), 5) == 5 and blas_limits == [1, 1]  # complex: no kernel
    monkeypatch.setattr(numba, "get_num_threads", lambda: 1)  # one kernel thread: nothing to make room for
    assert work(sp.csr_array(np.eye(3)), 6) == 6 and blas_limits == [1, 1]


def test_sparse_rsvd_and_completion_run_blas_on_one_thread(blas_limits):
    import scipy.sparse as sp

    import lowrank_la as la

    A = la.datasets.low_rank_matrix(60, 40, rank=4, rng=0)
    la.rsvd(A, 3, rng=0)
    assert blas_limits == []
    U, s, Vh = la.rsvd(sp.csr_array(A), 3, rng=0)
    assert blas_limits and np.allclose(s, np.linalg.svd(A, compute_uv=False)[:3])
    count = len(blas_limits)
    la.svd_tol(sp.csr_array(A), 0.5, rng=0)
    assert len(blas_limits) > count
    count = len(blas_limits)
    X = np.where(np.random.default_rng(0).random(A.shape) < 0.5, A, np.nan)
    la.altmin_complete(X, rank=4, rng=0)
    assert len(blas_limits) > count


def test_the_input_check_of_a_large_array_keeps_blas_on_one_thread(blas_limits):
    from lowrank_la._validate import _DOT_ONE_THREAD, _finite_fast

    small, large = np.ones(_DOT_ONE_THREAD), np.ones(_DOT_ONE_THREAD + 1)
    assert _finite_fast(small, np) and blas_limits == []
    assert _finite_fast(large, np) and blas_limits == [1]
    large[-1] = np.nan
    assert not _finite_fast(large, np)


def test_small_lapack_work_runs_on_one_blas_thread(monkeypatch):
    import scipy.linalg

    from lowrank_la._backend import linalg

    entered = []
    real = linalg.one_blas_thread
    monkeypatch.setattr(linalg, "one_blas_thread", lambda: entered.append(1) or real())
    rng = np.random.default_rng(0)
    for shape, one in [((100, 10), False), ((3000, 60), True), ((9000, 30), True), ((20000, 60), False)]:
        X = rng.standard_normal(shape)
        Q, R = linalg.qr_econ(X)
        np.testing.assert_allclose(Q @ R, X, atol=1e-12)
        assert entered == ([1] if one else []), shape
        entered.clear()
    M = rng.standard_normal((8, 30))
    Q, R, perm = linalg.pivoted_qr(M)
    expected = scipy.linalg.qr(M, mode="economic", pivoting=True)
    np.testing.assert_array_equal(perm, expected[2])
    np.testing.assert_allclose(Q @ R, M[:, perm], atol=1e-12)
    R8 = np.triu(rng.standard_normal((8, 8))) + 8 * np.eye(8)
    np.testing.assert_allclose(R8 @ linalg.solve_triangular(R8, M), M, atol=1e-12)
    assert entered == [1, 1]
