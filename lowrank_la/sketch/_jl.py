"""The Johnson-Lindenstrauss target dimension."""

from __future__ import annotations

import numpy as np

from .._backend import to_numpy
from .._validate import as_matrix, check_int, check_real, check_shape_agrees, is_sparse
from ..svd._common import pow2_exponent

__all__ = ["jl_min_dim", "max_distortion"]


def jl_min_dim(n_samples, eps=0.1):
    """Smallest target dimension that the Johnson-Lindenstrauss lemma guarantees for `n_samples` points.

    The same formula as scikit-learn's ``johnson_lindenstrauss_min_dim``:
    ``k >= 4 ln(n) / (eps^2 / 2 - eps^3 / 3)``, truncated to an integer.

    Parameters
    ----------
    n_samples : int or array of int
        Number of points, ``>= 1``.
    eps : float or array of float
        Maximum distortion of squared distances, ``0 < eps < 1``.

    Returns
    -------
    int or ndarray of int
        An int when both arguments are scalars, else the broadcast array.

    Raises
    ------
    ValueError
        If `n_samples` < 1 or `eps` is outside ``(0, 1)``.

    See Also
    --------
    max_distortion : Measure the distortion of an actual embedding.
    FJLT : A fast embedding to this dimension.
    sklearn.random_projection.johnson_lindenstrauss_min_dim : The scikit-learn formula it follows.

    References
    ----------
    .. [1] S. Dasgupta, A. Gupta, "An elementary proof of a theorem of Johnson and Lindenstrauss", Random
       Structures & Algorithms 22(1), 2003.

    Examples
    --------
    >>> jl_min_dim(200, eps=0.2)
    1222
    >>> jl_min_dim([100, 10_000], eps=0.5).tolist()
    [221, 442]
    """
    scalar = np.ndim(n_samples) == 0 and np.ndim(eps) == 0
    n = np.asarray(n_samples)
    e = np.asarray(eps)
    for value in n.ravel():
        check_int(value.item() if hasattr(value, "item") else value, "n_samples", low=1)
    for value in e.ravel():
        check_real(value.item(), "eps", low=0, high=1, low_inclusive=False, high_inclusive=False)
    k = (4 * np.log(n) / (e**2 / 2 - e**3 / 3)).astype(np.int64)
    return int(k) if scalar else k


def max_distortion(X, Y):
    """Largest distortion of squared pairwise distances by an embedding of the rows of `X` into those of `Y`.

    ``max over i < j of | ||y_i - y_j||^2 / ||x_i - x_j||^2 - 1 |``, the quantity a Johnson-Lindenstrauss
    embedding bounds by ``eps``. Computed through the Gram matrices in float64, ``O(n^2 (d + k))`` time and
    ``O(n^2)`` memory: meant for a few thousand points.

    Parameters
    ----------
    X : (n, d) array or scipy.sparse matrix
        The points, ``n >= 2``, pairwise distinct. Sparse input (the data sets sketches are applied to) stays
        sparse: only the ``n x n`` Gram matrix is formed densely.
    Y : (n, k) array or scipy.sparse matrix
        Their images (e.g. ``S.transform(X)`` of a sketch ``S``).

    Returns
    -------
    float
        The largest relative change of a squared pairwise distance, ``>= 0``.

    Raises
    ------
    ValueError
        If the shapes do not match, a point is repeated, an input holds NaN or Inf, or a sparse input is
        malformed.

    See Also
    --------
    jl_min_dim : The target dimension the lemma guarantees.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.eye(3)
    >>> max_distortion(X, 2 * X)
    3.0
    """
    X = as_matrix(X, "X")
    Y = as_matrix(Y, "Y")
    check_shape_agrees("Y.shape[0]", Y.shape[0], X.shape[0], "X.shape[0]")
    check_int(X.shape[0], "X.shape[0]", low=2)
    upper = np.triu_indices(X.shape[0], 1)
    (dx, ex), (dy, ey) = _sq_dists(X), _sq_dists(Y)
    dx, dy = dx[upper], dy[upper]
    if not np.all(dx > 0):
        raise ValueError("X must have pairwise distinct rows: a squared distance is 0")
    with np.errstate(over="ignore"):
        return float(np.abs(np.ldexp(dy / dx, 2 * (ex - ey)) - 1).max())


def _sq_dists(Z):
    """Squared pairwise distances of the rows of ``2^e Z`` and ``e``, with ``max |2^e Z|`` near one.

    A scipy.sparse `Z` (canonical CSR or CSC) stays sparse: only the (n, n) Gram matrix is dense."""
    if is_sparse(Z):
        Z = Z.astype(np.float64)  # a copy: its values are rescaled below
        e = pow2_exponent(float(np.max(np.abs(Z.data), initial=0.0)))
        Z.data = np.ldexp(Z.data, e)
        gram = (Z @ Z.T).toarray()
    else:
        Z = to_numpy(Z).astype(np.float64)
        e = pow2_exponent(float(np.max(np.abs(Z))))
        Z = np.ldexp(Z, e)  # the Gram matrix neither under- nor overflows
        gram = Z @ Z.T
    norms = np.diag(gram)
    return norms[:, None] + norms[None, :] - 2 * gram, e
