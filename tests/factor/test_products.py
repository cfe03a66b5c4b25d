"""The products and the error of the factorization results (MetaFactorization, CURDecomposition,
InterpolativeDecomposition): operands through the input rule, relative_error on sparse input; deim on float16
and randomized_pinv on sketches of extreme scale (issue 15, fuzz suite)."""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from lowrank_la.factor import MetaFactorization, cur, deim, interpolative, mf_svd, randomized_pinv

from ._problems import low_rank, rel

BUILDERS = {"MetaFactorization": lambda A: mf_svd(A, 3),
            "CURDecomposition": lambda A: cur(A, 3, rng=0),
            "InterpolativeDecomposition": lambda A: interpolative(A, 3, rng=0)}
M, N = 24, 16


@pytest.fixture(params=sorted(BUILDERS), scope="module")
def fact(request):
    A = low_rank(M, N, 3) + 1e-3 * np.random.default_rng(1).standard_normal((M, N))
    result = BUILDERS[request.param](A)
    assert type(result).__name__ == request.param
    return result, A


# (method, operand name, operand shape, axis of the dense reconstruction it multiplies)
PRODUCTS = [("matmat", "V", (N, 4), False), ("rmatmat", "U", (M, 4), True),
            ("matvec", "x", (N,), False), ("rmatvec", "y", (M,), True)]


@pytest.mark.parametrize("method, name, shape, adjoint", PRODUCTS)
def test_products_accept_the_input_rule(fact, method, name, shape, adjoint):
    mf, _ = fact
    dense = mf.reconstruct().T if adjoint else mf.reconstruct()
    X = np.random.default_rng(2).standard_normal(shape)
    want = dense @ X
    apply = getattr(mf, method)
    assert rel(apply(X), want) < 1e-12
    assert np.array_equal(apply(X.tolist()), apply(X))
    Z = X + 0.5j * X[::-1]
    assert rel(apply(Z), dense @ Z) < 1e-12
    if len(shape) == 2:
        for fmt in ("csr_array", "csc_matrix", "coo_matrix"):
            assert rel(np.asarray(apply(getattr(sp, fmt)(X))), want) < 1e-12


@pytest.mark.parametrize("method, name, shape, adjoint", PRODUCTS)
def test_products_refuse_invalid_operands_by_name(fact, method, name, shape, adjoint):
    mf, _ = fact
    apply = getattr(mf, method)
    X = np.ones(shape)
    bad = X.copy()
    bad.flat[1] = np.nan
    with pytest.raises(ValueError, match=f"{name} must be finite"):
        apply(bad)
    with pytest.raises(TypeError, match=f"{name} must hold numbers"):
        apply(X.astype(object))
    rows = shape[0]
    with pytest.raises(ValueError, match=rf"{name}.shape\[0\]={rows + 1} must equal the factorization's shape"):
        apply(np.ones((rows + 1,) + shape[1:]))
    wrong_ndim = X.reshape(-1) if len(shape) == 2 else X[:, None]
    with pytest.raises(ValueError, match=f"{name} must be {len(shape)}-D"):
        apply(wrong_ndim)
    if len(shape) == 2:
        with pytest.raises(ValueError, match=f"{name} must be non-empty"):
            apply(np.ones((rows, 0)))
        broken = sp.csr_matrix(X)
        broken.indices[0] = shape[1] + 3
        with pytest.raises(ValueError, match=f"{name} is a malformed csr sparse matrix"):
            apply(broken)


def test_linear_operator_still_takes_column_vectors(fact):
    mf, _ = fact
    op = mf.as_linear_operator()
    x = np.arange(N, dtype=float)
    assert rel(op.matvec(x[:, None]).ravel(), mf.reconstruct() @ x) < 1e-12
    assert rel(op.rmatvec(np.ones(M)), mf.reconstruct().T @ np.ones(M)) < 1e-12


@pytest.mark.parametrize("fmt", ["csr_matrix", "csc_array", "coo_matrix", "dok_matrix", "lil_matrix"])
def test_relative_error_of_sparse_input_matches_dense(fact, fmt):
    mf, A = fact
    A = A * (np.abs(A) > 0.5)  # some true zeros
    dense = mf.relative_error(A)
    assert dense == pytest.approx(np.linalg.norm(A - mf.reconstruct()) / np.linalg.norm(A), rel=1e-12)
    S = getattr(sp, fmt)(A)
    before = S.copy()
    assert mf.relative_error(S) == pytest.approx(dense, rel=1e-12)
    assert (S != before).nnz == 0


def test_relative_error_refuses_by_name(fact):
    mf, A = fact
    with pytest.raises(TypeError, match="A has complex dtype"):
        mf.relative_error(A + 1j)
    bad = A.copy()
    bad[3, 4] = np.inf
    with pytest.raises(ValueError, match="A must be finite"):
        mf.relative_error(bad)
    with pytest.raises(ValueError, match=r"A.shape\[1\]=15 must equal the factorization's shape\[1\] = 16"):
        mf.relative_error(A[:, 1:])
    with pytest.raises(ValueError, match="A must be 2-D"):
        mf.relative_error(A.ravel())
    with pytest.raises(ValueError, match="A must be non-empty"):
        mf.relative_error(A[:0])


def test_relative_error_at_extreme_scales(fact):
    mf, A = fact
    assert mf.relative_error(np.zeros_like(A)) == np.inf
    assert mf.relative_error(1e300 * A) == pytest.approx(1.0, rel=1e-6)
    zero = MetaFactorization(np.ones((M, 1)), np.zeros((1, 1)), np.ones((N, 1)))
    assert zero.relative_error(np.zeros((M, N))) == 0.0
    assert zero.relative_error(2.0**-1070 * np.ones((M, N))) == 1.0


def test_relative_error_of_sparse_input_is_not_densified():
    m = n = 2000  # dense, A and its reconstruction would take 32 MB each
    gen = np.random.default_rng(3)
    F, H = gen.standard_normal((m, 2)), gen.standard_normal((n, 2))
    mf = MetaFactorization(F, np.eye(2), H)
    S = sp.random(m, n, density=1e-3, format="csr", random_state=4)  # 4000 stored entries
    tracemalloc.start()
    try:
        err = mf.relative_error(S)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16e6
    dense = S.toarray()
    assert err == pytest.approx(np.linalg.norm(dense - F @ H.T) / np.linalg.norm(dense), rel=1e-10)


def test_deim_computes_float16_in_float32():
    U = np.linalg.qr(np.random.default_rng(5).standard_normal((30, 4)))[0]
    assert np.array_equal(deim(U.astype(np.float16)), deim(U.astype(np.float16).astype(np.float32)))


@pytest.mark.parametrize("c", [2.0**-1030, 1e-300, 1e300])
def test_randomized_pinv_is_invariant_to_the_scale_of_its_sketches(c):
    gen = np.random.default_rng(6)
    A = low_rank(30, 20, 4, seed=7)
    P, Q = gen.standard_normal((30, 6)), gen.standard_normal((20, 6))
    want = randomized_pinv(A, P, Q)
    for Ps, Qs in ((c * P, Q), (P, c * Q), (c * P, c * Q)):
        got = randomized_pinv(A, Ps, Qs)
        assert np.all(np.isfinite(got))
        assert rel(got, want) < 1e-8
