"""Distributed AltMin (issue 21, part C) on the session's 2-worker LocalCluster: agreement with the
single-process fit, Dask factors, observations kept in per-block pieces, and bad input."""

import numpy as np
import pytest

import lowrank_la as la
from lowrank_la.completion import altmin_complete, altmin_distributed
from lowrank_la.completion._distributed import _edges, _shuffle
from tests.dask_tools import assert_no_gather, chunked

da = pytest.importorskip("dask.array")


@pytest.fixture(scope="module")
def ratings():
    """A small recommender problem: training coordinates and 10% held-out ratings."""
    R = la.datasets.ratings_matrix(400, 300, 12_000, rank=4, rng=0).tocoo()
    test = np.random.default_rng(1).random(R.nnz) < 0.1
    train = tuple(x[~test] for x in (R.row, R.col, R.data))
    return train, tuple(x[test] for x in (R.row, R.col, R.data)), R.shape


def _rmse(res, held):
    rows, cols, vals = held
    return float(np.sqrt(np.mean((res.predict(rows, cols) - vals) ** 2)))


def _dask(train, n_chunks=6):
    size = -(-train[0].shape[0] // n_chunks)
    return [chunked(x, size) for x in train]


@pytest.mark.filterwarnings("ignore::lowrank_la.ConvergenceWarning")  # 5 iterations: both stop at n_iter
def test_matches_single_process(dask_client, ratings):
    """Same seed, same fit (the reg = 0 case without offsets, on threads, is the docstring's example)."""
    train, held, shape = ratings
    copies = [x.copy() for x in train]
    kw = {"reg": 0.05, "offsets": True, "solver": "exact", "n_iter": 5, "rng": 3}
    one = altmin_complete(*train, shape, 4, **kw)
    dist = altmin_distributed(*_dask(train), shape, 4, client=dask_client, **kw)
    assert abs(_rmse(dist, held) - _rmse(one, held)) <= 0.01 * _rmse(one, held)
    assert dist.n_iter == one.n_iter and dist.stop == one.stop
    np.testing.assert_allclose(dist.s, one.s, rtol=1e-6)
    for F, blocks in ((dist.U, dist.blocks[0]), (dist.V, dist.blocks[1])):
        assert isinstance(F, da.Array) and F.numblocks[0] == len(blocks) - 1 >= 2
        assert F.chunks[0] == tuple(np.diff(blocks))
    U = dist.U.compute()
    np.testing.assert_allclose(U.T @ U, np.eye(U.shape[1]), atol=1e-10)
    for x, y in zip(train, copies):
        np.testing.assert_array_equal(x, y)  # inputs untouched


def test_shuffle_keeps_observations_in_blocks(dask_client, ratings):
    """No task of the shuffle receives more than half of the observations, and every block holds a part."""
    train, _, shape = ratings
    rows, cols, vals = _dask(train, 8)
    edges = [_edges(np.bincount(x, minlength=size), 4) for x, size in zip(train[:2], shape)]
    row_tasks, col_tasks = _shuffle(rows, cols, vals, *edges, np.float64, 0)
    total = sum(int(x.nbytes) for x in (rows, cols, vals))
    assert_no_gather(*row_tasks, *col_tasks, source=total)
    blocks = dask_client.compute(row_tasks + col_tasks, sync=True)
    nnz = train[0].shape[0]
    for side in (blocks[:len(row_tasks)], blocks[len(row_tasks):]):
        assert sum(b.nnz for b in side) == nnz
        assert max(b.nnz for b in side) < nnz / 2


def test_float32_and_sparse_input(dask_client):
    R = la.datasets.ratings_matrix(200, 120, 4000, rank=3, rng=2, dtype="float32")
    res = altmin_distributed(R, rank=3, reg=0.1, offsets=True, client=dask_client, n_blocks=4, n_iter=3,
                             rng=0)
    assert res.U.dtype == np.float32 and res.V.dtype == np.float32 and res.row_offsets.dtype == np.float32
    assert res.n_iter == 3 and res.U.numblocks[0] == 4 and np.all(np.isfinite(res.V.compute()))


def test_bad_input(dask_client):
    rows, cols, vals = np.array([0, 1, 2, 3] * 5), np.array([0, 1, 2, 3, 4] * 4), np.arange(20.0)
    shape = (4, 5)
    parts = [chunked(x, 5) for x in (rows, cols, vals)]
    with pytest.raises(ValueError, match="rows.*chunk"):
        altmin_distributed(parts[0][parts[0] >= 0], parts[1], parts[2], shape, 1, client=dask_client)
    with pytest.raises(ValueError, match="same chunks"):
        altmin_distributed(parts[0], chunked(cols, 4), parts[2], shape, 1, client=dask_client)
    with pytest.raises(TypeError, match="all be Dask"):
        altmin_distributed(parts[0], cols, vals, shape, 1, client=dask_client)
    with pytest.raises(ValueError, match="rows holds the index 4"):
        altmin_distributed(chunked(rows + 1, 5), *parts[1:], shape, 1, client=dask_client)
    with pytest.raises(ValueError, match="vals must be finite"):
        altmin_distributed(*parts[:2], chunked(np.where(vals == 7, np.nan, vals), 5), shape, 1, client=dask_client)
    with pytest.raises(ValueError, match="observed twice"):
        altmin_distributed(np.array([0, 0]), np.array([1, 1]), np.array([1.0, 2.0]), shape, 1, client=dask_client)
    with pytest.raises(TypeError, match="rank must be given"):
        altmin_distributed(*parts, shape, client=dask_client)
    with pytest.raises(ValueError, match="rank"):
        altmin_distributed(*parts, shape, 5, client=dask_client)
    with pytest.raises(TypeError, match="client must be"):
        altmin_distributed(*parts, shape, 1, client="tcp://nowhere")
    with pytest.raises(TypeError, match="coordinates"):
        altmin_distributed(parts[0], client=dask_client)
