"""rand_qb and svd_tol: tolerance met, near-optimal rank, the indicator and its cancellation, pass counts."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import aslinearoperator

import lowrank_la as la
from lowrank_la import ConvergenceWarning
from lowrank_la._backend import as_operator
from lowrank_la.svd import SVDTolResult, rand_qb, svd_tol

# Yu, Gu and Li's three test spectra (genTestMatrix.m) with the paper's tolerances for them
YGL = {
    "polynomial": ({"power": 2}, [1e-2, 1e-4]),
    "exponential": ({"scale": 7}, [1e-4, 1e-5]),
    "cliff": ({}, [1e-2, 1.5e-3]),
}


def _ygl(kind, m=500, n=400, dtype=np.float64, seed=0):
    s = la.datasets.spectrum(kind, n, **YGL[kind][0])
    return la.datasets.matrix_with_spectrum(m, n, s, rng=seed, dtype=dtype), s.astype(np.float64)


def _optimal_rank(s, tol):
    """Smallest r with ||A - A_r||_F <= tol ||A||_F."""
    tails = np.sqrt(np.cumsum(s[::-1] ** 2))[::-1]  # tails[r] = ||A - A_r||_F
    tails = np.append(tails, 0.0)
    return int(np.nonzero(tails <= tol * np.linalg.norm(s))[0][0])


def _assert_rank(rank, s, tol):
    """svd_tol's documented rank: the optimal rank r* whenever ``||A - A_r*||_F <= 0.99 tol ||A||_F`` (one triplet
    more is a failure), else within 2% of it (near the boundary the computed tails decide)."""
    optimal = _optimal_rank(s, tol)
    tail = np.linalg.norm(s[optimal:]) / np.linalg.norm(s)
    if tail <= 0.99 * tol:
        assert rank == optimal, (rank, optimal, tail / tol)
    else:
        assert optimal <= rank <= 1.02 * optimal + 1, (rank, optimal, tail / tol)


@pytest.mark.parametrize("kind", list(YGL))
def test_svd_tol_meets_tolerance_with_near_optimal_rank(kind):
    A, s = _ygl(kind)
    for tol in YGL[kind][1]:
        block = 40 if tol == 1.5e-3 else 10  # the paper's b = 40 for the cliff at 1.5e-3
        res = svd_tol(A, tol, block_size=block, rng=0)
        U, s_hat, Vh = res
        err = np.linalg.norm(A - (U * s_hat) @ Vh) / np.linalg.norm(A)
        assert res.converged
        assert err <= tol * (1 + 1e-6)
        _assert_rank(res.rank, s, tol)
        # the indicator sqrt(||A||^2 - ||B||^2) carries an absolute error ~ eps ||A||^2 in err^2, i.e. a relative
        # error ~ eps / (2 tol^2) in err (1e-10 at tol 1e-3, 1e-6 at tol 1e-5): allow 100x that
        assert abs(res.error_estimate - err) <= max(100 * np.finfo(float).eps / tol**2, 1e-9) * err
        assert U.shape == (500, res.rank) and np.allclose(U.T @ U, np.eye(res.rank), atol=1e-12)


@pytest.mark.parametrize("kind", list(YGL))
def test_svd_tol_float32(kind):
    A, s = _ygl(kind, dtype=np.float32)
    tol = YGL[kind][1][0] if kind != "exponential" else 1e-3
    res = svd_tol(A, tol, rng=0)
    U, s_hat, Vh = res
    assert U.dtype == s_hat.dtype == Vh.dtype == np.float32
    A64 = A.astype(np.float64)
    err = np.linalg.norm(A64 - (U * s_hat).astype(np.float64) @ Vh) / np.linalg.norm(A64)
    # float32 rounding of the factors adds ~1e-6 relative
    assert err <= tol * (1 + 1e-3)
    _assert_rank(res.rank, s, tol)


def test_unreliable_indicator_switches_to_the_direct_residual():
    # tol^2 near eps: ||A||^2 - ||B||^2 cancels (float64 below ~1.5e-7, float32 below ~3.5e-3)
    A, s = _ygl("exponential", m=300, n=200)
    for tol in (1e-9, 3e-12):
        res = svd_tol(A, tol, rng=0)
        U, s_hat, Vh = res
        err = np.linalg.norm(A - (U * s_hat) @ Vh) / np.linalg.norm(A)
        assert res.converged and err <= tol * 1.05
        _assert_rank(res.rank, s, tol)
        assert abs(res.error_estimate - err) <= 0.05 * err
    A32 = A.astype(np.float32)
    res = svd_tol(A32, 1e-3, rng=0)
    U, s_hat, Vh = res
    err = np.linalg.norm(A - (U * s_hat).astype(np.float64) @ Vh) / np.linalg.norm(A)
    assert err <= 1e-3 * 1.01 and abs(res.error_estimate - err) <= 0.05 * err


def test_absolute_tolerance_and_sparse_and_operator_inputs():
    A, s = _ygl("polynomial", m=200, n=150)
    normA = np.linalg.norm(A)
    for X in (A, sp.csr_array(A), sp.coo_array(A), aslinearoperator(A)):
        res = svd_tol(X, 1e-2 * normA, relative=False, rng=1)
        U, s_hat, Vh = res
        err = np.linalg.norm(A - (U * s_hat) @ Vh)
        assert err <= 1e-2 * normA * (1 + 1e-6)
        assert abs(res.error_estimate - err) <= 1e-6 * normA
        _assert_rank(res.rank, s, 1e-2)


def test_max_rank_reached_warns():
    A, s = _ygl("polynomial", m=200, n=150)
    with pytest.warns(ConvergenceWarning, match="max_rank=8"):
        res = svd_tol(A, 1e-6, max_rank=8, rng=0)
    assert not res.converged and res.rank == 8
    true = np.linalg.norm(A - (res.U * res.s) @ res.Vh) / np.linalg.norm(A)
    assert abs(res.error_estimate - true) <= 1e-8
    with pytest.warns(ConvergenceWarning, match="rank=8"):
        qb = rand_qb(A, tol=1e-6, rank=8, rng=0)
    assert not qb.converged


def test_svd_tol_result_behaves_like_a_tuple_and_is_deterministic():
    A, _ = _ygl("cliff", m=200, n=150)
    copy = A.copy()
    a, b = svd_tol(A, 1e-2, rng=4), svd_tol(A, 1e-2, rng=4)
    assert isinstance(a, SVDTolResult) and isinstance(a, la.SVDResult) and len(a) == 3
    assert all(np.array_equal(x, y) for x, y in zip(a, b)) and a.rank == b.rank
    assert np.array_equal(A, copy)
    assert "rank=" in repr(a)


def test_rand_qb_rank_tol_and_passes():
    A, s = _ygl("exponential", m=300, n=200)
    for P in (0, 1, 2):
        op = as_operator(A)
        res = rand_qb(op, rank=25, block_size=10, n_power=P, rng=0)
        assert res.Q.shape == (300, 25) and res.B.shape == (25, 200) and res.rank == 25
        assert op.n_passes == 3 * (2 * P + 2)  # ceil(25 / 10) blocks of 2P + 2 passes
        assert np.allclose(res.Q.T @ res.Q, np.eye(25), atol=1e-12)
        assert np.allclose(res.B, res.Q.T @ A, atol=1e-12)
        assert res.error_estimate is None and res.converged
    res = rand_qb(A, tol=1e-5, block_size=10, n_power=1, rng=0)
    err = np.linalg.norm(A - res.Q @ res.B) / np.linalg.norm(A)
    assert err <= 1e-5 * (1 + 1e-6) and abs(err - res.error_estimate) <= 1e-10
    # rank: the block's rows are dropped one by one, so it is the QB-optimal rank within the block
    assert np.linalg.norm(A - res.Q[:, :-1] @ res.B[:-1]) > 1e-5 * np.linalg.norm(A)
    assert len(res.err2_history) == -(-res.rank // 10) and np.all(np.diff(res.err2_history) < 0)


def test_exact_low_rank_terminates_at_the_rank():
    A = la.datasets.low_rank_matrix(150, 100, 13, rng=0)
    res = rand_qb(A, tol=1e-6, block_size=4, rng=0)
    assert res.rank == 13
    res = svd_tol(A, 1e-6, rng=0)
    assert res.rank == 13 and np.allclose(res.s, np.linspace(1, 0.5, 13), atol=1e-10)
    res = svd_tol(np.zeros((20, 10)), 0.1, rng=0)  # the zero matrix: nothing to approximate
    assert res.converged and res.error_estimate == 0.0


def test_errors_name_their_argument():
    A, _ = _ygl("cliff", m=40, n=30)
    with pytest.raises(ValueError, match="tol=1.0 must satisfy 0 < tol < 1"):
        svd_tol(A, 1.0)
    with pytest.raises(ValueError, match="tol=-1.0"):
        svd_tol(A, -1.0, relative=False)
    with pytest.raises(ValueError, match="tol=nan"):
        svd_tol(A, float("nan"))
    with pytest.raises(ValueError, match="max_rank=31"):
        svd_tol(A, 0.1, max_rank=31)
    with pytest.raises(ValueError, match="block_size=0"):
        svd_tol(A, 0.1, block_size=0)
    with pytest.raises(ValueError, match="n_power=-1"):
        rand_qb(A, rank=3, n_power=-1)
    with pytest.raises(ValueError, match="needs tol or rank"):
        rand_qb(A)
    with pytest.raises(ValueError, match="rank=0"):
        rand_qb(A, rank=0)
    B = A.copy()
    B[3, 4] = np.inf
    with pytest.raises(ValueError, match="A must be finite"):
        svd_tol(B, 0.1)


@settings(max_examples=30, deadline=None)
@given(tol=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-2, 2), st.text(max_size=2)),
       relative=st.booleans())
def test_fuzzed_tolerance(tol, relative):
    A = np.random.default_rng(0).standard_normal((15, 10))
    copy = A.copy()
    ok = (isinstance(tol, (int, float)) and not isinstance(tol, bool) and np.isfinite(tol) and tol > 0
          and (tol < 1 or not relative))
    if ok:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = svd_tol(A, tol, relative=relative, rng=0)
        assert 1 <= res.rank <= 10
    else:
        with pytest.raises((ValueError, TypeError), match="tol"):
            svd_tol(A, tol, relative=relative, rng=0)
    assert np.array_equal(A, copy)


def test_generic_backends(xp_dense_backend):
    A, s = _ygl("exponential", m=150, n=100)
    X = xp_dense_backend.asarray(A)
    res = svd_tol(X, 1e-4, rng=0)
    U, s_hat, Vh = (xp_dense_backend.tonumpy(x) for x in res)
    assert np.linalg.norm(A - (U * s_hat) @ Vh) <= 1e-4 * np.linalg.norm(A) * (1 + 1e-6)
    _assert_rank(res.rank, s, 1e-4)
    qb = rand_qb(X, rank=12, block_size=5, n_power=1, rng=0)
    Q, B = xp_dense_backend.tonumpy(qb.Q), xp_dense_backend.tonumpy(qb.B)
    assert np.allclose(Q.T @ Q, np.eye(12), atol=1e-12) and np.allclose(B, Q.T @ A, atol=1e-12)


# --------------------------------------------------------------------------- scale invariance (issue 15 item 3)

SCALES = [1e-300, 1e-310, 1e154, 1e300]


def _scale_case():
    s_true = la.datasets.spectrum("exponential", 60, scale=7)
    return la.datasets.matrix_with_spectrum(120, 60, s_true, rng=0)


def _kinds(B):
    return {"dense": B, "sparse": sp.csr_array(B), "operator": aslinearoperator(B),
            "list": B.tolist()}


@pytest.mark.parametrize("c", SCALES)
@pytest.mark.parametrize("kind", ["dense", "sparse", "operator", "list"])
def test_item3_svd_tol_is_scale_invariant(c, kind):
    A = _scale_case()
    ref = svd_tol(A, 1e-3, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        res = svd_tol(_kinds(A * c)[kind], 1e-3, rng=0)
    assert res.converged and res.rank == ref.rank
    assert res.error_estimate == pytest.approx(ref.error_estimate, rel=1e-3 if c < 1e-305 else 1e-6)
    np.testing.assert_allclose(np.asarray(res.s) / c, ref.s, rtol=1e-6 if c > 1e-305 else 1e-4)


@pytest.mark.parametrize("c", [1e-300, 1e300])
def test_item3_svd_tol_absolute_tolerance_scales(c):
    A = _scale_case()
    ref = svd_tol(A, 1e-2, relative=False, rng=0)
    res = svd_tol(A * c, 1e-2 * c, relative=False, rng=0)
    assert res.converged and res.rank == ref.rank
    assert res.error_estimate / c == pytest.approx(ref.error_estimate, rel=1e-6)


def test_item3_svd_tol_direct_residual_path_is_scale_invariant():
    A = la.datasets.matrix_with_spectrum(120, 60, la.datasets.spectrum("exponential", 60, scale=25), rng=0)
    ref = svd_tol(A, 1e-7, rng=0)  # tol^2 < 100 eps: the directly computed residual
    res = svd_tol(A * 1e300, 1e-7, rng=0)
    assert res.converged == ref.converged and res.rank == ref.rank
    assert res.error_estimate == pytest.approx(ref.error_estimate, rel=1e-4)


@pytest.mark.parametrize("c", [1e-300, 1e300])
def test_item3_rand_qb_is_scale_invariant(c):
    A = _scale_case()
    ref = rand_qb(A, tol=1e-3, rng=0)
    res = rand_qb(A * c, tol=1e-3, rng=0)
    assert res.converged and res.rank == ref.rank
    assert res.error_estimate == pytest.approx(ref.error_estimate, rel=1e-6)
    np.testing.assert_allclose(res.B / c, ref.B, rtol=1e-6, atol=1e-9 * np.abs(ref.B).max())


def test_item3_svd_tol_dask_is_scale_invariant():
    da = pytest.importorskip("dask.array")
    A = _scale_case()
    ref = svd_tol(da.from_array(A, chunks=(40, 30)), 1e-3, rng=0)  # Dask draws its own streams
    res = svd_tol(da.from_array(A * 1e300, chunks=(40, 30)), 1e-3, rng=0)
    assert res.converged and res.rank == ref.rank
    assert res.error_estimate == pytest.approx(ref.error_estimate, rel=1e-3)


@pytest.mark.parametrize("c", SCALES)
@pytest.mark.parametrize("norm", ["fro", "2"])
def test_item8_svd_error_estimate_is_scale_invariant(c, norm):
    A = _scale_case()
    U, s, Vh = la.svd.rsvd(A, 5, rng=0)
    ref = la.svd.svd_error_estimate(A, U, s, Vh, norm=norm, rng=0)
    est = la.svd.svd_error_estimate(A * c, U, s * c, Vh, norm=norm, rng=0)
    assert np.isfinite(est)
    assert est / c == pytest.approx(ref, rel=1e-6 if c > 1e-305 else 1e-4)


def test_item8_svd_error_estimate_takes_lists_and_refuses_random_state():
    A = _scale_case()
    U, s, Vh = la.svd.rsvd(A, 5, rng=0)
    ref = la.svd.svd_error_estimate(A, U, s, Vh, rng=0)
    assert la.svd.svd_error_estimate(A.tolist(), U.tolist(), s.tolist(), Vh.tolist(), rng=0) == ref
    with pytest.raises(TypeError, match="random_state"):
        la.svd.svd_error_estimate(A, U, s, Vh, random_state=0)
    with pytest.raises(TypeError, match="random_state"):
        svd_tol(A, 1e-3, random_state=0)


def test_a_well_conditioned_projection_is_lifted_through_its_gram_matrix(monkeypatch):
    # s_k^2 far above 1e10 eps s_1^2: the triplets come from the eigenvectors of B B^H, without an SVD of B
    from lowrank_la.svd import _fixed_accuracy

    def no_svd(*args, **kwargs):
        raise AssertionError("the SVD of B was computed")

    A, _ = _ygl("polynomial")
    expected = svd_tol(A, 1e-2, rng=0)
    monkeypatch.setattr(_fixed_accuracy, "svd_of_projection", no_svd)
    res = svd_tol(A, 1e-2, rng=0)
    np.testing.assert_allclose(res.s, expected.s, rtol=1e-12)



@pytest.mark.parametrize("block_size", [3, 5])
def test_one_oversampling_block_follows_the_block_that_meets_tol(block_size):
    # rank 2: the first block meets tol at QB rank 2; one more block brings the basis to 2 + 10 columns; then the
    # SVD of B finds the rank: ||A||_F (one pass) and two blocks of two passes each
    gen = np.random.default_rng(0)
    A = gen.standard_normal((60, 2)) @ gen.standard_normal((2, 40))
    op = as_operator(A)
    res = svd_tol(op, 1e-3, block_size=block_size, n_power=0, rng=0)
    assert res.rank == 2 and res.converged and op.n_passes == 1 + 2 * 2
    np.testing.assert_allclose(res.s, np.linalg.svd(A, compute_uv=False)[:2], rtol=1e-10)


@pytest.mark.parametrize("A", [sp.csr_matrix((30, 20)), sp.csr_matrix((30, 20), dtype=np.complex128),
                               sp.csc_matrix((20, 30), dtype=np.float32), np.zeros((30, 20))],
                         ids=["csr", "csr-complex", "csc-float32", "dense"])
def test_svd_tol_of_the_zero_matrix_is_rank_one_with_zero_error(A):
    # a sparse matrix without stored values has no entries to take the maximum of (it raised ValueError)
    result = svd_tol(A, 0.1, rng=0)
    assert result.rank == 1 and result.converged
    assert result.s.shape == (1,) and result.s[0] == 0 and result.error_estimate == 0
    assert result.U.shape == (A.shape[0], 1) and result.Vh.shape == (1, A.shape[1])


def test_complex_absolute_tolerance_above_the_norm_reports_the_true_error():
    # tol >= ||A||_F: one block; its error is ||A||_F^2 - ||B||_F^2 with |b|^2, not b^2 (complex)
    rng = np.random.default_rng(3)
    A = rng.standard_normal((40, 30)) + 1j * rng.standard_normal((40, 30))
    result = svd_tol(A, 2 * np.linalg.norm(A), relative=False, rng=0)
    U, s, Vh = result[:3]
    true = np.linalg.norm(A - (U * s) @ Vh)
    assert result.rank == 1
    np.testing.assert_allclose(result.error_estimate, true, rtol=1e-10)
