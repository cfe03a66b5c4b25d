"""Shared helpers of the asv suites: backend parametrisation, optional peers, accuracy measures.

asv skips a parameter combination whose ``setup`` raises ``NotImplementedError``; :func:`require` and
:func:`to_backend` raise it when a peer library or a backend is not installed here, so every suite can list
all its implementations and backends and run on whatever the machine has.
"""

from __future__ import annotations

import importlib
import math

import numpy as np

__all__ = ["BACKENDS", "max_relative_error", "require", "to_backend", "to_numpy"]


def _importable(module_name: str) -> bool:
    try:
        importlib.import_module(module_name)
    except ImportError:
        return False
    return True


def _cupy_with_gpu() -> bool:
    """True if CuPy imports and sees at least one GPU."""
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # ImportError, or CUDARuntimeError where there is no driver or no device
        return False


#: The array backends usable on this machine: "numpy" always, "cupy" where CuPy imports and a GPU is
#: visible, "dask" where dask.array imports. Use it as a parameter list: ``params = [BACKENDS, ...]``.
BACKENDS = ["numpy"]
if _cupy_with_gpu():
    BACKENDS.append("cupy")
if _importable("dask.array"):
    BACKENDS.append("dask")


def require(module_name: str):
    """Import and return `module_name`, or raise ``NotImplementedError`` (asv: skip) if it is not installed.

    Use it in ``setup`` for a peer library (``sklearn.utils.extmath``, ``fbpca``, ``tensorly``, ...), so that
    a machine without the peer skips those parameter combinations instead of failing.
    """
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        raise NotImplementedError(f"{module_name} is not installed here ({exc})") from exc


def to_backend(array, backend: str, *, row_chunks: int = 4):
    """A NumPy `array` moved to `backend` ("numpy", "cupy" or "dask").

    "cupy" copies it to the current GPU. "dask" wraps it into a ``dask.array.Array`` chunked by rows into
    `row_chunks` blocks of whole rows (the layout the streaming algorithms expect). A backend that is not
    usable here raises ``NotImplementedError`` so that asv skips the combination.
    """
    if backend == "numpy":
        return np.asarray(array)
    if backend == "cupy":
        if not _cupy_with_gpu():
            raise NotImplementedError("cupy with a visible GPU is not available here")
        return require("cupy").asarray(array)
    if backend == "dask":
        da = require("dask.array")
        array = np.asarray(array)
        if array.ndim == 0:
            return da.from_array(array)
        rows = max(1, math.ceil(array.shape[0] / max(1, row_chunks)))
        return da.from_array(array, chunks=(rows, *([-1] * (array.ndim - 1))))
    raise ValueError(f"backend={backend!r} must be one of 'numpy', 'cupy', 'dask'")


def to_numpy(array) -> np.ndarray:
    """`array` as a NumPy array on the host (computes Dask arrays, copies CuPy arrays back)."""
    if hasattr(array, "compute") and hasattr(array, "chunks"):
        array = array.compute()
    if hasattr(array, "get") and type(array).__module__.startswith("cupy"):
        array = array.get()
    if hasattr(array, "toarray"):  # scipy.sparse
        array = array.toarray()
    return np.asarray(array)


def max_relative_error(a, b) -> float:
    """Largest entrywise relative error ``max |a - b| / |b|`` of `a` against the reference `b`.

    Entries of `b` smaller in magnitude than ``eps * max|b|`` (eps of the working dtype) are measured against
    that floor instead, so that zeros in the reference do not give an infinite error. Returns 0.0 for equal
    arrays and ``inf`` for a shape mismatch or a non-finite `a`. Accepts any backend (moved to the host).
    """
    a = to_numpy(a)
    b = to_numpy(b)
    if a.shape != b.shape:
        return math.inf
    if a.size == 0:
        return 0.0
    dtype = np.result_type(a.dtype, b.dtype, np.float32)
    if not np.isfinite(a).all():
        return math.inf
    scale = float(np.max(np.abs(b)))
    floor = np.finfo(dtype).eps * scale if scale > 0 else np.finfo(dtype).tiny
    denominator = np.maximum(np.abs(b), floor)
    return float(np.max(np.abs(a - b) / denominator))
