"""Fixtures of the Dask tests: a 2-worker, 1-thread-each ``distributed.LocalCluster`` shared by the session (the
scheduler of the tests that ask for it, and only of those), and ``guard_inside``, the gather guard over every
computation a call makes inside itself."""

import pytest


@pytest.fixture(scope="session")
def _cluster_client():
    """A client of a 2-process LocalCluster (1 thread per worker), started once per test session, not made the
    default scheduler: a session-wide default would take every later Dask test's computations, in any directory, to
    the worker processes (where a loaded machine can make them fail with "lost dependencies")."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                  silence_logs=50) as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        yield client


@pytest.fixture
def dask_client(_cluster_client):
    """The session's cluster client, the current client and Dask's scheduler for the duration of the test (the
    library's own ``compute`` calls included)."""
    import dask

    with _cluster_client.as_current(), dask.config.set(scheduler=_cluster_client):
        yield _cluster_client


@pytest.fixture
def guard_inside(monkeypatch):
    """Every Dask computation made while active (``dask.compute`` and ``Array.compute``, which the library calls
    inside its functions): each is checked by the gather guard against ``state["source"]`` when that is set, and
    the shapes of the arrays computed are listed in ``state["shapes"]``."""
    import dask
    import dask.array as da

    from tests.dask_tools import assert_no_gather

    state = {"source": None, "shapes": [], "inside": False}
    compute = dask.compute

    def guarded(*args, **kwargs):
        if not state["inside"]:  # the guard itself computes through dask.compute
            collections = [a for a in args if dask.is_dask_collection(a)]
            if state["source"] is not None:
                state["inside"] = True
                try:
                    assert_no_gather(*collections, source=state["source"])
                finally:
                    state["inside"] = False
            state["shapes"] += [getattr(a, "shape", None) for a in collections]
        return compute(*args, **kwargs)

    monkeypatch.setattr(dask, "compute", guarded)
    monkeypatch.setattr(da.Array, "compute", lambda self, **kwargs: guarded(self, **kwargs)[0])
    return state
