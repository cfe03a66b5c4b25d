"""TruncatedSVDUpdater fed from Dask blocks: one chunk computed at a time, the same state as feeding the same
blocks from memory; a Dask A0 through rsvd without a gather; clear refusals for the one-shot updates."""

import numpy as np
import pytest

from lowrank_la.svd import TruncatedSVDUpdater, svd_update
from tests.dask_tools import assert_equal_to_rounding, chunked

da = pytest.importorskip("dask.array")


def _matrix():
    gen = np.random.default_rng(0)
    return gen.standard_normal((300, 8)) @ gen.standard_normal((8, 50)) + 1e-3 * gen.standard_normal((300, 50))


@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("method", ["zha-simon", "rpi"])
def test_rows_from_dask_blocks_equal_the_same_blocks_in_memory(center, method, guard_inside, dask_client):
    A = _matrix()
    A0, E = A[:100], A[100:]
    D = chunked(E, (50, 50))
    before = E.copy()
    up = TruncatedSVDUpdater(A0, 8, center=center, method=method, rng=0)
    ref = TruncatedSVDUpdater(A0, 8, center=center, method=method, rng=0)
    guard_inside["source"] = D
    up.add_rows(D)
    assert guard_inside["shapes"] == [(50, 50)] * 4  # one chunk at a time
    for start in range(0, 200, 50):
        ref.add_rows(E[start:start + 50])
    for got, expected in ((up.U, ref.U), (up.s, ref.s), (up.Vh, ref.Vh)):
        assert_equal_to_rounding(got, expected)
    assert isinstance(up.U, np.ndarray) and up.shape == (300, 50) and up.n_updates == ref.n_updates
    np.testing.assert_array_equal(E, before)


def test_columns_from_dask_blocks(guard_inside):
    A = _matrix()
    D = chunked(A[:, 10:], (300, 10))
    up, ref = TruncatedSVDUpdater(A[:, :10], 6, rng=1), TruncatedSVDUpdater(A[:, :10], 6, rng=1)
    guard_inside["source"] = D
    up.add_columns(D)
    assert guard_inside["shapes"] == [(300, 10)] * 4
    for start in range(10, 50, 10):
        ref.add_columns(A[:, start:start + 10])
    np.testing.assert_array_equal(up.s, ref.s)
    np.testing.assert_array_equal(up.Vh, ref.Vh)


def test_dask_initial_matrix_without_a_gather(guard_inside):
    """rsvd draws its Dask test matrix per chunk, so the initial SVD equals NumPy's within rsvd's accuracy only."""
    A = _matrix()
    D = chunked(A, (75, 50))
    guard_inside["source"] = D
    up = TruncatedSVDUpdater(D, 8, rng=0)
    assert (300, 8) in guard_inside["shapes"]  # U was computed, under the guard
    guard_inside["source"] = None
    ref = TruncatedSVDUpdater(A, 8, rng=0)
    np.testing.assert_allclose(up.s, ref.s, rtol=1e-8)
    np.testing.assert_allclose(np.abs(up.Vh @ ref.Vh.T), np.eye(8), atol=1e-6)


def test_bad_chunk_and_one_shot_updates():
    A = _matrix()
    E = A[100:].copy()
    E[170, 3] = np.nan
    up = TruncatedSVDUpdater(A[:100], 5, rng=0)
    with pytest.raises(ValueError, match=r"E\[150:200\] \(rows of one chunk of the Dask array E\).*150 rows"):
        up.add_rows(chunked(E, (50, 50)))
    assert up.shape == (250, 50)  # the three blocks before it were added, as the message says
    with pytest.raises(ValueError, match=r"E.shape\[1\]=40 must"):
        up.add_rows(chunked(A[:8, :40], (4, 40)))
    with pytest.raises(ValueError, match=r"one chunk of rows and 5 along the other axis.*rechunk"):
        up.add_rows(chunked(A[:8], (8, 10)))  # chunked along columns only: a block of rows would be all of it
    assert up.shape == (250, 50)
    with pytest.raises(TypeError, match="D is a Dask array, and a low-rank edit"):
        up.update_low_rank(chunked(np.ones((250, 1)), (50, 1)), np.ones((50, 1)))
    with pytest.raises(TypeError, match="E is a Dask array, and svd_update"):
        svd_update(up.U, up.s, up.Vh, chunked(A[:8], (2, 50)))
