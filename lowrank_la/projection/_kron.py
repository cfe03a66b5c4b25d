r"""Matrix-free products with ``B = A (W kron I)`` and ``B = A (W^1/2 kron W^1/2)``, and the normal matrix ``B B^T``.

``A`` is the ``m x n^2`` matrix whose i-th row is ``vec(A_i)^T`` for constraint matrices ``A_1..A_m`` (n x n).
Nothing of size ``n^2 x n^2`` is ever formed: with ``H = mat(h)`` every product reduces to n x n matrix
products through the self-adjoint map ``T`` on n x n matrices,

* ``form="identity"``: ``T(X) = X W`` (``(W kron I) vec_F(X) = vec_F(X W)`` for symmetric ``W``),
* ``form="sqrt"``: ``T(X) = W^1/2 X W^1/2``,

so that ``(B h)_i = <A_i, T(H)>``, ``B^T y = vec(T(sum_i y_i A_i))`` and ``(B B^T)_ij = <T(A_i), T(A_j)>``.

The vec convention: ``vec="F"`` (column-major, the default, as in the Kronecker identities
``vec(X B) = (B^T kron I) vec(X)``) or ``vec="C"`` (NumPy's row-major ``ravel``). It only changes how the rows
of ``A`` are laid out: ``vec_C(A_i) = vec_F(A_i^T)``, so ``vec="C"`` with ``A_i`` is ``vec="F"`` with ``A_i^T``;
that is how it is computed here.
"""

from __future__ import annotations

import functools

import numpy as np

from .._backend import array_namespace, working_dtype
from .._validate import as_matrix, check_option, check_shape_agrees

__all__ = ["FORMS", "VECS", "kron_apply_B", "kron_apply_BT", "kron_normal_matrix"]

#: The forms of ``B`` (`form`): ``A (W^1/2 kron W^1/2)`` or ``A (W kron I)``.
FORMS = ("sqrt", "identity")
#: The layouts of ``vec`` (`vec`): column-major or row-major.
VECS = ("F", "C")
_SYM_RTOL = 1e-8  # ||W - W^T||_max <= _SYM_RTOL ||W||_max counts as symmetric (then W is symmetrised)
_PSD_RTOL = 1e-10  # eigenvalues >= -_PSD_RTOL lambda_max count as PSD (and are clipped at 0 for W^1/2)


# --------------------------------------------------------------------------- validation

def _check_stack(A_mats, name="A_mats"):
    """``(m, n, n)`` array of square constraint matrices (by the input rule); returns ``(A_mats, m, n)``."""
    A_mats = as_matrix(A_mats, name, ndim=3, sparse=False)
    m, n, n2 = (int(s) for s in A_mats.shape)
    check_shape_agrees(f"{name}.shape[2]", n2, n, f"{name}.shape[1] (the A_i are n x n)")
    return A_mats, m, n


def _check_weight(W, n, xp, dtype, *, name="W", definite=False):
    """Symmetric PSD (or positive definite) ``n x n`` weight; returns ``(W_sym, eigenvalues, eigenvectors)``."""
    W = as_matrix(W, name, sparse=False)
    check_shape_agrees(f"{name}.shape[0]", W.shape[0], n, "n (the A_i are n x n)")
    check_shape_agrees(f"{name}.shape[1]", W.shape[1], n, "n (the A_i are n x n)")
    W = xp.astype(W, dtype)
    scale = float(xp.max(xp.abs(W)))
    if float(xp.max(xp.abs(W - W.T))) > _SYM_RTOL * max(scale, 1e-300):
        raise ValueError(f"{name} must be symmetric, but ||{name} - {name}^T||_max = "
                         f"{float(xp.max(xp.abs(W - W.T))):.3g} exceeds {_SYM_RTOL:g} ||{name}||_max")
    W = (W + W.T) / 2
    lam, Q = xp.linalg.eigh(W)
    low, high = float(lam[0]), float(lam[-1])
    if definite and not low > _PSD_RTOL * max(high, 0.0):
        raise ValueError(f"{name} must be symmetric positive definite, but its smallest eigenvalue is {low:.3g} "
                         f"(largest {high:.3g})")
    if low < -_PSD_RTOL * max(abs(high), 1e-300):
        raise ValueError(f"{name} must be symmetric positive semidefinite, but its smallest eigenvalue is "
                         f"{low:.3g} (largest {high:.3g})")
    return W, lam, Q


def _namespace_and_dtype(*named):
    """Shared namespace and working dtype of ``(array, name)`` pairs; non-arrays, non-numeric and complex dtypes
    are refused with ``TypeError`` naming the argument."""
    for a, name in named:
        if not hasattr(a, "shape") or not hasattr(a, "dtype"):
            raise TypeError(f"{name} must be an array, got {type(a).__name__}")
    xp = array_namespace(*(a for a, _ in named))
    dtype = None
    for a, name in named:
        working_dtype(a.dtype, xp, name=name)  # the check, by name; the working dtype is that of the result type
        dtype = a.dtype if dtype is None else xp.result_type(dtype, a.dtype)
    return xp, working_dtype(dtype, xp, name=named[0][1])


# --------------------------------------------------------------------------- the map T and its pieces

def _sqrt_from_eig(lam, Q, xp):
    """``W^1/2 = Q diag(sqrt(max(lam, 0))) Q^T``."""
    root = xp.sqrt(xp.clip(lam, 0.0, None))
    return (Q * root) @ Q.T


def _transpose(X):
    xp = array_namespace(X)
    return xp.permute_dims(X, (0, 2, 1))


def transform(X, factor, form):
    """``T(X)`` for one n x n matrix (exact orientation)."""
    return X @ factor if form == "identity" else factor @ X @ factor


def gather(A, y):
    """``sum_i y_i A_i`` for a stack ``A`` (m, n, n) and ``y`` (m,) or ``(m, N)`` -> (n, n) or (N, n, n)."""
    xp = array_namespace(A, y)
    m, n, _ = A.shape
    flat = xp.reshape(A, (m, n * n))
    if y.ndim == 1:
        return xp.reshape(y @ flat, (n, n))
    return xp.reshape(y.T @ flat, (y.shape[1], n, n))


def pair(A, X):
    """``[<A_i, X>]_i`` for a stack ``A`` (m, n, n) and one n x n ``X`` (or a stack ``(N, n, n)`` -> (m, N))."""
    xp = array_namespace(A, X)
    m, n, _ = A.shape
    flat = xp.reshape(A, (m, n * n))
    if X.ndim == 2:
        return flat @ xp.reshape(X, (n * n,))
    return flat @ xp.reshape(X, (X.shape[0], n * n)).T


def mat_f(h, n):
    """``mat_F(h)``: the n x n matrix whose column-major vec is `h`."""
    xp = array_namespace(h)
    return xp.reshape(h, (n, n)).T


def vec_f(X):
    """Column-major ``vec_F(X)`` of an n x n matrix."""
    xp = array_namespace(X)
    return xp.reshape(X.T, (X.shape[0] * X.shape[1],))


def canonical_stack(A, vec):
    """The stack in the column-major convention: ``A`` for ``vec="F"``, the ``A_i^T`` for ``vec="C"``."""
    return A if vec == "F" else _transpose(A)


def _prepare(A_mats, W, form, vec, extra=()):
    """Validated options and stack, the namespace, the working dtype, ``T``'s factor and the other array
    arguments; `extra` holds their ``(array, name, ndim)``, converted by the input rule."""
    check_option(form, "form", FORMS)
    check_option(vec, "vec", VECS)
    A_mats, m, n = _check_stack(A_mats)
    W = as_matrix(W, "W", sparse=False)
    others = [as_matrix(a, name, ndim=ndim, sparse=False) for a, name, ndim in extra]
    xp, dtype = _namespace_and_dtype((A_mats, "A_mats"), (W, "W"), *zip(others, (e[1] for e in extra)))
    Wsym, lam, Q = _check_weight(W, n, xp, dtype)
    factor = Wsym if form == "identity" else _sqrt_from_eig(lam, Q, xp)
    A = canonical_stack(xp.astype(A_mats, dtype), vec)
    return xp, dtype, m, n, A, factor, others


# --------------------------------------------------------------------------- public products

def kron_apply_B(A_mats, W, h, *, form="sqrt", vec="F"):
    r"""Matrix-free ``B h`` with ``B = A (W kron I)`` or ``B = A (W^1/2 kron W^1/2)``.

    Parameters
    ----------
    A_mats : (m, n, n) array
        The constraint matrices ``A_i``; row ``i`` of ``A`` is ``vec(A_i)^T``.
    W : (n, n) array
        Symmetric positive semidefinite weight.
    h : (n*n,) or (n, n) array
        The vector (or its n x n matrix ``mat(h)``, read with the same vec convention).
    form : {"sqrt", "identity"}
        ``"sqrt"``: ``B = A (W^1/2 kron W^1/2)`` (the SDP normal equations); ``"identity"``: ``B = A (W kron I)``.
    vec : {"F", "C"}
        How ``vec`` lays out a matrix: ``"F"`` column-major (default), ``"C"`` row-major (``numpy.ravel``).

    Returns
    -------
    (m,) array
        ``B h``, in the inputs' namespace and working dtype (float32 stays float32).

    Raises
    ------
    ValueError
        If a shape does not fit, ``W`` is not symmetric PSD, or an input holds NaN or Inf.
    TypeError
        If an argument is not an array, or has a complex or non-numeric dtype.

    See Also
    --------
    kron_apply_BT : The transpose product ``B^T y``.
    kron_normal_matrix : The normal matrix ``B B^T``.
    KroneckerProjectionMaintainer : The projection onto the row space of ``B``, maintained as ``W`` changes.

    Notes
    -----
    ``(B h)_i = <A_i, T(mat(h))>`` with ``T(X) = X W`` (identity, column-major) or ``W^1/2 X W^1/2`` (sqrt).
    Cost ``O(n^3 + m n^2)`` (an eigendecomposition of ``W`` for the sqrt form); no ``n^2 x n^2`` object.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.projection import kron_apply_B
    >>> rng = np.random.default_rng(0)
    >>> A, W, h = rng.standard_normal((3, 4, 4)), np.diag([1.0, 2, 3, 4]), rng.standard_normal(16)
    >>> dense = A.reshape(3, 16, order="F") @ np.kron(W, np.eye(4))   # rows vec_F(A_i)^T
    >>> bool(np.allclose(kron_apply_B(A, W, h, form="identity"), dense @ h))
    True
    """
    xp, dtype, m, n, A, factor, (h,) = _prepare(A_mats, W, form, vec, ((h, "h", (1, 2)),))
    H, _ = as_canonical_matrix(h, n, vec, xp, dtype, name="h")
    return pair(A, transform(H, factor, form))


def kron_apply_BT(A_mats, W, y, *, form="sqrt", vec="F", shape="vector"):
    r"""Matrix-free ``B^T y`` (see :func:`kron_apply_B` for ``B``, `form` and `vec`).

    Parameters
    ----------
    A_mats : (m, n, n) array
        The constraint matrices ``A_i``, as in :func:`kron_apply_B`.
    W : (n, n) array
        Symmetric positive semidefinite.
    y : (m,) array
        The vector to multiply, one entry per constraint.
    form, vec : str
        As in :func:`kron_apply_B`.
    shape : {"vector", "matrix"}
        Return ``vec(.)`` of length ``n^2`` (default) or the n x n matrix ``mat(B^T y)``.

    Returns
    -------
    (n*n,) or (n, n) array
        ``B^T y = vec(T(sum_i y_i A_i))``.

    Raises
    ------
    ValueError
        If a shape does not fit, ``W`` is not symmetric PSD, or an input holds NaN or Inf.
    TypeError
        If an argument is not an array, or has a complex or non-numeric dtype.

    See Also
    --------
    kron_apply_B : The product ``B h``.
    kron_normal_matrix : The normal matrix ``B B^T``.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.projection import kron_apply_B, kron_apply_BT
    >>> rng = np.random.default_rng(0)
    >>> A, W = rng.standard_normal((3, 4, 4)), np.diag([1.0, 2, 3, 4])
    >>> h, y = rng.standard_normal(16), rng.standard_normal(3)
    >>> bool(np.isclose(y @ kron_apply_B(A, W, h), h @ kron_apply_BT(A, W, y)))   # the adjoint
    True
    """
    check_option(shape, "shape", ("vector", "matrix"))
    xp, dtype, m, n, A, factor, (y,) = _prepare(A_mats, W, form, vec, ((y, "y", 1),))
    check_shape_agrees("y.shape[0]", y.shape[0], m, "m = A_mats.shape[0]")
    X = transform(gather(A, xp.astype(y, dtype)), factor, form)
    return vec_f(X) if shape == "vector" else user_matrix(X, vec)


def kron_normal_matrix(A_mats, W, *, form="sqrt", vec="F"):
    r"""The normal matrix ``M = B B^T`` (m x m), as one batched GEMM and a Gram matrix.

    Parameters
    ----------
    A_mats : (m, n, n) array
        The constraint matrices ``A_i``, as in :func:`kron_apply_B`.
    W : (n, n) array
        Symmetric positive semidefinite.
    form, vec : str
        As in :func:`kron_apply_B`.

    Returns
    -------
    (m, m) array
        ``M_ij = <T(A_i), T(A_j)>``: ``tr(A_i^T W A_j W)`` for ``form="sqrt"``; ``tr(W A_i^T A_j W)`` (column-major)
        or ``tr(A_i^T W^2 A_j)`` (row-major) for ``form="identity"``. Exactly symmetric.

    Raises
    ------
    ValueError
        If a shape does not fit, ``W`` is not symmetric PSD, or an input holds NaN or Inf.
    TypeError
        If an argument is not an array, or has a complex or non-numeric dtype.

    See Also
    --------
    kron_apply_B : The matrix-free product with ``B``.
    KroneckerProjectionMaintainer : Maintains the projection built on this matrix as ``W`` changes.

    Notes
    -----
    The stack ``T(A_i)`` costs ``2 m n^3`` flops (batched products, a few matrices at a time), the Gram matrix
    ``m^2 n^2`` (half for symmetric ``A_i`` in the sqrt form, from the upper triangles of the symmetric
    ``T(A_i)``). With symmetric ``A_i`` and ``m > n(n+1)/2`` it is singular (``rank <= n(n+1)/2``).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.projection import kron_normal_matrix
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((3, 4, 4)); A = A + A.transpose(0, 2, 1)
    >>> W = np.diag([1.0, 2, 3, 4])
    >>> M = kron_normal_matrix(A, W)
    >>> bool(np.isclose(M[0, 1], np.trace(A[0] @ W @ A[1] @ W)))
    True
    """
    xp, dtype, m, n, A, factor, _ = _prepare(A_mats, W, form, vec)
    return normal_matrix(A, factor, form, symmetric=is_symmetric_stack(A, xp))


def _blocks(A, chunk):
    """``(rows, A[rows])`` for consecutive slices of `chunk` matrices of a stack (array-API slices stay in range)."""
    m = A.shape[0]
    for start in range(0, m, chunk):
        rows = slice(start, min(start + chunk, m))
        yield rows, A[rows, ...]


def is_symmetric_stack(A, xp, chunk=64):
    """Whether every ``A_i`` of a stack is symmetric to ``1e-12`` of the largest entry.

    Compared `chunk` matrices at a time: the difference of the whole stack with its transpose is a temporary the
    size of the stack, 5x slower at (2048, 128, 128), where the stack no longer fits in cache.
    """
    asymmetry = max(float(xp.max(xp.abs(block - _transpose(block)))) for _, block in _blocks(A, chunk))
    return bool(asymmetry <= 1e-12 * float(xp.max(xp.abs(A))))


def as_canonical_matrix(h, n, vec, xp, dtype, *, name="h"):
    """``mat_F(h)`` of the canonical (column-major) problem, and whether `h` was given as an n x n matrix.

    A flat `h` is the same vector under both conventions (only the rows of ``A`` are laid out differently), so
    it is read column-major; an n x n matrix ``H`` stands for ``vec(H)`` in the caller's convention.
    """
    h = xp.astype(as_matrix(h, name, ndim=(1, 2), sparse=False), dtype)
    if h.ndim == 2:
        check_shape_agrees(f"{name}.shape[0]", h.shape[0], n, "n")
        check_shape_agrees(f"{name}.shape[1]", h.shape[1], n, "n")
        return (h if vec == "F" else h.T), True
    check_shape_agrees(f"{name}.shape[0]", h.shape[0], n * n, "n^2")
    return mat_f(h, n), False


def user_matrix(X, vec):
    """The user-facing ``mat(.)`` of a canonical-problem matrix (``X^T`` under ``vec="C"``)."""
    return X if vec == "F" else X.T


# --------------------------------------------------------------------------- symmetric stacks, packed

@functools.lru_cache(maxsize=8)
def _upper_positions(n):
    """Flat (row-major) positions of the upper triangle of an n x n matrix, whether each is diagonal, and for
    each entry of the n x n matrix its position in the packed triangle (read-only arrays, cached)."""
    rows, cols = np.triu_indices(n)
    packed = np.empty((n, n), dtype=np.int64)
    packed[rows, cols] = packed[cols, rows] = np.arange(rows.size)
    arrays = (rows * n + cols, rows == cols, packed.reshape(-1))
    for a in arrays:
        a.flags.writeable = False
    return arrays


def pack_upper(X):
    """The upper triangles (row-major order) of a stack (..., n, n) -> (..., n(n+1)/2); of symmetric matrices,
    the whole of them."""
    xp = array_namespace(X)
    n = X.shape[-1]
    flat = xp.reshape(X, (*X.shape[:-2], n * n))
    return xp.take(flat, xp.asarray(_upper_positions(n)[0]), axis=-1)


def unpack_upper(P, n):
    """The symmetric matrices (..., n, n) whose upper triangles :func:`pack_upper` gave as `P`."""
    xp = array_namespace(P)
    full = xp.take(P, xp.asarray(_upper_positions(n)[2]), axis=-1)
    return xp.reshape(full, (*P.shape[:-1], n, n))


def pair_packed(P, X):
    """``[<A_i, X>]_i`` for symmetric ``A_i`` held as ``P = pack_upper(A)`` (m, n(n+1)/2) and one n x n `X`:
    ``<A_i, X> = <A_i, (X + X^T) / 2>``, the off-diagonal entries counted twice. It reads half of ``A``."""
    xp = array_namespace(P, X)
    diagonal = _upper_positions(X.shape[0])[1]
    coefficient = xp.asarray(np.where(diagonal, 0.5, 1.0), dtype=X.dtype)
    return P @ (pack_upper(X + X.T) * coefficient)


def gather_packed(P, y, n):
    """``sum_i y_i A_i`` (n x n) for symmetric ``A_i`` held as ``P = pack_upper(A)`` and ``y`` (m,)."""
    return unpack_upper(y @ P, n)


def normal_matrix(A, factor, form, *, symmetric, chunk=16):
    """``M = [<T(A_i), T(A_j)>]`` of a stack ``A`` (m, n, n), exactly symmetric.

    ``T(A_i)`` is formed by batched products over `chunk` matrices at a time (one GEMM over the whole stack
    needs a transposed copy between its two products and temporaries the size of the stack: 2x the time at
    (4128, 128, 128) on one thread). With `symmetric` ``A_i`` in the sqrt form the ``T(A_i)`` are symmetric and
    only their upper triangles enter, the off-diagonal entries scaled by ``sqrt(2)``: ``n(n+1)/2`` columns
    instead of ``n^2``, half the ``m^2 n^2`` flops of the product and half its memory.
    """
    xp = array_namespace(A)
    m, n = A.shape[0], A.shape[1]
    packed = symmetric and form == "sqrt"
    upper, diagonal, _ = _upper_positions(n)
    weight = xp.asarray(np.where(diagonal, 1.0, np.sqrt(2.0)), dtype=A.dtype)
    rows = xp.empty((m, upper.size if packed else n * n), dtype=A.dtype)
    for rows_of_block, block in _blocks(A, chunk):
        image = block @ factor if form == "identity" else factor @ block @ factor
        rows[rows_of_block, ...] = pack_upper(image) * weight if packed else xp.reshape(image, (block.shape[0], n * n))
    M = rows @ rows.T
    return (M + M.T) / 2
