"""HOSVD, ST-HOSVD, HOOI, the higher-order spectrum and the core-shape search on Dask tensors: mode Grams reduced
over the chunks (no gather), the same decompositions as NumPy, and clear refusals for the tensor trains."""

import numpy as np
import pytest

import lowrank_la as la
from lowrank_la.tensor import core_shape_search, hooi, hosvd, hosvd_spectrum, st_hosvd, tucker_to_tensor
from tests.dask_tools import assert_no_gather, chunked

da = pytest.importorskip("dask.array")

RANKS = (4, 3, 2)


def _tensor(scale=1.0, dtype=np.float64):
    X = la.datasets.tucker_tensor((40, 30, 20), RANKS, rng=0)
    X = scale * (X + 1e-3 * np.random.default_rng(1).standard_normal(X.shape))
    return X.astype(dtype)


CASES = {
    "hosvd": lambda T: hosvd(T, RANKS, svd="gram"),
    "st_hosvd": lambda T: st_hosvd(T, RANKS, svd="gram"),
    "hooi": lambda T: hooi(T, RANKS, svd="gram", n_iter_max=1, tol=0),
}


def _same_decomposition(got, expected, rtol):
    """Factors equal up to the sign of each column (eigenvectors of slightly different Grams), cores equal in
    magnitude, and the same reconstruction."""
    factors = [np.asarray(U) for U in got.factors]
    core = np.asarray(got.core)
    scale = np.abs(expected.core).max()
    for U, V in zip(factors, expected.factors):
        np.testing.assert_allclose(np.abs(U), np.abs(V), atol=rtol)
    np.testing.assert_allclose(np.abs(core), np.abs(expected.core), atol=rtol * scale)
    np.testing.assert_allclose(tucker_to_tensor(core, factors), tucker_to_tensor(expected), atol=rtol * scale)


@pytest.mark.parametrize("case", sorted(CASES))
def test_tucker_on_dask_equals_numpy_without_a_gather(case, guard_inside, dask_client):
    X = _tensor()
    D = chunked(X, (20, 15, 20))  # four chunks, split along two modes
    guard_inside["source"] = D
    got = CASES[case](D)
    assert (40, 40) in guard_inside["shapes"]  # the mode-0 Gram was reduced under the guard
    guard_inside["source"] = None
    assert isinstance(got.core, da.Array) and all(isinstance(U, da.Array) for U in got.factors)
    assert_no_gather(got.core, *got.factors, source=D)
    core, *factors = dask_client.compute([got.core, *got.factors], sync=True)
    _same_decomposition(la.tensor.TuckerResult(core, factors), CASES[case](X), 1e-10)


@pytest.mark.parametrize("scale, dtype", [(2.0 ** -600, np.float64), (2.0 ** 600, np.float64), (1.0, np.float32)])
def test_scaled_and_single_precision(scale, dtype):
    """The power-of-two rescaling applies on Dask as in NumPy (Grams of 2**-600 X would underflow); float32
    stays float32."""
    X = _tensor(scale, dtype)
    got, expected = hosvd(chunked(X, (20, 15, 20)), RANKS), hosvd(X, RANKS, svd="gram")
    assert got.core.dtype == dtype and got.factors[0].dtype == dtype
    _same_decomposition(got, expected, 1e-3 if dtype == np.float32 else 1e-10)


def test_spectrum_and_core_shape_search_from_chunked_grams():
    X = _tensor()
    D = chunked(X, (10, 30, 20))
    got, expected = hosvd_spectrum(D), hosvd_spectrum(X)
    assert got.shape == expected.shape
    assert got.norm_sq == pytest.approx(expected.norm_sq, rel=1e-12)
    for a, b in zip(got.values, expected.values):
        np.testing.assert_allclose(a, b, atol=1e-10 * expected.norm_sq)
    budget = la.tensor.tucker_size(X.shape, RANKS)
    assert core_shape_search(D, budget).ranks == core_shape_search(X, budget).ranks


def test_methods_that_need_an_unfolding_are_refused():
    D = chunked(_tensor(), (20, 15, 20))
    for fn in (lambda: hosvd(D, RANKS, svd="svd"), lambda: st_hosvd(D, RANKS, svd="randomized"),
               lambda: hosvd_spectrum(D, method="svd")):
        with pytest.raises(ValueError, match=r"needs each unfolding of X in one place, and X is a Dask array"):
            fn()
    for fn in (lambda: la.tensor.tt_svd(D, (3, 2)), lambda: la.tensor.tt_spectrum(D),
               lambda: la.tensor.tt_rank_search(D, 2000)):
        with pytest.raises(TypeError, match=r"X is a Dask array, and tt_\w+ .*hosvd"):
            fn()
