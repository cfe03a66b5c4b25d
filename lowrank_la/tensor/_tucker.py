"""Tucker decompositions: unfolding, mode products, HOSVD, ST-HOSVD, HOOI, and the Tucker parameter count."""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .._backend import (
    ConvergenceWarning,
    array_namespace,
    as_rng,
    is_numpy_namespace,
    qr_econ,
    random_normal,
    svd_small,
    working_dtype,
)
from .._validate import (
    as_matrix,
    check_int,
    check_option,
    check_real,
    check_shape_agrees,
    is_dask,
    refuse_random_state,
)

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


class _TuckerFields(NamedTuple):
    core: Any
    factors: list


class TuckerResult(_TuckerFields):
    """A Tucker decomposition ``X ~ core x_1 U_1 x_2 U_2 ··· x_N U_N`` (mode products with every factor).

    A named tuple ``(core, factors)``: ``core, factors = hosvd(X, ranks)`` unpacks it, and
    :func:`tucker_to_tensor` takes it whole. Iterative routines add attributes that are not tuple fields
    (:func:`hooi`: ``converged``, ``n_iter`` and ``history``).

    Attributes
    ----------
    core : array of shape ``ranks``
        The core tensor.
    factors : list of arrays
        The factor matrices ``U_n`` of shape ``(I_n, R_n)``, with orthonormal columns.

    See Also
    --------
    hosvd : Returns a TuckerResult.
    hooi : Returns a TuckerResult.
    tucker_to_tensor : The full tensor of a TuckerResult.

    Examples
    --------
    >>> import numpy as np
    >>> res = TuckerResult(np.ones((2, 2)), [np.eye(3, 2), np.eye(4, 2)], converged=True, n_iter=3)
    >>> core, factors = res
    >>> res.converged, res.n_iter
    (True, 3)
    >>> res
    TuckerResult(core=<array (2, 2) float64>, factors=[<array (3, 2)>, <array (4, 2)>], converged=True, n_iter=3)
    """

    def __new__(cls, core, factors, **info):
        self = super().__new__(cls, core, factors)
        self.__dict__.update(info)
        return self

    def _replace(self, **fields):
        """A copy with some of ``core``, ``factors`` and the extra attributes replaced."""
        return type(self)(**{**self._asdict(), **self.__dict__, **fields})

    def __repr__(self) -> str:
        def brief(value):
            if hasattr(value, "shape"):
                return f"<array {tuple(value.shape)}>"
            if isinstance(value, dict):
                return "{" + ", ".join(f"{k!r}: <{len(v)} values>" if isinstance(v, (list, tuple)) or
                                       hasattr(v, "shape") else f"{k!r}: {v!r}" for k, v in value.items()) + "}"
            return repr(value)

        core = f"<array {tuple(self.core.shape)} {self.core.dtype}>" if hasattr(self.core, "shape") else repr(self.core)
        parts = [f"core={core}", "factors=[" + ", ".join(brief(U) for U in self.factors) + "]"]
        parts += [f"{key}={brief(value)}" for key, value in self.__dict__.items()]
        return f"TuckerResult({', '.join(parts)})"


# --------------------------------------------------------------------------- validation

def _as_tensor(X, name: str = "X", *, min_order: int = 2, allow_complex: bool = False):
    """The library's input rule for a dense tensor: lists and DataFrames become NumPy arrays, array-API arrays
    stay as they are; then order >= `min_order`, non-empty, numeric and finite are checked."""
    X = as_matrix(X, name, ndim=None, allow_complex=allow_complex, sparse=False)
    if len(X.shape) < min_order:
        raise ValueError(f"{name} must have order (ndim) >= {min_order}, got an array of shape {tuple(X.shape)}")
    return X


def _check_tensor(X, name: str = "X", *, min_order: int = 2):
    """Validate a dense real tensor of order >= `min_order`; return ``(X, xp)`` with X in its working dtype."""
    X = _as_tensor(X, name, min_order=min_order)
    xp = array_namespace(X)
    dtype = working_dtype(X.dtype, xp, name=name)
    if X.dtype != dtype:
        X = xp.astype(X, dtype)
    return X, xp


def _check_count(value, name: str) -> int:
    """A whole number given as an int or as an integral float (``4e4``); anything else is a ``TypeError``, as
    :func:`lowrank_la._validate.check_int` refuses non-integers."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_, numbers.Integral)):
        if not (math.isfinite(value) and float(value).is_integer()):
            raise TypeError(f"{name} must be a whole number (an integer, or an integral float such as 4e4), got "
                            f"{value!r}")
        value = int(float(value))
    return check_int(value, name)


# --------------------------------------------------------------------------- power-of-two scaling

def _max_exponent(dtype, xp) -> int:
    """The e with ``finfo(dtype).max < 2**e``: 128 for float32, 1024 for float64."""
    return math.frexp(float(xp.finfo(dtype).max))[1]


def _times_power_of_two(A, e: int, xp):
    """``A * 2**e``, exact unless the result leaves the normal range, in steps each representable in A's dtype."""
    step = _max_exponent(A.dtype, xp) - 2
    while e != 0:
        part = max(-step, min(step, e))
        A = A * math.ldexp(1.0, part)
        e -= part
    return A


def _normalise(X, xp):
    """``(X * 2**e, e)``, scaled so that ``max |X|`` lies in ``[1/2, 1)``, when it lies outside
    ``[2**-L, 2**L]`` with ``L`` a quarter of the dtype's exponent range (256 for float64, 32 for float32);
    otherwise ``(X, 0)``, untouched.

    Gram matrices square the entries, and norms sum their squares: at ``max |X| = 1e154`` they overflow, at
    ``1e-300`` they underflow to zero. Scaling by a power of two is exact, so results computed on the scaled
    copy and scaled back by ``2**-e`` are those of the unscaled arithmetic. Costs two reductions (no copy)
    when the tensor is in range, and one scaled copy when not.
    """
    if is_dask(X):  # one pass over the chunks (a NumPy abs would copy X)
        amax = float(abs(X).max().compute())
    else:
        amax = max(abs(float(xp.max(X))), abs(float(xp.min(X))))
    if amax == 0.0:
        return X, 0
    e = -math.frexp(amax)[1]
    if abs(e) <= _max_exponent(X.dtype, xp) // 4:
        return X, 0
    return _times_power_of_two(X, e, xp), e


def _unscale(A, e: int, xp, what: str):
    """``A * 2**-e`` (undo :func:`_normalise` on a result linear in X); refuse a result that overflows."""
    if e == 0:
        return A
    A = _times_power_of_two(A, -e, xp)
    if not bool(xp.all(xp.isfinite(A))):
        raise ValueError(f"{what} overflows {A.dtype}: X (max |X| ~ 2**{-e}) is too large for it to be represented")
    return A


def _unscale_squares(values, norm_sq: float, e: int, dtype, fn: str):
    """Squared singular values and ``||X||_F^2`` of ``X * 2**e``, scaled back by ``4**-e``.

    ``values`` are host NumPy arrays. They must fit `dtype` (the working dtype of the values) and
    ``norm_sq`` float64: a tensor whose squared norm leaves the normal range is refused, since squaring its
    values overflows or flushes them to zero.
    """
    if e == 0 or norm_sq == 0.0:
        return values, norm_sq
    log2 = math.log2(norm_sq) - 2 * e
    info = np.finfo(dtype)
    low, high = math.log2(float(info.tiny)), math.log2(float(info.max))
    if not low <= log2 < high:
        raise ValueError(f"{fn} works with squared singular values, and ||X||_F^2 = 2**{log2:.0f} is outside the "
                         f"normal range of {np.dtype(dtype).name}, [2**{low:.0f}, 2**{high:.0f}]: scale X by a power "
                         "of two first (the ranks and the relative errors do not depend on the scale)")
    return [np.ldexp(v, -2 * e).astype(v.dtype, copy=False) for v in values], math.ldexp(norm_sq, -2 * e)


def _check_mode(mode, order: int, name: str = "mode") -> int:
    return check_int(mode, name, low=0, high=order - 1, high_text=f"X.ndim - 1 = {order - 1}")


def _check_ranks(ranks, shape: Sequence[int], name: str = "ranks", *, of: str = "X.") -> tuple[int, ...]:
    """Check a multilinear rank against a tensor shape: one entry per mode, ``1 <= R_n <= I_n``.

    `of` prefixes the shape in messages: ``"X."`` (``X.ndim``, ``X.shape[n]``), or ``""`` for a `shape` argument.
    """
    if isinstance(ranks, np.ndarray) and ranks.ndim == 1:
        ranks = ranks.tolist()
    if isinstance(ranks, (str, bytes)) or not isinstance(ranks, Sequence):
        raise TypeError(f"{name} must be a sequence of ints, one per mode, got {type(ranks).__name__}")
    order = f"{of}ndim" if of else "len(shape)"
    check_shape_agrees(f"len({name})", len(ranks), len(shape), f"the order of the tensor, {order}")
    return tuple(check_int(r, f"{name}[{n}]", low=1, high=int(shape[n]), high_text=f"{of}shape[{n}] = {shape[n]}")
                 for n, r in enumerate(ranks))


def _check_shape(shape, name: str = "shape") -> tuple[int, ...]:
    if isinstance(shape, np.ndarray) and shape.ndim == 1:
        shape = shape.tolist()
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence):
        raise TypeError(f"{name} must be a sequence of ints, got {type(shape).__name__}")
    check_int(len(shape), f"len({name})", low=1)
    return tuple(check_int(s, f"{name}[{n}]", low=1) for n, s in enumerate(shape))


# --------------------------------------------------------------------------- unfold, fold, mode products

def unfold(X, mode):
    """Mode-`mode` unfolding (matricization) ``X_(n)`` of a tensor, of shape ``(I_n, prod_{k != n} I_k)``.

    Parameters
    ----------
    X : array_like of order N >= 2
        The tensor: an array of any array-API namespace, or a nested list (read by ``numpy.asarray``);
        non-empty, numeric (complex allowed) and finite.
    mode : int
        The mode ``0 <= mode <= N - 1`` whose fibres become the columns.

    Returns
    -------
    array of shape ``(I_n, prod_{k != n} I_k)``
        Column ``j`` is the mode-n fibre at the remaining indices in C (row-major) order: the convention of
        TensorLy and of Kolda's ``tenmat`` up to the column order. :func:`fold` inverts it.

    Raises
    ------
    TypeError
        If `X` is not numeric (object or string dtype) or not array-like.
    ValueError
        If `X` has order < 2, is empty or holds NaN or Inf, or `mode` is out of range.

    See Also
    --------
    fold : The inverse: a tensor from its mode-n unfolding.
    mode_product : The mode-n product, an unfolding times a matrix folded back.
    hosvd_spectrum : The squared singular values of every unfolding.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(24.0).reshape(2, 3, 4)
    >>> unfold(X, 1).shape
    (3, 8)
    >>> bool((fold(unfold(X, 1), 1, X.shape) == X).all())
    True
    """
    X = _as_tensor(X, allow_complex=True)
    xp = array_namespace(X)
    return _unfold(X, _check_mode(mode, len(X.shape)), xp)


def _unfold(X, mode, xp):
    return xp.reshape(xp.moveaxis(X, mode, 0), (X.shape[mode], -1))


def fold(M, mode, shape):
    """Inverse of :func:`unfold`: the tensor of `shape` whose mode-`mode` unfolding is `M`.

    Parameters
    ----------
    M : (I_n, prod_{k != n} I_k) array_like
        An unfolding: an array of any array-API namespace or a nested list; numeric (complex allowed), finite.
    mode : int
        Its mode, ``0 <= mode <= len(shape) - 1``.
    shape : sequence of int
        Shape of the tensor, at least 2 modes.

    Returns
    -------
    array of shape `shape`
        The folded tensor, in the namespace and dtype of `M`.

    Raises
    ------
    TypeError
        If `M` is not numeric or `shape` is not a sequence of ints.
    ValueError
        If `M` is not 2-D, holds NaN or Inf, or does not have the shape of the mode-`mode` unfolding, or
        `shape` has fewer than 2 modes.

    See Also
    --------
    unfold : The mode-n unfolding this inverts.
    mode_product : Multiply the mode-n fibres by a matrix.

    Examples
    --------
    >>> import numpy as np
    >>> fold(np.arange(6.0).reshape(2, 3), 0, (2, 3)).tolist()
    [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    """
    shape = _check_shape(shape)
    if len(shape) < 2:
        raise ValueError(f"shape={shape} must have at least 2 modes (the tensor's order is >= 2)")
    mode = _check_mode(mode, len(shape))
    M = as_matrix(M, "M", ndim=2, allow_complex=True, sparse=False)
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
    X : array_like of order N
        The tensor, of shape ``(I_1, ..., I_N)`` (an array of any array-API namespace, or a nested list).
    M : (J, I_n) array_like
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

    See Also
    --------
    unfold : The unfolding whose rows the product multiplies.
    tucker_to_tensor : A core times one factor in every mode.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.ones((2, 3, 4))
    >>> mode_product(X, np.ones((5, 3)), 1).shape
    (2, 5, 4)
    >>> bool(np.allclose(unfold(mode_product(X, np.ones((5, 3)), 1), 1), np.ones((5, 3)) @ unfold(X, 1)))
    True
    """
    X = as_matrix(X, "X", ndim=None, allow_complex=True, sparse=False)  # non-empty, numeric, finite
    M = as_matrix(M, "M", ndim=2, allow_complex=True, sparse=False)
    xp = array_namespace(X, M)
    mode = _check_mode(mode, len(X.shape))
    transpose = check_option(transpose, "transpose", [False, True])
    inner = 0 if transpose else 1
    check_shape_agrees(f"M.shape[{inner}]", M.shape[inner], X.shape[mode], f"X.shape[{mode}]")
    return _mode_product(X, M, mode, transpose, xp)


def _mode_product(X, M, mode, transpose, xp):
    """``X x_mode M`` (or ``M^T``) as one matrix product over the (before, I_n, after) view of `X`: no transposed
    copy of `X` is made (a batched product when the mode is inside)."""
    if is_dask(X):  # contracted chunk by chunk, summed over the chunks of the mode (no unfolding of X)
        import dask.array as da

        return da.moveaxis(da.tensordot(X, M, axes=([mode], [0 if transpose else 1])), -1, mode)
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


def tucker_to_tensor(core, factors=None):
    """The full tensor ``core x_1 U_1 x_2 U_2 ··· x_N U_N`` of a Tucker decomposition.

    Parameters
    ----------
    core : array of shape ``(R_1, ..., R_N)``, or TuckerResult
        The core; or a whole decomposition, the :class:`TuckerResult` of :func:`hosvd`, :func:`st_hosvd` or
        :func:`hooi` (or any ``(core, factors)`` pair), with `factors` left out.
    factors : sequence of N arrays
        ``U_n`` of shape ``(I_n, R_n)``; omitted when `core` is a whole decomposition.

    Returns
    -------
    array of shape ``(I_1, ..., I_N)``
        The full tensor: the core multiplied along each mode ``n`` by its factor ``U_n``.

    Raises
    ------
    TypeError
        If `factors` is missing and `core` is not a ``(core, factors)`` pair, or an array is not numeric.
    ValueError
        If the number or the shapes of the factors do not fit the core, or an array is empty or holds NaN or Inf.

    See Also
    --------
    hosvd : A Tucker decomposition to expand.
    TuckerResult : The core and factors this accepts in one argument.
    tt_to_tensor : The same for a tensor train.

    Examples
    --------
    >>> import numpy as np
    >>> import lowrank_la as la
    >>> X = la.datasets.tucker_tensor((10, 9, 8), (3, 2, 2), rng=0)
    >>> core, factors = hosvd(X, (3, 2, 2))
    >>> bool(np.allclose(tucker_to_tensor(core, factors), X))
    True
    >>> bool(np.allclose(tucker_to_tensor(hooi(X, (3, 2, 2))), X))
    True
    """
    if factors is None:
        if not (isinstance(core, (tuple, list)) and len(core) == 2):
            raise TypeError("tucker_to_tensor() needs factors, or a whole decomposition as its first argument: a "
                            f"TuckerResult or a (core, factors) pair; got {type(core).__name__}")
        core, factors = core
    if isinstance(factors, (str, bytes)) or not isinstance(factors, Sequence):
        raise TypeError(f"factors must be a sequence of matrices, one per mode, got {type(factors).__name__}")
    core = as_matrix(core, "core", ndim=None, allow_complex=True, sparse=False)  # non-empty, numeric, finite
    if len(factors) != len(core.shape):
        raise ValueError(f"len(factors)={len(factors)} must equal core.ndim = {len(core.shape)}")
    factors = [as_matrix(U, f"factors[{n}]", ndim=2, allow_complex=True, sparse=False)
               for n, U in enumerate(factors)]
    for n, U in enumerate(factors):
        check_shape_agrees(f"factors[{n}].shape[1]", U.shape[1], core.shape[n], f"core.shape[{n}]")
    xp = array_namespace(core, *factors)
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
        The number of entries of the core and the factors.

    See Also
    --------
    tt_size : The parameter count of a tensor train.
    core_shape_search : The core shape of the least surrogate error within a budget of this size.

    Examples
    --------
    >>> tucker_size((100, 100, 100), (4, 8, 16))
    3312
    """
    shape = _check_shape(shape)
    ranks = _check_ranks(ranks, shape, of="")
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
        return _gram_leading(xp.matmul(M, M.T), r, xp)
    U = svd_small(M, xp).U
    if U.shape[1] < r:  # a short unfolding (rows > cols): complete the basis with orthonormal directions
        fill = random_normal(as_rng(gen, xp), (rows, r - U.shape[1]), dtype=M.dtype, xp=xp)
        fill = fill - xp.matmul(U, xp.matmul(U.T, fill))
        U = xp.concat([U, qr_econ(fill, xp)[0]], axis=1)
    return U[:, :r]


def _gram_leading(G, r, xp):
    """The eigenvectors of the `r` largest eigenvalues of the Gram matrix `G`, descending."""
    # numpy.linalg, not scipy.linalg, on NumPy: this runs in the loops of HOSVD, HOOI and TT-SVD, between
    # NumPy products (see lowrank_la._backend.SMALL_WORK_NOTE)
    _, V = (np.linalg if is_numpy_namespace(xp) else xp.linalg).eigh(G)
    return xp.flip(V[:, G.shape[0] - r:], axis=1)


def _check_dask_method(X, method, name="svd"):
    """On a Dask tensor only the Gram route runs chunk by chunk: refuse the others (they need an unfolding)."""
    if is_dask(X) and method not in ("auto", "gram"):
        raise ValueError(f"{name}={method!r} needs each unfolding of X in one place, and X is a Dask array; use "
                         f"{name}='gram' (or 'auto', which picks it on Dask): mode Gram matrices reduced over the "
                         "chunks")


def _dask_mode_grams(X, modes):
    """The host Gram matrices ``X_(n) X_(n)^T`` of a Dask tensor for every mode in `modes`, in one pass: each is
    a contraction of pairs of chunks over the other modes, summed (the tensor is never unfolded or gathered)."""
    import dask
    import dask.array as da

    grams = [da.tensordot(X, X, axes=(others, others))
             for others in ([k for k in range(X.ndim) if k != n] for n in modes)]
    return [np.asarray(G) for G in dask.compute(*grams)]


def _mode_factors(X, ranks, modes, method, gen, xp):
    """The leading left singular vectors of the unfoldings of `X` for `modes` (with their `ranks`); on Dask from
    the mode Gram matrices, reduced over the chunks in one pass, and returned as NumPy arrays."""
    if is_dask(X):
        return [_gram_leading(G, r, np) for G, r in zip(_dask_mode_grams(X, modes), ranks)]
    return [_leading_left_vectors(_unfold(X, n, xp), r, method, gen, xp) for n, r in zip(modes, ranks)]


def _returned_factors(X, factors, xp):
    """Factors in the namespace of `X` (on Dask, arrays of one chunk made from the host factors)."""
    return [xp.asarray(U) for U in factors] if is_dask(X) else factors


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

@refuse_random_state
def hosvd(X, ranks, *, svd="auto", rng=None):
    """Truncated higher-order SVD (De Lathauwer, De Moor, Vandewalle 2000).

    Parameters
    ----------
    X : array of order N >= 2
        The tensor, real, finite, in any array-API namespace (NumPy, CuPy, array-api-strict), or a Dask array
        (see Notes).
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

    See Also
    --------
    st_hosvd : Sequentially truncated HOSVD: each mode works on the already truncated tensor, cheaper.
    hooi : Higher-order orthogonal iteration, which refines an HOSVD start.
    core_shape_search : Choose the multilinear rank under a parameter budget.
    tt_svd : The tensor-train analogue.

    Notes
    -----
    The error satisfies ``max_n tail_n(R_n) <= ||X - X_hat||_F^2 <= sum_n tail_n(R_n)``, where
    ``tail_n(R) = sum_{i > R} sigma_i(X_(n))^2``; hence it is within a factor ``N`` of the best Tucker
    approximation of that multilinear rank. Cost with "gram": ``sum_n I_n |X|`` flops for the Gram matrices plus
    ``sum_n I_n^3`` for the eigensolves, and one ``|X| R_1`` projection chain for the core.

    A tensor whose largest entry is far from 1 (beyond ``2**±256`` in float64, ``2**±32`` in float32), where the
    Gram matrices would overflow or underflow, is decomposed as an exactly rescaled copy ``2**e X``, and the core
    scaled back: ``hosvd(c * X)`` is ``c`` times the core of ``hosvd(X)`` from ``1e-310`` to ``1e300``. The same
    holds for :func:`st_hosvd`, :func:`hooi` and :func:`tt_svd`.

    On a Dask tensor nothing is gathered: the mode Gram matrices ``X_(n) X_(n)^T`` are contractions of chunks over
    the other modes, summed over the chunks, all N in one pass; their eigenvectors (``svd`` must be "auto" or
    "gram", the others raise a ``ValueError``) are computed on the host, and the core is a lazy Dask array whose
    mode products run chunk by chunk. The factors come back as Dask arrays of one chunk. Passes over `X`: one
    for the scale, one for the Grams and one when the core is computed (plus one when a rescaled core is checked
    for overflow). :func:`st_hosvd` computes one Gram per mode of the shrinking projection (N passes) and
    :func:`hooi` N per sweep, plus one for the core.

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
    _check_dask_method(X, method)
    gen = as_rng(rng)
    X, e = _normalise(X, xp)
    factors = _mode_factors(X, ranks, range(len(ranks)), method, gen, xp)
    core = _unscale(_project_all_but(X, factors, None, xp), e, xp, "the core")
    return TuckerResult(core, _returned_factors(X, factors, xp))


@refuse_random_state
def st_hosvd(X, ranks, *, order=None, svd="auto", rng=None):
    """Sequentially truncated HOSVD (Vannieuwenhoven, Vandebril, Meerbergen 2012).

    Mode by mode, in `order`: the factor ``U_n`` is the leading ``R_n`` left singular vectors of the current
    (already truncated) tensor's unfolding, and the tensor is replaced by its projection ``Y x_n U_n^T``. Each
    step works on a smaller tensor than the last, so it is cheaper than :func:`hosvd` and its error obeys the
    same upper bound ``sum_n tail_n(R_n)``.

    Parameters
    ----------
    X : array of order N >= 2
        The tensor, real and finite; a Dask array is decomposed chunk by chunk (see :func:`hosvd`).
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

    See Also
    --------
    hosvd : The plain truncated HOSVD, every mode from the full tensor.
    hooi : Higher-order orthogonal iteration, a more accurate fit of the same ranks.

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
    _check_dask_method(X, method)
    gen = as_rng(rng)
    factors = [None] * N
    Y, e = _normalise(X, xp)
    for n in order:
        factors[n] = _mode_factors(Y, [ranks[n]], [n], method, gen, xp)[0]
        Y = _mode_product(Y, factors[n], n, True, xp)
    return TuckerResult(_unscale(Y, e, xp, "the core"), _returned_factors(X, factors, xp))


# --------------------------------------------------------------------------- HOOI

@refuse_random_state
def hooi(X, ranks, *, init="svd", n_iter_max=100, tol=1e-8, svd="auto", rng=None):
    """Higher-order orthogonal iteration (Tucker-ALS) for a Tucker decomposition of multilinear rank `ranks`.

    Parameters
    ----------
    X : array of order N >= 2
        The tensor, real and finite, in any array-API namespace; a Dask array is decomposed chunk by chunk (see
        :func:`hosvd`; the small core is computed on the host each sweep).
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
    TuckerResult
        ``(core, factors)`` (orthonormal columns), in the namespace and dtype of `X`, with the attributes
        ``converged`` (bool; True when ``tol=0``, which asks for exactly `n_iter_max` sweeps), ``n_iter`` (sweeps
        run) and ``history["error"]`` (the relative error after each sweep, a Python list).

    Raises
    ------
    ValueError
        If `X` has order < 2 or holds NaN or Inf, or an argument is out of range.

    Warns
    -----
    ConvergenceWarning
        If ``tol > 0`` and it was not met within `n_iter_max` sweeps, or if a sweep produced NaN or Inf (then
        ``converged=False`` and the iteration stops).

    See Also
    --------
    hosvd : The truncated HOSVD, its ``init="svd"`` start.
    st_hosvd : The sequentially truncated HOSVD, one pass and no iteration.
    rre_greedy : The core-shape search that fits a HOOI per candidate shape.

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
    _check_dask_method(X, method)
    gen = as_rng(rng)
    N = len(ranks)
    X, e = _normalise(X, xp)  # the errors are relative and the factors scale-free: only the core is scaled back
    small = np if is_dask(X) else xp  # the namespace of the factors and the core (the host, on Dask)
    if init == "svd":
        factors = _mode_factors(X, ranks, range(N), method, gen, xp)
    else:
        factors = [qr_econ(random_normal(as_rng(gen, small), (X.shape[n], r), dtype=X.dtype, xp=small), small)[0]
                   for n, r in enumerate(ranks)]
    norm_x = float(xp.linalg.vector_norm(X))
    scale = norm_x if norm_x > 0 else 1.0
    errors, converged, broke_down = [], False, False
    for _ in range(n_iter_max):
        for n in range(N):
            Y = _project_all_but(X, factors, n, xp)
            factors[n] = _mode_factors(Y, [ranks[n]], [n], method, gen, xp)[0]
        core = _mode_product(Y, factors[N - 1], N - 1, True, xp)
        if is_dask(core):  # small: computed once per sweep (one pass over X), kept on the host
            core = np.asarray(core.compute())
        norm_core = float(small.linalg.vector_norm(core))
        if not math.isfinite(norm_core):
            broke_down = True
            break
        errors.append(math.sqrt(max(norm_x**2 - norm_core**2, 0.0)) / scale)
        if tol > 0 and len(errors) > 1 and abs(errors[-2] - errors[-1]) < tol:
            converged = True
            break
    if broke_down:
        warnings.warn(f"hooi broke down: the core of sweep {len(errors) + 1} holds NaN or Inf", ConvergenceWarning,
                      stacklevel=2)
        return TuckerResult(_returned_factors(X, [core], xp)[0], _returned_factors(X, factors, xp), converged=False,
                            n_iter=len(errors), history={"error": errors})
    if tol > 0 and not converged:
        warnings.warn(f"hooi did not meet tol={tol} in n_iter_max={n_iter_max} sweeps (last change "
                      f"{abs(errors[-2] - errors[-1]) if len(errors) > 1 else float('nan'):.3g})",
                      ConvergenceWarning, stacklevel=2)
    core = _unscale(core, e, small, "the core")
    return TuckerResult(_returned_factors(X, [core], xp)[0], _returned_factors(X, factors, xp),
                        converged=converged or tol == 0, n_iter=len(errors), history={"error": errors})
