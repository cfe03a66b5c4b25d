"""Synthetic problem generators shared by the tests, the docs and the paper reproductions.

Every generator draws from ``rng`` (``None``, an int seed or a ``numpy.random.Generator``; the same seed gives
the same bits), computes in float64 and casts to ``dtype`` (float32 or float64) at the end, so that the two
dtypes give the same problem up to rounding.

Spectra and matrices
--------------------
spectrum               descending singular values of a named family (geometric, polynomial, cliff, ...)
matrix_with_spectrum   dense ``U @ diag(s) @ V.T`` with Haar-random orthonormal ``U`` and ``V``
low_rank_matrix        exact low rank, plus Gaussian noise of a given relative size
low_rank_plus_noise    Tropp et al.'s LowRank+Noise test matrix (symmetric positive semidefinite)
incoherent_low_rank    low rank with Haar singular vectors and a given condition number
psd_low_rank           positive semidefinite ``U diag(s) U^T`` of a given rank, condition number and spectrum shape
coherence              the coherence ``(m / r) max_i ||U_i||^2`` of an orthonormal basis

Sparse matrices and tensors
---------------------------
sparse_power_law       sparse matrix with power-law row and column degrees
tucker_tensor          low multilinear rank tensor ``core x_1 U_1 ... x_d U_d``, plus noise

Real data (built at run time from files inside installed packages; nothing is downloaded)
--------------------------------------------------------------------------------------------
stdlib_tfidf           TF-IDF matrix of the docstrings in the Python standard library's source files
digits_matrix          scikit-learn's handwritten digits, 1797 x 64
image_matrix           a scikit-image picture as a grayscale float64 matrix in [0, 1]
real_panel             the shared panel of real matrices (TF-IDF, digits, two images, power-law sparse)
PANEL                  the names of the panel's matrices, in order

Recommender data
----------------
ratings_matrix         noisy ratings of a low-rank model with offsets, observed with power-law user and item degrees
"""

from __future__ import annotations

import ast
import functools
import importlib
import math
import os
import re
import sysconfig
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse

from ._backend import as_rng
from ._validate import (
    as_matrix,
    check_dtype,
    check_int,
    check_option,
    check_rank,
    check_real,
    check_shape_agrees,
    refuse_random_state,
)

__all__ = [
    "PANEL",
    "coherence",
    "digits_matrix",
    "image_matrix",
    "incoherent_low_rank",
    "low_rank_matrix",
    "low_rank_plus_noise",
    "matrix_with_spectrum",
    "psd_low_rank",
    "ratings_matrix",
    "real_panel",
    "sparse_power_law",
    "spectrum",
    "stdlib_tfidf",
    "tucker_tensor",
]


def _haar(gen, m: int, k: int) -> np.ndarray:
    """An (m, k) matrix with orthonormal columns, uniformly (Haar) distributed.

    QR of a Gaussian matrix, with the columns multiplied by ``sign(diag(R))`` so that the distribution does
    not depend on LAPACK's sign convention (Mezzadri 2007).
    """
    Q, R = np.linalg.qr(gen.standard_normal((m, k)))
    return Q * np.sign(np.diag(R))


def _add_relative_noise(gen, X: np.ndarray, noise: float) -> np.ndarray:
    """``X + E`` with Gaussian ``E`` scaled so that ``||E||_F / ||X||_F = noise`` exactly (no draw if 0)."""
    if noise == 0:
        return X
    E = gen.standard_normal(X.shape)
    return X + E * (noise * np.linalg.norm(X) / np.linalg.norm(E))


# --------------------------------------------------------------------------- spectra

# the parameters each kind of spectrum takes; every one is required except the cliff's position
_SPECTRUM_PARAMETERS = {
    "geometric": ("decay",),
    "polynomial": ("power",),
    "exponential": ("scale",),
    "cliff": ("position",),
    "low_rank_poly": ("rank", "power"),
    "low_rank_exp": ("rank", "rate"),
}


def spectrum(kind, n, *, rank=None, decay=None, power=None, scale=None, rate=None, position=None,
             dtype="float64"):
    """Descending singular values of a named family, indexed ``j = 0, ..., n - 1``.

    Parameters
    ----------
    kind : {"geometric", "polynomial", "exponential", "cliff", "low_rank_poly", "low_rank_exp"}
        The family, with the parameters it takes:

        ===============  ==================  ======================================================
        kind             parameters          ``sigma_j``
        ===============  ==================  ======================================================
        geometric        `decay`             ``decay**j``
        polynomial       `power`             ``(j + 1)**(-power)``
        exponential      `scale`             ``exp(-j / scale)``
        cliff            `position`          ``1e-4 + 1 / (1 + exp(j - position))``
        low_rank_poly    `rank`, `power`     ``1`` for ``j < rank``, then ``(j - rank + 2)**(-power)``
        low_rank_exp     `rank`, `rate`      ``1`` for ``j < rank``, then ``10**(-rate (j - rank + 1))``
        ===============  ==================  ======================================================

    n : int
        Number of values, ``n >= 1``.
    rank : int, optional
        Number of leading ones, ``1 <= rank <= n`` (the ``R`` of Tropp et al.).
    decay : float, optional
        Ratio of consecutive values, ``0 < decay < 1``.
    power : float, optional
        Exponent of the polynomial decay, ``power > 0`` (the ``p`` of Tropp et al.).
    scale : float, optional
        Number of values over which the exponential decays by ``e``, ``scale > 0``.
    rate : float, optional
        Decades lost per value after the leading ones, ``rate > 0`` (the ``q`` of Tropp et al.).
    position : float, optional
        Index of the cliff's midpoint, ``position >= 0``; default 30, as in Yu, Gu and Li's matrix 3.
    dtype : {"float64", "float32"}
        dtype of the result.

    Returns
    -------
    (n,) ndarray
        The values ``s``, non-increasing, with ``s[0] = 1`` (``1 + 1e-4`` or less for the cliff). Consecutive
        values may be equal: the leading ones of the ``low_rank_*`` kinds, the cliff's floor in floating
        point, and very fast decays, which may underflow to 0 in the tail.

    Raises
    ------
    ValueError
        If `kind` is unknown, a parameter the kind needs is missing, a parameter it does not take is given, or
        a value is out of range.
    TypeError
        If a parameter has the wrong type, or `dtype` is not float32 or float64.

    See Also
    --------
    matrix_with_spectrum : A dense matrix with these singular values.
    psd_low_rank : A positive semidefinite matrix of given rank and condition number.

    References
    ----------
    J. A. Tropp, A. Yurtsever, M. Udell, V. Cevher, "Practical sketching algorithms for low-rank matrix
    approximation", SIAM J. Matrix Anal. Appl. 38(4), 2017 (PolyDecay and ExpDecay, Section 7).
    W. Yu, Y. Gu, Y. Li, "Efficient randomized algorithms for the fixed-precision low-rank matrix
    approximation", SIAM J. Matrix Anal. Appl. 39(3), 2018.

    Examples
    --------
    >>> import lowrank_la as la
    >>> la.datasets.spectrum("geometric", 4, decay=0.5).tolist()
    [1.0, 0.5, 0.25, 0.125]
    >>> la.datasets.spectrum("low_rank_poly", 5, rank=2, power=1).round(3).tolist()
    [1.0, 1.0, 0.5, 0.333, 0.25]
    >>> la.datasets.spectrum("polynomial", 4, decay=0.5)
    Traceback (most recent call last):
    ...
    ValueError: decay=0.5 does not apply to kind='polynomial', which takes power
    """
    kind = check_option(kind, "kind", list(_SPECTRUM_PARAMETERS))
    n = check_int(n, "n", low=1)
    dtype = check_dtype(dtype)
    if kind == "cliff" and position is None:
        position = 30
    given = {"rank": rank, "decay": decay, "power": power, "scale": scale, "rate": rate, "position": position}
    takes = _SPECTRUM_PARAMETERS[kind]
    for name, value in given.items():
        if value is not None and name not in takes:
            raise ValueError(f"{name}={value!r} does not apply to kind={kind!r}, "
                             f"which takes {', '.join(takes)}")
    missing = [name for name in takes if given[name] is None]
    if missing:
        raise ValueError(f"kind={kind!r} needs {' and '.join(missing)}")

    j = np.arange(n, dtype=np.float64)
    if kind == "geometric":
        s = check_real(decay, "decay", low=0, high=1, low_inclusive=False, high_inclusive=False) ** j
    elif kind == "polynomial":
        s = (j + 1) ** -check_real(power, "power", low=0, low_inclusive=False)
    elif kind == "exponential":
        s = np.exp(-j / check_real(scale, "scale", low=0, low_inclusive=False))
    elif kind == "cliff":
        s = 1e-4 + 1 / (1 + np.exp(j - check_real(position, "position", low=0)))
    else:
        rank = check_rank(rank, (n,), "rank", upper=n, upper_text=f"n = {n}")
        tail = j[rank:] - rank
        if kind == "low_rank_poly":
            decayed = (tail + 2) ** -check_real(power, "power", low=0, low_inclusive=False)
        else:
            decayed = 10.0 ** (-check_real(rate, "rate", low=0, low_inclusive=False) * (tail + 1))
        s = np.concatenate([np.ones(rank), decayed])
    return s.astype(dtype)


# --------------------------------------------------------------------------- dense matrices

@refuse_random_state
def matrix_with_spectrum(m, n, s, *, rng=None, dtype="float64", return_factors=False):
    """A dense (m, n) matrix ``U @ diag(s) @ V.T`` with Haar-random orthonormal `U` and `V`.

    Parameters
    ----------
    m, n : int
        Shape of the matrix, ``m, n >= 1``.
    s : (k,) array_like
        Non-negative singular values, ``1 <= k <= min(m, n)``; need not be sorted (the singular values of
        the result are ``s`` sorted, and zeros beyond ``k``).
    rng : None, int or numpy.random.Generator
        Source of randomness; the same seed gives the same matrix.
    dtype : {"float64", "float32"}
        dtype of the results.
    return_factors : bool
        Also return the factors.

    Returns
    -------
    A : (m, n) ndarray
        The matrix.
    U : (m, k) ndarray
        Orthonormal left factor; only with ``return_factors=True``.
    s : (k,) ndarray
        The singular values as given; only with ``return_factors=True``.
    Vt : (k, n) ndarray
        Right factor with orthonormal rows; only with ``return_factors=True``.

    Raises
    ------
    ValueError
        If `m` or `n` is below 1, or `s` is not 1-D, empty, longer than ``min(m, n)``, negative or not finite.
    TypeError
        If an argument has the wrong type, or `dtype` is not float32 or float64.

    See Also
    --------
    spectrum : The named families of singular values to pass as `s`.
    low_rank_matrix : An exact-rank matrix plus optional noise, built the same way.

    Notes
    -----
    `U` and `V` are the Q factors of the QR decompositions of (m, k) and (n, k) Gaussian matrices, with
    each column multiplied by the sign of the matching diagonal entry of R, which makes them exactly Haar
    distributed [1]_. Cost: ``O((m + n) k^2 + m n k)``.

    References
    ----------
    .. [1] F. Mezzadri, "How to generate random matrices from the classical compact groups", Notices of the
       AMS 54(5), 2007.

    Examples
    --------
    >>> import numpy as np
    >>> import lowrank_la as la
    >>> A, U, s, Vt = la.datasets.matrix_with_spectrum(50, 30, [3.0, 2.0, 1.0], rng=0, return_factors=True)
    >>> A.shape, U.shape, s.shape, Vt.shape
    ((50, 30), (50, 3), (3,), (3, 30))
    >>> np.linalg.svd(A, compute_uv=False)[:4].round(6).tolist()
    [3.0, 2.0, 1.0, 0.0]
    """
    m = check_int(m, "m", low=1)
    n = check_int(n, "n", low=1)
    s = as_matrix(s, "s", ndim=1, sparse=False)
    check_int(s.shape[0], "len(s)", high=min(m, n), high_text=f"min(m, n) = {min(m, n)}")
    s = s.astype(np.float64)
    if np.any(s < 0):
        raise ValueError(f"s must be non-negative, but its smallest value is {s.min()}")
    dtype = check_dtype(dtype)
    check_option(return_factors, "return_factors", [False, True])
    gen = as_rng(rng)
    U = _haar(gen, m, s.shape[0])
    Vt = _haar(gen, n, s.shape[0]).T
    A = ((U * s) @ Vt).astype(dtype)
    if return_factors:
        return A, U.astype(dtype), s.astype(dtype), Vt.astype(dtype)
    return A


@refuse_random_state
def low_rank_matrix(m, n, rank, *, singular_values=None, noise=0.0, rng=None, dtype="float64"):
    """An (m, n) matrix of exact rank `rank`, plus optional Gaussian noise.

    Parameters
    ----------
    m, n : int
        Shape of the matrix, ``m, n >= 1``.
    rank : int
        Its rank, ``1 <= rank <= min(m, n)``.
    singular_values : (rank,) array_like, optional
        Positive singular values of the low-rank part. Default: ``rank`` values linearly spaced from 1 down
        to 1/2, distinct so that the singular vectors are well defined.
    noise : float
        Relative size ``||E||_F / ||L||_F >= 0`` of the dense Gaussian noise ``E`` added to the low-rank
        part ``L``; 0 (default) adds none.
    rng : None, int or numpy.random.Generator
        Source of randomness; the same seed gives the same matrix.
    dtype : {"float64", "float32"}
        dtype of the result.

    Returns
    -------
    (m, n) ndarray
        The matrix ``A = L + E``, where ``L = U @ diag(singular_values) @ V.T`` has Haar-random orthonormal `U` and `V`
        (see :func:`matrix_with_spectrum`).

    Raises
    ------
    ValueError
        If a size or `rank` is out of range, `singular_values` does not hold `rank` positive finite values,
        or `noise` is negative.
    TypeError
        If an argument has the wrong type, or `dtype` is not float32 or float64.

    See Also
    --------
    matrix_with_spectrum : A matrix with any given singular values.
    incoherent_low_rank : A low-rank matrix of given condition number, for completion and sensing.
    low_rank_plus_noise : Tropp et al.'s positive semidefinite low-rank-plus-noise test matrix.

    Examples
    --------
    >>> import numpy as np
    >>> import lowrank_la as la
    >>> A = la.datasets.low_rank_matrix(200, 100, rank=5, rng=0)
    >>> U, s, Vh = np.linalg.svd(A)
    >>> A.shape, int(np.sum(s > 1e-10 * s[0]))
    ((200, 100), 5)
    >>> s[:5].round(6).tolist()
    [1.0, 0.875, 0.75, 0.625, 0.5]
    >>> B = la.datasets.low_rank_matrix(200, 100, rank=5, noise=0.1, rng=0)
    >>> round(float(np.linalg.norm(B - A) / np.linalg.norm(A)), 6)
    0.1
    """
    m = check_int(m, "m", low=1)
    n = check_int(n, "n", low=1)
    rank = check_rank(rank, (m, n), "rank")
    if singular_values is None:
        s = np.linspace(1.0, 0.5, rank)
    else:
        s = as_matrix(singular_values, "singular_values", ndim=1, sparse=False)
        check_shape_agrees("len(singular_values)", s.shape[0], rank, "rank")
        if np.any(s <= 0):
            raise ValueError(f"singular_values must be positive, but the smallest is {s.min()}")
    noise = check_real(noise, "noise", low=0)
    dtype = check_dtype(dtype)
    gen = as_rng(rng)
    return _add_relative_noise(gen, matrix_with_spectrum(m, n, s, rng=gen), noise).astype(dtype)


@refuse_random_state
def low_rank_plus_noise(n, rank, xi, *, rng=None, dtype="float64"):
    """Tropp et al.'s LowRank+Noise matrix ``diag(1, ..., 1, 0, ..., 0) + (xi / n) G G^T``.

    Parameters
    ----------
    n : int
        Order of the matrix, ``n >= 1``.
    rank : int
        Number of leading ones on the diagonal (the ``R`` of the paper), ``1 <= rank <= n``.
    xi : float
        Signal-to-noise parameter ``xi >= 0`` (the paper uses 1e-4, 1e-2 and 1e-1).
    rng : None, int or numpy.random.Generator
        Source of randomness; the same seed gives the same matrix.
    dtype : {"float64", "float32"}
        dtype of the result.

    Returns
    -------
    (n, n) ndarray
        The matrix ``A``: symmetric positive semidefinite (exactly symmetric); ``G`` is an (n, n) standard
        Gaussian matrix.

    Raises
    ------
    ValueError
        If `n` or `rank` is out of range, or `xi` is negative.
    TypeError
        If an argument has the wrong type, or `dtype` is not float32 or float64.

    See Also
    --------
    psd_low_rank : A positive semidefinite matrix of exact rank and given condition number.
    lowrank_la.psd.nystrom : The Nystrom approximation that this matrix tests.

    Notes
    -----
    ``E[(xi / n) G G^T] = xi I``, so the noise adds about `xi` to every eigenvalue. Cost: ``O(n^3)``.

    References
    ----------
    J. A. Tropp, A. Yurtsever, M. Udell, V. Cevher, "Practical sketching algorithms for low-rank matrix
    approximation", SIAM J. Matrix Anal. Appl. 38(4), 2017, Section 7.

    Examples
    --------
    >>> import numpy as np
    >>> import lowrank_la as la
    >>> A = la.datasets.low_rank_plus_noise(100, 5, 1e-4, rng=0)
    >>> w = np.linalg.eigvalsh(A)[::-1]
    >>> A.shape, bool((A == A.T).all()), w[:5].round(2).tolist(), bool(w[5] < 1e-3)
    ((100, 100), True, [1.0, 1.0, 1.0, 1.0, 1.0], True)
    """
    n = check_int(n, "n", low=1)
    rank = check_rank(rank, (n,), "rank", upper=n, upper_text=f"n = {n}")
    xi = check_real(xi, "xi", low=0)
    dtype = check_dtype(dtype)
    G = as_rng(rng).standard_normal((n, n))
    A = (xi / n) * (G @ G.T)
    A = (A + A.T) / 2  # exactly symmetric, whichever BLAS path computed G @ G.T
    A[np.arange(rank), np.arange(rank)] += 1
    return A.astype(dtype)


@refuse_random_state
def incoherent_low_rank(m, n, rank, *, condition_number=1.0, rng=None, dtype="float64", return_factors=False):
    """A rank-`rank` matrix with Haar-random singular vectors and a given condition number.

    The singular values are geometrically spaced from 1 down to ``1 / condition_number``. Haar-random
    singular vectors are incoherent with high probability, which is what matrix completion and sensing need.

    Parameters
    ----------
    m, n : int
        Shape of the matrix, ``m, n >= 1``.
    rank : int
        Its rank, ``1 <= rank <= min(m, n)``.
    condition_number : float
        Ratio ``sigma_1 / sigma_rank >= 1`` of the largest to the smallest non-zero singular value; must be
        1 when ``rank = 1``.
    rng : None, int or numpy.random.Generator
        Source of randomness; the same seed gives the same matrix.
    dtype : {"float64", "float32"}
        dtype of the results.
    return_factors : bool
        Also return the factors ``U, s, Vt`` with ``L = U @ diag(s) @ Vt``.

    Returns
    -------
    L : (m, n) ndarray
        The matrix.
    U : (m, rank) ndarray
        Orthonormal left singular vectors; only with ``return_factors=True``.
    s : (rank,) ndarray
        Singular values, descending; only with ``return_factors=True``.
    Vt : (rank, n) ndarray
        Right singular vectors, as orthonormal rows; only with ``return_factors=True``.

    Raises
    ------
    ValueError
        If a size, `rank` or `condition_number` is out of range.
    TypeError
        If an argument has the wrong type, or `dtype` is not float32 or float64.

    See Also
    --------
    coherence : The coherence of its singular vectors.
    ratings_matrix : Observed entries of a low-rank model with offsets and noise, for completion.
    lowrank_la.sensing.GaussianSensing : Measurements of such a matrix for a sensing problem.

    Notes
    -----
    The :func:`coherence` of a Haar-random (m, r) basis is ``O(log m)`` (at most ``m / r``) with high
    probability, against ``m / r`` for a basis of coordinate vectors.

    Examples
    --------
    >>> import numpy as np
    >>> import lowrank_la as la
    >>> L, U, s, Vt = la.datasets.incoherent_low_rank(300, 200, 4, condition_number=8.0, rng=0,
    ...                                               return_factors=True)
    >>> s.tolist()
    [1.0, 0.5, 0.25, 0.125]
    >>> int(np.linalg.matrix_rank(L)), round(float(np.linalg.cond(L @ Vt.T)), 6)
    (4, 8.0)
    >>> bool(la.datasets.coherence(U) < 5)
    True
    """
    m = check_int(m, "m", low=1)
    n = check_int(n, "n", low=1)
    rank = check_rank(rank, (m, n), "rank")
    condition_number = check_real(condition_number, "condition_number", low=1)
    if rank == 1 and condition_number != 1:
        raise ValueError(f"condition_number={condition_number} must be 1 when rank=1")
    s = np.geomspace(1.0, 1.0 / condition_number, rank)
    return matrix_with_spectrum(m, n, s, rng=rng, dtype=dtype, return_factors=return_factors)


#: The eigenvalue shapes of :func:`psd_low_rank`.
PSD_SHAPES = ("geometric", "linear", "clustered")


@refuse_random_state
def psd_low_rank(n, rank, *, condition_number=1.0, shape="geometric", rng=None, dtype="float64",
                 return_factors=False):
    """A symmetric positive semidefinite (n, n) matrix ``U diag(s) U^T`` of a given rank and condition number.

    Parameters
    ----------
    n : int
        Size, ``n >= 1``.
    rank : int
        Its rank, ``1 <= rank <= n``.
    condition_number : float
        Ratio ``s_1 / s_rank >= 1`` of the largest to the smallest non-zero eigenvalue; must be 1 when
        ``rank = 1``.
    shape : {"geometric", "linear", "clustered"}
        How the eigenvalues fall from 1 to ``1 / condition_number``: geometrically (equal ratios), linearly
        (equal gaps, Tong, Ma and Chi's ``linspace(1, 1/kappa, r)``), or in two clusters (the first
        ``ceil(rank / 2)`` at 1, the others at ``1 / condition_number``: a spectral gap with repeated values).
    rng : None, int or numpy.random.Generator
        Source of randomness (the Haar eigenvectors); the same seed gives the same matrix.
    dtype : {"float64", "float32"}
        dtype of the results.
    return_factors : bool
        Also return ``U`` and ``s``.

    Returns
    -------
    M : (n, n) ndarray
        The matrix, exactly symmetric.
    U : (n, rank) ndarray
        Orthonormal eigenvectors; only with ``return_factors=True``.
    s : (rank,) ndarray
        Eigenvalues, descending; only with ``return_factors=True``.

    Raises
    ------
    ValueError
        If `n`, `rank` or `condition_number` is out of range, or `shape` is not one of the three.
    TypeError
        If an argument has the wrong type, or `dtype` is not float32 or float64.

    See Also
    --------
    low_rank_plus_noise : A positive semidefinite test matrix of full rank, low rank plus noise.
    lowrank_la.psd.nystrom : The randomized Nystrom approximation of such a matrix.
    lowrank_la.sensing.scaled_gd_lambda : Recovery of a positive semidefinite low-rank matrix from measurements.

    Notes
    -----
    ``U`` is Haar distributed (see :func:`matrix_with_spectrum`), hence incoherent with high probability, as
    matrix sensing, completion and the Nystrom methods assume. The matrix is formed as ``(U s^1/2)(U s^1/2)^T``
    and symmetrised, so that it is symmetric to the last bit. Cost: ``O(n rank^2 + n^2 rank)``.

    Examples
    --------
    >>> import numpy as np
    >>> import lowrank_la as la
    >>> M, U, s = la.datasets.psd_low_rank(30, 3, condition_number=100.0, shape="linear", rng=0,
    ...                                    return_factors=True)
    >>> s.tolist()
    [1.0, 0.505, 0.01]
    >>> np.linalg.eigvalsh(M)[::-1][:4].round(6).tolist()
    [1.0, 0.505, 0.01, 0.0]
    >>> la.datasets.psd_low_rank(6, 4, condition_number=10.0, shape="clustered", return_factors=True)[2].tolist()
    [1.0, 1.0, 0.1, 0.1]
    """
    n = check_int(n, "n", low=1)
    rank = check_rank(rank, (n, n), "rank")
    condition_number = check_real(condition_number, "condition_number", low=1)
    if rank == 1 and condition_number != 1:
        raise ValueError(f"condition_number={condition_number} must be 1 when rank=1")
    check_option(shape, "shape", list(PSD_SHAPES))
    dtype = check_dtype(dtype)
    check_option(return_factors, "return_factors", [False, True])
    low = 1.0 / condition_number
    if shape == "geometric":
        s = np.geomspace(1.0, low, rank)
    elif shape == "linear":
        s = np.linspace(1.0, low, rank)
    else:
        s = np.where(np.arange(rank) < (rank + 1) // 2, 1.0, low)
    U = _haar(as_rng(rng), n, rank)
    root = U * np.sqrt(s)
    M = root @ root.T
    M = ((M + M.T) / 2).astype(dtype)
    if return_factors:
        return M, U.astype(dtype), s.astype(dtype)
    return M


def coherence(U):
    """Coherence ``mu(U) = (m / r) max_i ||U_i||^2`` of an (m, r) matrix with orthonormal columns.

    ``U_i`` is the i-th row. For an orthonormal basis ``1 <= mu <= m / r``: 1 when the energy is spread evenly
    over the rows, ``m / r`` when the basis contains a coordinate vector.

    Parameters
    ----------
    U : (m, r) array_like
        A basis with orthonormal columns (not checked).

    Returns
    -------
    float
        The coherence, in ``[1, m / r]`` for an orthonormal basis.

    Raises
    ------
    ValueError
        If `U` is not 2-D, is empty, or holds NaN or Inf.
    TypeError
        If `U` does not hold real numbers.

    See Also
    --------
    incoherent_low_rank : A low-rank matrix with Haar-random, hence incoherent, singular vectors.
    lowrank_la.completion.altmin_complete : Matrix completion, whose sample complexity grows with the coherence.

    References
    ----------
    E. J. Candes, B. Recht, "Exact matrix completion via convex optimization", Found. Comput. Math. 9, 2009.

    Examples
    --------
    >>> import numpy as np
    >>> import lowrank_la as la
    >>> la.datasets.coherence(np.eye(6)[:, :2]), la.datasets.coherence(np.full((4, 1), 0.5))
    (3.0, 1.0)
    """
    U = as_matrix(U, "U", sparse=False)
    m, r = U.shape
    return float(m / r * np.max(np.sum(U.astype(np.float64) ** 2, axis=1)))


# --------------------------------------------------------------------------- sparse matrices

@refuse_random_state
def sparse_power_law(m, n, *, nnz, exponent=2.0, rng=None, dtype="float64", format="csr"):
    """A sparse (m, n) matrix with Gaussian values whose row and column degrees follow a power law.

    Parameters
    ----------
    m, n : int
        Shape of the matrix, ``m, n >= 1``.
    nnz : int
        Number of distinct non-zeros wanted, ``1 <= nnz <= m * n``.
    exponent : float
        Exponent ``gamma > 1`` of the degree distribution ``P(degree = d) ~ d^(-gamma)``; smaller is heavier
        tailed (2 to 3 is typical of real graphs).
    rng : None, int or numpy.random.Generator
        Source of randomness; the same seed gives the same matrix.
    dtype : {"float64", "float32"}
        dtype of the values.
    format : {"csr", "csc", "coo"}
        Format of the result.

    Returns
    -------
    scipy.sparse.csr_array, csc_array or coo_array
        The matrix, in canonical format (no duplicate entries; sorted indices), with at most `nnz` stored
        non-zeros: exactly `nnz` unless the weights are too concentrated for that many distinct positions to turn up (an
        `exponent` near 1 with `nnz` close to what the heavy rows and columns can hold).

    Raises
    ------
    ValueError
        If a size or `nnz` is out of range, `exponent <= 1`, or `format` is unknown.
    TypeError
        If an argument has the wrong type, or `dtype` is not float32 or float64.

    See Also
    --------
    ratings_matrix : Ratings observed on the same power-law pattern.
    real_panel : The real-data panel, whose ``"power_law"`` matrix this builds.

    Notes
    -----
    A Chung-Lu model: row ``i`` is drawn with probability proportional to ``(i + 1)**(-1 / (exponent - 1))``
    and column ``j`` likewise and independently, and the rows and the columns are then relabelled by random
    permutations, so that the heavy rows and columns are not the first ones. Weights ``i^(-a)`` give expected
    degrees with the tail ``P(degree > d) ~ d^(-1/a)``, i.e. the exponent ``1 + 1/a``. Pairs drawn twice
    are kept once, and the draws are repeated (at most 8 rounds, each twice as large as the share of new
    pairs in the previous round says is needed) until `nnz` distinct pairs are found; a random `nnz` of them
    are kept.
    Everything is vectorised: ``m = n = 10**5`` with ``nnz = 10**6`` takes about a second.

    Examples
    --------
    >>> import numpy as np
    >>> import lowrank_la as la
    >>> A = la.datasets.sparse_power_law(1000, 800, nnz=5000, rng=0)
    >>> type(A).__name__, A.shape, A.nnz
    ('csr_array', (1000, 800), 5000)
    >>> degrees = np.diff(A.indptr)
    >>> bool(degrees.max() > 10 * degrees.mean())
    True
    """
    m = check_int(m, "m", low=1)
    n = check_int(n, "n", low=1)
    nnz = check_int(nnz, "nnz", low=1, high=m * n, high_text=f"m * n = {m * n}")
    exponent = check_real(exponent, "exponent", low=1, low_inclusive=False)
    dtype = check_dtype(dtype)
    format = check_option(format, "format", ["csr", "csc", "coo"])
    gen = as_rng(rng)

    def cdf(size):
        weights = np.cumsum(np.arange(1, size + 1, dtype=np.float64) ** (-1 / (exponent - 1)))
        return weights / weights[-1]

    row_cdf, col_cdf = cdf(m), cdf(n)
    row_label, col_label = gen.permutation(m), gen.permutation(n)

    def draw_keys(size):  # row-major positions ``row * n + col`` of `size` drawn pairs
        rows = row_label[np.searchsorted(row_cdf, gen.random(size), side="right")]
        cols = col_label[np.searchsorted(col_cdf, gen.random(size), side="right")]
        return rows.astype(np.int64) * n + cols

    keys, size = np.empty(0, dtype=np.int64), nnz
    for _ in range(8):
        merged = np.sort(np.concatenate([keys, draw_keys(size)]))
        merged = merged[np.concatenate([[True], merged[1:] != merged[:-1]])]
        gained, keys = merged.size - keys.size, merged
        if keys.size >= nnz or gained == 0:
            break
        size = min(2 * nnz, 2 * math.ceil((nnz - keys.size) * size / gained))  # twice the last yield's need
    if keys.size > nnz:
        keys = np.sort(gen.choice(keys, nnz, replace=False))
    values = gen.standard_normal(keys.size).astype(dtype)
    index = np.int32 if max(m, n) <= np.iinfo(np.int32).max else np.int64
    A = scipy.sparse.coo_array((values, ((keys // n).astype(index), (keys % n).astype(index))), shape=(m, n))
    A.has_canonical_format = True  # the keys are sorted and distinct
    return A.asformat(format)


# --------------------------------------------------------------------------- tensors

@refuse_random_state
def tucker_tensor(shape, ranks, *, noise=0.0, core="gaussian", rng=None, dtype="float64",
                  return_factors=False):
    """A tensor of multilinear rank `ranks` (a Tucker core times orthonormal factors), plus optional noise.

    Parameters
    ----------
    shape : sequence of int
        Shape ``(I_1, ..., I_d)`` of the tensor, every ``I_k >= 1``.
    ranks : sequence of int
        Multilinear rank ``(r_1, ..., r_d)``: ``1 <= r_k <= I_k``, and ``r_k`` at most the product of the
        other ranks (otherwise no tensor has that multilinear rank).
    noise : float
        Relative size ``||E||_F / ||T||_F >= 0`` of the dense Gaussian noise ``E`` added to the Tucker tensor
        ``T``; 0 (default) adds none.
    core : "gaussian" or array_like of shape `ranks`
        The core: standard Gaussian entries (default), or the given array.
    rng : None, int or numpy.random.Generator
        Source of randomness; the same seed gives the same tensor.
    dtype : {"float64", "float32"}
        dtype of the results.
    return_factors : bool
        Also return the core and the factors of the noiseless part.

    Returns
    -------
    X : ndarray of shape `shape`
        ``T + E``.
    core : ndarray of shape `ranks`
        Only with ``return_factors=True``.
    factors : list of ndarray
        The (I_k, r_k) factors ``U_k``, with Haar-random orthonormal columns; only with
        ``return_factors=True``.

    Raises
    ------
    ValueError
        If `ranks` does not match `shape` or is out of range, `noise` is negative, or `core` is an unknown
        option or has the wrong shape.
    TypeError
        If an argument has the wrong type, or `dtype` is not float32 or float64.

    See Also
    --------
    lowrank_la.tensor.hosvd : The truncated HOSVD that recovers such a tensor.
    lowrank_la.tensor.core_shape_search : The choice of the Tucker core shape under a parameter budget.

    Notes
    -----
    ``x_k`` is the mode-k product: ``(G x_k U)[..., i, ...] = sum_j U[i, j] G[..., j, ...]`` along axis k.
    A Gaussian core has, almost surely, mode-k unfoldings of full rank, so ``T`` has multilinear rank `ranks`.

    Examples
    --------
    >>> import numpy as np
    >>> import lowrank_la as la
    >>> X, G, Us = la.datasets.tucker_tensor((20, 15, 10), (4, 3, 2), rng=0, return_factors=True)
    >>> X.shape, G.shape, [U.shape for U in Us]
    ((20, 15, 10), (4, 3, 2), [(20, 4), (15, 3), (10, 2)])
    >>> [int(np.linalg.matrix_rank(np.moveaxis(X, k, 0).reshape(X.shape[k], -1))) for k in range(3)]
    [4, 3, 2]
    """
    if not isinstance(shape, Sequence) or not isinstance(ranks, Sequence):
        raise TypeError(f"shape and ranks must be sequences of ints, got {type(shape).__name__} and "
                        f"{type(ranks).__name__}")
    check_int(len(shape), "len(shape)", low=1)
    check_shape_agrees("len(ranks)", len(ranks), len(shape), "len(shape)")
    shape = tuple(check_int(size, f"shape[{k}]", low=1) for k, size in enumerate(shape))
    ranks = tuple(check_int(r, f"ranks[{k}]", low=1, high=shape[k], high_text=f"shape[{k}] = {shape[k]}")
                  for k, r in enumerate(ranks))
    for k, r in enumerate(ranks):
        others = math.prod(ranks[:k] + ranks[k + 1:])
        check_int(r, f"ranks[{k}]", high=others, high_text=f"the product of the other ranks = {others}")
    noise = check_real(noise, "noise", low=0)
    dtype = check_dtype(dtype)
    check_option(return_factors, "return_factors", [False, True])
    gen = as_rng(rng)
    if isinstance(core, str):
        check_option(core, "core", ["gaussian"])
        G = gen.standard_normal(ranks)
    else:
        G = as_matrix(core, "core", ndim=len(shape), sparse=False)
        for k, r in enumerate(ranks):
            check_shape_agrees(f"core.shape[{k}]", G.shape[k], r, f"ranks[{k}]")
        G = G.astype(np.float64)
    factors = [_haar(gen, size, r) for size, r in zip(shape, ranks)]
    T = G
    for k, U in enumerate(factors):
        T = np.moveaxis(np.tensordot(U, T, axes=(1, k)), 0, k)
    X = _add_relative_noise(gen, T, noise).astype(dtype)
    if return_factors:
        return X, G.astype(dtype), [U.astype(dtype) for U in factors]
    return X


# --------------------------------------------------------------------------- real data

def _optional(module_name: str, caller: str):
    """Import `module_name` (scikit-learn or scikit-image) for `caller`, or say which extra installs it."""
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        package = {"sklearn": "scikit-learn", "skimage": "scikit-image"}[module_name.split(".")[0]]
        raise ImportError(f"{caller} needs {package}, an optional dependency of lowrank_la; install it with "
                          f"`pip install lowrank_la[experiments]`") from exc


#: Directories of the standard library whose files are not read: third-party packages, the test suites
#: (the regression tests' docstrings would outnumber the library's) and byte-code caches.
_STDLIB_SKIP = frozenset({"site-packages", "dist-packages", "test", "tests", "idle_test", "__pycache__"})

#: A deliberately small English stop list (function words only).
_STOP_WORDS = frozenset("""
    about after all also an and any are as at be been but by can could do does for from had has have if in into
    is it its may more must no not of on one only or other should so such than that the their them then there
    these they this to too was we were what when where which while who will with would you your
""".split())

_WORD = re.compile(r"[a-z]{2,}")


def _docstrings_of(tree, module):
    """``(qualified name, docstring)`` of the module, class and function docstrings of `tree`, in source order.

    Only statements are visited (the bodies of definitions and of compound statements such as ``if``, ``try``,
    ``with`` and ``match``), which finds every ``def`` and ``class`` without walking the expressions.
    """
    stack = [(tree, module)]
    while stack:
        node, name = stack.pop()
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            name = f"{name}.{node.name}"
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node)
            if doc:
                yield name, doc
        children = [child for field in ("body", "orelse", "handlers", "finalbody", "cases")
                    for child in getattr(node, field, ())]
        stack.extend((child, name) for child in reversed(children))


@functools.lru_cache(maxsize=1)
def _stdlib_docstrings():
    """``(names, texts)``: every docstring of the standard library's ``.py`` files, parsed, never imported.

    Files are read in sorted order (directories depth first, names sorted), so the result is the same in every
    process of the same Python. A file that does not parse (a distribution's deliberately broken sample) is
    skipped. About 2 s for the ~730 files of CPython 3.11; cached for the process.
    """
    root = Path(sysconfig.get_paths()["stdlib"])
    names, texts = [], []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if d not in _STDLIB_SKIP)
        for filename in sorted(f for f in files if f.endswith(".py")):
            path = Path(directory, filename)
            parts = path.relative_to(root).with_suffix("").parts
            module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            try:
                tree = ast.parse(path.read_bytes(), filename=str(path))
            except (SyntaxError, ValueError):
                continue
            for name, doc in _docstrings_of(tree, module):
                names.append(name)
                texts.append(doc)
    if not texts:
        raise FileNotFoundError(f"no docstrings found under the standard library's directory {root}: this "
                                "Python installation does not ship the standard library's .py sources")
    return tuple(names), tuple(texts)


def stdlib_tfidf(*, min_df=5, max_df=0.5, sublinear_tf=True, return_labels=False):
    """TF-IDF matrix of the docstrings of the Python standard library, one row per docstring.

    Real text with a flat, slowly decaying spectrum, built from the ``.py`` sources of the running Python's
    standard library with :mod:`ast`: no module is imported (importing the whole standard library has side
    effects, such as ``antigravity`` opening a web browser), and nothing is downloaded.

    Parameters
    ----------
    min_df : int
        Keep the words that occur in at least `min_df` documents, ``min_df >= 1``.
    max_df : float
        Drop the words that occur in more than the fraction `max_df` of the documents, ``0 < max_df <= 1``.
    sublinear_tf : bool
        Term frequency ``1 + log(count)`` instead of the raw count.
    return_labels : bool
        Also return the vocabulary (the column labels) and the documents' names (the row labels).

    Returns
    -------
    X : scipy.sparse.csr_array
        Float64, (documents, words), non-negative, each row of unit Euclidean norm, canonical format.
    terms : tuple of str
        The vocabulary, sorted (``X[:, j]`` is ``terms[j]``); only with ``return_labels=True``.
    documents : tuple of str
        Qualified names of the documented objects (``"json.decoder.JSONDecoder.decode"``, ``"antigravity"``
        for a module docstring); only with ``return_labels=True``.

    Raises
    ------
    ValueError
        If `min_df` or `max_df` is out of range, or no word is left after the filters.
    TypeError
        If an argument has the wrong type.
    FileNotFoundError
        If this Python does not ship its standard library as ``.py`` sources.

    See Also
    --------
    real_panel : The panel of real matrices this is part of.
    digits_matrix : A small dense real matrix from scikit-learn.

    Notes
    -----
    The documents are the docstrings (``ast.get_docstring``, cleaned) of every module, class and function in
    the ``.py`` files under ``sysconfig.get_paths()["stdlib"]``, the third-party ``site-packages`` and the test
    suites (``test``, ``tests``, ``idle_test``) excluded, files in sorted order, definitions in source order.
    Text is lower-cased and split into the words of two or more ASCII letters (regex ``[a-z]{2,}``: ``utf_8``
    gives ``utf``; digits and underscores separate words), less a small inline list of English function words.
    The weights are scikit-learn's ``TfidfVectorizer`` defaults with that tokenizer: tf as above, smoothed
    ``idf = log((1 + n) / (1 + df)) + 1`` over the ``n`` documents, rows scaled to unit L2 norm. Documents
    left without a word after filtering (all zero rows, which cannot be normalised) are removed, after the
    document frequencies are counted. The vocabulary is sorted, so the matrix is the same bits in every
    process of one Python version; another version of Python has another standard library, hence another
    matrix (CPython 3.11.7: 8,582 x 3,146 with 114,117 non-zeros). Parsing takes about 2 s and is cached
    for the process.

    Examples
    --------
    >>> import numpy as np
    >>> import lowrank_la as la
    >>> X, terms, documents = la.datasets.stdlib_tfidf(return_labels=True)
    >>> X.shape == (len(documents), len(terms)), X.dtype
    (True, dtype('float64'))
    >>> bool(np.allclose(np.sqrt((X.multiply(X)).sum(axis=1)), 1.0)), bool(X.data.min() > 0)
    (True, True)
    >>> "antigravity.geohash" in documents, "python" in terms
    (True, True)
    """
    min_df = check_int(min_df, "min_df", low=1)
    max_df = check_real(max_df, "max_df", low=0, high=1, low_inclusive=False)
    check_option(sublinear_tf, "sublinear_tf", [True, False])
    check_option(return_labels, "return_labels", [True, False])
    names, texts = _stdlib_docstrings()
    n = len(texts)
    tokens = [[w for w in _WORD.findall(text.lower()) if w not in _STOP_WORDS] for text in texts]
    words, word_ids = np.unique(np.array([w for doc in tokens for w in doc]), return_inverse=True)
    doc_ids = np.repeat(np.arange(n), [len(doc) for doc in tokens])
    counts = scipy.sparse.csr_array((np.ones(word_ids.size), (doc_ids, word_ids)), shape=(n, words.size))
    counts.sum_duplicates()
    df = np.bincount(counts.indices, minlength=words.size)
    keep = (df >= min_df) & (df <= max_df * n)
    if not keep.any():
        raise ValueError(f"min_df={min_df} and max_df={max_df} leave no word: the most frequent word is in "
                         f"{df.max()} of {n} documents")
    X = counts[:, np.flatnonzero(keep)].tocsr()
    if sublinear_tf:
        X.data = 1.0 + np.log(X.data)
    X.data *= (np.log((1.0 + n) / (1.0 + df[keep])) + 1.0)[X.indices]
    rows = np.flatnonzero(np.diff(X.indptr))
    X = X[rows]  # every row now holds a word: reduceat sums each row's squares
    X.data /= np.repeat(np.sqrt(np.add.reduceat(X.data ** 2, X.indptr[:-1])), np.diff(X.indptr))
    X.sort_indices()
    if return_labels:
        return X, tuple(str(w) for w in words[keep]), tuple(names[i] for i in rows)
    return X


def digits_matrix():
    """Load scikit-learn's handwritten digits as a dense 1797 x 64 float64 matrix (one 8 x 8 image per row).

    Returns
    -------
    numpy.ndarray
        Float64, shape (1797, 64), integer grey levels 0 to 16 (``sklearn.datasets.load_digits().data``, a
        copy). Three pixels are zero in every image: the rank is 61.

    Raises
    ------
    ImportError
        If scikit-learn is not installed (``pip install lowrank_la[experiments]``).

    See Also
    --------
    image_matrix : Another dense real matrix, a picture.
    real_panel : The panel of real matrices this is part of.

    Examples
    --------
    >>> import lowrank_la as la
    >>> X = la.datasets.digits_matrix()
    >>> X.shape, X.dtype, float(X.max())
    ((1797, 64), dtype('float64'), 16.0)
    """
    sklearn_datasets = _optional("sklearn.datasets", "digits_matrix")
    return np.array(sklearn_datasets.load_digits().data, dtype=np.float64, order="C")


#: The scikit-image pictures `image_matrix` reads: files inside the scikit-image package (never downloaded).
_IMAGES = ("brick", "coffee", "grass", "gravel", "moon", "text")


def image_matrix(name):
    """A picture bundled with scikit-image, as a grayscale float64 matrix with entries in [0, 1].

    Parameters
    ----------
    name : {"brick", "coffee", "grass", "gravel", "moon", "text"}
        The ``skimage.data`` picture; each ships inside the scikit-image package (nothing is downloaded).
        Textures (``brick``, ``grass``, ``gravel``) have flat spectra; photographs (``coffee``, ``moon``)
        decay faster.

    Returns
    -------
    numpy.ndarray
        Float64, (height, width), C-contiguous. Colour pictures are converted with
        ``skimage.color.rgb2gray`` (luminance ``0.2125 R + 0.7154 G + 0.0721 B``), grey ones scaled by
        ``skimage.util.img_as_float64``.

    Raises
    ------
    ValueError
        If `name` is not one of the pictures above.
    ImportError
        If scikit-image is not installed (``pip install lowrank_la[experiments]``).

    See Also
    --------
    digits_matrix : Another dense real matrix, handwritten digits.
    real_panel : The panel of real matrices this is part of.

    Examples
    --------
    >>> import lowrank_la as la
    >>> X = la.datasets.image_matrix("coffee")
    >>> X.shape, X.dtype, bool(0 <= X.min() and X.max() <= 1)
    ((400, 600), dtype('float64'), True)
    """
    name = check_option(name, "name", _IMAGES)
    data = _optional("skimage.data", "image_matrix")
    picture = getattr(data, name)()
    if picture.ndim == 3:
        gray = _optional("skimage.color", "image_matrix").rgb2gray(picture)
    else:
        gray = _optional("skimage.util", "image_matrix").img_as_float64(picture)
    return np.ascontiguousarray(gray, dtype=np.float64)


#: The names of the real-data panel's matrices, in the order `real_panel` returns them.
PANEL = ("stdlib_tfidf", "digits", "coffee", "grass", "power_law")

#: ``(m, n, nnz)`` of the panel's power-law sparse matrix per `size` ("large" is the asv ``SparseRSVD`` input).
_POWER_LAW_SIZES = {"small": (20_000, 2_000, 200_000), "large": (200_000, 20_000, 2_000_000)}


@functools.lru_cache(maxsize=2)
def _panel(size):
    m, n, nnz = _POWER_LAW_SIZES[size]
    return {
        "stdlib_tfidf": stdlib_tfidf(),
        "digits": digits_matrix(),
        "coffee": image_matrix("coffee"),
        "grass": image_matrix("grass"),
        "power_law": sparse_power_law(m, n, nnz=nnz, exponent=2.0, rng=20240611),
    }


def real_panel(size="small"):
    """The real-data panel shared by the tests, the benchmarks and the docs: name -> matrix, in `PANEL` order.

    Parameters
    ----------
    size : {"small", "large"}
        Size of the power-law sparse matrix (the other matrices have one size): "small" is 20,000 x 2,000 with
        200,000 non-zeros (tests), "large" 200,000 x 20,000 with 2,000,000 (benchmarks).

    Returns
    -------
    dict
        Fresh copies (the panel is built once per process and size, and cached; changing a returned matrix
        does not change the next call's) of, in this order:

        ``"stdlib_tfidf"``
            :func:`stdlib_tfidf` with its defaults: sparse CSR text, flat spectrum.
        ``"digits"``
            :func:`digits_matrix`: dense 1797 x 64, fast decay, rank 61.
        ``"coffee"``
            ``image_matrix("coffee")``: a photograph, dense 400 x 600.
        ``"grass"``
            ``image_matrix("grass")``: a texture, dense 512 x 512, flat spectrum.
        ``"power_law"``
            :func:`sparse_power_law` (exponent 2, seed 20240611) in CSR: Gaussian values, power-law row and
            column degrees, small spectral gaps.

    Raises
    ------
    ValueError
        If `size` is not "small" or "large".
    ImportError
        If scikit-learn or scikit-image is not installed (``pip install lowrank_la[experiments]``).

    See Also
    --------
    stdlib_tfidf : The sparse text matrix of the panel.
    digits_matrix : The digits matrix of the panel.
    image_matrix : The pictures of the panel.
    sparse_power_law : The synthetic power-law sparse matrix of the panel.

    Examples
    --------
    >>> import lowrank_la as la
    >>> panel = la.datasets.real_panel()
    >>> tuple(panel) == la.datasets.PANEL
    True
    >>> {name: A.shape for name, A in panel.items()}["power_law"]
    (20000, 2000)
    """
    size = check_option(size, "size", list(_POWER_LAW_SIZES))
    return {name: A.copy() for name, A in _panel(size).items()}


# --------------------------------------------------------------------------- recommender data

@refuse_random_state
def ratings_matrix(m, n, n_obs, *, rank=10, exponent=2.0, signal=1.0, bias=0.3, noise=0.5, mean=3.5, rng=None,
                   dtype="float64", return_model=False):
    """A synthetic ratings matrix: a few observed noisy entries of ``mean + a_i + b_j + (L R^T)_ij``.

    The recommender setting of matrix completion: users (rows) and items (columns) with power-law activity,
    global, user and item offsets, a low-rank taste model, and noise.

    Parameters
    ----------
    m, n : int
        Numbers of users and items, ``m, n >= 1``.
    n_obs : int
        Number of observed ratings, ``1 <= n_obs <= m * n``.
    rank : int
        Rank of the taste model ``L R^T``, ``1 <= rank <= min(m, n)``.
    exponent : float
        Exponent ``gamma > 1`` of the power-law user and item degrees (as in :func:`sparse_power_law`).
    signal : float
        Standard deviation of the entries of ``L R^T`` (``L``, ``R`` Gaussian of variance
        ``signal / sqrt(rank)``), ``>= 0``.
    bias : float
        Standard deviation of the user and item offsets ``a_i``, ``b_j`` (Gaussian), ``>= 0``.
    noise : float
        Standard deviation of the Gaussian noise of each rating, ``>= 0``.
    mean : float
        Global mean rating.
    rng : None, int or numpy.random.Generator
        Source of randomness; the same seed gives the same matrix.
    dtype : {"float64", "float32"}
        dtype of the ratings.
    return_model : bool
        Also return the noiseless model.

    Returns
    -------
    R : scipy.sparse.csr_array
        (m, n), `n_obs` stored ratings (at most: see :func:`sparse_power_law`), canonical format; the ratings
        are continuous (not rounded or clipped), so a stored zero is a rating.
    model : dict
        Only with ``return_model=True``: ``mean`` (float), ``row_offsets`` (m,), ``col_offsets`` (n,), ``L``
        (m, rank) and ``R`` (n, rank), float64, with the noiseless rating
        ``mean + row_offsets[i] + col_offsets[j] + L[i] @ R[j]``.

    Raises
    ------
    ValueError
        If a size, `n_obs`, `rank`, `exponent` or a standard deviation is out of range.
    TypeError
        If an argument has the wrong type, or `dtype` is not float32 or float64.

    See Also
    --------
    sparse_power_law : The power-law sampling of the observed positions.
    lowrank_la.completion.altmin_complete : Matrix completion, which fits the same offsets and low-rank model.
    lowrank_la.sklearn.LowRankImputer : The scikit-learn interface to the completion.

    Notes
    -----
    The observed positions are those of :func:`sparse_power_law` (a Chung-Lu model: a few heavy users and
    items, many with one or two ratings). Memory and time ``O(n_obs + (m + n) rank)``: 50,000 x 10,000 with
    10^6 ratings takes about a second.

    Examples
    --------
    >>> import numpy as np
    >>> import lowrank_la as la
    >>> R, model = la.datasets.ratings_matrix(2000, 500, 20000, rank=5, rng=0, return_model=True)
    >>> R.shape, R.nnz, model["L"].shape
    ((2000, 500), 20000, (2000, 5))
    >>> bool(3 < R.data.mean() < 4)
    True
    """
    m = check_int(m, "m", low=1)
    n = check_int(n, "n", low=1)
    n_obs = check_int(n_obs, "n_obs", low=1, high=m * n, high_text=f"m * n = {m * n}")
    rank = check_rank(rank, (m, n), "rank")
    signal = check_real(signal, "signal", low=0)
    bias = check_real(bias, "bias", low=0)
    noise = check_real(noise, "noise", low=0)
    mean = check_real(mean, "mean")
    dtype = check_dtype(dtype)
    gen = as_rng(rng)
    pattern = sparse_power_law(m, n, nnz=n_obs, exponent=exponent, rng=gen, format="csr")
    scale = math.sqrt(signal / math.sqrt(rank))
    L = gen.standard_normal((m, rank)) * scale
    Rf = gen.standard_normal((n, rank)) * scale
    row_off = gen.standard_normal(m) * bias
    col_off = gen.standard_normal(n) * bias
    rows = np.repeat(np.arange(m), np.diff(pattern.indptr))
    cols = pattern.indices
    values = np.einsum("tk,tk->t", L[rows], Rf[cols]) if rows.size else np.zeros(0)
    values += mean + row_off[rows] + col_off[cols] + noise * gen.standard_normal(rows.size)
    R = scipy.sparse.csr_array((values.astype(dtype), pattern.indices.copy(), pattern.indptr.copy()), shape=(m, n))
    if not return_model:
        return R
    return R, {"mean": float(mean), "row_offsets": row_off, "col_offsets": col_off, "L": L, "R": Rf}
