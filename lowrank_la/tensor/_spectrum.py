"""Higher-order singular values: the squared singular values of every unfolding of a tensor."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._backend import as_rng, is_numpy_namespace, svd_small, to_numpy
from .._validate import check_int, check_option, is_dask, refuse_random_state
from ._tucker import _check_dask_method, _check_tensor, _dask_mode_grams, _normalise, _unfold, _unscale_squares

__all__ = ["HosvdSpectrum", "hosvd_spectrum"]


class HosvdSpectrum(NamedTuple):
    """Squared higher-order singular values of a tensor, all that a core-shape search needs.

    Attributes
    ----------
    values : list of numpy.ndarray
        ``values[n][i] = sigma_{i+1}(X_(n))^2``, descending, non-negative, on the host. Its length is ``I_n``
        (zero-padded when the unfolding has fewer singular values), or ``min(I_n, max_rank)`` when only the
        leading ones were computed.
    norm_sq : float
        ``||X||_F^2``, so that ``tail_n(R) = norm_sq - values[n][:R].sum()`` also when `values` is truncated.
    shape : tuple of int
        The tensor's shape ``(I_1, ..., I_N)``.

    See Also
    --------
    hosvd_spectrum : Computes it for the mode-n unfoldings.
    tt_spectrum : Computes it for the sequential unfoldings of a tensor train.
    core_shape_search : Takes it as `spectrum`.
    """

    values: list
    norm_sq: float
    shape: tuple


@refuse_random_state
def hosvd_spectrum(X, *, method="gram", max_rank=None, rng=None):
    """Squared singular values of every unfolding ``X_(n)`` of a tensor (its higher-order singular values).

    Parameters
    ----------
    X : array of order N >= 2
        The tensor, real and finite, in any array-API namespace (NumPy, CuPy, array-api-strict), or a Dask
        array: then only ``method="gram"`` is allowed (the others need each unfolding in one place and raise a
        ``ValueError``), and the mode Gram matrices ``X_(n) X_(n)^T`` are reduced over the chunks in one pass
        (plus one pass for the scale and one for ``||X||_F``); the tensor is never gathered.
    method : {"gram", "svd", "randomized"}
        "gram" (default): eigenvalues of the smaller Gram matrix of each unfolding (``X_(n) X_(n)^T`` or
        ``X_(n)^T X_(n)``), a matrix product and a symmetric eigensolve, the GPU-friendly path; eigenvalues
        below zero from rounding are clipped to 0. "svd": singular values of each unfolding (more accurate
        for the tiny ones, slower). "randomized": the leading `max_rank` values by
        :func:`lowrank_la.svd.rsvd` (needs `max_rank`).
    max_rank : int, optional
        Keep only the leading ``min(I_n, max_rank)`` values per mode, ``max_rank >= 1``. A core-shape search
        then only considers ranks up to it (``norm_sq`` keeps the tails exact).
    rng : None, int or numpy.random.Generator
        Randomness of ``method="randomized"``.

    Returns
    -------
    HosvdSpectrum
        ``(values, norm_sq, shape)``; the values are host NumPy arrays in the working dtype of `X`
        (float32 stays float32).

    Raises
    ------
    ValueError
        If `X` has order < 2, is empty or holds NaN or Inf, `max_rank` is out of range,
        ``method="randomized"`` comes without `max_rank`, or ``||X||_F^2`` is outside the normal range of the
        dtype (squared singular values of a tensor at the scale ``1e300`` or ``1e-300`` cannot be represented).

    See Also
    --------
    HosvdSpectrum : The returned squared singular values, with the squared norm.
    core_shape_search : The core-shape search that takes this spectrum as its input.
    tt_spectrum : The spectra of the sequential unfoldings, for tensor trains.

    Notes
    -----
    Cost of "gram": ``sum_n min(I_n, J_n) |X|`` flops for the Gram matrices (``J_n = |X| / I_n``) plus
    ``sum_n min(I_n, J_n)^3`` for the eigensolves. The absolute error of the Gram eigenvalues is about
    ``eps ||X||_F^2``, harmless for the tails, which are sums of them. For every mode
    ``sum_i values[n][i] = ||X||_F^2`` (when not truncated). A tensor whose largest entry is far from 1 (beyond
    ``2**±256`` in float64, ``2**±32`` in float32) is scaled by a power of two first, so that the Gram matrices
    neither overflow nor underflow, and the values are scaled back exactly.

    Examples
    --------
    >>> import numpy as np
    >>> import lowrank_la as la
    >>> from lowrank_la.tensor import hosvd_spectrum
    >>> X = la.datasets.tucker_tensor((20, 15, 10), (4, 3, 2), rng=0)
    >>> spec = hosvd_spectrum(X)
    >>> [int((v > 1e-10 * spec.norm_sq).sum()) for v in spec.values]
    [4, 3, 2]
    >>> bool(np.allclose([v.sum() for v in spec.values], spec.norm_sq))
    True
    """
    X, xp = _check_tensor(X)
    method = check_option(method, "method", ["gram", "svd", "randomized"])
    if max_rank is not None:
        max_rank = check_int(max_rank, "max_rank", low=1)
    elif method == "randomized":
        raise ValueError("max_rank is required with method='randomized' (the number of leading values per mode)")
    values, norm_sq, e = _scaled_hosvd_spectrum(X, method, max_rank, as_rng(rng), xp)
    values, norm_sq = _unscale_squares(values, norm_sq, e, values[0].dtype, "hosvd_spectrum")
    return HosvdSpectrum(values, norm_sq, tuple(int(s) for s in X.shape))


def _scaled_hosvd_spectrum(X, method, max_rank, gen, xp):
    """``(values, norm_sq, e)``: the spectrum of ``X * 2**e``, for the `e` of :func:`_normalise`."""
    _check_dask_method(X, method, "method")
    X, e = _normalise(X, xp)
    norm_sq = float(xp.linalg.vector_norm(X)) ** 2
    grams = _dask_mode_grams(X, range(X.ndim)) if is_dask(X) else None
    values = []
    for n, size in enumerate(X.shape):
        keep = size if max_rank is None else min(size, max_rank)
        if grams is not None:  # Dask: the (I_n, I_n) mode Gram matrices, reduced over the chunks in one pass
            s2 = np.maximum(np.linalg.eigvalsh(grams[n])[::-1], 0)[:keep]
        else:
            s2 = _squared_singular_values(_unfold(X, n, xp), keep, method, gen, xp)
        padded = np.zeros(keep, dtype=s2.dtype)
        padded[:min(keep, s2.shape[0])] = s2[:keep]
        values.append(padded)
    return values, norm_sq, e


def _squared_singular_values(M, keep, method, gen, xp) -> np.ndarray:
    """The leading `keep` (or fewer, when the unfolding is short) squared singular values of `M`, descending."""
    rows, cols = M.shape
    small = min(rows, cols)
    if method == "randomized" and keep < small:
        from ..svd import rsvd

        s = to_numpy(rsvd(M, keep, rng=gen, flip_sign=False).s)
        return s * s
    if method == "svd":
        s = to_numpy(svd_small(M).s if is_numpy_namespace(xp) else xp.linalg.svdvals(M))
        return (s * s)[:keep]
    G = xp.matmul(M, M.T) if rows <= cols else xp.matmul(M.T, M)
    # numpy.linalg on NumPy (array-api-compat's eigvalsh), not scipy.linalg: this runs in a loop over the modes,
    # between NumPy products (see lowrank_la._backend.SMALL_WORK_NOTE)
    lam = to_numpy(xp.linalg.eigvalsh(G))
    return np.maximum(lam[::-1], 0)[:keep]
