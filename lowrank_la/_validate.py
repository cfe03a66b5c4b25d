"""Argument checks shared by every public function.

Each check raises ``ValueError`` (a value out of range, a shape that does not fit, NaN or Inf) or
``TypeError`` (a value of the wrong kind) with a message that names the argument, what was given and what is
allowed, for example ``k=80 must satisfy 1 <= k <= min(m, n) = 50``. The checks never modify their input.

This module is the lowest layer of the package: it knows array kinds only by duck typing and through
array-api-compat, so that ``_backend`` can build on it.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Iterable, Sequence

import array_api_compat
import numpy as np
import scipy.sparse

__all__ = [
    "check_finite",
    "check_int",
    "check_matrix",
    "check_option",
    "check_rank",
    "check_real",
    "check_shape_agrees",
    "check_tolerance",
    "check_dtype",
    "is_dask",
    "is_linear_operator",
    "is_sparse",
]


# --------------------------------------------------------------------------- kinds of input (duck typed)

def is_sparse(x) -> bool:
    """True for scipy.sparse matrices and arrays and for cupyx.scipy.sparse matrices."""
    if type(x) is np.ndarray:
        return False
    if scipy.sparse.issparse(x):
        return True
    return type(x).__module__.startswith("cupyx.scipy.sparse") and hasattr(x, "nnz")


def is_linear_operator(x) -> bool:
    """True for ``scipy.sparse.linalg.LinearOperator`` and look-alikes (``matmat`` and ``rmatmat``)."""
    if type(x) is np.ndarray:
        return False
    return not is_sparse(x) and hasattr(x, "matmat") and hasattr(x, "rmatmat") and hasattr(x, "shape")


def is_dask(x) -> bool:
    """True for ``dask.array.Array`` (checked without importing Dask)."""
    if type(x) is np.ndarray:
        return False
    return array_api_compat.is_dask_array(x)


def _describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --------------------------------------------------------------------------- scalars

def check_int(value, name: str, *, low: int | None = None, high: int | None = None,
              high_text: str | None = None) -> int:
    """Return `value` as a Python int after checking ``low <= value <= high``.

    Booleans and non-integral numbers are refused with ``TypeError``. `high_text` spells the upper bound in
    the message (``"min(m, n) = 50"``).

    Examples
    --------
    >>> check_int(3, "n_iter", low=0)
    3
    >>> check_int(-1, "n_iter", low=0)
    Traceback (most recent call last):
    ...
    ValueError: n_iter=-1 must satisfy n_iter >= 0
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {_describe(value)} of type {type(value).__name__}")
    value = operator.index(value)
    bad = (low is not None and value < low) or (high is not None and value > high)
    if bad:
        hi = high_text if high_text is not None else str(high)
        if low is not None and high is not None:
            rule = f"{low} <= {name} <= {hi}"
        elif low is not None:
            rule = f"{name} >= {low}"
        else:
            rule = f"{name} <= {hi}"
        raise ValueError(f"{name}={value} must satisfy {rule}")
    return value


def check_rank(k, shape: Sequence[int], name: str = "k", *, upper: int | None = None,
               upper_text: str | None = None) -> int:
    """Check a target rank: ``1 <= k <= min(m, n)`` (or ``<= upper`` when given).

    Examples
    --------
    >>> check_rank(80, (100, 50))
    Traceback (most recent call last):
    ...
    ValueError: k=80 must satisfy 1 <= k <= min(m, n) = 50
    """
    if upper is None:
        upper = min(shape)
        upper_text = f"min(m, n) = {upper}"
    return check_int(k, name, low=1, high=upper, high_text=upper_text)


def check_real(value, name: str, *, low: float | None = None, high: float | None = None,
               low_inclusive: bool = True, high_inclusive: bool = True) -> float:
    """Return `value` as a finite Python float within the given bounds.

    Examples
    --------
    >>> check_real(0.5, "eps", low=0, high=1, low_inclusive=False, high_inclusive=False)
    0.5
    >>> check_real(float("nan"), "eps")
    Traceback (most recent call last):
    ...
    ValueError: eps=nan must be a finite number
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {_describe(value)} of type {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name}={value} must be a finite number")
    too_low = low is not None and (value < low if low_inclusive else value <= low)
    too_high = high is not None and (value > high if high_inclusive else value >= high)
    if too_low or too_high:
        parts = []
        if low is not None:
            parts.append(f"{low} {'<=' if low_inclusive else '<'} ")
        parts.append(name)
        if high is not None:
            parts.append(f" {'<=' if high_inclusive else '<'} {high}")
        raise ValueError(f"{name}={value} must satisfy {''.join(parts)}")
    return value


def check_tolerance(tol, name: str = "tol", *, high: float | None = None) -> float:
    """Check a tolerance: a finite number ``> 0`` (and ``< high`` when given)."""
    return check_real(tol, name, low=0, high=high, low_inclusive=False, high_inclusive=False)


def check_option(value, name: str, options: Iterable):
    """Check that `value` is one of `options` (strings are compared as given).

    Examples
    --------
    >>> check_option("qr", "normalizer", ["qr", "lu", "none"])
    'qr'
    >>> check_option("svd", "normalizer", ["qr", "lu", "none"])
    Traceback (most recent call last):
    ...
    ValueError: normalizer='svd' must be one of 'qr', 'lu', 'none'
    """
    options = list(options)
    # `True == 1`, so a boolean only matches a boolean option
    ok = any(type(o) is type(value) and o == value for o in options) or (
        not isinstance(value, (bool, np.bool_)) and any(_equal(o, value) for o in options))
    if not ok:
        allowed = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name}={_describe(value)} must be one of {allowed}")
    return value


def _equal(a, b) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # incomparable, or an array
        return False


def check_dtype(dtype, name: str = "dtype", *, allowed=("float32", "float64")) -> np.dtype:
    """Check a requested dtype against `allowed` and return it as ``numpy.dtype``.

    Examples
    --------
    >>> check_dtype("float32")
    dtype('float32')
    >>> check_dtype("int8")
    Traceback (most recent call last):
    ...
    TypeError: dtype=int8 is not supported; allowed: float32, float64
    """
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"{name}={_describe(dtype)} is not a dtype; allowed: {', '.join(allowed)}") from exc
    if dt.name not in allowed:
        raise TypeError(f"{name}={dt.name} is not supported; allowed: {', '.join(allowed)}")
    return dt


# --------------------------------------------------------------------------- arrays

def check_finite(x, name: str) -> None:
    """Refuse NaN and Inf in a dense array or in the stored entries of a sparse matrix.

    Dask arrays are checked lazily by the caller's computation and are passed here unchecked, because a
    check would force a pass over the data.
    """
    if is_dask(x) or is_linear_operator(x):
        return
    data = x.data if is_sparse(x) else x  # sparse: only the stored values can be NaN or Inf
    xp = np if type(data) is np.ndarray else array_api_compat.array_namespace(data)
    if not xp.isdtype(data.dtype, ("real floating", "complex floating")):
        return
    with np.errstate(over="ignore", invalid="ignore"):
        if _finite_fast(data, xp):
            return
    if not bool(xp.all(xp.isfinite(data))):  # the sum overflowed, or there is a NaN or Inf: look closely
        n_bad = int(xp.sum(xp.astype(~xp.isfinite(data), xp.int64)))
        raise ValueError(f"{name} must be finite, but it holds {n_bad} NaN or Inf value(s)")


def _finite_fast(data, xp) -> bool:
    """True when a one-pass reduction shows that `data` is finite (no mask is allocated).

    NaN and Inf make the reduction non-finite; so can an overflow of finite values, and then the caller looks
    element by element. A contiguous real NumPy array goes through BLAS's dot product (``x . x``), about
    twice as fast as ``sum``.
    """
    if xp is np and data.flags.c_contiguous and data.dtype.kind == "f":
        flat = data.reshape(-1)
        return bool(np.isfinite(np.dot(flat, flat)))
    return bool(xp.isfinite(xp.sum(data)))


def check_matrix(A, name: str = "A", *, allow_complex: bool = False, finite: bool = True,
                 ndim: int = 2) -> None:
    """Check a matrix argument: `ndim`-dimensional, non-empty, numeric, finite.

    Accepts dense arrays of any array-API namespace, scipy/cupyx sparse matrices and arrays, LinearOperators
    (shape only) and Dask arrays (shape and dtype only; values are not computed).
    """
    shape = getattr(A, "shape", None)
    if shape is None:
        raise TypeError(f"{name} must be an array, a sparse matrix or a LinearOperator, "
                        f"got {type(A).__name__}")
    if len(shape) != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got an array of shape {tuple(shape)}")
    if any(int(s) == 0 for s in shape):
        raise ValueError(f"{name} must be non-empty, got shape {tuple(shape)}")
    dtype = getattr(A, "dtype", None)
    if dtype is not None and not is_linear_operator(A):
        kind = np.dtype(dtype).kind if _numpy_like_dtype(dtype) else _array_api_kind(A)
        if kind not in "biufc":
            raise TypeError(f"{name} must hold numbers, got dtype {dtype}")
        if kind == "c" and not allow_complex:
            raise TypeError(f"{name} has complex dtype {dtype}, which this function does not support; "
                            "pass the real part or use a complex-capable routine")
    if finite:
        check_finite(A, name)


def _numpy_like_dtype(dtype) -> bool:
    try:
        np.dtype(dtype)
    except TypeError:
        return False
    return True


def _array_api_kind(A) -> str:
    xp = array_api_compat.array_namespace(A)
    for kind, code in (("bool", "b"), ("signed integer", "i"), ("unsigned integer", "u"),
                       ("real floating", "f"), ("complex floating", "c")):
        if xp.isdtype(A.dtype, kind):
            return code
    return "O"


def check_shape_agrees(name: str, actual: int, expected: int, what: str) -> None:
    """Check one dimension against the one it must match.

    Examples
    --------
    >>> check_shape_agrees("X.shape[0]", 5, 7, "A.shape[1]")
    Traceback (most recent call last):
    ...
    ValueError: X.shape[0]=5 must equal A.shape[1] = 7
    """
    if int(actual) != int(expected):
        raise ValueError(f"{name}={actual} must equal {what} = {expected}")
