"""meta_factorize: projector and reconstruction equations, core freedom, rank checks, input handling."""

import warnings

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import aslinearoperator

from lowrank_la.factor import MetaFactorization, RankConditionWarning, meta_factorize

from ._problems import low_rank, rel

TOL = {np.float32: 1e-4, np.float64: 1e-12}


def _frames(A, k, seed=1):
    gen = np.random.default_rng(seed)
    m, n = A.shape
    F = A @ gen.standard_normal((n, k)).astype(A.dtype)
    H = A.T @ gen.standard_normal((m, k)).astype(A.dtype)
    B = gen.standard_normal((m, k)).astype(A.dtype)
    D = gen.standard_normal((n, k)).astype(A.dtype)
    return F, H, B, D


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("method", ["qr", "lstsq", "pinv"])
def test_exact_recovery_and_projector_equations(dtype, method):
    A = low_rank(60, 45, 6, dtype=dtype)
    F, H, B, D = _frames(A, 6)
    mf = meta_factorize(A, F, H, B=B, D=D, method=method)
    assert mf.G.dtype == dtype and mf.F.dtype == dtype
    assert mf.relative_error(A) < 100 * TOL[dtype]
    assert mf.info["projector_residual_left"] < TOL[dtype]
    assert mf.info["projector_residual_right"] < TOL[dtype]
    assert mf.info["rank_BtF"] == mf.info["rank_F"] == 6
    assert mf.info["rank_condition_holds"]
    # the projector factors really solve F Y^T F = F and H^T X H^T = H^T, and P_c = F Y^T is idempotent
    assert rel(F @ (mf.Yt @ F), F) < TOL[dtype]
    Pc = F @ mf.Yt
    assert rel(Pc @ Pc, Pc) < 10 * TOL[dtype]


def test_any_w_gives_the_same_reconstruction_at_full_rank():
    A = low_rank(50, 40, 5)
    F, H, B, D = _frames(A, 5)
    plain = meta_factorize(A, F, H, B=B, D=D)
    base = plain.reconstruct()
    gen = np.random.default_rng(3)
    cores = []
    for _ in range(3):
        W = np.linalg.norm(plain.G) * gen.standard_normal((5, 5))  # a perturbation as large as the core
        mf = meta_factorize(A, F, H, B=B, D=D, W=W)
        assert rel(mf.reconstruct(), A) < 1e-10
        assert rel(mf.reconstruct(), base) < 1e-10
        cores.append(mf.G)
    # the cores themselves differ only when F, H have more columns than the rank: here they are the unique core
    assert rel(cores[0], cores[1]) < 1e-9


def test_w_changes_the_core_of_redundant_frames_but_not_the_reconstruction():
    A = low_rank(50, 40, 4)
    F, H, B, D = _frames(A, 4)
    F = np.hstack([F, F[:, :2] + F[:, 2:]])  # 6 columns spanning a 4-dimensional space
    H = np.hstack([H, H[:, :1]])
    gen = np.random.default_rng(4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RankConditionWarning)
        one = meta_factorize(A, F, H, W=gen.standard_normal((6, 5)), method="pinv")
        two = meta_factorize(A, F, H, W=gen.standard_normal((6, 5)), method="pinv")
    assert rel(one.G, two.G) > 1e-2
    assert rel(one.reconstruct(), A) < 1e-10 and rel(two.reconstruct(), A) < 1e-10


def test_default_test_matrices_give_the_optimal_core():
    gen = np.random.default_rng(5)
    A = gen.standard_normal((40, 30))
    F, H = gen.standard_normal((40, 5)), gen.standard_normal((30, 4))
    mf = meta_factorize(A, F, H)
    expected = np.linalg.pinv(F) @ A @ np.linalg.pinv(H.T)
    assert rel(mf.G, expected) < 1e-10
    best = np.linalg.norm(A - mf.reconstruct())
    for _ in range(5):  # any other core is worse
        other = mf.G + 0.1 * gen.standard_normal(mf.G.shape)
        assert np.linalg.norm(A - F @ other @ H.T) > best
    oblique = meta_factorize(A, F, H, B=gen.standard_normal((40, 6)), D=gen.standard_normal((30, 4)))
    assert np.linalg.norm(A - oblique.reconstruct()) >= best


def test_rank_deficient_frame_is_detected_and_reported():
    A = low_rank(40, 30, 3)
    F, H, _, _ = _frames(A, 3)
    F_bad = np.hstack([F[:, :2], F[:, :1] + F[:, 1:2]])  # rank 2 < 3 columns, and misses col(A)
    with pytest.warns(RankConditionWarning, match="F is rank deficient"):
        mf = meta_factorize(A, F_bad, H)
    assert mf.info["rank_F"] == 2
    assert mf.info["route_left"] == "pinv (fallback)"
    assert not mf.info["rank_condition_holds"]
    assert np.all(np.isfinite(mf.G))  # the QR route would have divided by ~0
    with pytest.raises(np.linalg.LinAlgError, match="rank deficient"):
        meta_factorize(A, F_bad, H, check="raise")


def test_failing_rank_condition_of_the_test_matrix_is_reported():
    A = low_rank(40, 30, 4)
    F, H, B, D = _frames(A, 4)
    B_bad = B - F @ np.linalg.lstsq(F, B, rcond=None)[0]  # B orthogonal to col(F): B^T F = 0
    B_bad[:, 0] += F[:, 0]                                # rank(B^T F) = 1 < 4
    with pytest.warns(RankConditionWarning, match=r"rank\(B\^T F\) = 1 < rank\(F\) = 4"):
        mf = meta_factorize(A, F, H, B=B_bad, D=D)
    assert mf.info["projector_residual_left"] > 1e-3
    quiet = meta_factorize(A, F, H, B=B_bad, D=D, check=False)
    assert "projector_residual_left" not in quiet.info


def test_operator_application_matches_the_dense_reconstruction():
    A = low_rank(30, 20, 3)
    F, H, B, D = _frames(A, 3)
    mf = meta_factorize(A, F, H, B=B, D=D)
    dense = mf.reconstruct()
    gen = np.random.default_rng(6)
    x, y = gen.standard_normal(20), gen.standard_normal(30)
    assert np.allclose(mf.matvec(x), dense @ x)
    assert np.allclose(mf.rmatvec(y), dense.T @ y)
    op = mf.as_linear_operator()
    assert op.shape == (30, 20)
    assert np.allclose(op @ np.eye(20), dense)
    assert np.allclose(op.H @ np.eye(30), dense.T)
    with pytest.raises(ValueError, match="x.shape"):
        mf.matvec(np.ones(7))
    assert isinstance(mf, MetaFactorization) and "MetaFactorization 30x20" in repr(mf)


def test_sparse_and_operator_inputs_agree_with_dense():
    A = low_rank(30, 25, 3)
    F, H, B, D = _frames(A, 3)
    dense = meta_factorize(A, F, H, B=B, D=D).G
    for other in (scipy.sparse.csr_array(A), aslinearoperator(A)):
        assert rel(meta_factorize(other, F, H, B=B, D=D).G, dense) < 1e-12


def test_inputs_are_not_modified():
    A = low_rank(30, 25, 3)
    F, H, B, D = _frames(A, 3)
    W = np.ones((3, 3))
    copies = [x.copy() for x in (A, F, H, B, D, W)]
    meta_factorize(A, F, H, B=B, D=D, W=W)
    for x, c in zip((A, F, H, B, D, W), copies):
        assert np.array_equal(x, c)


def test_bad_input_is_refused_with_its_name():
    A = low_rank(30, 25, 3)
    F, H, B, D = _frames(A, 3)
    with pytest.raises(ValueError, match=r"F.shape\[0\]=25 must equal A.shape\[0\] = 30"):
        meta_factorize(A, F[:25], H)
    with pytest.raises(ValueError, match=r"H.shape\[0\]"):
        meta_factorize(A, F, F)
    with pytest.warns(RankConditionWarning, match=r"rank\(B\^T F\) = 2 < rank\(F\) = 3"):
        meta_factorize(A, F, H, B=B[:, :2])  # too few test columns: allowed (GN needs it), and reported
    with pytest.raises(ValueError, match=r"W.shape\[1\]"):
        meta_factorize(A, F, H, W=np.ones((3, 4)))
    bad = A.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="A must be finite"):
        meta_factorize(bad, F, H)
    F_nan = F.copy()
    F_nan[1, 1] = np.inf
    with pytest.raises(ValueError, match="F must be finite"):
        meta_factorize(A, F_nan, H)
    with pytest.raises(ValueError, match="method='svd' must be one of"):
        meta_factorize(A, F, H, method="svd")
    with pytest.raises(ValueError, match="rcond"):
        meta_factorize(A, F, H, rcond=2.0)
    with pytest.raises(ValueError, match="F must be 2-D"):
        meta_factorize(A, F[:, 0], H)


def test_array_api_backends(xp_dense_backend):
    be = xp_dense_backend
    A = low_rank(40, 30, 4)
    F, H, B, D = _frames(A, 4)
    mf = meta_factorize(*(be.asarray(x) for x in (A, F, H)), B=be.asarray(B), D=be.asarray(D))
    assert rel(be.tonumpy(mf.reconstruct()), A) < 1e-10
    assert mf.info["projector_residual_left"] < 1e-12
    assert rel(be.tonumpy(mf.matvec(be.asarray(np.ones(30)))), A @ np.ones(30)) < 1e-10


@settings(max_examples=30, deadline=None)
@given(rows_f=st.integers(1, 12), cols_f=st.integers(1, 4), rows_h=st.integers(1, 12), bad=st.sampled_from(
    ["none", "nan", "inf"]))
def test_fuzzed_frames_are_refused_or_factorized(rows_f, cols_f, rows_h, bad):
    A = low_rank(8, 6, 2)
    F = np.ones((rows_f, cols_f))
    H = np.ones((rows_h, 2))
    if bad != "none":
        F[0, 0] = np.nan if bad == "nan" else np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RankConditionWarning)
        if bad != "none":
            with pytest.raises(ValueError, match="F must be finite"):
                meta_factorize(A, F, H)
        elif rows_f != 8:
            with pytest.raises(ValueError, match=r"F.shape\[0\]"):
                meta_factorize(A, F, H)
        elif rows_h != 6:
            with pytest.raises(ValueError, match=r"H.shape\[0\]"):
                meta_factorize(A, F, H)
        else:
            mf = meta_factorize(A, F, H)
            assert mf.G.shape == (cols_f, 2) and np.all(np.isfinite(mf.G))


def test_dask_input_gives_a_lazy_exact_factorization():
    da = pytest.importorskip("dask.array")
    A = low_rank(60, 40, 5)
    F, H, B, D = _frames(A, 5)
    mf = meta_factorize(da.from_array(A, chunks=(20, 40)), F, H, B=B, D=D)
    assert rel(np.asarray(mf.reconstruct()), A) < 1e-10
