"""SRHT and FJLT on sparse input: the sketch applied as an explicit matrix, never densifying the input (issue 19).

The explicit path must give the mixing path's result to rounding, for every variant of the two operators,
both dtypes and every way of applying them, and must be the one taken for sparse input.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from lowrank_la.sketch import FJLT, SRHT, _operators

VARIANTS = {
    "srht-hadamard": lambda k, d: SRHT(k, d, rng=3),
    "srht-dct": lambda k, d: SRHT(k, d, mixing="dct", rng=3),
    "fjlt-sign": lambda k, d: FJLT(k, d, eps=0.3, n_samples=200, rng=3),
    "fjlt-gaussian": lambda k, d: FJLT(k, d, q=0.05, entries="gaussian", rng=3),
}
TOL = {np.float64: 1e-12, np.float32: 2e-5}


def _sparse(n, d, density=0.01, seed=0, dtype=np.float64):
    return sp.random(n, d, density=density, format="csr", random_state=seed, dtype=dtype)


def _mixing(S, X):
    """The reference: ``X @ S.T`` by the mixing path (pad, signs, transform, then R or P) on dense X."""
    return S._reduce(S._spread_rows(X))


def _no_mixing(S, monkeypatch):
    """Make the mixing path (which densifies a batch of rows) fail if it is reached."""
    def refuse(X):
        raise AssertionError("the input was densified by the mixing path")
    monkeypatch.setattr(S, "_spread_rows", refuse)


def _close(A, B, dtype):
    scale = np.abs(B).max()
    return A.dtype == dtype and np.abs(A - B).max() <= TOL[dtype] * scale


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_sparse_rows_match_the_dense_mixing_path(variant, dtype, monkeypatch):
    S = VARIANTS[variant](64, 300)
    Xs = _sparse(200, 300, dtype=dtype)
    dense = _mixing(S, Xs.toarray())
    assert S._explicit_pays(Xs)
    _no_mixing(S, monkeypatch)
    for X in (Xs, sp.csr_array(Xs), Xs.tocsc(), Xs.tocoo()):
        assert _close(S.apply(X), dense, dtype)
        assert _close(S.transform(X), dense, dtype)
    # the columns path: S @ X for (d, N) sparse X, and axis=0
    assert _close(S @ Xs.T.tocsr(), dense.T, dtype)
    assert _close(S.apply(Xs.T.tocsc(), axis=0), dense.T, dtype)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_explicit_matrix_is_the_operator_and_is_cached(variant, monkeypatch):
    S = VARIANTS[variant](40, 100)
    assert np.allclose(S._explicit_T(100, np.float64).T, S.todense(), rtol=0, atol=1e-12)
    Xs = _sparse(50, 100, density=0.02, seed=1)
    first = S.apply(Xs)
    calls = []
    monkeypatch.setattr(S, "_explicit_T", lambda *a: calls.append(a))
    assert np.array_equal(S.apply(Xs), first) and calls == []  # the second transform reuses S.T
    assert ("explicit", "float64") in S._cache


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_blocks_of_columns_when_the_matrix_is_too_large_to_keep(variant, monkeypatch):
    d = 300
    S = VARIANTS[variant](64, d)
    Xs = _sparse(120, d, density=0.03, seed=2)
    dense = _mixing(S, Xs.toarray())
    monkeypatch.setattr(_operators, "_EXPLICIT_CACHE_BYTES", 1000)  # k d floats do not fit: no cache
    monkeypatch.setattr(_operators, "_EXPLICIT_BLOCK_BYTES", 64 * 8 * 32)  # blocks of 32 columns
    assert len(S._explicit_bounds(d)) == 10
    _no_mixing(S, monkeypatch)
    assert _close(S.apply(Xs), dense, np.float64)
    assert _close(S @ Xs.T.tocsr(), dense.T, np.float64)
    assert not any(key[0] == "explicit" for key in S._cache)


def test_cost_test_keeps_the_transform_for_dense_rows_and_large_k():
    S = SRHT(256, 1000, rng=0)
    X = np.random.default_rng(0).standard_normal((500, 1000))
    assert not S._explicit_pays(X)  # 256 multiply-adds per entry against ~14 butterflies
    assert S._explicit_pays(_sparse(500, 1000, density=0.01))
    assert not S._explicit_pays(_sparse(500, 1000, density=0.5))  # nearly dense: the transform is cheaper


def test_input_is_untouched_and_integers_promote():
    S = FJLT(32, 200, eps=0.3, n_samples=100, rng=0)
    Xs = _sparse(60, 200, density=0.02, seed=4)
    before = Xs.copy()
    Y = S.apply(Xs)
    assert (Xs != before).nnz == 0
    Xi = sp.csr_matrix(np.round(Xs.toarray() * 10).astype(np.int64))
    Yi = S.apply(Xi)
    assert Yi.dtype == np.float64 and np.allclose(Yi, S.apply(Xi.toarray().astype(float)))
    assert Y.shape == (60, 32)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rows_to_columns_kernel_against_numpy(dtype):
    from lowrank_la._kernels.fwht import rows_to_columns

    rng = np.random.default_rng(5)
    x = rng.standard_normal((7, 64))
    signs = rng.choice([-1.0, 1.0], size=64)
    out = np.zeros((40, 10), dtype=dtype)
    rows_to_columns(x, signs[:40], out[:, 2:9])
    expected = np.zeros((40, 10), dtype=dtype)
    expected[:, 2:9] = (x[:, :40] * signs[:40]).T
    assert np.array_equal(out, expected)
