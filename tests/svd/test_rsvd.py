"""rsvd and randomized_range_finder: accuracy against LAPACK, invariants, pass counts, statistics, errors."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import LinearOperator, aslinearoperator

import lowrank_la as la
from lowrank_la._backend import as_operator
from lowrank_la.svd import _rsvd, randomized_range_finder, rsvd

METHODS = ["subspace", "block_krylov"]
# the former fixed default n_iter="auto" for k < 0.1 min(m, n) (the tolerance-driven default: test_rsvd_tol.py)
FORMER_AUTO = {"subspace": 7, "block_krylov": 4}
EPS = {np.float32: np.finfo(np.float32).eps, np.float64: np.finfo(np.float64).eps}


def _np(x):
    return np.asarray(x.compute() if hasattr(x, "compute") else x)


def _spectrum_matrix(kind, m=240, n=160, dtype=np.float64, seed=0, **params):
    s = la.datasets.spectrum(kind, min(m, n), **params)
    return la.datasets.matrix_with_spectrum(m, n, s, rng=seed, dtype=dtype), s


# --------------------------------------------------------------------------- exact recovery, every backend

@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exact_low_rank_is_recovered(xp_backend, method, dtype):
    m, n, r = 120, 80, 6
    A = la.datasets.low_rank_matrix(m, n, r, rng=1, dtype=dtype)
    U, s, Vh = rsvd(xp_backend.asarray(A), r, method=method, rng=0)
    U, s, Vh = (xp_backend.tonumpy(x) for x in (U, s, Vh))
    assert U.dtype == s.dtype == Vh.dtype == dtype
    # the spec's bound: 50 eps sqrt(mn) in float64 (about 5e-12 here); 1e-4 in float32
    tol = 50 * EPS[dtype] * np.sqrt(m * n) if dtype == np.float64 else 1e-4
    A64 = A.astype(np.float64)
    assert np.linalg.norm(A64 - (U * s) @ Vh) <= tol * np.linalg.norm(A64)
    assert np.allclose(s, np.linspace(1.0, 0.5, r), rtol=0, atol=10 * tol)


@pytest.mark.parametrize("kind", ["dense", "csr", "csc", "linear_operator"])
@pytest.mark.parametrize("method", METHODS)
def test_exact_low_rank_every_input_kind(kind, method):
    A = la.datasets.low_rank_matrix(90, 70, 4, rng=2)
    wrap = {"dense": lambda a: a, "csr": sp.csr_array, "csc": sp.csc_matrix, "linear_operator": aslinearoperator}
    U, s, Vh = rsvd(wrap[kind](A), 4, method=method, rng=0)
    assert np.linalg.norm(A - (U * s) @ Vh) <= 1e-12 * np.linalg.norm(A)


# --------------------------------------------------------------------------- singular values against LAPACK

# Calibrated on seeds 0..4 (worst observed error x ~10 of margin):
# exponential (scale 7), k=10, p=10: the sketch captures the top 10 to rounding: rtol 1e-10 (float64, the spec's
# number for q >= 2), 1e-4 (float32: values down to exp(-9/7) ~ 0.28 relative, eps32 * sqrt(n) ~ 1e-6 each).
# polynomial (power 1), k=10, p=10, the former default n_iter (7 subspace, 4 Krylov): worst observed 2e-4
# (subspace) and 1e-7 (Krylov): rtol 3e-3 and 1e-5 (float64); float32 adds ~1e-5.
SV_RTOL = {
    ("exponential", "subspace", np.float64): 1e-10,
    ("exponential", "block_krylov", np.float64): 1e-10,
    ("exponential", "subspace", np.float32): 1e-4,
    ("exponential", "block_krylov", np.float32): 1e-4,
    ("polynomial", "subspace", np.float64): 3e-3,
    ("polynomial", "block_krylov", np.float64): 1e-5,
    ("polynomial", "subspace", np.float32): 3e-3,
    ("polynomial", "block_krylov", np.float32): 1e-4,
}


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind,params", [("exponential", {"scale": 7}), ("polynomial", {"power": 1})])
def test_singular_values_match_lapack(kind, params, method, dtype, seed):
    A, _ = _spectrum_matrix(kind, dtype=dtype, seed=seed, **params)
    exact = np.linalg.svd(A.astype(np.float64), compute_uv=False)[:10]
    U, s, Vh = rsvd(A, 10, method=method, n_iter=FORMER_AUTO[method], rng=seed)
    assert np.max(np.abs(s - exact) / exact) <= SV_RTOL[(kind, method, dtype)]
    # orthonormal U and V: 10 l eps (l = 20)
    for X in (U, Vh.T):
        assert np.max(np.abs(X.T @ X - np.eye(10))) <= 10 * 20 * EPS[dtype]
    assert np.all(np.diff(s) <= 0) and np.all(s >= 0)


def test_block_krylov_beats_subspace_at_equal_passes():
    # polynomial decay is the hard case: with the same 2q + 2 = 6 passes and block size, the Krylov space is
    # the larger one and contains the subspace iterate; its top-10 error is smaller on every seed tried.
    A, _ = _spectrum_matrix("polynomial", m=300, n=250, power=0.5)
    exact = np.linalg.svd(A, compute_uv=False)[:10]
    for seed in range(3):
        sub = rsvd(A, 10, n_iter=2, rng=seed).s
        kry = rsvd(A, 10, n_iter=2, method="block_krylov", rng=seed).s
        assert np.max(np.abs(kry - exact) / exact) < np.max(np.abs(sub - exact) / exact)


# --------------------------------------------------------------------------- invariants

@pytest.mark.parametrize("method", METHODS)
def test_dtype_kept_and_integers_promoted(method):
    A, _ = _spectrum_matrix("exponential", scale=7)
    for dtype in (np.float32, np.float64):
        res = rsvd(A.astype(dtype), 5, method=method, rng=0)
        assert all(x.dtype == dtype for x in res)
        res = rsvd(sp.csr_array(A.astype(dtype)), 5, method=method, rng=0)
        assert all(x.dtype == dtype for x in res)
    res = rsvd(np.rint(10 * A).astype(np.int64), 5, method=method, rng=0)
    assert all(x.dtype == np.float64 for x in res)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("normalizer", ["auto", "lu", "qr", "cholqr2", "none"])
def test_same_seed_same_bits_and_input_untouched(method, normalizer):
    A, _ = _spectrum_matrix("polynomial", power=1)
    S = sp.csr_array(A)
    copy, data = A.copy(), S.data.copy()
    for X in (A, S):
        a = rsvd(X, 8, method=method, normalizer=normalizer, rng=3)
        b = rsvd(X, 8, method=method, normalizer=normalizer, rng=np.random.default_rng(3))
        assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert np.array_equal(A, copy) and np.array_equal(S.data, data)


@pytest.mark.parametrize("method", METHODS)
def test_dense_sparse_and_operator_agree(method):
    A, _ = _spectrum_matrix("polynomial", power=1)
    ref = rsvd(A, 8, method=method, rng=5)
    for X in (sp.csr_array(A), sp.csc_matrix(A), aslinearoperator(A)):
        res = rsvd(X, 8, method=method, rng=5)
        for x, y in zip(res, ref):
            assert np.max(np.abs(x - y)) <= 1e-10  # the same test matrix: agreement to rounding
        assert np.max(np.abs(res.s - ref.s)) <= 1e-12


def test_transposing_swaps_u_and_v():
    A, _ = _spectrum_matrix("exponential", scale=7)
    a = rsvd(A, 6, rng=2, flip_sign=False)
    b = rsvd(A.T, 6, rng=2, flip_sign=False)  # "auto" works on (A^T)^T = A: the same computation
    assert np.allclose(a.U, b.Vh.T, atol=1e-12) and np.allclose(a.s, b.s, rtol=1e-13)
    c = rsvd(A, 6, rng=2, n_iter=7, transpose=True)  # forced transpose: a different sketch, the same answer
    assert np.allclose(np.abs(c.U), np.abs(rsvd(A, 6, rng=2, n_iter=7).U), atol=1e-8)


def test_sign_rule():
    A, _ = _spectrum_matrix("exponential", scale=7)
    U, s, Vh = rsvd(A, 6, rng=0)
    rows = np.argmax(np.abs(U), axis=0)
    assert np.all(U[rows, np.arange(6)] > 0)
    U2, s2, Vh2 = rsvd(A, 6, rng=0, flip_sign=False)
    signs = np.sign(np.sum(U * U2, axis=0))
    assert np.allclose(U2 * signs, U) and np.allclose(Vh2 * signs[:, None], Vh)


def test_rank_above_the_sketch_size_limit_is_exact():
    # k + p above min(m, n): the sketch is the whole column space, the SVD is exact
    A = np.random.default_rng(0).standard_normal((40, 25))
    U, s, Vh = rsvd(A, 25, rng=0)
    assert np.allclose(s, np.linalg.svd(A, compute_uv=False), rtol=1e-12)
    U, s, Vh = rsvd(A, 25, method="block_krylov", block_size=7, n_iter=3, rng=0)
    assert np.allclose(s, np.linalg.svd(A, compute_uv=False), rtol=1e-12)


# --------------------------------------------------------------------------- centring

@pytest.mark.parametrize("method", METHODS)
def test_center_is_pca_without_densifying(method):
    rng = np.random.default_rng(0)
    # a sparse matrix with decaying column scales, so that the top 5 centred singular values are separated
    S = sp.csr_array(sp.random(150, 90, density=0.05, format="csr", random_state=1)
                     @ sp.diags(1.0 / np.arange(1, 91)))
    dense = S.toarray()
    exact = np.linalg.svd(dense - dense.mean(axis=0), compute_uv=False)[:5]

    calls = {"shapes": []}

    def matmat(X):
        calls["shapes"].append(X.shape)
        return S @ X

    op = LinearOperator(S.shape, matvec=lambda x: S @ x, rmatvec=lambda y: S.T @ y, matmat=matmat,
                        rmatmat=lambda Y: S.T @ Y, dtype=np.float64)
    for X in (S, op):
        U, s, Vh = rsvd(X, 5, center=True, n_iter=10, method=method, rng=rng.integers(100))
        assert np.allclose(s, exact, rtol=1e-6)
        mu = dense.mean(axis=0)
        assert np.allclose(U.T @ (dense - mu) @ Vh.T, np.diag(s), atol=1e-8)
    assert all(shape[1] < 90 for shape in calls["shapes"])  # only thin blocks, never the identity


# --------------------------------------------------------------------------- pass counts

@pytest.mark.parametrize("q", [0, 1, 3])
@pytest.mark.parametrize("method", METHODS)
def test_passes_are_2q_plus_2(q, method):
    A, _ = _spectrum_matrix("polynomial", power=1)
    for X in (A, sp.csr_array(A), aslinearoperator(A)):
        op = as_operator(X)
        rsvd(op, 5, n_iter=q, method=method, rng=0)
        assert op.n_passes == 2 * q + 2
        op = as_operator(X)
        rsvd(op, 5, n_iter=q, method=method, center=True, rng=0)
        assert op.n_passes == 2 * q + 3  # one more for the column means
    op = as_operator(A)
    randomized_range_finder(op, 7, n_iter=q, rng=0)
    assert op.n_passes == 2 * q + 1


# --------------------------------------------------------------------------- the Halko expectation bound

def test_halko_expectation_bound_holds_on_average():
    # HMT Thm 10.6 (q = 0, p >= 2): E||A - QQ^T A||_2 <= (1 + sqrt(k/(p-1))) s_{k+1}
    #                                                   + e sqrt(k+p)/p (sum_{j>k} s_j^2)^{1/2};
    # and Thm 10.5: E||A - QQ^T A||_F <= (1 + k/(p-1))^{1/2} (sum_{j>k} s_j^2)^{1/2}.
    # 60 seeds; the sample means sit well below the bounds (spectral ~0.4x, Frobenius ~0.8x of the bound).
    k, p = 10, 5
    s = la.datasets.spectrum("polynomial", 120, power=1)
    A = la.datasets.matrix_with_spectrum(150, 120, s, rng=0)
    tail = np.sqrt(np.sum(s[k:] ** 2))
    bound2 = (1 + np.sqrt(k / (p - 1))) * s[k] + np.e * np.sqrt(k + p) / p * tail
    boundF = np.sqrt(1 + k / (p - 1)) * tail
    err2, errF = [], []
    for seed in range(60):
        Q = randomized_range_finder(A, k + p, n_iter=0, rng=seed)
        R = A - Q @ (Q.T @ A)
        err2.append(np.linalg.norm(R, 2))
        errF.append(np.linalg.norm(R))
    assert np.mean(err2) <= bound2
    assert np.mean(errF) <= boundF
    # and with q power steps, the bound on sigma^(2q+1), (2q+1)-th root (HMT Cor. 10.10)
    q = 1
    s3 = s ** (2 * q + 1)
    bound2q = ((1 + np.sqrt(k / (p - 1))) * s3[k] + np.e * np.sqrt(k + p) / p
               * np.sqrt(np.sum(s3[k:] ** 2))) ** (1 / (2 * q + 1))
    errq = [np.linalg.norm(A - (Q := randomized_range_finder(A, k + p, n_iter=q, rng=seed)) @ (Q.T @ A), 2)
            for seed in range(30)]
    assert np.mean(errq) <= bound2q


# --------------------------------------------------------------------------- block Krylov specifics

def test_block_krylov_memory_guard(monkeypatch):
    A, _ = _spectrum_matrix("polynomial", power=1)
    import lowrank_la.svd

    # the public name, as a user sets it (the function reads it at call time, not the module's copy)
    monkeypatch.setattr(lowrank_la.svd, "KRYLOV_MEMORY_BUDGET", 1000)
    with pytest.raises(ValueError, match="block_size=.*n_iter=.*KRYLOV_MEMORY_BUDGET"):
        rsvd(A, 5, method="block_krylov", n_iter=2, rng=0)
    with pytest.raises(ValueError, match="k=5 needs a Krylov basis.*KRYLOV_MEMORY_BUDGET"):
        rsvd(A, 5, rng=0)  # tolerance-driven: the basis for k + 1 columns does not fit
    rsvd(A, 5, method="subspace", rng=0)  # the subspace method is not affected


def test_block_krylov_options():
    A, _ = _spectrum_matrix("exponential", scale=7)
    U, s, Vh = rsvd(A, 12, method="block_krylov", block_size=4, n_iter=8, rng=0)
    assert np.allclose(s, np.linalg.svd(A, compute_uv=False)[:12], rtol=1e-6)
    with pytest.raises(ValueError, match="block_size"):
        rsvd(A, 12, method="block_krylov", block_size=2, n_iter=2)  # 6 < k
    with pytest.raises(ValueError, match="block_size"):
        rsvd(A, 12, method="subspace", block_size=20)  # not for the subspace method
    res = rsvd(A, 12, block_size=20, n_iter=2, rng=0)  # method="auto" with a block size is block Krylov
    assert res.n_passes == 6


# --------------------------------------------------------------------------- the public boundary

def test_errors_name_their_argument():
    A, _ = _spectrum_matrix("exponential", m=30, n=20, scale=7)
    cases = [
        (dict(k=0), ValueError, "k=0 must satisfy 1 <= k <= min"),
        (dict(k=21), ValueError, "k=21"),
        (dict(k=2.5), TypeError, "k must be an integer"),
        (dict(k=3, oversamples=-1), ValueError, "oversamples=-1"),
        (dict(k=3, n_iter=-2), ValueError, "n_iter=-2"),
        (dict(k=3, n_iter="many"), ValueError, "n_iter='many'"),
        (dict(k=3, normalizer="svd"), ValueError, "normalizer='svd'"),
        (dict(k=3, method="lanczos"), ValueError, "method='lanczos'"),
        (dict(k=3, transpose="yes"), ValueError, "transpose='yes'"),
        (dict(k=3, center="yes"), ValueError, "center=.yes."),
        (dict(k=3, rng=-1), ValueError, "rng=-1"),
        (dict(k=3, method="block_krylov", block_size=0), ValueError, "block_size=0"),
        (dict(k=3, tol=0), ValueError, "tol=0.0 must satisfy 0 < tol < 1"),
        (dict(k=3, tol=1.5), ValueError, "tol=1.5 must satisfy 0 < tol < 1"),
        (dict(k=3, tol=float("nan")), ValueError, "tol=nan"),
        (dict(k=3, tol="small"), TypeError, "tol must be a real number"),
        (dict(k=3, max_passes=1), ValueError, "max_passes=1 must satisfy max_passes >= 2"),
        (dict(k=3, max_passes=2.5), TypeError, "max_passes must be an integer"),
        (dict(k=3, n_iter=4, tol=1e-3), ValueError, "tol applies to n_iter='auto'"),
        (dict(k=3, n_iter=4, max_passes=10), ValueError, "max_passes applies to n_iter='auto'"),
        (dict(k=3, method="block_krylov", block_size=1, max_passes=4), ValueError,
         "block_size=1 and max_passes=4 give a Krylov space"),
    ]
    for kwargs, exc, text in cases:
        with pytest.raises(exc, match=text.replace("(", r"\(")):
            rsvd(A, **kwargs)
    with pytest.raises(ValueError, match="size=0"):
        randomized_range_finder(A, 0)
    for bad in (np.full((5, 4), np.nan), np.zeros((0, 3)), np.zeros(4), np.array([["a", "b"]])):
        with pytest.raises((ValueError, TypeError), match="A"):
            rsvd(bad, 1)
    B = sp.csr_array(A)
    B.data[0] = np.inf
    with pytest.raises(ValueError, match="A must be finite"):
        rsvd(B, 2)
    no_adjoint = LinearOperator(A.shape, matvec=lambda x: A @ x, dtype=A.dtype)
    with pytest.raises(TypeError, match="A is a LinearOperator without rmatvec"):
        rsvd(no_adjoint, 2)
    with pytest.raises(TypeError, match="A is a LinearOperator without rmatvec"):
        randomized_range_finder(no_adjoint, 2)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(k=st.one_of(st.integers(-5, 30), st.floats(allow_nan=True), st.none(), st.text(max_size=2)),
       oversamples=st.one_of(st.integers(-5, 5), st.floats(-1, 1)),
       nan_at=st.one_of(st.none(), st.tuples(st.integers(0, 11), st.integers(0, 7))))
def test_fuzzed_boundary_raises_named_errors_and_never_modifies_input(k, oversamples, nan_at):
    A = np.random.default_rng(0).standard_normal((12, 8))
    if nan_at is not None:
        A[nan_at] = np.nan
    copy = A.copy()
    valid_k = isinstance(k, int) and 1 <= k <= 8
    valid_p = isinstance(oversamples, int) and oversamples >= 0
    if valid_k and valid_p and nan_at is None:
        U, s, Vh = rsvd(A, k, oversamples=oversamples, rng=0)
        assert U.shape == (12, k)
    else:
        with pytest.raises((ValueError, TypeError)) as info:
            rsvd(A, k, oversamples=oversamples, rng=0)
        message = str(info.value)
        assert any(name in message for name in ("k", "oversamples", "A must be finite"))
    assert np.array_equal(A, copy, equal_nan=True)


@pytest.mark.gpu
@pytest.mark.parametrize("method", METHODS)
def test_cupy_dense_and_sparse(method):
    import cupy
    import cupyx.scipy.sparse as csp

    A, _ = _spectrum_matrix("exponential", scale=7)
    exact = np.linalg.svd(A, compute_uv=False)[:8]
    for X in (cupy.asarray(A), csp.csr_matrix(cupy.asarray(A))):
        U, s, Vh = rsvd(X, 8, method=method, n_iter=FORMER_AUTO[method], rng=0)
        assert isinstance(U, cupy.ndarray)
        assert np.allclose(cupy.asnumpy(s), exact, rtol=1e-10)
        res = rsvd(X, 8, tol=1e-8, rng=0)  # tolerance-driven, on the device
        assert isinstance(res.U, cupy.ndarray) and res.converged
        assert np.max(np.abs(cupy.asnumpy(res.s) - exact) / exact) <= 2 * res.error_estimate


def test_no_warnings_on_ordinary_input():
    A, _ = _spectrum_matrix("polynomial", power=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for method in METHODS:
            rsvd(A, 10, method=method, rng=0)
            rsvd(A.astype(np.float32), 10, method=method, rng=0)


# --------------------------------------------------------------------------- block Krylov on tall matrices

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind,params", [("polynomial", {"power": 1}), ("exponential", {"scale": 7}),
                                         ("low_rank_exp", {"rank": 5, "rate": 2})])
def test_block_krylov_tall_matrices_use_the_short_side(kind, params, dtype):
    # m >= 4 n: the basis lives in R^n (left projection through the Gram matrix when it is well conditioned,
    # right projection otherwise); the same passes, the same accuracy class as the m-side basis.
    s0 = la.datasets.spectrum(kind, 100, **params)
    A = la.datasets.matrix_with_spectrum(800, 100, s0, rng=0, dtype=dtype)
    exact = np.linalg.svd(A.astype(np.float64), compute_uv=False)[:10]
    for X in (A, sp.csr_array(A), A.T):
        op = as_operator(X)
        U, s, Vh = rsvd(op, 10, method="block_krylov", n_iter=4, rng=0)
        assert op.n_passes == 10 and s.dtype == dtype
        # 4 Krylov steps of 20 vectors resolve the top 10 of these spectra to rounding (observed < 1e-13 relative
        # in float64, < 2e-6 in float32), plus an absolute ~eps s_1 for the tiny values of low_rank_exp
        rtol = 1e-10 if dtype == np.float64 else 1e-4
        assert np.all(np.abs(s - exact) <= rtol * exact + 100 * EPS[dtype] * exact[0])
        for Y in (U, Vh.T):
            assert np.max(np.abs(Y.T @ Y - np.eye(10))) <= 10 * 20 * EPS[dtype]
        A64 = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
        assert np.allclose(U.T @ A64 @ Vh.T, np.diag(s), atol=1e-10 if dtype == np.float64 else 1e-4)


def test_block_krylov_tall_exact_low_rank():
    A = la.datasets.low_rank_matrix(600, 80, 7, rng=3)
    U, s, Vh = rsvd(A, 7, method="block_krylov", rng=0)
    assert np.linalg.norm(A - (U * s) @ Vh) <= 1e-13 * np.linalg.norm(A)
    U, s, Vh = rsvd(sp.csc_array(A), 7, method="block_krylov", block_size=3, n_iter=6, rng=0)
    assert np.linalg.norm(A - (U * s) @ Vh) <= 1e-12 * np.linalg.norm(A)


@pytest.mark.parametrize("method", ["subspace", "block_krylov"])
@pytest.mark.parametrize("shape", [(120, 80), (80, 120), (400, 60)])
@pytest.mark.parametrize("c", [1e-310, 1e-300, 1e154, 1e300])
def test_item3_rsvd_block_krylov_is_scale_invariant(method, shape, c):
    """Block Krylov multiplied A A^T blocks without rescaling: c^2 under/overflowed (s off by 16% at 1e+-300)."""
    m, n = shape
    A = la.datasets.matrix_with_spectrum(m, n, la.datasets.spectrum("polynomial", min(m, n), power=1), rng=0)
    ref = la.svd.rsvd(A, 8, method=method, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        res = la.svd.rsvd(A * c, 8, method=method, rng=0)
    np.testing.assert_allclose(res.s / c, ref.s, rtol=1e-6)
    np.testing.assert_allclose(np.abs(res.U.T @ ref.U), np.eye(8), atol=1e-6)


def test_item3_rsvd_refuses_random_state():
    with pytest.raises(TypeError, match=r"rsvd\(\) takes rng="):
        la.svd.rsvd(np.ones((6, 5)), 2, random_state=0)


@pytest.mark.parametrize("shape", [(200, 50), (199, 50), (120, 100)])
def test_block_krylov_builds_its_basis_on_the_short_side_only_when_4_times_shorter(shape, monkeypatch):
    calls = []
    small_side = _rsvd._block_krylov_small_side

    def counted(*args, **kwargs):
        calls.append(1)
        return small_side(*args, **kwargs)

    monkeypatch.setattr(_rsvd, "_block_krylov_small_side", counted)
    A = np.random.default_rng(0).standard_normal(shape)
    res = rsvd(A, 3, method="block_krylov", n_iter=2, rng=0)
    assert len(calls) == (max(shape) >= _rsvd.SMALL_SIDE_RATIO * min(shape)) and _rsvd.SMALL_SIDE_RATIO == 4
    np.testing.assert_allclose(res.s, np.linalg.svd(A, compute_uv=False)[:3], rtol=1e-2)
