"""The gather guard itself: it passes per-chunk work and catches a graph that gathers its input."""

import os

import numpy as np
import pytest

from tests.dask_tools import assert_no_gather, chunked, max_task_input_bytes

pytest.importorskip("dask.array")


def test_per_chunk_reduction_passes_and_rechunk_to_one_chunk_fails():
    A = np.random.default_rng(0).standard_normal((800, 40))
    D = chunked(A, (100, 40))
    assert_no_gather(D.T @ D, source=D)
    with pytest.raises(AssertionError, match="a gather"):
        assert_no_gather(D.rechunk((800, 40)).sum(axis=0), source=D)
    assert max_task_input_bytes(D.rechunk((800, 40)).sum(axis=0)) >= A.nbytes


def test_concatenating_every_block_is_caught():
    A = np.random.default_rng(1).standard_normal((400, 30))
    D = chunked(A, (50, 30))
    gathered = D.map_blocks(lambda b: b * 2).rechunk((400, 30))
    with pytest.raises(AssertionError, match="a gather"):
        assert_no_gather(gathered, source=D)


def test_the_cluster_fixture_runs_a_graph(dask_client):
    A = np.random.default_rng(2).standard_normal((200, 10))
    D = chunked(A, (50, 10))
    assert np.allclose(dask_client.compute(D.T @ D, sync=True), A.T @ A)


def test_the_cluster_schedules_only_the_tests_that_ask_for_it(dask_client):
    import dask

    # inside: a plain compute (as the library makes) runs in a worker process
    assert dask.delayed(os.getpid)().compute() != os.getpid()


def test_other_tests_keep_the_local_scheduler():
    import dask

    # after the cluster's tests (the session's cluster still up), a plain compute runs in this process
    assert dask.delayed(os.getpid)().compute() == os.getpid()


def test_unknown_chunk_sizes_are_refused_with_the_fix():
    import lowrank_la as la

    D = chunked(np.random.default_rng(3).random((100, 20)), (25, 20))
    masked = D[D[:, 0] > 0.5]
    with pytest.raises(ValueError, match=r"A is a Dask array of unknown shape .*compute_chunk_sizes"):
        la.svd.rsvd(masked, 3, rng=0)
