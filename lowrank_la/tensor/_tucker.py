"""Tucker decompositions: unfolding, mode products, HOSVD, ST-HOSVD, HOOI, and the Tucker parameter count."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .._backend import (
    ConvergenceWarning,
    SolverResult,
    array_namespace,
    as_rng,
    is_numpy_namespace,
    qr_econ,
    random_normal,
    svd_small,
    working_dtype,
)
from .._validate import check_int, check_matrix, check_option, check_real, check_shape_agrees

__all__ = [
    "TuckerResult",
    "fold",
    "hooi",
    "hosvd",
    "mode_product",
    "st_hosvd",
    "tucker_size",
    "tucker_to_tensor",
    "unfold",
]

SUBSPACE_METHODS = ("auto", "gram", "svd", "randomized")


class TuckerResult(NamedTuple):
    """A Tucker decomposition ``X ~ core x_1 U_1 x_2 U_2 ··· x_N U_N`` (mode products with every factor).

    Attributes
    ----------
    core : array of shape ``ranks``
        The core tensor.
    factors : list of arrays
        The factor matrices ``U_n`` of shape ``(I_n, R_n)``, with orthonormal columns.
    """

    core: Any
    factors: list


# --------------------------------------------------------------------------- validation

def _check_tensor(X, name: str = "X", *, min_order: int = 2):
    """Validate a dense tensor of order >= `min_order`; return ``(X, xp)`` with X in its working dtype."""
    shape = getattr(X, "shape", None)
    if shape is None:
        raise TypeError(f"{name} must be an array, got {type(X).__name__}")
    if len(shape) < min_order:
        raise ValueError(f"{name} must have order (ndim) >= {min_order}, got an array of shape {tuple(shape)}")
    check_matrix(X, name, ndim=len(shape))
    xp = array_namespace(X)
    dtype = working_dtype(X.dtype, xp, name=name)
    if X.dtype != dtype:
        X = xp.astype(X, dtype)
    return X, xp


def _check_mode(mode, order: int, name: str = "mode") -> int:
    return check_int(mode, name, low=0, high=order - 1, high_text=f"X.ndim - 1 = {order - 1}")


def _check_ranks(ranks, shape: Sequence[int], name: str = "ranks") -> tuple[int, ...]:
    """Check a multilinear rank against a tensor shape: one entry per mode, ``1 <= R_n <= I_n``."""
    if isinstance(ranks, np.ndarray) and ranks.ndim == 1:
        ranks = ranks.tolist()
    if isinstance(ranks, (str, bytes)) or not isinstance(ranks, Sequence):
        raise TypeError(f"{name} must be a sequence of ints, one per mode, got {type(ranks).__name__}")
    check_shape_agrees(f"len({name})", len(ranks), len(shape), "the order of the tensor, len(shape)")
    return tuple(check_int(r, f"{name}[{n}]", low=1, high=int(shape[n]), high_text=f"shape[{n}] = {shape[n]}")
                 for n, r in enumerate(ranks))


def _check_shape(shape, name: str = "shape") -> tuple[int, ...]:
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence):
        raise TypeError(f"{name} must be a sequence of ints, got {type(shape).__name__}")
    check_int(len(shape), f"len({name})", low=1)
    return tuple(check_int(s, f"{name}[{n}]", low=1) for n, s in enumerate(shape))


# --------------------------------------------------------------------------- unfold, fold, mode products

def unfold(X, mode):
    """Mode-`mode` unfolding (matricization) ``X_(n)`` of a tensor, of shape ``(I_n, prod_{k != n} I_k)``.

    Parameters
    ----------
    X : array of order N >= 1
        The tensor, in any array-API namespace.
    mode : int
        The mode ``0 <= mode <= N - 1`` whose fibres become the columns.

    Returns
    -------
    array of shape ``(I_n, prod_{k != n} I_k)``
        Column ``j`` is the mode-n fibre at the remaining indices in C (row-major) order: the convention of
        TensorLy and of Kolda's ``tenmat`` up to the column order. :func:`fold` inverts it.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(24.0).reshape(2, 3, 4)
    >>> unfold(X, 1).shape
    (3, 8)
    >>> bool((fold(unfold(X, 1), 1, X.shape) == X).all())
    True
    """
    xp = array_namespace(X)
    order = len(X.shape)
    mode = _check_mode(mode, order)
    return xp.reshape(xp.moveaxis(X, mode, 0), (X.shape[mode], -1))


def fold(M, mode, shape):
    """Inverse of :func:`unfold`: the tensor of `shape` whose mode-`mode` unfolding is `M`.

    Parameters
    ----------
    M : (I_n, prod_{k != n} I_k) array
        An unfolding.
    mode : int
        Its mode, ``0 <= mode <= len(shape) - 1``.
    shape : sequence of int
        Shape of the tensor.

    Returns
    -------
    array of shape `shape`

    Examples
    --------
    >>> import numpy as np
    >>> fold(np.arange(6.0).reshape(2, 3), 0, (2, 3)).tolist()
    [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    """
    shape = _check_shape(shape)
    mode = _check_mode(mode, len(shape))
    xp = array_namespace(M)
    rest = shape[:mode] + shape[mode + 1:]
    expected = (shape[mode], math.prod(rest))
    if tuple(M.shape) != expected:
        raise ValueError(f"M has shape {tuple(M.shape)}; the mode-{mode} unfolding of shape {shape} must have "
                         f"shape {expected}")
    return xp.moveaxis(xp.reshape(M, (shape[mode], *rest)), 0, mode)


def mode_product(X, M, mode, *, transpose=False):
    """Mode-n product ``X x_n M``: multiply every mode-`mode` fibre of `X` by the matrix `M`.

    Parameters
    ----------
    X : array of order N
        The tensor, of shape ``(I_1, ..., I_N)``.
    M : (J, I_n) array
        The matrix (``(I_n, J)`` with ``transpose=True``, which multiplies by ``M^T`` without forming it).
    mode : int
        The mode ``0 <= mode <= N - 1``.
    transpose : bool
        Multiply by ``M^T`` instead of ``M``.

    Returns
    -------
    array
        ``Y`` of shape ``(I_1, ..., J, ..., I_N)`` with ``Y_(n) = M X_(n)``, in the namespace of `X`.

    Raises
    ------
    ValueError
        If `mode` is out of range, `M` is not 2-D or does not fit ``X.shape[mode]``, or `X` or `M` is empty or
        holds NaN or Inf.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.ones((2, 3, 4))
    >>> mode_product(X, np.ones((5, 3)), 1).shape
    (2, 5, 4)
    >>> bool(np.allclose(unfold(mode_product(X, np.ones((5, 3)), 1), 1), np.ones((5, 3)) @ unfold(X, 1)))
    True
    """
    xp = array_namespace(X, M)
    mode = _check_mode(mode, len(X.shape))
    transpose = check_option(transpose, "transpose", [False, True])
    check_matrix(X, "X", ndim=len(X.shape), allow_complex=True)  # non-empty, numeric, finite
    check_matrix(M, "M", allow_complex=True)
    inner = 0 if transpose else 1
    check_shape_agrees(f"M.shape[{inner}]", M.shape[inner], X.shape[mode], f"X.shape[{mode}]")
    return _mode_product(X, M, mode, transpose, xp)


def _mode_product(X, M, mode, transpose, xp):
    """``X x_mode M`` (or ``M^T``) as one matrix product over the (before, I_n, after) view of `X`: no transposed
    copy of `X` is made (a batched product when the mode is inside)."""
    shape = tuple(X.shape)
    before, after = math.prod(shape[:mode]), math.prod(shape[mode + 1:])
    Mt = M.T if transpose else M
    out_shape = (*shape[:mode], Mt.shape[0], *shape[mode + 1:])
    if after == 1:
        Y = xp.matmul(xp.reshape(X, (before, shape[mode])), Mt.T)
    elif before == 1:
        Y = xp.matmul(Mt, xp.reshape(X, (shape[mode], after)))
    else:
        Y = xp.matmul(Mt, xp.reshape(X, (before, shape[mode], after)))
    return xp.reshape(Y, out_shape)


def tucker_to_tensor(core, factors):
    """The full tensor ``core x_1 U_1 x_2 U_2 ··· x_N U_N`` of a Tucker decomposition.

    Parameters
    ----------
    core : array of shape ``(R_1, ..., R_N)``
        The core.
    factors : sequence of N arrays
        ``U_n`` of shape ``(I_n, R_n)``.

    Returns
    -------
    array of shape ``(I_1, ..., I_N)``

    Raises
    ------
    ValueError
        If the number or the shapes of the factors do not fit the core, or an array is empty or holds NaN or Inf.

    Examples
    --------
    >>> import numpy as np
    >>> import lowrank_la as la
    >>> X = la.datasets.tucker_tensor((10, 9, 8), (3, 2, 2), rng=0)
    >>> core, factors = hosvd(X, (3, 2, 2))
    >>> bool(np.allclose(tucker_to_tensor(core, factors), X))
    True
    """
    xp = array_namespace(core, *factors)
    if len(factors) != len(core.shape):
        raise ValueError(f"len(factors)={len(factors)} must equal core.ndim = {len(core.shape)}")
    check_matrix(core, "core", ndim=len(core.shape), allow_complex=True)  # non-empty, numeric, finite
    for n, U in enumerate(factors):
        check_matrix(U, f"factors[{n}]", allow_complex=True)
        check_shape_agrees(f"factors[{n}].shape[1]", U.shape[1], core.shape[n], f"core.shape[{n}]")
    X = core
    for n, U in enumerate(factors):
        X = _mode_product(X, U, n, False, xp)
    return X


def tucker_size(shape, ranks):
    """Number of parameters of a Tucker decomposition: ``prod_n R_n + sum_n I_n R_n`` (core plus factors).

    Parameters
    ----------
    shape : sequence of int
        ``(I_1, ..., I_N)``.
    ranks : sequence of int
        ``(R_1, ..., R_N)``, ``1 <= R_n <= I_n``.

    Returns
    -------
    int

    Examples
    --------
    >>> tucker_size((100, 100, 100), (4, 8, 16))
    3312
    """
    shape = _check_shape(shape)
    ranks = _check_ranks(ranks, shape)
    return math.prod(ranks) + sum(i * r for i, r in zip(shape, ranks))


# --------------------------------------------------------------------------- leading subspaces of unfoldings

def _check_subspace_method(method):
    return check_option(method, "svd", SUBSPACE_METHODS)


def _resolve_subspace_method(method, rows, cols, r):
    """``"auto"``: the thin SVD for tall unfoldings, randomized SVD for small ranks of big unfoldings, else Gram.

    Randomized subspace iteration reads the unfolding about 16 times with ``r + 10`` columns; the Gram matrix
    costs ``rows^2 cols`` flops and a (rows, rows) eigensolve. Randomized pays when ``16 (r + 10) < rows``.
    """
    if method != "auto":
        return method
    if rows > cols:
        return "svd"
    if 16 * (r + 10) < rows:
        return "randomized"
    return "gram"


def _leading_left_vectors(M, r, method, gen, xp):
    """An orthonormal basis (rows, r) of the dominant r-dimensional left singular subspace of `M`."""
    rows, cols = M.shape
    method = _resolve_subspace_method(method, rows, cols, r)
    if method == "randomized" and r < min(rows, cols):
        from ..svd import rsvd

        return rsvd(M, r, rng=gen, flip_sign=False).U
    if method == "gram" or (method == "randomized" and rows <= cols):
        G = xp.matmul(M, M.T)
        # numpy.linalg, not scipy.linalg, on NumPy: this runs in the loops of HOSVD, HOOI and TT-SVD, between
        # NumPy products (see lowrank_la._backend.SMALL_WORK_NOTE)
        _, V = (np.linalg if is_numpy_namespace(xp) else xp.linalg).eigh(G)
        return xp.flip(V[:, rows - r:], axis=1)  # descending
    U = svd_small(M, xp).U
    if U.shape[1] < r:  # a short unfolding (rows > cols): complete the basis with orthonormal directions
        fill = random_normal(as_rng(gen, xp), (rows, r - U.shape[1]), dtype=M.dtype, xp=xp)
        fill = fill - xp.matmul(U, xp.matmul(U.T, fill))
        U = xp.concat([U, qr_econ(fill, xp)[0]], axis=1)
    return U[:, :r]


def _project_all_but(X, factors, skip, xp):
    """``X x_k U_k^T`` for every mode k except `skip` (and except modes whose factor is None).

    The first contraction, on the full tensor, is the costly one: it is done on an outer mode (the last, or the
    first when the last is skipped), where it is a single matrix product instead of a batch of small ones.
    """
    N = len(factors)
    order = [N - 1, *range(N - 1)] if skip != N - 1 else list(range(N))
    Y = X
    for k in order:
        if k != skip and factors[k] is not None:
            Y = _mode_product(Y, factors[k], k, True, xp)
    return Y


# --------------------------------------------------------------------------- HOSVD and ST-HOSVD

def hosvd(X, ranks, *, svd="auto", rng=None):
    """Truncated higher-order SVD (De Lathauwer, De Moor, Vandewalle 2000).

    Parameters
    ----------
    X : array of order N >= 2
        The tensor, real, finite, in any array-API namespace (NumPy, CuPy, array-api-strict).
    ranks : sequence of int
        Multilinear rank ``(R_1, ..., R_N)``, ``1 <= R_n <= I_n``.
    svd : {"auto", "gram", "svd", "randomized"}
        How the leading left singular vectors of each unfolding ``X_(n)`` are computed: the eigenvectors of
        the Gram matrix ``X_(n) X_(n)^T`` ("gram"), a thin SVD ("svd"), or :func:`lowrank_la.svd.rsvd`
        ("randomized", for small ranks of large unfoldings). "auto" picks by shape and rank.
    rng : None, int or numpy.random.Generator
        Randomness of ``svd="randomized"`` (and of "auto" when it picks it).

    Returns
    -------
    TuckerResult
        ``(core, factors)``: ``U_n`` the leading ``R_n`` left singular vectors of ``X_(n)`` and
        ``core = X x_1 U_1^T ... x_N U_N^T``, in the namespace and dtype of `X` (float32 stays float32).

    Raises
    ------
    ValueError
        If `X` has order < 2, is empty or holds NaN or Inf, or `ranks` does not fit its shape.

    Notes
    -----
    The error satisfies ``max_n tail_n(R_n) <= ||X - X_hat||_F^2 <= sum_n tail_n(R_n)``, where
    ``tail_n(R) = sum_{i > R} sigma_i(X_(n))^2``; hence it is within a factor ``N`` of the best Tucker
    approximation of that multilinear rank. Cost with "gram": ``sum_n I_n |X|`` flops for the Gram matrices plus
    ``sum_n I_n^3`` for the eigensolves, and one ``|X| R_1`` projection chain for the core.

    References
    ----------
    .. [1] L. De Lathauwer, B. De Moor, J. Vandewalle, "A multilinear singular value decomposition", SIAM J.
       Matrix Anal. Appl. 21(4), 2000.

    Examples
    --------
    >>> import numpy as np
    >>> import lowrank_la as la
    >>> from lowrank_la.tensor import hosvd, tucker_to_tensor
    >>> X = la.datasets.tucker_tensor((20, 15, 10), (4, 3, 2), rng=0)
    >>> core, factors = hosvd(X, (4, 3, 2))
    >>> core.shape
    (4, 3, 2)
    >>> bool(np.allclose(tucker_to_tensor(core, factors), X))
    True
    """
    X, xp = _check_tensor(X)
    ranks = _check_ranks(ranks, X.shape)
    method = _check_subspace_method(svd)
    gen = as_rng(rng)
    factors = [_leading_left_vectors(unfold(X, n), r, method, gen, xp) for n, r in enumerate(ranks)]
    return TuckerResult(_project_all_but(X, factors, None, xp), factors)


def st_hosvd(X, ranks, *, order=None, svd="auto", rng=None):
    """Sequentially truncated HOSVD (Vannieuwenhoven, Vandebril, Meerbergen 2012).

    Mode by mode, in `order`: the factor ``U_n`` is the leading ``R_n`` left singular vectors of the current
    (already truncated) tensor's unfolding, and the tensor is replaced by its projection ``Y x_n U_n^T``. Each
    step works on a smaller tensor than the last, so it is cheaper than :func:`hosvd` and its error obeys the
    same upper bound ``sum_n tail_n(R_n)``.

    Parameters
    ----------
    X : array of order N >= 2
        The tensor, real and finite.
    ranks : sequence of int
        Multilinear rank, ``1 <= R_n <= I_n``.
    order : sequence of int, optional
        A permutation of ``0, ..., N - 1``: the order in which modes are truncated. Default: the modes by
        decreasing compression ``I_n / R_n`` (the cheapest order).
    svd : {"auto", "gram", "svd", "randomized"}
        As in :func:`hosvd`.
    rng : None, int or numpy.random.Generator
        Randomness of the randomized SVD.

    Returns
    -------
    TuckerResult
        ``(core, factors)`` in the namespace and dtype of `X`.

    Raises
    ------
    ValueError
        If `X` has order < 2 or holds NaN or Inf, `ranks` does not fit, or `order` is not a permutation.

    References
    ----------
    .. [1] N. Vannieuwenhoven, R. Vandebril, K. Meerbergen, "A new truncation strategy for the higher-order
       singular value decomposition", SIAM J. Sci. Comput. 34(2), 2012.

    Examples
    --------
    >>> import numpy as np
    >>> import lowrank_la as la
    >>> from lowrank_la.tensor import st_hosvd, tucker_to_tensor
    >>> X = la.datasets.tucker_tensor((20, 15, 10), (4, 3, 2), rng=0)
    >>> core, factors = st_hosvd(X, (4, 3, 2))
    >>> bool(np.allclose(tucker_to_tensor(core, factors), X))
    True
    """
    X, xp = _check_tensor(X)
    ranks = _check_ranks(ranks, X.shape)
    method = _check_subspace_method(svd)
    N = len(ranks)
    if order is None:
        order = sorted(range(N), key=lambda n: -X.shape[n] / ranks[n])
    else:
        order = [_check_mode(n, N, "order[i]") for n in order]
        if sorted(order) != list(range(N)):
            raise ValueError(f"order={order} must be a permutation of 0, ..., {N - 1}")
    gen = as_rng(rng)
    factors = [None] * N
    Y = X
    for n in order:
        factors[n] = _leading_left_vectors(unfold(Y, n), ranks[n], method, gen, xp)
        Y = _mode_product(Y, factors[n], n, True, xp)
    return TuckerResult(Y, factors)


# --------------------------------------------------------------------------- HOOI

def hooi(X, ranks, *, init="svd", n_iter_max=100, tol=1e-8, svd="auto", rng=None):
    """Higher-order orthogonal iteration (Tucker-ALS) for a Tucker decomposition of multilinear rank `ranks`.

    Parameters
    ----------
    X : array of order N >= 2
        The tensor, real and finite, in any array-API namespace.
    ranks : sequence of int
        Multilinear rank ``(R_1, ..., R_N)``, ``1 <= R_n <= I_n``.
    init : {"svd", "random"}
        Starting factors: the truncated HOSVD's ("svd", deterministic) or orthonormalised Gaussian matrices
        ("random", as the rre-greedy baseline of Ghadiri et al. uses).
    n_iter_max : int
        Maximum number of sweeps, ``>= 1``.
    tol : float
        Stop when the relative error ``||X - X_hat||_F / ||X||_F`` changes by less than `tol` between sweeps
        (TensorLy's rule). ``tol=0`` runs exactly `n_iter_max` sweeps and never warns.
    svd : {"auto", "gram", "svd", "randomized"}
        How the leading subspaces are computed (see :func:`hosvd`).
    rng : None, int or numpy.random.Generator
        Randomness of ``init="random"`` and of the randomized SVD.

    Returns
    -------
    SolverResult
        ``core``, ``factors`` (orthonormal columns), ``converged`` (bool; True when ``tol=0``, which asks for
        exactly `n_iter_max` sweeps), ``n_iter`` (sweeps run) and
        ``history["error"]`` (the relative error after each sweep, a Python list), in the namespace and dtype
        of `X`.

    Raises
    ------
    ValueError
        If `X` has order < 2 or holds NaN or Inf, or an argument is out of range.

    Warns
    -----
    ConvergenceWarning
        If ``tol > 0`` and it was not met within `n_iter_max` sweeps.

    Notes
    -----
    Each sweep updates ``U_n`` to the leading ``R_n`` left singular vectors of ``(X x_{k != n} U_k^T)_(n)``,
    which maximises ``||core||_F`` over ``U_n`` with the others fixed; the error ``||X||^2 - ||core||^2`` is
    non-increasing. Cost per sweep for order 3 and ``I_n = I``: about ``2 N I^3 R`` flops for the projections.

    References
    ----------
    .. [1] L. De Lathauwer, B. De Moor, J. Vandewalle, "On the best rank-1 and rank-(R1, R2, ..., RN)
       approximation of higher-order tensors", SIAM J. Matrix Anal. Appl. 21(4), 2000.

    Examples
    --------
    >>> import numpy as np
    >>> import lowrank_la as la
    >>> from lowrank_la.tensor import hooi, tucker_to_tensor
    >>> X = la.datasets.tucker_tensor((20, 15, 10), (4, 3, 2), noise=0.01, rng=0)
    >>> res = hooi(X, (4, 3, 2), tol=1e-10)
    >>> res.converged, round(res.history["error"][-1], 2)
    (True, 0.01)
    """
    X, xp = _check_tensor(X)
    ranks = _check_ranks(ranks, X.shape)
    init = check_option(init, "init", ["svd", "random"])
    n_iter_max = check_int(n_iter_max, "n_iter_max", low=1)
    tol = check_real(tol, "tol", low=0)
    method = _check_subspace_method(svd)
    gen = as_rng(rng)
    N = len(ranks)
    if init == "svd":
        factors = list(hosvd(X, ranks, svd=method, rng=gen).factors)
    else:
        factors = [qr_econ(random_normal(as_rng(gen, xp), (X.shape[n], r), dtype=X.dtype, xp=xp), xp)[0]
                   for n, r in enumerate(ranks)]
    norm_x = float(xp.linalg.vector_norm(X))
    scale = norm_x if norm_x > 0 else 1.0
    errors, converged = [], False
    for _ in range(n_iter_max):
        for n in range(N):
            Y = _project_all_but(X, factors, n, xp)
            factors[n] = _leading_left_vectors(unfold(Y, n), ranks[n], method, gen, xp)
        core = _mode_product(Y, factors[N - 1], N - 1, True, xp)
        norm_core = float(xp.linalg.vector_norm(core))
        errors.append(math.sqrt(max(norm_x**2 - norm_core**2, 0.0)) / scale)
        if tol > 0 and len(errors) > 1 and abs(errors[-2] - errors[-1]) < tol:
            converged = True
            break
    if tol > 0 and not converged:
        warnings.warn(f"hooi did not meet tol={tol} in n_iter_max={n_iter_max} sweeps (last change "
                      f"{abs(errors[-2] - errors[-1]) if len(errors) > 1 else float('nan'):.3g})",
                      ConvergenceWarning, stacklevel=2)
    return SolverResult(core=core, factors=factors, converged=converged or tol == 0, n_iter=len(errors),
                        history={"error": errors})
