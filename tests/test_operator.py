"""The operator adapter: same products for every input kind, exact pass counts, no densifying, no mutation."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import LinearOperator, aslinearoperator

import lowrank_la as la
from lowrank_la._backend import as_operator

M, N, L = 57, 31, 5


def _dense(rng, dtype=np.float64):
    return rng.standard_normal((M, N)).astype(dtype)


def _dask(A):
    import dask.array as da

    return da.from_array(A, chunks=(M // 4, N))  # chunked by rows


KINDS = {
    "dense": lambda A: A,
    "csr_matrix": sp.csr_matrix,
    "csc_matrix": sp.csc_matrix,
    "csr_array": sp.csr_array,
    "csc_array": sp.csc_array,
    "coo_array": sp.coo_array,
    "linear_operator": aslinearoperator,
    "dask": _dask,
}


def _compute(Y):
    return np.asarray(Y.compute() if hasattr(Y, "compute") else Y)


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_gives_the_dense_products(kind, rng):
    A = _dense(rng)
    X, Y = rng.standard_normal((N, L)), rng.standard_normal((M, L))
    op = as_operator(KINDS[kind](A))
    AX, AtY = _compute(op.matmat(X)), _compute(op.rmatmat(Y))
    assert np.linalg.norm(AX - A @ X) <= 1e-12 * np.linalg.norm(A @ X)
    assert np.linalg.norm(AtY - A.T @ Y) <= 1e-12 * np.linalg.norm(A.T @ Y)
    # vectors, the transpose view and the @ operator
    assert np.allclose(_compute(op.matmat(X[:, 0])), A @ X[:, 0], rtol=1e-12, atol=0)
    assert np.allclose(_compute(op.T @ Y), A.T @ Y, rtol=1e-12, atol=0)
    assert op.T.shape == (N, M) and op.shape == (M, N)
    assert op.n_passes == 4


@pytest.mark.parametrize("kind", list(KINDS))
def test_pass_count_is_exact_and_shared_with_the_adjoint(kind, rng):
    A = _dense(rng)
    op = as_operator(KINDS[kind](A))
    X, Y = rng.standard_normal((N, 2)), rng.standard_normal((M, 2))
    for i in range(1, 8):
        op.matmat(X) if i % 2 else op.H.matmat(Y)
        assert op.n_passes == i
    op.reset_passes()
    assert op.n_passes == 0


def test_pass_count_equals_the_products_a_linear_operator_sees(rng):
    A = _dense(rng)
    calls = {"matmat": 0, "rmatmat": 0}

    def matmat(X):
        calls["matmat"] += 1
        return A @ X

    def rmatmat(Y):
        calls["rmatmat"] += 1
        return A.T @ Y

    lin = LinearOperator((M, N), matvec=lambda x: A @ x, rmatvec=lambda y: A.T @ y, matmat=matmat,
                         rmatmat=rmatmat, dtype=np.float64)
    op = as_operator(lin)
    for _ in range(3):
        op.matmat(np.ones((N, 3)))
    for _ in range(2):
        op.rmatmat(np.ones((M, 3)))
    assert calls == {"matmat": 3, "rmatmat": 2}
    assert op.n_passes == 5


class _NoDensify(sp.csr_array):
    """A CSR array whose densifying methods fail the test."""

    def toarray(self, *args, **kwargs):
        raise AssertionError("sparse input was densified")

    todense = toarray

    def __array__(self, *args, **kwargs):
        raise AssertionError("sparse input was converted to a dense array")


def test_sparse_input_stays_sparse(rng):
    S = _NoDensify(sp.random(M, N, density=0.2, random_state=1, format="csr"))
    op = as_operator(S)
    assert op.kind == "sparse"
    X = rng.standard_normal((N, L))
    ref = sp.csr_array(S).tocoo()  # an independent copy for the reference product
    assert np.allclose(op.matmat(X), ref @ X) and np.allclose(op.rmatmat(rng.standard_normal((M, 2))).shape,
                                                              (N, 2))
    assert sp.issparse(op._A)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["dense", "csr_array", "linear_operator", "dask"])
def test_dtype_is_kept(kind, dtype, rng):
    A = _dense(rng, dtype)
    op = as_operator(KINDS[kind](A))
    assert op.dtype == dtype
    assert _compute(op.matmat(rng.standard_normal((N, 2)).astype(dtype))).dtype == dtype


@pytest.mark.parametrize("kind", ["dense", "csr_array", "csc_matrix"])
def test_integer_and_boolean_input_promote_to_float64_without_touching_the_input(kind, rng):
    Ai = rng.integers(-3, 4, size=(M, N))
    for A in (Ai, Ai > 0):
        wrapped = KINDS[kind](A)
        before = _compute(wrapped.toarray() if sp.issparse(wrapped) else wrapped).copy()
        op = as_operator(wrapped)
        assert op.dtype == np.float64
        assert np.allclose(op.matmat(np.ones((N, 1))), before @ np.ones((N, 1)))
        after = wrapped.toarray() if sp.issparse(wrapped) else wrapped
        assert after.dtype == before.dtype and np.array_equal(after, before)


def test_complex_products_and_transposes(rng):
    A = _dense(rng) + 1j * _dense(rng)
    X, Y = rng.standard_normal((N, 2)) + 1j, rng.standard_normal((M, 2)) - 1j
    for kind in ("dense", "csr_array", "linear_operator", "dask"):
        op = as_operator(KINDS[kind](A), allow_complex=True)
        assert np.allclose(_compute(op.matmat(X)), A @ X)
        assert np.allclose(_compute(op.rmatmat(Y)), A.conj().T @ Y)
        assert np.allclose(_compute(op.T.matmat(Y)), A.T @ Y)
        assert np.allclose(_compute(op.T.T.matmat(X)), A @ X)
        assert np.allclose(_compute(op.T.H.matmat(X)), A.conj() @ X)
    with pytest.raises(TypeError, match=r"^A has complex dtype"):
        as_operator(A)


def test_array_api_strict_input(rng):
    import array_api_strict as xps

    A = _dense(rng)
    op = as_operator(xps.asarray(A))
    Y = op.matmat(xps.asarray(np.ones((N, 2))))
    assert op.xp is xps and np.allclose(np.asarray(Y), A @ np.ones((N, 2)))


def test_lists_and_np_matrix_are_accepted_and_an_operator_is_not_rewrapped(rng):
    A = _dense(rng)
    assert np.allclose(as_operator(A.tolist()).matmat(np.eye(N)), A)
    with pytest.warns(PendingDeprecationWarning):  # numpy.matrix itself warns on creation
        legacy = np.asmatrix(A)
    assert np.allclose(as_operator(legacy).matmat(np.eye(N)), A)
    op = as_operator(A)
    assert as_operator(op) is op
    with pytest.raises(TypeError, match=r"^A must be .*entries could not be read as one numeric array"):
        as_operator([[1, "a"], [2]])
    with pytest.raises(TypeError, match=r"^A must hold numbers"):
        as_operator([[1, "a"], [2, "b"]])


def test_shape_mismatch_in_a_product_is_refused(rng):
    op = as_operator(_dense(rng))
    with pytest.raises(ValueError, match=rf"^X.shape\[0\]=3 must equal the operator's shape\[1\] = {N}$"):
        op.matmat(np.ones((3, 2)))
    assert op.n_passes == 0


def test_distributed_local_cluster_products(rng):
    distributed = pytest.importorskip("distributed")
    A = _dense(rng)
    with distributed.Client(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None):
        op = as_operator(_dask(A))
        X = rng.standard_normal((N, 3))
        assert np.allclose(op.matmat(X).compute(), A @ X, rtol=1e-12)
        assert np.allclose(op.rmatmat(A @ X).compute(), A.T @ (A @ X), rtol=1e-12)


# ---------------------------------------------------------------- fuzzing the public boundary

_DTYPES = [np.float64, np.float32, np.float16, np.int32, np.int64, np.uint8, np.bool_, np.complex128]


@st.composite
def _arrays(draw):
    ndim = draw(st.integers(0, 3))
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=ndim, max_size=ndim)))
    dtype = draw(st.sampled_from(_DTYPES))
    size = int(np.prod(shape)) if shape else 1
    values = draw(st.lists(st.sampled_from([0.0, 1.0, -2.5, 3.0, np.nan, np.inf, -np.inf]),
                           min_size=size, max_size=size))
    with np.errstate(invalid="ignore", over="ignore"):
        raw = np.asarray(values, dtype=np.float64).reshape(shape)
        if np.dtype(dtype).kind in "iub":
            raw = np.nan_to_num(raw, nan=0, posinf=1, neginf=-1)
        A = raw.astype(dtype)
    kind = draw(st.sampled_from(["dense", "csr", "linop"]))
    return A, kind


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_arrays(), k=st.one_of(st.integers(-3, 8), st.floats(allow_nan=True), st.none(), st.booleans()))
def test_fuzzed_input_is_accepted_or_refused_by_name_and_never_modified(case, k):
    A, kind = case
    original = A.copy()
    wrapped = A
    if kind == "csr" and A.ndim == 2 and A.dtype != np.float16:
        wrapped = sp.csr_array(A)
    elif kind == "linop" and A.ndim == 2 and A.size and A.dtype.kind == "f" and A.dtype != np.float16:
        wrapped = aslinearoperator(A)
    try:
        op = as_operator(wrapped, name="Amat")
    except (ValueError, TypeError) as exc:
        assert "Amat" in str(exc)
    else:
        assert op.shape == A.shape and op.dtype in (np.float32, np.float64)
        Y = op.matmat(np.ones((A.shape[1], 1), dtype=op.dtype))
        assert Y.shape == (A.shape[0], 1)
        try:
            la._validate.check_rank(k, op.shape, "k")
        except (ValueError, TypeError) as exc:
            assert str(exc).startswith("k")
    assert A.dtype == original.dtype and np.array_equal(A, original, equal_nan=True)


def test_symmetric_matmat_takes_the_faster_form_and_gives_the_product(monkeypatch):
    from lowrank_la import as_operator
    from lowrank_la._backend import operator

    forms = []
    real = operator._dense_product

    def recorded(A, X, *, adjoint):
        forms.append((A.flags.c_contiguous, adjoint))
        return real(A, X, adjoint=adjoint)

    monkeypatch.setattr(operator, "_dense_product", recorded)
    G = np.random.default_rng(0).standard_normal((6, 6))
    A = G + G.T
    X = np.random.default_rng(1).standard_normal((6, 3))
    for array in (A, np.asfortranarray(A)):
        for view in (False, True):
            op = as_operator(array)
            forms.clear()
            np.testing.assert_allclose((op.H if view else op).symmetric_matmat(X), A @ X, atol=1e-13)
            # the form whose BLAS call multiplies by a C-ordered matrix: the adjoint of a C-ordered A, A itself when
            # it is Fortran-ordered
            assert forms == [(array.flags.c_contiguous, array.flags.c_contiguous)], (array.flags.c_contiguous, view)
    # a complex operator: the plain product
    forms.clear()
    op = as_operator(A.astype(complex), allow_complex=True)
    np.testing.assert_allclose(op.symmetric_matmat(X), A @ X, atol=1e-13)
    assert forms == [(True, False)]


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_scatter_products_take_the_parallel_kernel_where_the_nonzeros_are_many(fmt, monkeypatch):
    """``A^T Y`` of CSR (``A X`` of CSC) scatters in slabs where there are at least 16 n non-zeros per thread, and
    stays with scipy where there are fewer; both give scipy's product."""
    import numba

    from lowrank_la._kernels import csr_dense

    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)
    calls = []
    monkeypatch.setattr(csr_dense, "csr_rmatmat", lambda A, Y: calls.append(1) or csr_dense.csr_rmatmat_reference(A, Y))
    rng = np.random.default_rng(0)
    for density, slabs in ((0.9, True), (0.004, False)):
        A = sp.random(400, 60, density=density, random_state=1, format=fmt)
        op = as_operator(A) if fmt == "csr" else as_operator(A).T  # the scatter direction of each format
        B = A.toarray() if fmt == "csr" else A.toarray().T
        Y = rng.standard_normal((op.shape[0], 8))
        calls.clear()
        assert np.allclose(op.H @ Y, B.T @ Y, rtol=1e-12, atol=1e-12)
        assert bool(calls) == slabs
