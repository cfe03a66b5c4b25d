"""Every sketch kind applied to a Dask matrix: lazy, equal to the NumPy result, and no task gathers the input."""

import numpy as np
import pytest

from lowrank_la.sketch import SKETCH_KINDS, SRHT, make_sketch
from tests.dask_tools import assert_no_gather, chunked, guarded_call

da = pytest.importorskip("dask.array")

KINDS = sorted(SKETCH_KINDS)


def _data(d=600, N=24, seed=0):
    return np.random.default_rng(seed).standard_normal((d, N))


@pytest.mark.parametrize("kind", KINDS)
def test_sketch_of_row_chunked_matrix_is_a_sum_of_chunk_sketches(kind):
    X = _data()
    D = chunked(X, (100, 24))  # S @ X: the d axis is split, every chunk is sketched with its columns of S
    S = make_sketch(kind, 16, X.shape[0], rng=3)
    out = S @ D
    assert isinstance(out, da.Array)
    np.testing.assert_allclose(out.compute(), S @ X, rtol=1e-10, atol=1e-10)
    assert_no_gather(out, source=D)


@pytest.mark.parametrize("kind", KINDS)
def test_rows_of_a_column_chunked_matrix_are_not_gathered(kind):
    X = _data(seed=1).T  # (24, 600), chunked along d only: transform() of a wide matrix
    D = chunked(X, (24, 150))
    S = make_sketch(kind, 16, X.shape[1], rng=4)
    out = S.apply(D, axis=-1)
    assert isinstance(out, da.Array) and out.shape == (24, 16)
    np.testing.assert_allclose(out.compute(), S.apply(X), rtol=1e-10, atol=1e-10)
    assert_no_gather(out, source=D)


@pytest.mark.parametrize("chunks", [(64, 24), (97, 10), (600, 6)])
def test_hadamard_kinds_with_uneven_chunks_and_dct_mixing(chunks):
    X = _data(d=600, seed=2)  # d' = 1024: chunks are realigned to powers of two, the padding stays implicit
    D = chunked(X, chunks)
    for S in (SRHT(20, 600, rng=5), SRHT(20, 600, mixing="dct", rng=5), make_sketch("fjlt", 20, 600, rng=5)):
        np.testing.assert_allclose((S @ D).compute(), S @ X, rtol=1e-10, atol=1e-10)
    assert_no_gather(S @ D, source=D)


def test_float32_stays_float32_and_input_untouched():
    X = _data(seed=3).astype(np.float32)
    before = X.copy()
    D = chunked(X, (150, 12))
    for kind in KINDS:
        S = make_sketch(kind, 8, 600, rng=6)
        out = S @ D
        assert out.dtype == np.float32
        np.testing.assert_allclose(out.compute(), S @ X, rtol=1e-4, atol=1e-4)
    assert np.array_equal(X, before)


def test_on_the_cluster(dask_client):
    X = _data(seed=4)
    D = chunked(X, (150, 24))
    sketches = [make_sketch(kind, 10, 600, rng=7) for kind in ("gaussian", "sparse_sign")]
    results = dask_client.compute([S @ D for S in sketches], sync=True)
    for S, out in zip(sketches, results):
        np.testing.assert_allclose(out, S @ X, rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------- lstsq_sketched: per-chunk sketch, small solve

def _lstsq_problem(N=1200, k=12, seed=5):
    gen = np.random.default_rng(seed)
    return gen.standard_normal((N, k)) * np.logspace(0, 4, k), gen.standard_normal(N)


@pytest.mark.parametrize("kind, chunks", [("sparse_sign", (150, 12)), ("srht", (200, 12)), ("gaussian", (300, 6))])
def test_lstsq_sketched_on_dask_equals_numpy_without_a_gather(kind, chunks):
    from lowrank_la.sketch import lstsq_sketched

    A, b = _lstsq_problem()
    D = chunked(A, chunks)
    res = guarded_call(lambda: lstsq_sketched(D, chunked(b, 400), sketch=kind, rng=1), D)
    ref = lstsq_sketched(A, b, sketch=kind, rng=1)
    assert res.converged and res.method == "sketch" and isinstance(res.x, np.ndarray)
    np.testing.assert_allclose(res.R, ref.R, rtol=1e-10, atol=1e-10 * np.abs(ref.R).max())
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-8, atol=1e-10 * np.abs(ref.x).max())
    x_exact = np.linalg.lstsq(A, b, rcond=None)[0]
    assert np.linalg.norm(A @ (res.x - x_exact)) < 1e-8 * np.linalg.norm(A @ x_exact)


def test_lstsq_sketched_dask_bad_input_and_direct_solve():
    import dask

    from lowrank_la.sketch import lstsq_sketched

    A, b = _lstsq_problem(N=400, k=10)
    bad = A.copy()
    bad[7, 3] = np.inf
    with dask.config.set(scheduler="sync"):  # the passes of LSQR: not through the session's cluster
        with pytest.raises(ValueError, match="A must be finite"):
            lstsq_sketched(chunked(bad, (100, 10)), b, rng=0)
        small = lstsq_sketched(chunked(A[:50], (10, 10)), b[:50], rng=0)  # oversample * k >= N: solved directly
        A32 = A.astype(np.float32)
        x32 = lstsq_sketched(chunked(A32, (100, 10)), b.astype(np.float32), rng=0).x
    assert small.method == "direct"
    np.testing.assert_allclose(small.x, np.linalg.lstsq(A[:50], b[:50], rcond=None)[0], rtol=1e-10)
    assert x32.dtype == np.float32
