"""Interpolative decomposition: meaning shared with scipy.linalg.interpolative, exactness, precision mode."""

import numpy as np
import pytest
import scipy.linalg.interpolative as sli
from scipy.sparse.linalg import aslinearoperator

from lowrank_la.factor import InterpolativeDecomposition, interpolative

from ._problems import best_error, decaying, low_rank, rel


@pytest.mark.parametrize("rand", [True, False])
def test_exact_rank_r_and_scipy_meaning(rand):
    A = low_rank(60, 45, 7)
    d = interpolative(A, 7, rand=rand, rng=0)
    assert isinstance(d, InterpolativeDecomposition) and d.k == 7
    assert sorted(d.idx.tolist()) == list(range(45))
    assert rel(A[:, d.idx[:7]] @ d.proj, A[:, d.idx[7:]]) < 1e-10
    assert rel(d.reconstruct(), A) < 1e-10
    # scipy's reconstruction helpers read our idx and proj the same way
    assert rel(sli.reconstruct_matrix_from_id(A[:, d.idx[:7]], d.idx, d.proj), A) < 1e-10
    assert np.allclose(sli.reconstruct_interp_matrix(d.idx, d.proj), d.interp_matrix)
    assert np.array_equal(d.skeleton, A[:, d.idx[:7]]) and np.allclose(d.G, np.eye(7))


def test_deterministic_id_matches_scipy():
    A = decaying(50, 40, decay=0.7)
    idx_s, proj_s = sli.interp_decomp(A, 8, rand=False)
    d = interpolative(A, 8, rand=False)
    assert np.array_equal(np.sort(d.idx[:8]), np.sort(idx_s[:8]))  # same skeleton (same pivoting rule)
    assert rel(d.reconstruct(), sli.reconstruct_matrix_from_id(A[:, idx_s[:8]], idx_s, proj_s)) < 1e-8


def test_precision_mode_agrees_with_scipy_on_the_rank():
    A = decaying(60, 50, decay=0.5)
    for eps in (1e-3, 1e-8):
        k_s, _, _ = sli.interp_decomp(A, eps, rand=False)
        d_det = interpolative(A, eps, rand=False)
        d_rand = interpolative(A, eps, rng=0)
        assert abs(d_det.k - k_s) <= 1
        assert abs(d_rand.k - k_s) <= 2
        for d in (d_det, d_rand):
            assert d.relative_error(A) < 100 * eps


def test_randomized_error_close_to_scipy_and_to_the_best():
    A = decaying(120, 90, decay=0.85, seed=4)
    for k in (5, 15):
        ours = interpolative(A, k, rng=1).relative_error(A)
        idx, proj = sli.interp_decomp(A, k, rand=True, rng=np.random.default_rng(1))
        theirs = rel(sli.reconstruct_matrix_from_id(A[:, idx[:k]], idx, proj), A)
        assert ours < 3 * theirs
        assert ours < 20 * best_error(A, k)


def test_operator_input_and_dtype():
    A = low_rank(40, 30, 4)
    d = interpolative(aslinearoperator(A), 4, rng=0)
    assert rel(d.reconstruct(), A) < 1e-10
    d32 = interpolative(A.astype(np.float32), 4, rng=0)
    assert d32.F.dtype == np.float32 and d32.proj.dtype == np.float32
    assert d32.relative_error(A) < 1e-4


def test_bad_input_is_refused():
    A = low_rank(30, 20, 3)
    with pytest.raises(ValueError, match=r"k_or_eps=21 must satisfy 1 <= k_or_eps <= min\(m, n\) = 20"):
        interpolative(A, 21)
    with pytest.raises(ValueError, match="k_or_eps=0"):
        interpolative(A, 0)
    with pytest.raises(TypeError, match="rand=False needs a dense or sparse A"):
        interpolative(aslinearoperator(A), 3, rand=False)
    bad = A.copy()
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="A must be finite"):
        interpolative(bad, 3)


def test_power_iterations_sharpen_the_randomized_skeleton():
    A = decaying(200, 150, decay=0.97, seed=5)  # slow decay: a plain sketch picks weaker pivots
    plain = np.mean([interpolative(A, 20, rng=s).relative_error(A) for s in range(5)])
    power = np.mean([interpolative(A, 20, n_iter=2, rng=s).relative_error(A) for s in range(5)])
    deterministic = interpolative(A, 20, rand=False).relative_error(A)
    assert power < plain
    assert power < 1.2 * deterministic
    with pytest.raises(ValueError, match="n_iter=-1"):
        interpolative(A, 3, n_iter=-1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rand", [True, False])
def test_inputs_are_not_modified(dtype, rand):
    A = low_rank(40, 30, 4, dtype=dtype)
    copy = A.copy()
    d = interpolative(A, 4, rand=rand, rng=0)
    interpolative(A, 1e-6, rand=rand, rng=0)
    assert np.array_equal(A, copy)
    assert d.F.dtype == d.H.dtype == d.Yt.dtype == d.X.dtype == dtype
    assert rel(interpolative(A.tolist(), 4, rand=rand, rng=0).reconstruct(), d.reconstruct()) < 1e-4


def test_nan_precision_is_refused_by_name():
    A = low_rank(30, 20, 3)
    with pytest.raises(ValueError, match="k_or_eps=nan must be a finite number"):
        interpolative(A, float("nan"))
    with pytest.raises(TypeError, match="k_or_eps must be an integer"):
        interpolative(A, 5.0)
