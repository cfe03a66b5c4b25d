"""interpolative, CUR and generalized Nystrom on Dask arrays: no gather (in the returned graphs and in the
computations done inside the call), the same results as NumPy on the same data and seed, and clear refusals where
the whole matrix is needed."""

import numpy as np
import pytest

import lowrank_la as la
from tests.dask_tools import assert_no_gather, chunked

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")


def _problem(scale=1.0, dtype=np.float64, chunks=(100, 160)):
    gen = np.random.default_rng(0)
    A = gen.standard_normal((400, 6)) @ gen.standard_normal((6, 160)) + 1e-3 * gen.standard_normal((400, 160))
    A = (scale * A).astype(dtype)
    return A, chunked(A, chunks)


CASES = {
    "nystrom": lambda X: la.factor.generalized_nystrom(X, 6, rng=0),
    "cur-qr": lambda X: la.factor.cur(X, 6, select="qr", rng=0),
    "cur-uniform-cross": lambda X: la.factor.cur(X, 6, select="uniform", core="cross", rng=0),
    "id-rank": lambda X: la.factor.interpolative(X, 6, rng=0),
    "id-precision": lambda X: la.factor.interpolative(X, 1e-2, rng=0),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_factors_as_numpy_and_no_gather(case, guard_inside, dask_client):
    A, D = _problem()
    before = A.copy()
    expected = CASES[case](A)
    guard_inside["source"] = D
    got = CASES[case](D)
    assert guard_inside["shapes"]  # the sketch products were computed, and checked
    guard_inside["source"] = None
    assert all(isinstance(M, da.Array) for M in (got.F, got.G, got.H))
    assert_no_gather(got.F, got.G, got.H, source=D)
    F, G, H = dask_client.compute([got.F, got.G, got.H], sync=True)
    for a, b in ((F, expected.F), (G, expected.G), (H, expected.H)):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10 * np.abs(b).max())
    np.testing.assert_array_equal(A, before)


def test_cur_and_skeleton_stay_lazy_slices_of_the_input():
    A, D = _problem(chunks=(100, 80))  # chunked along both axes
    d = la.factor.cur(D, 5, select="qr", rng=1)
    assert d.C.shape == (400, 5) and d.R.shape == (5, 160)
    rows, cols = np.asarray(d.rows), np.asarray(d.cols)
    np.testing.assert_array_equal(d.C.compute(), A[:, cols])
    np.testing.assert_array_equal(d.R.compute(), A[rows, :])
    ident = la.factor.interpolative(D, 5, rng=1)
    np.testing.assert_array_equal(ident.skeleton.compute(), A[:, np.asarray(ident.idx)[:5]])


def test_deim_selection_through_the_dask_rsvd():
    """DEIM runs on the leading singular vectors of rsvd, whose Dask test matrix is drawn per chunk (other draws
    than NumPy's): on a matrix with a clear gap after rank 6 the selected indices are the same all the same."""
    A, D = _problem()
    expected = la.factor.cur(A, 6, rng=0)
    with dask.config.set(scheduler="sync"):  # the rsvd graph has many small tasks: quicker in-process
        got = la.factor.cur(D, 6, rng=0)
        np.testing.assert_array_equal(np.asarray(got.rows), expected.rows)
        np.testing.assert_array_equal(np.asarray(got.cols), expected.cols)
        np.testing.assert_allclose(got.U.compute(), expected.U, rtol=1e-8)
        rows, cols = la.factor.select_indices(D, 6, method="leverage", rng=0)  # rsvd's draws: other indices
    assert_no_gather(got.C, got.R, source=D)
    for idx, size in ((np.asarray(rows), 400), (np.asarray(cols), 160)):
        assert len(set(idx.tolist())) == 6 and 0 <= idx.min() and idx.max() < size


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_far_from_unit_scale_and_dtype(dtype):
    """The power-of-two scaling (one max reduction on Dask) gives the same factors as NumPy; float32 stays."""
    scale = 2.0 ** -300 if dtype == np.float64 else 2.0 ** -40  # outside [tiny**0.25, huge**0.25]: rescaled
    A, D = _problem(scale, dtype)
    for fn in (lambda X: la.factor.cur(X, 4, select="qr", rng=3), lambda X: la.factor.interpolative(X, 4, rng=3)):
        expected, got = fn(A), fn(D)
        assert got.F.dtype == dtype and got.G.dtype == dtype
        G = got.G.compute()
        np.testing.assert_allclose(G, expected.G, rtol=1e-4 if dtype == np.float32 else 1e-8)
        np.testing.assert_array_equal(got.F.compute(), expected.F)


def test_deterministic_id_refuses_dask():
    _, D = _problem()
    with pytest.raises(TypeError, match=r"A is a Dask array.*rand=True"):
        la.factor.interpolative(D, 3, rand=False)


def test_products_only_instances_stay_lazy(dask_client):
    """meta_factorize, nystrom_from_sketches and randomized_pinv touch A through products: lazy, no gather (the
    pseudoinverse has A's size, so the guard checks a reduction of it), equal to NumPy."""
    A, D = _problem(chunks=(100, 80))
    gen = np.random.default_rng(4)
    P, Q = gen.standard_normal((400, 9)), gen.standard_normal((160, 6))
    for fn in (lambda X: la.factor.meta_factorize(X, A @ Q, A.T @ P, B=P, D=Q),
               lambda X: la.factor.nystrom_from_sketches(X, Q, P)):
        expected, got = fn(A), fn(D)
        assert_no_gather(got.F, got.G, got.H, source=D)
        for a, b in zip(dask_client.compute([got.F, got.G, got.H], sync=True), (expected.F, expected.G, expected.H)):
            np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10 * np.abs(b).max())
    pinv = la.factor.randomized_pinv(D, P, Q)
    assert isinstance(pinv, da.Array) and pinv.shape == (160, 400)
    assert_no_gather(abs(pinv).sum(axis=0), source=D)
    expected = la.factor.randomized_pinv(A, P, Q)
    np.testing.assert_allclose(pinv.compute(), expected, atol=1e-10 * np.abs(expected).max())


@pytest.mark.parametrize("fn", [la.factor.mf_svd, la.factor.mf_cpqr, la.factor.utv])
def test_full_factorizations_refuse_dask(fn):
    _, D = _problem()
    with pytest.raises(TypeError, match=r"A is a Dask array, and this factorization .*in one place.*rsvd"):
        fn(D, 3)
    with pytest.raises(TypeError, match=r"A is a Dask array, and rank_factorization .*interpolative"):
        la.factor.rank_factorization(D)
