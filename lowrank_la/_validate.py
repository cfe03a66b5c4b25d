"""Argument checks shared by every public function.

Each check raises ``ValueError`` (a value out of range, a shape that does not fit, NaN or Inf) or
``TypeError`` (a value of the wrong kind) with a message that names the argument, what was given and what is
allowed, for example ``k=80 must satisfy 1 <= k <= min(m, n) = 50``. The checks never modify their input.

This module is the lowest layer of the package: it knows array kinds only by duck typing and through
array-api-compat, so that ``_backend`` can build on it.
"""

from __future__ import annotations

import functools
import math
import numbers
import operator
import types
from collections.abc import Iterable, Sequence

import array_api_compat
import numpy as np
import scipy.sparse

__all__ = [
    "as_matrix",
    "canonical_sparse",
    "check_finite",
    "check_int",
    "check_matrix",
    "check_operand",
    "check_option",
    "check_rank",
    "check_real",
    "check_shape_agrees",
    "check_tolerance",
    "check_dtype",
    "is_dask",
    "is_linear_operator",
    "is_sparse",
    "refuse_random_state",
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


#: OpenBLAS's dot product runs on one thread up to this many entries
_DOT_ONE_THREAD = 10_000


def _finite_fast(data, xp) -> bool:
    """True when a one-pass reduction shows that `data` is finite (no mask is allocated).

    NaN and Inf make the reduction non-finite; so can an overflow of finite values, and then the caller looks
    element by element. A contiguous real NumPy array goes through BLAS's dot product (``x . x``), about
    twice as fast as ``sum``; on one BLAS thread where OpenBLAS would start its pool (above 10,000 entries), so
    that a check does not leave BLAS threads spinning beside the parallel kernels after it
    (``lowrank_la._backend.KERNEL_THREADS_NOTE``: the FJLT of a dense 4096 x 2000 block took 143 ms after a
    two-thread check, 70 ms after this one). The price is the second thread's share of one read of the input:
    the Gaussian sketch of that block, a GEMM on every thread, went from about 26 ms to 29 ms.
    """
    if xp is np and data.flags.c_contiguous and data.dtype.kind == "f":
        flat = data.reshape(-1)
        if flat.size <= _DOT_ONE_THREAD:
            return bool(np.isfinite(np.dot(flat, flat)))
        from ._backend.threads import one_blas_thread

        with one_blas_thread():
            return bool(np.isfinite(np.dot(flat, flat)))
    return bool(xp.isfinite(xp.sum(data)))


def check_matrix(A, name: str = "A", *, allow_complex: bool = False, finite: bool = True,
                 ndim: int | tuple[int, ...] | None = 2, allow_empty: bool = False) -> None:
    """Check a matrix argument: `ndim`-dimensional, non-empty, numeric, finite.

    Accepts dense arrays of any array-API namespace, scipy/cupyx sparse matrices and arrays, LinearOperators
    (shape only) and Dask arrays (shape and dtype only; values are not computed). `ndim` is the required
    number of dimensions, a tuple of the allowed ones, or None for any number from one up. `allow_empty`
    accepts a zero-length dimension.
    """
    shape = getattr(A, "shape", None)
    if shape is None:
        raise TypeError(f"{name} must be an array, a sparse matrix or a LinearOperator, "
                        f"got {type(A).__name__}")
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if (len(shape) not in allowed) if allowed is not None else len(shape) == 0:
        wanted = " or ".join(f"{d}-D" for d in allowed) if allowed is not None else "at least 1-D"
        raise ValueError(f"{name} must be {wanted}, got an array of shape {tuple(shape)}")
    if not allow_empty and any(int(s) == 0 for s in shape):
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


def check_operand(X, name: str, rows: int, rows_text: str, *, ndim: int | tuple[int, ...] = (1, 2),
                  allow_complex: bool = True, sparse: bool = True, allow_empty: bool = False):
    """The right operand `X` of a product with a matrix of `rows` columns, by the input rule (:func:`as_matrix`).

    Returns `X` converted and checked (`ndim`, numeric, finite, non-empty unless `allow_empty`, sparse index
    structure) with ``X.shape[0] == rows``; `rows_text` names what `rows` is in the message.

    Examples
    --------
    >>> check_operand([1.0, 2.0], "x", 2, "A.shape[1]").shape
    (2,)
    >>> check_operand([1.0, 2.0, 3.0], "x", 2, "A.shape[1]")
    Traceback (most recent call last):
    ...
    ValueError: x.shape[0]=3 must equal A.shape[1] = 2
    """
    X = as_matrix(X, name, ndim=ndim, allow_complex=allow_complex, sparse=sparse, allow_empty=allow_empty)
    check_shape_agrees(f"{name}.shape[0]", X.shape[0], rows, rows_text)
    return X


# --------------------------------------------------------------------------- the input rule

_ACCEPTED = ("a NumPy or other array-API array, a scipy.sparse matrix, a list or tuple of numbers, "
             "or a pandas DataFrame or Series")


def as_matrix(A, name: str = "A", *, ndim: int | tuple[int, ...] | None = 2, allow_complex: bool = False,
              finite: bool = True, sparse: bool = True, operator: bool = False, allow_empty: bool = False):
    """Convert an array argument by the library's one input rule, then validate it.

    The rule: arrays of any array-API library (NumPy, CuPy, array-api-strict, torch, Dask) are taken as they
    are; anything ``numpy.asarray`` turns into a numeric array (lists, tuples, pandas DataFrames and Series,
    ``numpy.matrix``, objects with ``__array__``) becomes a plain ``numpy.ndarray``; scipy.sparse input becomes
    a canonical CSR or CSC matrix (:func:`canonical_sparse`); LinearOperators are taken where `operator` is
    true. Everything else is refused with a ``TypeError`` that names the argument and says what to pass. The
    result is then checked by :func:`check_matrix` (dimensions, non-empty, numeric dtype, finite).

    Parameters
    ----------
    A : array_like, sparse matrix or LinearOperator
        The argument.
    name : str
        Its name, for error messages.
    ndim : int, tuple of int or None
        The allowed number(s) of dimensions (None: any from one up).
    allow_complex : bool
        Accept complex dtypes.
    finite : bool
        Refuse NaN and Inf, and check the index structure of sparse input. ``False`` skips both O(size)
        passes: the escape for trusted input (malformed sparse indices may then crash the process).
    sparse : bool
        Accept scipy/cupyx sparse input (else ``TypeError``, suggesting ``.toarray()``).
    operator : bool
        Accept LinearOperators (anything with ``matmat``, ``rmatmat`` and ``shape``).
    allow_empty : bool
        Accept a zero-length dimension (refused by default).

    Returns
    -------
    array, sparse matrix or LinearOperator
        `A` itself where it is already in an accepted form; otherwise a converted copy or view. The caller's
        object is never modified.

    Examples
    --------
    >>> as_matrix([[1, 2], [3, 4]]).dtype
    dtype('int64')
    >>> as_matrix({"a": 1})
    Traceback (most recent call last):
    ...
    TypeError: A must be a NumPy or other array-API array, a scipy.sparse matrix, a list or tuple of numbers, \
or a pandas DataFrame or Series; got dict
    """
    if is_sparse(A):
        if not sparse:
            raise TypeError(f"{name} must be a dense array, got a sparse {type(A).__name__}; pass "
                            f"{name}.toarray() if it fits in memory")
        if scipy.sparse.issparse(A):
            A = canonical_sparse(A, name, check=finite)
    elif is_linear_operator(A) and not hasattr(A, "__array_namespace__"):
        if not operator:
            raise TypeError(f"{name} must be an array, got a {type(A).__name__} (a linear operator), which this "
                            "function cannot use; pass the matrix itself")
    else:
        A = _as_dense(A, name)
    check_matrix(A, name, allow_complex=allow_complex, finite=finite, ndim=ndim, allow_empty=allow_empty)
    return A


def _as_dense(A, name: str):
    """The dense part of the input rule: array-API arrays as they are, array-likes through ``numpy.asarray``."""
    if type(A) is np.ndarray:
        return A
    if is_dask(A):
        if any(math.isnan(size) for size in A.shape):
            raise ValueError(f"{name} is a Dask array of unknown shape {A.shape} (chunk sizes unknown, e.g. after "
                             f"boolean indexing); call {name}.compute_chunk_sizes() first")
        return A
    if isinstance(A, np.matrix):
        return np.asarray(A)
    if array_api_compat.is_array_api_obj(A) and not isinstance(A, np.generic):
        return A
    if type(A).__module__.split(".")[0] == "pandas" and hasattr(A, "to_numpy"):
        return _from_pandas(A, name)
    if not isinstance(A, (list, tuple, numbers.Number, np.generic)) and not hasattr(A, "__array__"):
        raise TypeError(f"{name} must be {_ACCEPTED}; got {type(A).__name__}")
    try:
        out = np.asarray(A)
    except (ValueError, TypeError) as exc:  # ragged nested sequences
        raise TypeError(f"{name} must be {_ACCEPTED}; its entries could not be read as one numeric array "
                        f"({exc})") from exc
    if out.dtype.kind not in "biufc":
        raise TypeError(f"{name} must hold numbers; it was read as an array of dtype {out.dtype}")
    return out


def _from_pandas(A, name: str):
    """A DataFrame or Series as a NumPy array; nullable columns give NaN for missing values (then refused)."""
    out = A.to_numpy()
    if out.dtype == object:  # nullable extension dtypes (Int64, boolean, Float64) or non-numeric columns
        try:
            out = A.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must hold numbers; this pandas {type(A).__name__} has non-numeric "
                            "values") from exc
    if out.dtype.kind not in "biufc":
        raise TypeError(f"{name} must hold numbers; this pandas {type(A).__name__} has dtype {out.dtype}")
    return out


def canonical_sparse(A, name: str = "A", *, check: bool = True):
    """A scipy.sparse matrix as CSR or CSC with sorted, unique indices, its index structure checked.

    CSR and CSC input is returned as it is where its structure is canonical already; otherwise (unsorted or
    duplicate indices, which scipy allows and which stand for their sum) a canonical copy is returned. Other
    formats (COO, DOK, LIL, DIA, BSR) are converted to CSR. With `check`, indices out of range, a malformed
    ``indptr`` and non-integer index arrays are refused with ``ValueError`` before any kernel sees them (one
    O(nnz) pass; scipy's own conversions can crash the process on such input). The caller's matrix is never
    modified.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> A = sp.csr_array(([1.0, 2.0], [1, 1], [0, 2, 2]), shape=(2, 3))   # a duplicate in row 0
    >>> canonical_sparse(A).toarray().tolist()
    [[0.0, 3.0, 0.0], [0.0, 0.0, 0.0]]
    >>> A.indices[0] = 7
    >>> canonical_sparse(A)
    Traceback (most recent call last):
    ...
    ValueError: A is a malformed csr sparse matrix: its indices must satisfy 0 <= index < 3, got 7
    """
    fmt = A.format
    if fmt in ("csr", "csc"):
        if not check:
            return A
        canonical = _check_compressed(A, name, A.shape if fmt == "csr" else A.shape[::-1], fmt)
        if canonical:
            return A
        A = A.copy()
        A.has_canonical_format = False  # a cached flag may be stale when the arrays were edited in place
        A.sum_duplicates()
        return A
    if check:
        if fmt == "bsr":
            r, c = A.blocksize
            _check_compressed(A, name, (A.shape[0] // r, A.shape[1] // c), fmt)
        elif fmt == "coo":
            _check_coordinates(A.coords, A.data, A.shape, name, fmt)
        elif fmt == "lil":
            lengths = [len(row) for row in A.rows]
            cols = (np.concatenate([np.asarray(row, dtype=np.int64) for row in A.rows]) if len(lengths)
                    else np.empty(0, np.int64))
            rows = np.repeat(np.arange(len(lengths)), lengths)
            if [len(v) for v in A.data] != lengths:
                raise ValueError(f"{name} is a malformed lil sparse matrix: its rows and data differ in length")
            _check_coordinates((rows, cols), cols, A.shape, name, fmt)
        elif fmt == "dok":
            keys = np.array(list(A.keys()), dtype=np.int64).reshape(-1, 2)
            _check_coordinates(tuple(keys.T), keys, A.shape, name, fmt)
    return A.tocsr()


def _malformed(name: str, fmt: str, what: str) -> ValueError:
    return ValueError(f"{name} is a malformed {fmt} sparse matrix: {what}")


def _index_vector(x, name: str, fmt: str, label: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 1 or x.dtype.kind not in "iu":
        raise _malformed(name, fmt, f"its {label} must be a 1-D integer array, got dtype {x.dtype} and shape "
                                    f"{x.shape}")
    return x


def _check_bounds(idx: np.ndarray, size: int, name: str, fmt: str, label: str) -> None:
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= size):
        bad = int(idx.min()) if int(idx.min()) < 0 else int(idx.max())
        raise _malformed(name, fmt, f"its {label} must satisfy 0 <= index < {size}, got {bad}")


def _check_compressed(A, name: str, shape: tuple[int, int], fmt: str) -> bool:
    """Check a CSR/CSC/BSR index structure of `shape` (major, minor); True when it is canonical."""
    major, minor = int(shape[0]), int(shape[1])
    indptr = _index_vector(A.indptr, name, fmt, "indptr")
    indices = _index_vector(A.indices, name, fmt, "indices")
    if indptr.size != major + 1:
        raise _malformed(name, fmt, f"its indptr must have length {major + 1}, got {indptr.size}")
    steps = np.diff(indptr)
    if int(indptr[0]) != 0 or (steps.size and int(steps.min()) < 0):
        raise _malformed(name, fmt, "its indptr must start at 0 and be non-decreasing")
    nnz = int(indptr[-1])
    if nnz > indices.size or nnz > A.data.shape[0]:
        raise _malformed(name, fmt, f"indptr[-1]={nnz} exceeds the {min(indices.size, A.data.shape[0])} stored "
                                    "entries")
    indices = indices[:nnz]
    _check_bounds(indices, minor, name, fmt, "indices")
    if nnz < indices.size or nnz < A.data.shape[0]:
        return False
    rising = np.diff(indices) > 0
    starts = indptr[1:-1]
    starts = starts[(starts > 0) & (starts < nnz)] - 1  # positions where a new row begins: no order needed
    rising[starts] = True
    return bool(rising.all())


def _check_coordinates(coords, data, shape, name: str, fmt: str) -> None:
    labels = ("row", "col") if len(coords) == 2 else tuple(f"coords[{i}]" for i in range(len(coords)))
    for idx, size, label in zip(coords, shape, labels):
        idx = _index_vector(idx, name, fmt, f"{label} indices")
        if idx.size != np.shape(data)[0]:
            raise _malformed(name, fmt, f"its {label} indices and data differ in length")
        _check_bounds(idx, int(size), name, fmt, f"{label} indices")


def refuse_random_state(func):
    """Decorate a public callable that takes ``rng=`` so that ``random_state=`` gets a helpful ``TypeError``.

    scikit-learn users type ``random_state``; lowrank_la follows scipy's SPEC 7 and takes ``rng``. The wrapper
    is made with the decorated function's globals, so that doctest still finds its examples.

    Examples
    --------
    >>> @refuse_random_state
    ... def draw(n, *, rng=None):
    ...     return n
    >>> draw(3, random_state=0)
    Traceback (most recent call last):
    ...
    TypeError: draw() takes rng= (scipy's SPEC 7), not random_state=; pass rng=0
    """
    wrapper = types.FunctionType(_refusing.__code__, func.__globals__, func.__name__, None,
                                 (types.CellType(func),))
    return functools.wraps(func)(wrapper)


def _make_refusing():
    func = None

    def refusing(*args, **kwargs):
        if "random_state" in kwargs:
            raise TypeError(f"{func.__qualname__}() takes rng= (scipy's SPEC 7), not random_state=; pass "
                            f"rng={kwargs['random_state']!r}")
        return func(*args, **kwargs)

    return refusing


_refusing = _make_refusing()
