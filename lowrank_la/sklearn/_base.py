"""What the estimators share: input checks (scikit-learn's, then the library's input rule), seeds, variances."""

from __future__ import annotations

import numbers

import numpy as np
from array_api_compat import is_array_api_obj
from sklearn import get_config
from sklearn.utils import check_array, check_random_state
from sklearn.utils.sparsefuncs import mean_variance_axis
from sklearn.utils.validation import validate_data

from .._backend import array_namespace, device_of
from .._validate import as_matrix, check_int, check_shape_agrees, is_sparse

__all__: list[str] = []

_FLOATS = ("float64", "float32")
_BLOCK_BYTES = 8 << 20  # rows summed at a time by the column statistics


def check_X(estimator, X, *, reset, method, sparse=True, allow_nan=False):
    """Validate `X` the way scikit-learn does (feature names, ``n_features_in_``, its error messages), then by
    the library's input rule (:func:`~lowrank_la._validate.as_matrix`: finite values, sparse index structure).

    `reset` (fit, and the first partial_fit) records the number of features and the array namespace and device;
    otherwise `X` is held to them (the namespace only with scikit-learn's ``array_api_dispatch``; `method` names
    the caller in the message). float32 stays float32; other numeric dtypes become float64. Sparse input comes back as
    canonical CSR or CSC.
    """
    X = validate_data(estimator, X, reset=reset, accept_sparse=("csr", "csc") if sparse else False,
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


def _namespace_and_device(X):
    """``(namespace name, device)`` of an array; ``("numpy", "cpu")`` for NumPy and scipy.sparse."""
    if is_sparse(X) or isinstance(X, np.ndarray):
        return ("numpy", "cpu")
    return (array_namespace(X).__name__, str(device_of(X)))


def check_Y(Y, n_components):
    """Validate the reduced data `Y` given to ``inverse_transform``: 2-D, finite, ``n_components`` columns."""
    Y = as_matrix(check_array(Y, accept_sparse=("csr", "csc"), dtype=_dtypes(Y)), "X")
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
