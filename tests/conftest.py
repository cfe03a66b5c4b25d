"""Backend fixtures and markers shared by the whole test suite.

``xp_backend`` runs a test on NumPy, array-api-strict and Dask, and on CuPy where a GPU is visible. Tests that
need a GPU carry ``@pytest.mark.gpu`` and are skipped where none is visible; ``slow`` marks the longer ones.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest


def gpu_visible() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    try:
        cupy = importlib.import_module("cupy")
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


GPU = gpu_visible()


def pytest_collection_modifyitems(config, items):
    if GPU:
        return
    skip = pytest.mark.skip(reason="needs CuPy and a visible GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


class Backend:
    """A backend under test: its name, its namespace, and how to move NumPy test data onto it and back."""

    def __init__(self, name, xp, to, back):
        self.name, self.xp, self._to, self._back = name, xp, to, back

    def asarray(self, a):
        return self._to(np.asarray(a))

    def tonumpy(self, a):
        return self._back(a)

    def __repr__(self):
        return self.name


def _numpy():
    from array_api_compat import numpy as xp

    return Backend("numpy", xp, lambda a: a, np.asarray)


def _strict():
    import array_api_strict as xp

    return Backend("array_api_strict", xp, xp.asarray, lambda a: np.asarray(a))


def _dask():
    import array_api_compat.dask.array as compat
    import dask.array as da

    def to(a):
        chunks = (max(1, a.shape[0] // 3),) + a.shape[1:] if a.ndim else ()
        return da.from_array(a, chunks=chunks)

    return Backend("dask", compat, to, lambda a: np.asarray(a.compute() if hasattr(a, "compute") else a))


def _cupy():
    import cupy
    from array_api_compat import cupy as xp

    return Backend("cupy", xp, cupy.asarray, cupy.asnumpy)


_BACKENDS = {"numpy": _numpy, "array_api_strict": _strict, "dask": _dask, "cupy": _cupy}


@pytest.fixture(params=[
    "numpy",
    "array_api_strict",
    "dask",
    pytest.param("cupy", marks=pytest.mark.gpu),
])
def xp_backend(request) -> Backend:
    """Each backend in turn (CuPy only where a GPU is visible)."""
    return _BACKENDS[request.param]()


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    """Tests run small problems: one BLAS thread (on a busy machine multi-threaded OpenBLAS spin-waits and is up
    to 100x slower on them). The Numba kernels keep their threads, so their parallel paths are tested."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """``smoke_run(name) -> (result, out)``: a reproduction run at smoke size once per session, into its own
    directory, shared by that reproduction's tests and the figure checks."""
    from lowrank_la import experiments

    runs = {}

    def run(name):
        if name not in runs:
            out = tmp_path_factory.mktemp(name)
            runs[name] = experiments.run(name, size="smoke", out=out), out
        return runs[name]

    return run


@pytest.fixture
def rng():
    """A fixed-seed generator for test data."""
    return np.random.default_rng(12345)


@pytest.fixture(params=["numpy", "array_api_strict", pytest.param("cupy", marks=pytest.mark.gpu)])
def xp_dense_backend(request) -> Backend:
    """The in-memory backends (the small dense work of every algorithm runs on these; Dask is not one)."""
    return _BACKENDS[request.param]()
