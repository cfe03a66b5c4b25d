"""What the estimators share: input checks (the library's input rule, then scikit-learn's), seeds, variances."""

from __future__ import annotations

import numbers
import re

import numpy as np
from array_api_compat import is_array_api_obj
from sklearn import get_config
from sklearn.utils import check_array, check_random_state
from sklearn.utils.sparsefuncs import mean_variance_axis
from sklearn.utils.validation import validate_data

from .._backend import array_namespace, device_of
from .._validate import as_matrix, canonical_sparse, check_int, check_shape_agrees, is_sparse

__all__: list[str] = []

_BLOCK_BYTES = 8 << 20  # rows summed at a time by the column statistics


class ComplexInputError(TypeError, ValueError):
    """Complex input to an estimator: a ``TypeError`` by the library's input rule, a ``ValueError`` ("Complex data
    not supported") by scikit-learn's."""


def check_X(estimator, X, *, reset, method, sparse=True, allow_nan=False):
    """Validate `X` by the library's input rule and by scikit-learn's, every refusal naming ``X``.

    The kinds of input are the library's (:func:`~lowrank_la._validate.as_matrix`): lists, ``numpy.matrix``,
    DataFrames, array-API arrays and sparse matrices (index structure checked before any conversion) are taken;
    object, string and complex arrays are refused. Then scikit-learn's ``validate_data`` (feature names,
    ``n_features_in_``, and its messages for wrong dimensions, empty input, NaN and Inf, prefixed with ``X``
    where they do not name it). `reset` (fit, and the first partial_fit) records the number of features and the
    array namespace and device; otherwise `X` is held to them (the namespace only with scikit-learn's
    ``array_api_dispatch``; `method` names the caller in the message). float32 stays float32; other numeric
    dtypes become float64. Sparse input comes back as canonical CSR or CSC.
    """
    if type(X).__module__.split(".")[0] != "pandas":  # DataFrames go to scikit-learn as they are (column names)
        X = _input_kind(X, sparse=sparse)
    X = _named(validate_data, estimator, X, reset=reset, accept_sparse=("csr", "csc") if sparse else False,
               dtype=_dtypes(X), ensure_all_finite="allow-nan" if allow_nan else True)
    X = as_matrix(X, "X", finite=not allow_nan)
    where = _namespace_and_device(X)
    if reset:
        estimator._fit_namespace = where
    elif get_config()["array_api_dispatch"] and where != estimator._fit_namespace:
        raise ValueError(f"Inputs passed to {type(estimator).__name__}.{method}() must use the same "
                         f"namespace and the same device as those passed to fit(): fit() saw "
                         f"{estimator._fit_namespace}, {method}() got {where}")
    return X


def _input_kind(X, *, sparse):
    """The kinds of input of :func:`~lowrank_la._validate.as_matrix` (shape and values are left to scikit-learn);
    complex input is refused with :class:`ComplexInputError`."""
    if is_sparse(X) and sparse:
        return canonical_sparse(X, "X")
    try:
        return as_matrix(X, "X", ndim=None, finite=False, sparse=sparse, allow_empty=True)
    except TypeError as exc:
        if "complex dtype" in str(exc):
            raise ComplexInputError(f"{exc}. Complex data not supported") from None
        raise
    except ValueError:  # a 0-d value: scikit-learn's message below
        return X


def _named(check, *args, **kwargs):
    """``check(*args, **kwargs)``, a ``ValueError`` that does not name ``X`` prefixed with ``X: ``."""
    try:
        return check(*args, **kwargs)
    except ValueError as exc:
        if re.search(r"(?<![A-Za-z0-9_])X(?![A-Za-z0-9_])", str(exc)):
            raise
        raise type(exc)(f"X: {exc}") from exc


def _namespace_and_device(X):
    """``(namespace name, device)`` of an array; ``("numpy", "cpu")`` for NumPy and scipy.sparse."""
    if is_sparse(X) or isinstance(X, np.ndarray):
        return ("numpy", "cpu")
    return (array_namespace(X).__name__, str(device_of(X)))


def check_Y(Y, n_components):
    """Validate the reduced data `Y` given to ``inverse_transform`` (named ``X`` as in scikit-learn), as
    :func:`check_X` does, and its ``n_components`` columns."""
    if type(Y).__module__.split(".")[0] != "pandas":
        Y = _input_kind(Y, sparse=True)
    Y = as_matrix(_named(check_array, Y, accept_sparse=("csr", "csc"), dtype=_dtypes(Y)), "X")
    check_shape_agrees("X.shape[1]", Y.shape[1], n_components, "n_components_")
    return Y


def _dtypes(X):
    """scikit-learn's dtype list for `X`: float64 and float32 of its namespace (float32 stays float32)."""
    xp = array_namespace(X) if is_array_api_obj(X) and not is_sparse(X) else np
    return [xp.float64, xp.float32]


def seed_of(random_state):
    """scikit-learn's `random_state` as the library's `rng`.

    An int is passed on as it is (``random_state=0`` draws the same numbers as ``rng=0``); None and a
    ``RandomState`` draw a seed from numpy's global state or from that ``RandomState`` (as scikit-learn's
    ``check_random_state`` does); a ``numpy.random.Generator`` is used as it is.
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, (bool, np.bool_)):
        return check_int(random_state, "random_state", low=0, high=2**32 - 1)
    try:
        state = check_random_state(random_state)
    except ValueError as exc:
        raise TypeError(f"random_state must be None, an int, a numpy RandomState or Generator, got "
                        f"{type(random_state).__name__}") from exc
    return int(state.randint(np.iinfo(np.int32).max))


def column_stats(X, ddof):
    """Column means (n,) and the total variance ``sum_j var(X[:, j])`` (with `ddof`) of `X`, in its namespace.

    Sparse input stays sparse (scikit-learn's ``mean_variance_axis``); dense input is summed in row blocks of
    a few MiB around the means (no m x n temporary, no cancellation of an offset).
    """
    m = X.shape[0]
    if is_sparse(X):
        mean, var = mean_variance_axis(X, axis=0)
        return mean.astype(X.dtype, copy=False), float(np.sum(var, dtype=np.float64)) * m / max(m - ddof, 1)
    xp = array_namespace(X)
    mean = xp.mean(X, axis=0)
    step = max(1, _BLOCK_BYTES // max(1, X.shape[1] * 8))
    total = 0.0
    for lo in range(0, m, step):
        block = X[lo:min(lo + step, m), ...] - mean
        total += float(xp.sum(block * block))
    return mean, total / max(m - ddof, 1)
