"""SVD, CPQR and relaxed UTV as meta-factorizations; pseudoinverse formulas."""

import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse
from scipy.sparse.linalg import aslinearoperator

from lowrank_la.factor import (
    RankConditionWarning,
    mf_cpqr,
    mf_svd,
    pinv_from_rank_factorization,
    randomized_pinv,
    rank_factorization,
    utv,
)

from ._problems import best_error, decaying, low_rank, rel


def test_svd_frame_gives_the_diagonal_core():
    A = decaying(50, 40)
    mf = mf_svd(A, 6)
    s = np.linalg.svd(A, compute_uv=False)[:6]
    assert np.allclose(mf.G, np.diag(s), atol=1e-12 * s[0])
    assert abs(mf.relative_error(A) - best_error(A, 6)) < 1e-12


def test_cpqr_frame_gives_the_identity_core():
    A = decaying(50, 40)
    mf = mf_cpqr(A, 6)
    Q = scipy.linalg.qr(A, mode="economic", pivoting=True)[0][:, :6]
    assert np.allclose(mf.G, np.eye(6), atol=1e-10)
    assert rel(mf.reconstruct(), Q @ (Q.T @ A)) < 1e-12
    full = mf_cpqr(low_rank(40, 30, 5), 5)
    assert full.relative_error(low_rank(40, 30, 5)) < 1e-12


@pytest.mark.parametrize("variant", ["svd", "cpqr", "lu"])
def test_utv_exact_at_full_rank_with_its_structure(variant):
    A = low_rank(50, 35, 6)
    mf = utv(A, 6, variant=variant)
    assert mf.relative_error(A) < 1e-12
    T = mf.G
    if variant == "svd":
        assert np.allclose(T, np.diag(np.diag(T)))
    elif variant == "cpqr":
        assert np.allclose(np.tril(T, -1), 0)
    else:
        assert np.allclose(np.triu(T, 1), 0)
    assert np.allclose(mf.F.T @ mf.F, np.eye(6), atol=1e-12)  # U is orthonormal in every variant
    if variant != "lu":
        assert np.allclose(mf.H.T @ mf.H, np.eye(6), atol=1e-12)
    assert np.allclose(mf.Yt @ mf.F, np.eye(6), atol=1e-10)


@pytest.mark.parametrize("variant", ["svd", "cpqr", "lu"])
def test_utv_below_full_rank_is_the_two_sided_projection(variant):
    A = decaying(60, 40, decay=0.8)
    mf = utv(A, 5, variant=variant)
    Qc = scipy.linalg.qr(A, mode="economic", pivoting=True)[0][:, :5]
    Qr = scipy.linalg.qr(A.T, mode="economic", pivoting=True)[0][:, :5]
    assert rel(mf.reconstruct(), Qc @ (Qc.T @ A @ Qr) @ Qr.T) < 1e-10
    assert mf.relative_error(A) >= best_error(A, 5) - 1e-12  # Eckart-Young


def test_dense_only_instances_refuse_operators_and_check_k():
    A = low_rank(20, 15, 3)
    with pytest.raises(TypeError, match="A must be an array, got a MatrixLinearOperator"):
        utv(aslinearoperator(A), 3)
    with pytest.raises(ValueError, match=r"k=16 must satisfy"):
        mf_svd(A, 16)
    with pytest.raises(ValueError, match="variant='qr' must be one of"):
        utv(A, 3, variant="qr")


def test_pinv_from_rank_factorization_matches_numpy():
    for m, n, r in ((30, 20, 5), (20, 40, 20), (25, 25, 25)):
        A = low_rank(m, n, r, seed=r)
        B, D, piv = rank_factorization(A)
        assert B.shape == (m, r) and D.shape == (r, n)
        assert np.array_equal(B, A[:, piv]) and np.allclose(D[:, piv], np.eye(r))  # the rref structure
        assert rel(B @ D, A) < 1e-12
        assert rel(pinv_from_rank_factorization(B, D), np.linalg.pinv(A)) < 1e-10


def test_pinv_of_a_non_rank_factorization_warns_and_stays_correct():
    gen = np.random.default_rng(0)
    B = gen.standard_normal((20, 4))
    B[:, 3] = B[:, 0] + B[:, 1]  # rank 3 < 4 columns
    D = gen.standard_normal((4, 15))
    with pytest.warns(RankConditionWarning, match="not a rank factorization"):
        P = pinv_from_rank_factorization(B, D)
    assert rel(P, np.linalg.pinv(B @ D)) < 1e-10
    with pytest.raises(ValueError, match=r"D.shape\[0\]=5 must equal B.shape\[1\] = 4"):
        pinv_from_rank_factorization(B, np.ones((5, 3)))


def test_randomized_pinv_equals_pinv_exactly_when_ranks_are_preserved():
    A = low_rank(40, 30, 5)
    gen = np.random.default_rng(1)
    exact = np.linalg.pinv(A)
    P, Q = gen.standard_normal((40, 7)), gen.standard_normal((30, 6))
    assert rel(randomized_pinv(A, P, Q), exact) < 1e-10
    assert rel(randomized_pinv(aslinearoperator(A), P, Q), exact) < 1e-10
    # rank(P^T A) = 3 < rank(A) = 5: the formula differs from A^+ (Karpowicz-Strang's negative case)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        approx = randomized_pinv(A, P[:, :3], Q)
    assert rel(approx, exact) > 1e-2
    assert rel(randomized_pinv(A, P, Q[:, :4]), exact) > 1e-2
    with pytest.raises(ValueError, match=r"Q.shape\[0\]"):
        randomized_pinv(A, P, P)


def test_float32_stays_float32_and_inputs_are_untouched():
    A = low_rank(30, 20, 4, dtype=np.float32)
    copy = A.copy()
    for mf in (utv(A, 4, variant="lu"), mf_svd(A, 4), mf_cpqr(A, 4)):
        assert mf.F.dtype == mf.G.dtype == mf.H.dtype == np.float32
        assert mf.relative_error(A) < 1e-4
    B, D, _ = rank_factorization(A)
    assert B.dtype == D.dtype == np.float32
    assert pinv_from_rank_factorization(B, D).dtype == np.float32
    gen = np.random.default_rng(0)
    P, Q = gen.standard_normal((30, 6)).astype(np.float32), gen.standard_normal((20, 6)).astype(np.float32)
    assert randomized_pinv(A, P, Q).dtype == np.float32
    assert np.array_equal(A, copy)


def test_pinv_formulas_on_array_api_backends(xp_dense_backend):
    be = xp_dense_backend
    A = low_rank(25, 18, 4)
    exact = np.linalg.pinv(A)
    B, D, _ = rank_factorization(A)
    assert rel(be.tonumpy(pinv_from_rank_factorization(be.asarray(B), be.asarray(D))), exact) < 1e-10
    gen = np.random.default_rng(2)
    P, Q = gen.standard_normal((25, 6)), gen.standard_normal((18, 6))
    assert rel(be.tonumpy(randomized_pinv(be.asarray(A), be.asarray(P), be.asarray(Q))), exact) < 1e-10


def test_pinv_formulas_leave_their_inputs_untouched():
    A = low_rank(30, 20, 4)
    gen = np.random.default_rng(3)
    B, D, _ = rank_factorization(A)
    P, Q = gen.standard_normal((30, 6)), gen.standard_normal((20, 6))
    copies = [x.copy() for x in (A, B, D, P, Q)]
    pinv_from_rank_factorization(B, D)
    randomized_pinv(A, P, Q)
    rank_factorization(A, rcond=1e-8)
    for x, c in zip((A, B, D, P, Q), copies):
        assert np.array_equal(x, c)


def test_rank_factorization_refuses_non_dense_input_by_name():
    A = low_rank(10, 8, 2)
    with pytest.raises(TypeError, match="A must be a dense array, got a sparse csr_array"):
        rank_factorization(scipy.sparse.csr_array(A))
    with pytest.raises(TypeError, match="A must be an array, got a MatrixLinearOperator"):
        rank_factorization(aslinearoperator(A))
    with pytest.raises(ValueError, match="rcond=1.5 must satisfy"):
        rank_factorization(A, rcond=1.5)
