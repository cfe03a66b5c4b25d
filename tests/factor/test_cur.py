"""CUR: exact recovery per selector and core, the two core equivalences, optimality, QR storage, input checks."""

import numpy as np
import pytest
import scipy.sparse
from scipy.sparse.linalg import aslinearoperator

from lowrank_la.factor import CURDecomposition, cur, cur_from_indices, deim, meta_factorize, select_indices

from ._problems import decaying, low_rank, rel


@pytest.mark.parametrize("select", ["leverage", "deim", "qr", "uniform"])
@pytest.mark.parametrize("core", ["optimal", "cross"])
def test_exact_recovery_of_rank_r(select, core):
    A = low_rank(70, 50, 5)  # generic: any 5 rows or columns are independent, so every selector qualifies
    for k in (5, 9):
        mf = cur(A, k, select=select, core=core, rng=0)
        assert isinstance(mf, CURDecomposition)
        assert mf.C.shape == (70, k) and mf.U.shape == (k, k) and mf.R.shape == (k, 50)
        assert np.array_equal(mf.C, A[:, mf.cols]) and np.array_equal(mf.R, A[mf.rows, :])
        assert mf.relative_error(A) < 1e-10, (k, mf.relative_error(A))
        assert rel(mf.C @ mf.U @ mf.R, A) < 1e-9  # the stored core reproduces the same matrix


def test_float32_stays_float32():
    A = low_rank(40, 30, 4, dtype=np.float32)
    for core in ("optimal", "cross"):
        mf = cur(A, 4, select="deim", core=core, rng=0)
        assert mf.U.dtype == np.float32 and mf.C.dtype == np.float32
        assert mf.relative_error(A) < 1e-4


def test_optimal_core_is_the_pseudoinverse_core_and_the_meta_instance():
    A = decaying(60, 45, decay=0.9)
    rows, cols = np.arange(0, 60, 6), np.arange(1, 45, 5)
    mf = cur_from_indices(A, rows, cols)
    C, R = A[:, cols], A[rows, :]
    assert rel(mf.U, np.linalg.pinv(C) @ A @ np.linalg.pinv(R)) < 1e-10
    meta = meta_factorize(A, C, R.T)  # B = F = C, D = H = R^T
    assert rel(meta.G, mf.U) < 1e-10
    assert rel(meta.reconstruct(), mf.reconstruct()) < 1e-12


def test_selectors_give_the_cross_core():
    A = decaying(60, 45, decay=0.9)
    rows, cols = np.array([3, 10, 17, 30, 44, 58]), np.array([0, 7, 8, 20, 33, 40])
    cross = cur_from_indices(A, rows, cols, core="cross")
    assert rel(cross.U, np.linalg.pinv(A[np.ix_(rows, cols)])) < 1e-10
    E_I, E_J = np.eye(60)[:, rows], np.eye(45)[:, cols]
    meta = meta_factorize(A, A[:, cols], A[rows, :].T, B=E_I, D=E_J, method="pinv")
    assert rel(meta.G, cross.U) < 1e-10
    assert rel(meta.Yt, cross.Yt) < 1e-10 and rel(meta.X, cross.X) < 1e-10


def test_optimal_core_beats_the_cross_core_and_any_other():
    A = decaying(80, 60, decay=0.85, seed=3)
    gen = np.random.default_rng(0)
    for seed in range(5):
        rows, cols = select_indices(A, 8, method="uniform", rng=seed)
        opt = np.linalg.norm(A - cur_from_indices(A, rows, cols).reconstruct())
        cross = np.linalg.norm(A - cur_from_indices(A, rows, cols, core="cross").reconstruct())
        assert opt <= cross
        mf = cur_from_indices(A, rows, cols)
        other = mf.U + 1e-3 * np.linalg.norm(mf.U) * gen.standard_normal(mf.U.shape)
        assert np.linalg.norm(A - mf.C @ other @ mf.R) > opt


def test_qr_storage_survives_numerically_rank_deficient_c_and_r():
    # spec page 09, pitfall: a numerically rank-~10 matrix with k = 20 columns and rows; forming C^+ A R^+ with
    # pinv at a tiny rcond loses digits, the QR form keeps ~1e-13
    gen = np.random.default_rng(0)
    A = gen.standard_normal((300, 10)) @ gen.standard_normal((10, 300)) + 1e-15 * gen.standard_normal((300, 300))
    rows, cols = select_indices(A, 20, method="uniform", rng=1)
    mf = cur_from_indices(A, rows, cols)
    assert mf.info["rank_C"] == 10 and mf.info["rank_R"] == 10
    assert mf.relative_error(A) < 1e-12


def test_operator_and_sparse_inputs():
    A = low_rank(50, 40, 4)
    rows, cols = np.arange(0, 50, 7), np.arange(0, 40, 6)
    dense = cur_from_indices(A, rows, cols).reconstruct()
    for other in (aslinearoperator(A), scipy.sparse.csr_array(A)):
        assert rel(cur_from_indices(other, rows, cols).reconstruct(), dense) < 1e-12
    assert rel(cur(aslinearoperator(A), 4, select="qr", rng=0).reconstruct(), A) < 1e-10


def test_matvec_through_the_qr_factors():
    A = decaying(40, 30)
    mf = cur(A, 6, select="deim", rng=0)
    x = np.arange(30.0)
    assert rel(mf.matvec(x), mf.C @ (mf.U @ (mf.R @ x))) < 1e-10
    assert rel(mf.rmatvec(np.ones(40)), mf.reconstruct().T @ np.ones(40)) < 1e-12


def test_deim_picks_distinct_well_conditioned_rows():
    U = np.linalg.qr(np.random.default_rng(2).standard_normal((50, 7)))[0]
    idx = deim(U)
    assert len(set(idx.tolist())) == 7
    assert np.linalg.cond(U[idx]) < 50  # DEIM bound: ||U[idx]^{-1}|| is modest for generic U


def test_same_seed_same_selection_and_inputs_untouched():
    A = decaying(40, 30)
    copy = A.copy()
    for method in ("leverage", "deim", "qr", "uniform"):
        one = select_indices(A, 5, method=method, rng=3)
        two = select_indices(A, 5, method=method, rng=3)
        assert all(np.array_equal(a, b) for a, b in zip(one, two))
    cur(A, 5, rng=0)
    assert np.array_equal(A, copy)


def test_bad_input_is_refused():
    A = low_rank(30, 20, 3)
    with pytest.raises(ValueError, match=r"k=21 must satisfy"):
        cur(A, 21)
    with pytest.raises(ValueError, match="select='random' must be one of"):
        cur(A, 3, select="random")
    with pytest.raises(ValueError, match="core='best' must be one of"):
        cur(A, 3, core="best")
    with pytest.raises(ValueError, match="rows must not repeat"):
        cur_from_indices(A, [1, 1], [2, 3])
    with pytest.raises(ValueError, match="cols must satisfy 0 <= cols < 20"):
        cur_from_indices(A, [1, 2], [2, 20])
    with pytest.raises(TypeError, match="rows must hold integers"):
        cur_from_indices(A, [1.0, 2.0], [2, 3])
    bad = A.copy()
    bad[0, 1] = np.inf
    with pytest.raises(ValueError, match="A must be finite"):
        cur(bad, 3)


def test_deim_refuses_bad_bases_by_name_and_leaves_them_untouched():
    U = np.linalg.qr(np.random.default_rng(3).standard_normal((20, 4)))[0]
    copy = U.copy()
    assert np.array_equal(deim(U), deim(U.tolist()))  # nested lists are read as arrays
    assert np.array_equal(U, copy)
    with pytest.raises(ValueError, match="U must be 2-D"):
        deim(U[:, 0])
    with pytest.raises(ValueError, match=r"U.shape\[1\]=20 must satisfy U.shape\[1\] <= U.shape\[0\] = 4"):
        deim(U.T)
    bad = U.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="U must be finite"):
        deim(bad)
    with pytest.raises(TypeError, match="U must be a dense array"):
        deim(scipy.sparse.csr_array(U))


def test_cur_from_indices_leaves_indices_untouched_and_reads_lists():
    A = low_rank(30, 20, 3)
    rows, cols = np.array([9, 1, 4]), np.array([7, 0, 3])
    copies = (A.copy(), rows.copy(), cols.copy())
    for core in ("optimal", "cross"):
        mf = cur_from_indices(A, rows, cols, core=core)
        assert rel(mf.reconstruct(), A) < 1e-10
        assert rel(cur_from_indices(A.tolist(), rows, cols, core=core).reconstruct(), A) < 1e-10
    for x, c in zip((A, rows, cols), copies):
        assert np.array_equal(x, c)


def test_default_selection_does_not_depend_on_luck():
    """Exactly k leverage-sampled indices miss part of the range on some seeds; the default (DEIM) never does."""
    ratios = {"leverage": [], "deim": []}
    for seed in range(60):
        gen = np.random.default_rng(seed)
        U = np.linalg.qr(gen.standard_normal((24, 3)))[0]
        V = np.linalg.qr(gen.standard_normal((16, 3)))[0]
        A = (U * [10.0, 5.0, 2.0]) @ V.T + 1e-3 * gen.standard_normal((24, 16))
        best = np.linalg.norm(np.linalg.svd(A, compute_uv=False)[3:])
        default = cur(A, 3, rng=seed)
        assert default.info["select"] == "deim"
        ratios["deim"].append(np.linalg.norm(default.reconstruct() - A) / best)
        ratios["leverage"].append(np.linalg.norm(cur(A, 3, select="leverage", rng=seed).reconstruct() - A) / best)
    assert max(ratios["deim"]) < 4, max(ratios["deim"])
    assert sum(r > 8 for r in ratios["leverage"]) >= 5  # the reason leverage is not the default
