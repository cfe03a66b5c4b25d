"""Namespaces, devices and the dtype policy.

The namespace and device of an input (NumPy, CuPy, Dask, array-api-strict, torch: through array-api-compat;
scipy/cupyx sparse matrices and LinearOperators map to the NumPy or CuPy namespace), and the dtype policy:
float32 stays float32, float64 stays float64, float16 computes in float32, integers and booleans promote to
float64, complex is kept where a function allows it and refused otherwise.
"""

from __future__ import annotations

import numbers

import array_api_compat
import numpy as np

from .._validate import is_dask, is_linear_operator, is_sparse

__all__ = ["array_namespace", "device_of", "is_cupy_namespace", "is_numpy_namespace", "to_numpy", "working_dtype"]


def array_namespace(*arrays):
    """Array-API namespace shared by `arrays` (Python scalars and None are ignored).

    scipy.sparse matrices and arrays and LinearOperators map to NumPy's namespace; cupyx sparse matrices to
    CuPy's. The namespaces are array-api-compat's wrappers, so ``xp.linalg`` and ``xp.isdtype`` are there for
    every backend.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> array_namespace(np.ones(3), sp.eye(3, format="csr")).__name__
    'array_api_compat.numpy'
    """
    proxies = []
    for a in arrays:
        if a is None or isinstance(a, (numbers.Number, str)):
            continue
        if is_sparse(a):
            proxies.append(a.data)
        elif is_linear_operator(a) and not hasattr(a, "__array_namespace__"):
            proxies.append(np.empty(0))
        else:
            proxies.append(a)
    if all(type(p) is np.ndarray for p in proxies):  # the common case, without array-api-compat's dispatch
        return _NUMPY_NAMESPACE
    return array_api_compat.array_namespace(*proxies)


_NUMPY_NAMESPACE = array_api_compat.array_namespace(np.empty(0))


def is_numpy_namespace(xp) -> bool:
    """True if `xp` is NumPy's namespace (plain or array-api-compat's wrapper)."""
    return array_api_compat.is_numpy_namespace(xp)


def is_cupy_namespace(xp) -> bool:
    """True if `xp` is CuPy's namespace (plain or array-api-compat's wrapper)."""
    return array_api_compat.is_cupy_namespace(xp)


def to_numpy(x):
    """A NumPy array with the values of `x`: NumPy arrays as they are, Dask arrays computed, CuPy arrays copied
    from the device, other array-API arrays through ``numpy.asarray``.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.arange(3.0)
    >>> to_numpy(a) is a
    True
    """
    if isinstance(x, np.ndarray):
        return x
    if is_dask(x):
        x = x.compute()
    if type(x).__module__.split(".")[0] == "cupy":
        return x.get()
    try:
        return np.asarray(x)
    except RuntimeError:  # on a device NumPy cannot read (array-api-strict's "device1"): via the default one
        return np.asarray(x.to_device(x.__array_namespace__().__array_namespace_info__().default_device()))


def device_of(x):
    """Device of an array or sparse matrix (``"cpu"`` for NumPy, scipy.sparse and LinearOperators)."""
    if is_sparse(x):
        x = x.data
    elif is_linear_operator(x) and not hasattr(x, "__array_namespace__"):
        return "cpu"
    return array_api_compat.device(x)


def working_dtype(dtype, xp, *, name: str = "A", allow_complex: bool = False):
    """The dtype a computation on data of `dtype` runs in, by the library's policy.

    float32 and float64 are kept; float16 computes in float32; booleans and integers promote to float64;
    complex64/complex128 are kept when `allow_complex`, refused with ``TypeError`` otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> xp = array_namespace(np.ones(1))
    >>> working_dtype(np.float32, xp), working_dtype(np.int64, xp), working_dtype(np.bool_, xp)
    (dtype('float32'), dtype('float64'), dtype('float64'))
    """
    if xp.isdtype(dtype, "real floating"):
        result = xp.float32 if _itemsize(dtype, xp) <= 4 else dtype
    elif xp.isdtype(dtype, "complex floating"):
        if not allow_complex:
            raise TypeError(f"{name} has complex dtype {dtype}, which this function does not support; "
                            "pass the real part or use a complex-capable routine")
        result = dtype
    elif xp.isdtype(dtype, ("bool", "integral")):
        result = xp.float64
    else:
        raise TypeError(f"{name} must hold numbers, got dtype {dtype}")
    return np.dtype(result) if is_numpy_namespace(xp) or is_cupy_namespace(xp) else result


def _itemsize(dtype, xp) -> int:
    return xp.finfo(dtype).bits // 8
