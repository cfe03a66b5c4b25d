"""Tests of lowrank_la.datasets: values, invariants, determinism, dtypes and every error path."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st

from lowrank_la import datasets as ds

# --------------------------------------------------------------------------- spectrum

J = np.arange(50, dtype=np.float64)


@pytest.mark.parametrize(("kind", "params", "expected"), [
    ("geometric", {"decay": 0.8}, 0.8 ** J),
    ("polynomial", {"power": 1.5}, (J + 1) ** -1.5),
    ("exponential", {"scale": 7.0}, np.exp(-J / 7.0)),
    ("cliff", {}, 1e-4 + 1 / (1 + np.exp(J - 30))),
    ("cliff", {"position": 10}, 1e-4 + 1 / (1 + np.exp(J - 10))),
    ("low_rank_poly", {"rank": 5, "power": 2.0},
     np.r_[np.ones(5), np.arange(2, 47, dtype=float) ** -2.0]),
    ("low_rank_exp", {"rank": 10, "rate": 0.25},
     np.r_[np.ones(10), 10.0 ** (-0.25 * np.arange(1, 41))]),
])
def test_spectrum_values(kind, params, expected):
    s = ds.spectrum(kind, 50, **params)
    assert s.shape == (50,) and s.dtype == np.float64
    np.testing.assert_allclose(s, expected, rtol=1e-14, atol=0)
    assert s[0] == 1 or kind == "cliff"
    assert np.all(s > 0) and np.all(np.diff(s) <= 0)


def test_spectrum_paper_values():
    # Tropp et al.: PolyDecay = diag(1, ..., 1, 2^-p, 3^-p, ...),
    # ExpDecay = diag(1, ..., 1, 10^-q, 10^-2q, ...)
    assert ds.spectrum("low_rank_poly", 4, rank=2, power=1).tolist() == [1, 1, 1 / 2, 1 / 3]
    np.testing.assert_allclose(ds.spectrum("low_rank_exp", 4, rank=1, rate=1), [1, 1e-1, 1e-2, 1e-3])
    cliff = ds.spectrum("cliff", 61)
    assert cliff[30] == pytest.approx(0.5 + 1e-4) and cliff[-1] == pytest.approx(1e-4, rel=1e-9)
    assert cliff[0] == pytest.approx(1 + 1e-4, rel=1e-12)


@pytest.mark.parametrize("dtype", ["float32", np.float32, np.dtype("float64")])
def test_spectrum_dtype(dtype):
    s = ds.spectrum("geometric", 10, decay=0.5, dtype=dtype)
    assert s.dtype == np.dtype(dtype)
    np.testing.assert_allclose(s, 0.5 ** np.arange(10), rtol=1e-7)


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(["geometric", "polynomial", "exponential", "cliff"]),
       n=st.integers(1, 200), value=st.floats(0.05, 0.95))
def test_spectrum_non_increasing_and_positive(kind, n, value):
    name = {"geometric": "decay", "polynomial": "power", "exponential": "scale", "cliff": "position"}[kind]
    s = ds.spectrum(kind, n, **{name: value})
    assert s.shape == (n,) and s[0] > 0 and np.all(s >= 0) and np.all(np.diff(s) <= 0)


@pytest.mark.parametrize(("args", "kwargs", "exc", "match"), [
    (("gaussian", 5), {}, ValueError, "kind='gaussian' must be one of"),
    (("geometric", 0), {"decay": 0.5}, ValueError, "n=0 must satisfy n >= 1"),
    (("geometric", 5.0), {"decay": 0.5}, TypeError, "n must be an integer"),
    (("geometric", 5), {}, ValueError, "kind='geometric' needs decay"),
    (("low_rank_exp", 5), {}, ValueError, "needs rank and rate"),
    (("low_rank_exp", 5), {"rank": 2}, ValueError, "needs rate"),
    (("polynomial", 5), {"power": 1, "decay": 0.5}, ValueError,
     "decay=0.5 does not apply to kind='polynomial', which takes power"),
    (("cliff", 5), {"rank": 2}, ValueError, "rank=2 does not apply"),
    (("geometric", 5), {"decay": 1.0}, ValueError, "decay=1.0 must satisfy 0 < decay < 1"),
    (("geometric", 5), {"decay": 0}, ValueError, "decay=0.0 must satisfy"),
    (("polynomial", 5), {"power": -1}, ValueError, "power=-1.0 must satisfy 0 < power"),
    (("exponential", 5), {"scale": float("inf")}, ValueError, "scale=inf must be a finite number"),
    (("cliff", 5), {"position": -1}, ValueError, "position=-1.0 must satisfy 0 <= position"),
    (("low_rank_poly", 5), {"rank": 6, "power": 1}, ValueError, "rank=6 must satisfy 1 <= rank <= n = 5"),
    (("low_rank_poly", 5), {"rank": 0, "power": 1}, ValueError, "rank=0 must satisfy"),
    (("low_rank_exp", 5), {"rank": 2, "rate": "1"}, TypeError, "rate must be a real number"),
    (("geometric", 5), {"decay": 0.5, "dtype": "int32"}, TypeError, "dtype=int32 is not supported"),
])
def test_spectrum_errors(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ds.spectrum(*args, **kwargs)


# --------------------------------------------------------------------------- matrix_with_spectrum

@pytest.mark.parametrize(("dtype", "tol"), [("float64", 1e-10), ("float32", 1e-5)])
@pytest.mark.parametrize(("m", "n"), [(60, 40), (30, 70)])
def test_matrix_with_spectrum(dtype, tol, m, n):
    s = ds.spectrum("polynomial", 25, power=1.0)
    A, U, s_out, Vt = ds.matrix_with_spectrum(m, n, s, rng=1, dtype=dtype, return_factors=True)
    assert A.shape == (m, n) and U.shape == (m, 25) and s_out.shape == (25,) and Vt.shape == (25, n)
    assert all(x.dtype == np.dtype(dtype) for x in (A, U, s_out, Vt))
    sv = np.linalg.svd(A.astype(np.float64), compute_uv=False)
    np.testing.assert_allclose(sv[:25], s, rtol=0, atol=tol)
    np.testing.assert_allclose(sv[25:], 0, atol=tol)
    np.testing.assert_allclose(U.T.astype(float) @ U, np.eye(25), atol=tol)
    np.testing.assert_allclose(Vt.astype(float) @ Vt.T, np.eye(25), atol=tol)
    np.testing.assert_allclose((U * s_out) @ Vt, A, atol=tol)


def test_matrix_with_spectrum_unsorted_and_default_return():
    A = ds.matrix_with_spectrum(20, 10, [1.0, 3.0, 2.0], rng=0)
    assert isinstance(A, np.ndarray)
    np.testing.assert_allclose(np.linalg.svd(A, compute_uv=False)[:4], [3, 2, 1, 0], atol=1e-12)


def test_haar_factors_are_not_biased_in_sign():
    # the sign fix makes U[0, 0] symmetric about 0 (LAPACK's Householder QR alone makes it always negative)
    firsts = [ds.matrix_with_spectrum(5, 5, [1.0], rng=seed, return_factors=True)[1][0, 0]
              for seed in range(400)]
    assert 0.4 < np.mean(np.array(firsts) > 0) < 0.6


def test_float32_and_float64_are_the_same_matrix():
    a64 = ds.matrix_with_spectrum(30, 20, np.ones(5), rng=3)
    a32 = ds.matrix_with_spectrum(30, 20, np.ones(5), rng=3, dtype="float32")
    np.testing.assert_allclose(a32, a64, atol=1e-6)
    t64 = ds.tucker_tensor((6, 5, 4), (2, 2, 2), noise=0.1, rng=3)
    t32 = ds.tucker_tensor((6, 5, 4), (2, 2, 2), noise=0.1, rng=3, dtype="float32")
    np.testing.assert_allclose(t32, t64, atol=1e-5)


@pytest.mark.parametrize(("s", "kwargs", "exc", "match"), [
    ([1.0] * 4, {}, ValueError, r"len\(s\)=4 must satisfy len\(s\) <= min\(m, n\) = 3"),
    ([], {}, ValueError, "s must be non-empty"),
    ([[1.0]], {}, ValueError, "s must be 1-D"),
    ([1.0, -1.0], {}, ValueError, "s must be non-negative"),
    ([1.0, np.nan], {}, ValueError, "s must be finite"),
    ([1 + 1j], {}, TypeError, "s has complex dtype"),
    (["a"], {}, TypeError, "s must hold numbers"),
    ([1.0], {"dtype": "complex128"}, TypeError, "dtype=complex128 is not supported"),
    ([1.0], {"dtype": "nonsense"}, TypeError, "dtype='nonsense' is not a dtype"),
    ([1.0], {"rng": -1}, ValueError, "rng=-1"),
    ([1.0], {"return_factors": "yes"}, ValueError, "return_factors='yes' must be one of False, True"),
])
def test_matrix_with_spectrum_errors(s, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ds.matrix_with_spectrum(5, 3, s, **kwargs)


@pytest.mark.parametrize(("m", "n", "match"), [(0, 3, "m=0 must satisfy m >= 1"), (3, -2, "n=-2"),
                                              (2.5, 3, "m must be an integer")])
def test_matrix_with_spectrum_shape_errors(m, n, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ds.matrix_with_spectrum(m, n, [1.0])


# --------------------------------------------------------------------------- low rank, low rank plus noise

def test_low_rank_matrix_default():
    A = ds.low_rank_matrix(80, 50, 6, rng=0)
    s = np.linalg.svd(A, compute_uv=False)
    np.testing.assert_allclose(s[:6], np.linspace(1, 0.5, 6), atol=1e-12)
    assert np.linalg.matrix_rank(A) == 6 and s[6] < 1e-12


def test_low_rank_matrix_given_values_and_noise():
    sv = [5.0, 4.0, 1.0]
    L = ds.low_rank_matrix(40, 30, 3, singular_values=sv, rng=2)
    np.testing.assert_allclose(np.linalg.svd(L, compute_uv=False)[:3], sv, atol=1e-12)
    A = ds.low_rank_matrix(40, 30, 3, singular_values=sv, noise=0.3, rng=2)
    # the noise is drawn after the low-rank part, so the same seed gives the same L
    assert np.linalg.norm(A - L) / np.linalg.norm(L) == pytest.approx(0.3, rel=1e-12)
    assert np.linalg.matrix_rank(A) == 30


@pytest.mark.parametrize(("args", "kwargs", "exc", "match"), [
    ((10, 8, 9), {}, ValueError, r"rank=9 must satisfy 1 <= rank <= min\(m, n\) = 8"),
    ((10, 8, 0), {}, ValueError, "rank=0 must satisfy"),
    ((10, 8, 2), {"singular_values": [1.0]}, ValueError, r"len\(singular_values\)=1 must equal rank = 2"),
    ((10, 8, 2), {"singular_values": [1.0, 0.0]}, ValueError, "singular_values must be positive"),
    ((10, 8, 2), {"noise": -0.1}, ValueError, "noise=-0.1 must satisfy 0 <= noise"),
    ((10, 8, 2), {"dtype": "float16"}, TypeError, "dtype=float16 is not supported"),
])
def test_low_rank_matrix_errors(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ds.low_rank_matrix(*args, **kwargs)


def test_low_rank_plus_noise():
    n, R, xi = 120, 7, 1e-2
    A = ds.low_rank_plus_noise(n, R, xi, rng=0)
    assert A.shape == (n, n) and A.dtype == np.float64
    assert np.array_equal(A, A.T)
    N = A - np.diag(np.r_[np.ones(R), np.zeros(n - R)])
    w = np.linalg.eigvalsh(N)
    assert w.min() > 0  # (xi / n) G G^T with a square G: positive definite almost surely
    assert np.trace(N) == pytest.approx(xi * n, rel=0.05)  # E trace = xi n, relative std sqrt(2) / n
    np.testing.assert_array_equal(ds.low_rank_plus_noise(n, R, 0.0, rng=0), A - N)
    assert ds.low_rank_plus_noise(n, R, xi, rng=0, dtype="float32").dtype == np.float32


@pytest.mark.parametrize(("args", "exc", "match"), [
    ((10, 11, 0.1), ValueError, "rank=11 must satisfy 1 <= rank <= n = 10"),
    ((10, 2, -0.1), ValueError, "xi=-0.1 must satisfy 0 <= xi"),
    ((10, 2, None), TypeError, "xi must be a real number"),
    ((0, 1, 0.1), ValueError, "n=0 must satisfy"),
])
def test_low_rank_plus_noise_errors(args, exc, match):
    with pytest.raises(exc, match=match):
        ds.low_rank_plus_noise(*args)


# --------------------------------------------------------------------------- incoherent_low_rank, coherence

@pytest.mark.parametrize("kappa", [1.0, 10.0, 1e4])
def test_incoherent_low_rank(kappa):
    L, U, s, Vt = ds.incoherent_low_rank(200, 150, 5, condition_number=kappa, rng=4, return_factors=True)
    sv = np.linalg.svd(L, compute_uv=False)
    assert np.linalg.matrix_rank(L, tol=1e-10 / kappa) == 5
    assert sv[0] / sv[4] == pytest.approx(kappa, rel=1e-8)
    np.testing.assert_allclose(s, np.geomspace(1, 1 / kappa, 5), rtol=1e-12)
    assert 1 < ds.coherence(U) < 8 and 1 < ds.coherence(Vt.T) < 8  # m / r = 40 and 30 at worst


def test_coherence():
    assert ds.coherence(np.eye(10)[:, :2]) == 5.0
    assert ds.coherence(np.full((9, 1), 1 / 3)) == pytest.approx(1.0)
    Q = np.linalg.qr(np.random.default_rng(0).standard_normal((100, 4)))[0]
    assert 1 <= ds.coherence(Q) <= 25
    with pytest.raises(ValueError, match="U must be 2-D"):
        ds.coherence(np.ones(3))
    with pytest.raises(ValueError, match="U must be finite"):
        ds.coherence(np.full((3, 1), np.inf))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"condition_number": 0.5}, "condition_number=0.5 must satisfy 1 <= condition_number"),
    ({"rank": 1, "condition_number": 2.0}, "condition_number=2.0 must be 1 when rank=1"),
    ({"rank": 11}, r"rank=11 must satisfy 1 <= rank <= min\(m, n\) = 10"),
])
def test_incoherent_low_rank_errors(kwargs, match):
    kwargs = {"rank": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        ds.incoherent_low_rank(20, 10, **kwargs)


# --------------------------------------------------------------------------- sparse_power_law

@pytest.mark.parametrize(("format", "cls"), [("csr", scipy.sparse.csr_array), ("csc", scipy.sparse.csc_array),
                                             ("coo", scipy.sparse.coo_array)])
def test_sparse_power_law_format(format, cls):
    A = ds.sparse_power_law(500, 300, nnz=4000, rng=0, format=format, dtype="float32")
    assert type(A) is cls and A.shape == (500, 300) and A.dtype == np.float32
    coo = A.tocoo()
    keys = coo.row.astype(np.int64) * 300 + coo.col
    assert np.unique(keys).size == keys.size == A.nnz  # no duplicates
    assert 0.95 * 4000 <= A.nnz <= 4000
    assert np.all(coo.data != 0)


def test_sparse_power_law_degrees():
    m, n, nnz = 3000, 2000, 30000
    A = ds.sparse_power_law(m, n, nnz=nnz, rng=1)
    assert A.nnz == nnz
    rows, cols = np.diff(A.indptr), np.diff(A.tocsc().indptr)
    assert rows.max() > 20 * rows.mean() and cols.max() > 20 * cols.mean()  # heavy tails
    assert np.argmax(rows) != 0 and np.argmax(cols) != 0  # relabelled: the heavy ones are not the first
    light = ds.sparse_power_law(m, n, nnz=nnz, exponent=4.0, rng=1)
    assert np.diff(light.indptr).max() < rows.max() / 3  # a larger exponent is lighter-tailed
    assert abs(A.data.mean()) < 0.05 and A.data.std() == pytest.approx(1, rel=0.05)  # Gaussian values


def test_sparse_power_law_concentrated_weights_give_fewer():
    A = ds.sparse_power_law(50, 50, nnz=2000, exponent=1.1, rng=0)
    assert 0 < A.nnz < 2000
    assert A.tocoo().row.size == np.unique(A.tocoo().row.astype(np.int64) * 50 + A.tocoo().col).size


@pytest.mark.parametrize(("kwargs", "exc", "match"), [
    ({"nnz": 0}, ValueError, "nnz=0 must satisfy 1 <= nnz <= m \\* n = 200"),
    ({"nnz": 201}, ValueError, "nnz=201 must satisfy"),
    ({"nnz": 10, "exponent": 1.0}, ValueError, "exponent=1.0 must satisfy 1 < exponent"),
    ({"nnz": 10, "format": "dense"}, ValueError, "format='dense' must be one of 'csr', 'csc', 'coo'"),
    ({"nnz": 10, "dtype": "int64"}, TypeError, "dtype=int64 is not supported"),
    ({"nnz": 10.0}, TypeError, "nnz must be an integer"),
])
def test_sparse_power_law_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ds.sparse_power_law(20, 10, **kwargs)


# --------------------------------------------------------------------------- tucker_tensor

def unfold(X, k):
    return np.moveaxis(X, k, 0).reshape(X.shape[k], -1)


@pytest.mark.parametrize(("shape", "ranks"), [((12, 10, 8), (3, 4, 2)), ((6, 7, 5, 4), (2, 3, 2, 3)),
                                              ((9, 8), (4, 4))])
def test_tucker_multilinear_rank(shape, ranks):
    X, G, Us = ds.tucker_tensor(shape, ranks, rng=5, return_factors=True)
    assert X.shape == shape and G.shape == ranks
    assert [np.linalg.matrix_rank(unfold(X, k)) for k in range(len(shape))] == list(ranks)
    for U, size, r in zip(Us, shape, ranks):
        assert U.shape == (size, r)
        np.testing.assert_allclose(U.T @ U, np.eye(r), atol=1e-12)
    T = G
    for k, U in enumerate(Us):
        T = np.moveaxis(np.tensordot(U, T, axes=(1, k)), 0, k)
    np.testing.assert_allclose(T, X, atol=1e-12)


def test_tucker_noise_and_given_core():
    core = np.arange(1.0, 9.0).reshape(2, 2, 2)
    T, G, Us = ds.tucker_tensor((5, 6, 7), (2, 2, 2), core=core, rng=1, return_factors=True)
    np.testing.assert_array_equal(G, core)
    assert np.linalg.norm(T) == pytest.approx(np.linalg.norm(core))  # orthonormal factors keep the norm
    X = ds.tucker_tensor((5, 6, 7), (2, 2, 2), core=core, noise=0.25, rng=1)
    assert np.linalg.norm(X - T) / np.linalg.norm(T) == pytest.approx(0.25, rel=1e-12)
    assert all(np.linalg.matrix_rank(unfold(X, k)) == X.shape[k] for k in range(3))
    X32 = ds.tucker_tensor((5, 6, 7), (2, 2, 2), noise=0.25, rng=1, dtype="float32")
    assert X32.dtype == np.float32 and ds.tucker_tensor((5, 6, 7), (2, 2, 2)).dtype == np.float64


@pytest.mark.parametrize(("args", "kwargs", "exc", "match"), [
    (((5, 6), (2, 2, 2)), {}, ValueError, r"len\(ranks\)=3 must equal len\(shape\) = 2"),
    (((), ()), {}, ValueError, r"len\(shape\)=0 must satisfy"),
    (((5, 6), (6, 2)), {}, ValueError, r"ranks\[0\]=6 must satisfy 1 <= ranks\[0\] <= shape\[0\] = 5"),
    (((5, 6), (0, 2)), {}, ValueError, r"ranks\[0\]=0 must satisfy"),
    (((5, 0), (1, 1)), {}, ValueError, r"shape\[1\]=0 must satisfy"),
    (((5, 6, 7), (4, 2, 1)), {}, ValueError,
     r"ranks\[0\]=4 must satisfy ranks\[0\] <= the product of the other ranks = 2"),
    ((5, 2), {}, TypeError, "shape and ranks must be sequences"),
    (((5, 6), (2, 2)), {"noise": -1}, ValueError, "noise=-1.0 must satisfy"),
    (((5, 6), (2, 2)), {"core": "uniform"}, ValueError, "core='uniform' must be one of 'gaussian'"),
    (((5, 6), (2, 2)), {"core": np.ones((2, 3))}, ValueError, r"core.shape\[1\]=3 must equal ranks\[1\] = 2"),
    (((5, 6), (2, 2)), {"core": np.ones(4)}, ValueError, "core must be 2-D"),
    (((5, 6), (2, 2)), {"dtype": "float16"}, TypeError, "dtype=float16 is not supported"),
])
def test_tucker_errors(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ds.tucker_tensor(*args, **kwargs)


# --------------------------------------------------------------------------- determinism, across generators

GENERATORS = [
    lambda rng: ds.matrix_with_spectrum(20, 15, [2.0, 1.0], rng=rng),
    lambda rng: ds.low_rank_matrix(20, 15, 3, noise=0.1, rng=rng),
    lambda rng: ds.low_rank_plus_noise(15, 3, 0.1, rng=rng),
    lambda rng: ds.incoherent_low_rank(20, 15, 3, condition_number=5.0, rng=rng),
    lambda rng: ds.sparse_power_law(200, 100, nnz=500, rng=rng).toarray(),
    lambda rng: ds.tucker_tensor((6, 5, 4), (2, 2, 2), noise=0.1, rng=rng),
]


@pytest.mark.parametrize("make", GENERATORS)
def test_same_seed_same_bits_different_seed_different(make):
    a, b, c = make(7), make(7), make(8)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.array_equal(make(np.random.default_rng(7)), a)  # a Generator seeded alike gives the same bits
    assert not np.array_equal(make(None), make(None))
