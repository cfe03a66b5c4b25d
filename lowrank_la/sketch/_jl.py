"""The Johnson-Lindenstrauss target dimension."""

from __future__ import annotations

import numpy as np

from .._validate import check_int, check_real

__all__ = ["jl_min_dim"]


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
