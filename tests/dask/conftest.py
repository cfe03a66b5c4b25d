"""A two-worker, one-thread-each ``distributed.LocalCluster`` shared by the Dask tests of the session."""

import pytest


@pytest.fixture(scope="session")
def dask_client():
    """A client of a 2-process LocalCluster (1 thread per worker), started once per test session."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        yield client
