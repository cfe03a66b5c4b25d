"""The fast Walsh-Hadamard transform, and padding to a power of two."""

from __future__ import annotations

import math

import numpy as np

from .._backend import array_namespace, device_of, is_cupy_namespace, is_numpy_namespace, working_dtype
from .._kernels.fwht import fwht_cupy, fwht_numba, fwht_reference
from .._validate import as_matrix, check_int, check_option, is_dask

__all__ = ["fwht", "next_pow2", "pad_pow2"]


def next_pow2(d: int) -> int:
    """The smallest power of two ``>= d``.

    Parameters
    ----------
    d : int
        A positive length.

    Returns
    -------
    int
        ``2**ceil(log2(d))``.

    See Also
    --------
    pad_pow2 : Zero-pad an array to this length.

    Examples
    --------
    >>> next_pow2(1), next_pow2(5), next_pow2(1024)
    (1, 8, 1024)
    """
    d = check_int(d, "d", low=1)
    return 1 << (d - 1).bit_length()


def _check_signal(x, axis, name="x", *, finite=True):
    """Convert (input rule) and validate a 1-D or 2-D signal and its axis; return ``(x, xp, axis, dtype)``."""
    x = as_matrix(x, name, ndim=(1, 2), sparse=False, finite=finite)
    ndim = x.ndim
    axis = check_int(axis, "axis", low=-ndim, high=ndim - 1)
    xp = array_namespace(x)
    dtype = working_dtype(x.dtype, xp, name=name)
    return x, xp, axis % ndim, dtype


def pad_pow2(x, axis=-1):
    """Zero-pad `x` along `axis` to the next power of two (a copy; `x` is untouched).

    Parameters
    ----------
    x : array
        1-D or 2-D, any array-API namespace.
    axis : int
        The axis to pad.

    Returns
    -------
    array
        `x` with ``next_pow2(x.shape[axis]) - x.shape[axis]`` zeros appended along `axis`, in the dtype of the
        library's policy (integers promote to float64).

    See Also
    --------
    next_pow2 : The padded length.
    fwht : The transform that needs it.

    Examples
    --------
    >>> import numpy as np
    >>> pad_pow2(np.ones((2, 3))).tolist()
    [[1.0, 1.0, 1.0, 0.0], [1.0, 1.0, 1.0, 0.0]]
    """
    x, xp, axis, dtype = _check_signal(x, axis)
    d = int(x.shape[axis])
    extra = next_pow2(d) - d
    x = xp.astype(x, dtype, copy=True)
    if extra == 0:
        return x
    pad_shape = list(x.shape)
    pad_shape[axis] = extra
    zeros = xp.zeros(tuple(pad_shape), dtype=dtype, **({} if is_dask(x) else {"device": device_of(x)}))
    return xp.concat([x, zeros], axis=axis)


def fwht(x, axis=-1, *, normalized=True, overwrite_x=False, check_finite=True):
    """Fast Walsh-Hadamard transform along `axis`, in natural (Sylvester) order.

    Equal to ``scipy.linalg.hadamard(d) @ x / sqrt(d)`` (for ``axis=0``) with ``normalized=True``, in
    ``O(d log d)`` operations per vector instead of ``O(d^2)``.

    Parameters
    ----------
    x : (d,) or (N, d) or (d, N) array
        Real input; NumPy (Numba kernel), CuPy (CUDA kernel), Dask (per chunk; the transform axis must not be
        split across chunks, it is rechunked if it is) or any other array-API namespace (generic
        butterflies). ``d`` must be a power of two: use :func:`pad_pow2` otherwise.
    axis : int
        The axis to transform; a 2-D `x` is a batch of vectors along the other axis.
    normalized : bool
        Scale by ``1/sqrt(d)``, which makes the transform orthogonal and an involution. ``False`` gives the
        plain ``+-1`` Hadamard transform.
    overwrite_x : bool
        Allow the transform to be written into `x` (NumPy and CuPy, when `x` is writeable and already of a
        floating dtype); by default `x` is never touched. A permission, not a promise, as in scipy: a
        read-only `x` is copied.
    check_finite : bool
        Refuse NaN and Inf (as in scipy.linalg). The check is one more pass over `x`, which costs about as much
        as the transform itself on large batches that do not fit in cache: pass ``False`` when the data are
        known to be finite (then NaN and Inf propagate into the output).

    Returns
    -------
    array
        The transform, of the same shape, in `x`'s floating dtype (float32 stays float32; integers promote to
        float64).

    Raises
    ------
    ValueError
        If ``x.shape[axis]`` is not a power of two, `x` is not 1-D or 2-D, is empty or holds NaN or Inf.
    TypeError
        If `x` is complex or not numeric.

    See Also
    --------
    pad_pow2 : Pad to a power-of-two length first.
    SRHT : The sketch built on this transform.
    scipy.linalg.hadamard : The dense Hadamard matrix.

    Notes
    -----
    The Sylvester-ordered Hadamard matrix is ``H_{2d} = [[H_d, H_d], [H_d, -H_d]]``; its transform takes
    ``log2 d`` butterfly levels of ``d/2`` additions and subtractions each, ``d log2 d`` flops per vector.
    The CPU kernel merges several levels per pass over memory and blocks for the caches; it runs in parallel
    over the vectors of a batch (bound the threads with :func:`lowrank_la.thread_limit`). The normalised
    transform is orthogonal, so it is backward stable: the error is ``O(log2(d) * eps)`` relative to
    ``||x||``, in float32 as in float64.

    References
    ----------
    .. [1] N. Ailon, B. Chazelle, "The fast Johnson-Lindenstrauss transform and approximate nearest
       neighbors", SIAM J. Comput. 39(1), 2009.

    Examples
    --------
    >>> import numpy as np, scipy.linalg
    >>> from lowrank_la.sketch import fwht
    >>> x = np.arange(8.0)
    >>> bool(np.allclose(fwht(x), scipy.linalg.hadamard(8) @ x / np.sqrt(8)))
    True
    >>> bool(np.allclose(fwht(fwht(x)), x))
    True
    """
    check_option(check_finite, "check_finite", (True, False))
    x, xp, axis, dtype = _check_signal(x, axis, finite=check_finite)
    check_option(normalized, "normalized", (True, False))
    check_option(overwrite_x, "overwrite_x", (True, False))
    d = int(x.shape[axis])
    if d & (d - 1):
        raise ValueError(f"x.shape[{axis}]={d} must be a power of two; pad with lowrank_la.sketch.pad_pow2(x, "
                         f"axis={axis}) to {next_pow2(d)}")
    scale = 1.0 / math.sqrt(d) if normalized else 1.0
    if is_dask(x):
        return _fwht_dask(x, axis, scale, dtype)
    if not (is_numpy_namespace(xp) or is_cupy_namespace(xp)):
        moved = xp.moveaxis(xp.astype(x, dtype), axis, -1) if x.ndim == 2 else xp.astype(x, dtype)
        out = fwht_reference(xp.reshape(moved, (-1, d)), xp) * scale
        out = xp.reshape(out, moved.shape)
        return xp.moveaxis(out, -1, axis) if x.ndim == 2 else out
    return _fwht_inplace_backend(x, axis, scale, dtype, xp, overwrite_x)


def _fwht_inplace_backend(x, axis, scale, dtype, xp, overwrite_x):
    """NumPy (Numba) and CuPy (CUDA): transform rows of a C-contiguous work array in place."""
    module = np if is_numpy_namespace(xp) else __import__("cupy")
    kernel = fwht_numba if module is np else fwht_cupy
    rows_view = x if (x.ndim == 1 or axis == 1) else x.T  # the transform runs along the last axis of rows_view
    # overwrite_x is a permission, not a promise (as in scipy): a read-only x is copied, silently
    writable = overwrite_x and x.dtype == dtype and bool(getattr(x.flags, "writeable", True))
    can_reuse = writable and rows_view.flags.c_contiguous
    work = rows_view if can_reuse else module.array(rows_view, dtype=dtype, order="C", copy=True)
    kernel(work.reshape(-1, work.shape[-1]), scale)
    out = work if (x.ndim == 1 or axis == 1) else work.T
    if writable and not can_reuse:
        x[...] = out
        return x
    return out


def _fwht_dask(x, axis, scale, dtype):
    """Per-chunk transform: the transform axis is made one chunk, the other axis keeps its chunks."""
    x = x.astype(dtype)
    if x.ndim == 2:
        x = x.rechunk({axis: -1})

    def block(b):
        # never in place: a block may be a view of the caller's array
        return _fwht_inplace_backend(np.asarray(b), axis, scale, dtype, array_namespace(b), False)

    return x.map_blocks(block, dtype=dtype)

