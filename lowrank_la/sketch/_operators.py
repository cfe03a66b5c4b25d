"""Sketch operators: random k x d linear maps with ``E ||S x||^2 = ||x||^2``, behind one interface."""

from __future__ import annotations

import math

import numpy as np
import scipy.fft
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .._backend import array_namespace, as_rng, device_of, is_cupy_namespace, is_numpy_namespace, working_dtype
from .._kernels.csr_dense import csr_matmat
from .._kernels.fwht import fwht_numba, rows_to_columns
from .._kernels.sparse_apply import pack_columns, rows_times_sparse_t
from .._validate import (
    as_matrix,
    check_int,
    check_option,
    check_rank,
    check_real,
    check_shape_agrees,
    is_dask,
    is_sparse,
    refuse_random_state,
)
from ._fwht import fwht, next_pow2
from ._jl import jl_min_dim

__all__ = [
    "SKETCH_KINDS",
    "Achlioptas",
    "CountSketch",
    "FJLT",
    "Gaussian",
    "SRHT",
    "SketchOperator",
    "SparseSign",
    "VerySparse",
    "make_sketch",
]


_DENSE_ABOVE = 0.05  # a sparse sketch denser than this is applied as a dense matrix (BLAS)
_CHUNK_BYTES = 4 << 20  # rows mixed at a time by SRHT and FJLT: a few MiB, to stay in the L2/L3 caches
_EXPLICIT_CACHE_BYTES = 256 << 20  # SRHT / FJLT as an explicit d x k matrix: kept on the operator up to this size
_EXPLICIT_BLOCK_BYTES = 32 << 20  # above it, formed and applied in blocks of columns of S of about this size


class SketchOperator:
    """A random ``k x d`` linear map ``S`` (``k = n_components``, ``d = n_features``).

    Every sketch kind shares this interface:

    * ``S @ X`` for ``X`` of shape ``(d, N)`` or ``(d,)``, and ``S.apply(X, axis=-1)`` for a batch of rows
      ``X`` of shape ``(N, d)`` (``axis=0`` is ``S @ X``);
    * ``S.shape``, ``S.dtype`` (of the stored random numbers), ``S.T`` (the adjoint map), ``S.todense()``,
      ``S.as_linear_operator()``;
    * scikit-learn's transformer methods ``fit``, ``transform`` and ``fit_transform`` on rows;
    * ``rng`` as in scipy: the same seed gives the same operator.

    Inputs may be NumPy arrays, scipy.sparse matrices or arrays, Dask arrays (the result stays lazy), CuPy
    arrays, or arrays of any array-API namespace; the result has the input's floating dtype (float32 stays
    float32; integers and booleans promote to float64). Inputs are never modified.

    Parameters
    ----------
    n_components : int or "auto"
        Target dimension ``k >= 1``; ``"auto"`` (the kinds that support it) takes ``jl_min_dim(n_samples, eps)``
        at :meth:`fit`.
    n_features : int, optional
        Input dimension ``d >= 1``; if omitted, taken from ``X`` at :meth:`fit`.
    rng : None, int or numpy.random.Generator
        Seed or generator of the random draw, as in scipy: the same seed gives the same operator.

    See Also
    --------
    make_sketch : Build any sketch by name.
    Gaussian : The dense Gaussian sketch.
    SparseSign : The sparse sign sketch, for sparse data.
    SRHT : The subsampled randomized Hadamard transform, fast on dense data.
    lowrank_la.sklearn.SparseSignProjection : A sketch as a scikit-learn transformer.
    """

    kind = ""
    _needs_k_le_d = False  # kinds that select or mix rows of a d-dimensional transform

    @refuse_random_state
    def __init__(self, n_components, n_features=None, *, rng=None):
        self.n_components = n_components
        self.n_features = n_features
        self.rng = rng
        self._check_params()
        if n_features is not None and n_components != "auto":
            self._setup(check_int(n_features, "n_features", low=1), None)

    # ---------------------------------------------------------------- set-up
    def _check_params(self):
        if self.n_components != "auto":
            check_int(self.n_components, "n_components", low=1)
        if self.n_features is not None:
            check_int(self.n_features, "n_features", low=1)
            if self._needs_k_le_d and self.n_components != "auto":
                check_rank(self.n_components, (self.n_features,), "n_components", upper=self._max_k(),
                           upper_text=f"{self._max_k_text()} = {self._max_k()}")
        if self.rng is not None:
            as_rng(self.rng)  # refuses a bad rng now rather than at fit time

    def _max_k(self):
        return int(self.n_features)

    def _max_k_text(self):
        return "n_features"

    def _setup(self, d, n_samples):
        """Resolve k, then draw the random components for input dimension `d`."""
        k = self.n_components
        if k == "auto":
            if n_samples is None:
                raise ValueError("n_components='auto' needs the number of samples: call fit(X) first")
            k = jl_min_dim(n_samples, self._eps())
        self.n_features_in_ = d
        self.n_components_ = int(k)
        if self._needs_k_le_d:
            check_rank(self.n_components_, (d,), "n_components", upper=self._max_k_for(d),
                       upper_text=f"{self._max_k_text()} = {self._max_k_for(d)}")
        self._cache = {}
        self._draw(as_rng(self.rng), d, self.n_components_, n_samples)

    def _max_k_for(self, d):
        return d

    def _eps(self):
        return 0.1

    def _draw(self, gen, d, k, n_samples):
        raise NotImplementedError

    @property
    def shape(self) -> tuple[int, int]:
        """The shape ``(k, d)`` of the map (``ValueError`` before ``n_features`` is known).

        See Also
        --------
        SketchOperator.fit : Fix ``d`` from the data.
        """
        self._check_fitted()
        return (self.n_components_, self.n_features_in_)

    @property
    def dtype(self):
        """The dtype of the stored random numbers (float64; products take the input's floating dtype).

        See Also
        --------
        SketchOperator.todense : The matrix, in this dtype.
        """
        return np.dtype(np.float64)

    def _check_fitted(self):
        if not hasattr(self, "n_components_"):
            raise ValueError(f"this {type(self).__name__} has no n_features yet: pass n_features or call fit(X)")

    # ---------------------------------------------------------------- scikit-learn transformer
    def fit(self, X, y=None):
        """Draw the operator for the rows of `X`.

        Parameters
        ----------
        X : (N, d) array_like or sparse matrix
            Training rows; only the shape is used (``d`` must equal `n_features` when that was given).
        y : None
            Ignored; present for scikit-learn's API.

        Returns
        -------
        SketchOperator
            ``self``, fitted.

        See Also
        --------
        SketchOperator.transform : Sketch the rows of the data.
        SketchOperator.fit_transform : Both in one call.
        """
        shape = _check_input(X, "X", axis=-1, ndim=(2,))[2]
        n_samples, d = shape
        if self.n_features is not None:
            check_shape_agrees("X.shape[1]", d, self.n_features, "n_features")
        self._setup(d, n_samples)
        return self

    def transform(self, X):
        """Sketch the rows of `X`: ``(N, d) -> (N, k)``.

        Parameters
        ----------
        X : (N, d) array_like or sparse matrix
            Rows to sketch (any input :meth:`apply` accepts).

        Returns
        -------
        (N, k) array
            ``X @ S.T``, in the input's namespace and floating dtype.

        See Also
        --------
        SketchOperator.apply : Apply the map along any axis.
        SketchOperator.fit : Draw the map first.
        """
        return self.apply(X, axis=-1)

    def fit_transform(self, X, y=None):
        """``fit(X)`` then ``transform(X)``.

        Parameters
        ----------
        X : (N, d) array_like or sparse matrix
            Rows to fit on and sketch.
        y : None
            Ignored; present for scikit-learn's API.

        Returns
        -------
        (N, k) array
            ``X @ S.T`` for the freshly drawn ``S``.

        See Also
        --------
        SketchOperator.fit : Draw the map.
        SketchOperator.transform : Sketch the rows.
        """
        return self.fit(X).transform(X)

    # ---------------------------------------------------------------- applying the map
    def __matmul__(self, X):
        return self.apply(X, axis=0)

    def apply(self, X, axis=-1):
        """Apply ``S`` along `axis` of `X`: the axis of length ``d`` becomes one of length ``k``.

        Parameters
        ----------
        X : (N, d) or (d, N) or (d,) array or sparse matrix
            The vectors to sketch. A Dask array (any chunking) gives a lazy result and is never gathered: a
            chunk is sketched with the columns of ``S`` it meets, and chunks split along the ``d`` axis are
            summed (see the "On Dask" section of the sketch docs).
        axis : int
            The axis of length ``d``: ``-1`` (or 1) for a batch of rows, ``0`` for columns (``S @ X``).

        Returns
        -------
        array
            `X` with its axis of length ``d`` replaced by one of length ``k`` (``(N, k)``, ``(k, N)`` or
            ``(k,)``), in the input's namespace and floating dtype; lazy for Dask input.

        See Also
        --------
        SketchOperator.transform : The same along the rows, scikit-learn style.
        SketchOperator.T : The adjoint map.
        """
        self._check_fitted()
        X, xp, shape, dtype, axis = _check_input(X, "X", axis=axis)
        check_shape_agrees(f"X.shape[{axis}]", shape[axis], self.n_features_in_, "n_features")
        if len(shape) == 1:
            return self.apply(X[None, :] if not is_sparse(X) else X.reshape(1, -1), axis=-1)[0]
        if is_dask(X):
            return self._apply_dask(X.astype(dtype), axis)
        if is_numpy_namespace(xp):
            X = X.astype(dtype) if X.dtype != dtype else X
            return self._rows(X) if axis == 1 else self._cols(X)
        X = xp.astype(X, dtype)
        return self._rows_xp(X, xp) if axis == 1 else self._rows_xp(X.T, xp).T

    def _rows(self, X):
        """NumPy/scipy.sparse: ``X @ S.T`` for (N, d) rows (dense or sparse); never modifies X."""
        raise NotImplementedError

    def _cols(self, X):
        """NumPy/scipy.sparse: ``S @ X`` for (d, N) columns. By default through the rows path."""
        return self._rows(X.T.tocsr() if is_sparse(X) else X.T).T

    def _rows_xp(self, X, xp):
        """Any other namespace (CuPy, array-api-strict, ...): ``X @ S.T`` with the namespace's own ops."""
        return xp.matmul(X, self._matrix_in(xp, X).T)

    def _cached(self, *key, make):
        """``make()``, computed once per operator draw and `key` (derived matrices: casts, packings)."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def _matrix_in(self, xp, like):
        """The k x d matrix, dense, in namespace `xp` and the dtype of `like` (cached)."""
        return self._cached(xp.__name__, str(like.dtype),
                            make=lambda: xp.asarray(self.todense(), dtype=like.dtype, device=device_of(like)))

    def _apply_dask(self, X, axis):
        """Dask input: lazy, chunk by chunk, never gathered.

        Where the d axis is one chunk, each chunk is sketched on its own (``map_blocks``). Where it is split,
        ``S @ X`` is the sum over the d-chunks ``X_j`` of ``S[:, j] @ X_j``: each task receives one chunk of X
        and only the columns of S that chunk needs, and the ``(k, N)`` partial sketches are summed by a tree
        reduction (rows ``X @ S.T`` go through the same sum on ``X.T``, a lazy view).
        """
        k = self.n_components_
        if axis == 1:
            if X.numblocks[1] == 1:  # rows are chunked: each chunk of rows is sketched on its own
                return X.map_blocks(lambda b: self._rows(np.asarray(b)), chunks=(X.chunks[0], (k,)),
                                    dtype=X.dtype)
            return self._cols_dask(X.T).T
        if X.numblocks[0] == 1:
            return X.map_blocks(lambda b: self._cols(np.asarray(b)), chunks=((k,), X.chunks[1]), dtype=X.dtype)
        return self._cols_dask(X)

    def _cols_dask(self, X):
        """``S @ X`` for a Dask X of shape (d, N) split along d: ``sum_j S[:, j] @ X_j`` over its d-chunks."""
        import dask
        import dask.array as da

        X = self._align_dask(X)
        k, dtype = self.n_components_, X.dtype
        bounds = np.cumsum((0,) + X.chunks[0])
        pieces = [self._column_piece(int(lo), int(hi), dtype) for lo, hi in zip(bounds[:-1], bounds[1:])]
        apply = dask.delayed(self._apply_piece, pure=True)
        columns = []
        for j, width in enumerate(X.chunks[1]):
            parts = [da.from_delayed(apply(piece, X.blocks[i, j]), (k, width), dtype=dtype)
                     for i, piece in enumerate(pieces) if piece is not None]
            columns.append(da.stack(parts).sum(axis=0) if parts else da.zeros((k, width), dtype=dtype))
        return da.concatenate(columns, axis=1)

    def _align_dask(self, X):
        """The d-chunks :meth:`_column_piece` can work on (the Hadamard kinds need aligned powers of two)."""
        return X

    def _column_piece(self, lo, hi, dtype):
        """What a task needs of ``S[:, lo:hi]`` to sketch the rows ``lo:hi`` of X (None: those columns are 0):
        a dense or sparse matrix ``S[:, lo:hi]`` in `dtype`, unless :meth:`_apply_piece` is overridden."""
        raise NotImplementedError

    @staticmethod
    def _apply_piece(piece, block):
        """``S[:, lo:hi] @ X[lo:hi]`` for one chunk, from :meth:`_column_piece`'s `piece`."""
        return np.asarray(piece @ np.asarray(block))

    # ---------------------------------------------------------------- the adjoint and views
    def _adjoint_cols(self, Y):
        """``S.T @ Y`` for (k, N) NumPy Y."""
        raise NotImplementedError

    @property
    def T(self):
        """The adjoint map ``S.T`` (d x k): ``S.T @ Y`` for Y of shape (k, N).

        See Also
        --------
        SketchOperator.apply : The map itself.
        SketchOperator.as_linear_operator : The map and its adjoint as a scipy LinearOperator.
        """
        self._check_fitted()
        return _Transposed(self)

    def todense(self):
        """The k x d matrix as a dense array (for tests and small sizes).

        Returns
        -------
        (k, d) numpy.ndarray
            The entries of ``S``, float64.

        See Also
        --------
        SketchOperator.apply : The map applied without forming it.
        """
        self._check_fitted()
        return self._cols(np.eye(self.n_features_in_))

    def as_linear_operator(self) -> LinearOperator:
        """The map as a scipy ``LinearOperator``.

        Returns
        -------
        scipy.sparse.linalg.LinearOperator
            A ``(k, d)`` operator with the products of ``S`` and ``S.T``.

        See Also
        --------
        SketchOperator.T : The adjoint map.
        SketchOperator.todense : The dense matrix.
        """
        self._check_fitted()
        return LinearOperator(self.shape, matvec=self.__matmul__, matmat=self.__matmul__,
                              rmatvec=self.T.__matmul__, rmatmat=self.T.__matmul__, dtype=np.float64)

    def __repr__(self) -> str:
        size = f"{self.n_components_}x{self.n_features_in_}" if hasattr(self, "n_components_") else "unfitted"
        return f"<{type(self).__name__} {size}>"


class _Transposed:
    """``S.T``: the d x k adjoint of a sketch (NumPy inputs)."""

    def __init__(self, sketch):
        self._sketch = sketch
        self.shape = sketch.shape[::-1]
        self.dtype = sketch.dtype

    @property
    def T(self):
        return self._sketch

    def __matmul__(self, Y):
        Y, _, shape, dtype, _ = _check_input(Y, "Y", axis=0)
        check_shape_agrees("Y.shape[0]", shape[0], self.shape[1], "n_components")
        Y = np.asarray(Y.toarray() if is_sparse(Y) else Y, dtype=dtype)
        out = self._sketch._adjoint_cols(Y if Y.ndim == 2 else Y[:, None])
        return out if Y.ndim == 2 else out[:, 0]


# -------------------------------------------------------------------- input checks

def _check_input(X, name, *, axis, ndim=(1, 2), sparse=True):
    """Convert and validate an input to a sketch by the input rule (lists, DataFrames, any sparse format unless
    `sparse` is false).

    Returns ``(X, xp, shape, working dtype, axis in [0, ndim))``.
    """
    X = as_matrix(X, name, ndim=ndim, sparse=sparse)
    shape = tuple(int(s) for s in X.shape)
    axis = check_int(axis, "axis", low=-len(shape), high=len(shape) - 1) % len(shape)
    xp = array_namespace(X)
    dtype = working_dtype(X.dtype, xp, name=name)
    return X, xp, shape, dtype, axis


# -------------------------------------------------------------------- explicit matrices

class Gaussian(SketchOperator):
    """Dense Gaussian sketch: i.i.d. ``N(0, 1/k)`` entries.

    Parameters
    ----------
    n_components : int or "auto"
        Target dimension ``k``; ``"auto"`` takes ``jl_min_dim(n_samples, eps)`` at :meth:`fit`.
    n_features : int, optional
        Input dimension ``d``; if omitted, taken from ``X`` at :meth:`fit`.
    eps : float
        Distortion used by ``n_components="auto"``.
    rng : None, int or numpy.random.Generator
        Seed or generator of the random draw, as in scipy: the same seed gives the same operator.

    See Also
    --------
    SparseSign : Sparse sign entries, cheaper to apply to sparse data.
    SRHT : A structured sketch, applied in ``O(d log d)`` per vector.
    make_sketch : Build it by name, ``"gaussian"``.

    Notes
    -----
    Cost ``O(k d)`` per vector and ``k d`` stored numbers. The reference sketch: the best embedding
    constants, and the slowest to apply.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.sketch import Gaussian
    >>> S = Gaussian(20, 100, rng=0)
    >>> S.shape, (S @ np.ones(100)).shape
    ((20, 100), (20,))
    """

    kind = "gaussian"

    @refuse_random_state
    def __init__(self, n_components, n_features=None, *, eps=0.1, rng=None):
        self.eps = eps
        super().__init__(n_components, n_features, rng=rng)

    def _check_params(self):
        check_real(self.eps, "eps", low=0, high=1, low_inclusive=False, high_inclusive=False)
        super()._check_params()

    def _eps(self):
        return self.eps

    def _draw(self, gen, d, k, n_samples):
        self._matrix = gen.standard_normal((k, d)) / math.sqrt(k)

    def _cast(self, dtype):
        return self._cached("cast", str(dtype), make=lambda: self._matrix.astype(dtype))

    def _rows(self, X):
        M = self._cast(X.dtype)
        return np.asarray(X @ M.T)

    def _cols(self, X):
        return np.asarray(self._cast(X.dtype) @ X)

    def _column_piece(self, lo, hi, dtype):
        return np.ascontiguousarray(self._cast(dtype)[:, lo:hi])

    def _adjoint_cols(self, Y):
        return self._cast(Y.dtype).T @ Y

    def todense(self):
        """The k x d matrix as a dense array (for tests and small sizes).

        Returns
        -------
        (k, d) numpy.ndarray
            The entries of ``S``, float64 (a copy).

        See Also
        --------
        SketchOperator.apply : The map applied without forming it.
        """
        self._check_fitted()
        return self._matrix.copy()


class _SparseMatrixSketch(SketchOperator):
    """A sketch held as a k x d CSR matrix (sparse sign, CountSketch, very sparse, Achlioptas)."""

    def _set_matrix(self, rows, cols, values, k, d):
        self._matrix = _csr(values, rows, cols, (k, d))

    def _cast(self, dtype):
        return self._cached("cast", str(dtype), make=lambda: self._matrix.astype(dtype))

    def _rows(self, X):
        M = self._cast(X.dtype)
        if is_sparse(X):
            return np.asarray((sp.csr_array(X) @ M.T).toarray())
        if self._is_dense_enough():
            return X @ self._dense(X.dtype).T
        return rows_times_sparse_t(X, self._packed(X.dtype))

    def _is_dense_enough(self):
        """Above a few percent of nonzeros a BLAS product beats any sparse kernel (Achlioptas: 1/3)."""
        k, d = self._matrix.shape
        return self._matrix.nnz > _DENSE_ABOVE * k * d

    def _dense(self, dtype):
        return self._cached("dense", str(dtype), make=lambda: self._matrix.toarray().astype(dtype, copy=False))

    def _packed(self, dtype):
        return self._cached("packed", str(dtype), make=lambda: pack_columns(self._matrix, dtype))

    def _cols(self, X):
        if not is_sparse(X) and self._is_dense_enough():
            return self._dense(X.dtype) @ X
        M = self._cast(X.dtype)
        out = M @ (sp.csc_array(X) if is_sparse(X) else X)
        return np.asarray(out.toarray() if sp.issparse(out) else out)

    def _column_piece(self, lo, hi, dtype):
        """The sparse columns ``S[:, lo:hi]`` (CSR), or None where they hold no nonzero."""
        M = self._cached("csc", str(dtype), make=lambda: sp.csc_array(self._cast(dtype)))[:, lo:hi]
        return sp.csr_array(M) if M.nnz else None

    def _rows_xp(self, X, xp):
        if is_cupy_namespace(xp):
            import cupyx.scipy.sparse as csp

            M = self._cached("cupy-sparse", str(X.dtype),
                             make=lambda: csp.csr_matrix(self._cast(np.dtype(str(X.dtype)))))
            return (M @ X.T).T
        return super()._rows_xp(X, xp)

    def _adjoint_cols(self, Y):
        return np.asarray(self._cast(Y.dtype).T @ Y)

    def todense(self):
        """The k x d matrix as a dense array (for tests and small sizes).

        Returns
        -------
        (k, d) numpy.ndarray
            The entries of ``S``, float64.

        See Also
        --------
        SketchOperator.apply : The map applied without forming it.
        """
        self._check_fitted()
        return self._matrix.toarray()


class SparseSign(_SparseMatrixSketch):
    """Sparse sign sketch (Kane-Nelson): each column has exactly `nnz_per_col` entries ``+-1/sqrt(s)``.

    Parameters
    ----------
    n_components : int
        Target dimension ``k``.
    n_features : int, optional
        Input dimension ``d`` (else taken at :meth:`fit`).
    nnz_per_col : int
        Nonzeros per column, ``1 <= s <= k``, in distinct rows.
    rng : None, int or numpy.random.Generator
        Seed or generator of the random draw, as in scipy: the same seed gives the same operator.

    See Also
    --------
    CountSketch : The sparsest case, one nonzero per column.
    Gaussian : The dense Gaussian sketch, for dense data.
    VerySparse : Li-Hastie-Church very sparse projection, random per entry instead of per column.
    lowrank_la.sklearn.SparseSignProjection : As a scikit-learn transformer.

    Notes
    -----
    Cost ``O(s nnz(x))`` per vector: no ``d log d`` term, so it is the sketch of choice for sparse data.
    With ``s = Theta(eps^-1 ln(1/delta))`` and ``k = Theta(eps^-2 ln(1/delta))`` it is a JL map; with
    ``s = 8`` and ``k`` a small multiple of the dimension it is a practical subspace embedding.

    References
    ----------
    .. [1] D. M. Kane, J. Nelson, "Sparser Johnson-Lindenstrauss transforms", J. ACM 61(1), 2014.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.sketch import SparseSign
    >>> S = SparseSign(50, 1000, nnz_per_col=4, rng=0)
    >>> (S.todense() != 0).sum(axis=0).tolist() == [4] * 1000
    True
    """

    kind = "sparse_sign"

    @refuse_random_state
    def __init__(self, n_components, n_features=None, *, nnz_per_col=8, rng=None):
        self.nnz_per_col = nnz_per_col
        super().__init__(n_components, n_features, rng=rng)

    def _check_params(self):
        super()._check_params()
        upper = self.n_components if self.n_components != "auto" else None
        check_int(self.nnz_per_col, "nnz_per_col", low=1, high=upper,
                  high_text=f"n_components = {upper}" if upper is not None else None)

    def _draw(self, gen, d, k, n_samples):
        s = self.nnz_per_col
        rows = _distinct_rows(gen, k, d, s)
        signs = gen.integers(0, 2, size=(d, s)) * 2.0 - 1.0
        cols = np.repeat(np.arange(d), s)
        self._set_matrix(rows.ravel(), cols, signs.ravel() / math.sqrt(s), k, d)


def _csr(values, rows, cols, shape):
    """A CSR array from coordinates, duplicates summed, with int32 indices."""
    M = sp.csr_array((values, (rows, cols)), shape=shape)
    M.sum_duplicates()
    M.indices = M.indices.astype(np.int32, copy=False)
    M.indptr = M.indptr.astype(np.int32, copy=False)
    return M


def _parity(n, cols):
    """The ``(n, len(cols))`` table ``(-1)^popcount(i & c)`` for ``i < n`` and ``c`` in `cols` (float64)."""
    odd = np.bitwise_count(np.arange(n)[:, None] & cols[None, :]) & 1
    return 1.0 - 2.0 * odd


def _distinct_rows(gen, k, d, s):
    """(d, s) row indices in [0, k), distinct within each of the d columns."""
    if 2 * s > k:  # dense regime: a permutation per column
        return np.argsort(gen.random((d, k)), axis=1)[:, :s]
    rows = gen.integers(0, k, size=(d, s))
    while True:
        ordered = np.sort(rows, axis=1)
        dup_cols = np.nonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1))[0]
        if dup_cols.size == 0:
            return rows
        rows[dup_cols] = gen.integers(0, k, size=(dup_cols.size, s))


class CountSketch(SparseSign):
    """CountSketch: one ``+-1`` per column, in a hashed row (``SparseSign`` with ``nnz_per_col=1``).

    Parameters
    ----------
    n_components : int
        Target dimension ``k >= 1`` (the number of hash buckets).
    n_features : int, optional
        Input dimension ``d`` (else taken at :meth:`fit`).
    rng : None, int or numpy.random.Generator
        Seed or generator of the random draw, as in scipy: the same seed gives the same operator.

    See Also
    --------
    SparseSign : More nonzeros per column, a better embedding at the same size.
    lowrank_la.sklearn.CountSketchProjection : As a scikit-learn transformer.

    Notes
    -----
    Cost ``O(nnz(x))``. A subspace embedding for an r-dimensional subspace, with constant probability, with
    ``k = O(r^2 / eps^2)`` (Nelson and Nguyen's OSNAP abstract);
    as a JL map for one vector it needs ``k = O(1 / (eps^2 delta))``.

    References
    ----------
    .. [1] M. Charikar, K. Chen, M. Farach-Colton, "Finding frequent items in data streams", ICALP 2002.
    .. [2] K. L. Clarkson, D. P. Woodruff, "Low rank approximation and regression in input sparsity time",
       STOC 2013.

    Examples
    --------
    >>> from lowrank_la.sketch import CountSketch
    >>> S = CountSketch(10, 30, rng=0)
    >>> sorted(set(abs(S.todense()).sum(axis=0).tolist()))
    [1.0]
    """

    kind = "countsketch"

    @refuse_random_state
    def __init__(self, n_components, n_features=None, *, rng=None):
        super().__init__(n_components, n_features, nnz_per_col=1, rng=rng)


class VerySparse(_SparseMatrixSketch):
    """Very sparse random projection (Li, Hastie, Church), scikit-learn's ``SparseRandomProjection``.

    Entries are ``+-sqrt(s/k)`` with probability ``1/(2s)`` each and 0 otherwise, ``s = 1/density``.

    Parameters
    ----------
    n_components : int or "auto"
        Target dimension ``k``; ``"auto"`` takes ``jl_min_dim(n_samples, eps)`` at :meth:`fit`.
    n_features : int, optional
        Input dimension ``d``.
    density : float or "auto"
        Probability of a nonzero, ``0 < density <= 1``; ``"auto"`` is ``1/sqrt(d)`` as in scikit-learn.
    eps : float
        Distortion used by ``n_components="auto"``.
    rng : None, int or numpy.random.Generator
        Seed or generator of the random draw, as in scipy: the same seed gives the same operator.

    See Also
    --------
    Achlioptas : The density 1/3 case.
    SparseSign : A fixed number of nonzeros per column.
    sklearn.random_projection.SparseRandomProjection : The scikit-learn projection it reproduces.

    References
    ----------
    .. [1] P. Li, T. J. Hastie, K. W. Church, "Very sparse random projections", KDD 2006.

    Examples
    --------
    >>> from lowrank_la.sketch import VerySparse
    >>> S = VerySparse(20, 400, rng=0)
    >>> S.density_
    0.05
    """

    kind = "very_sparse"

    @refuse_random_state
    def __init__(self, n_components, n_features=None, *, density="auto", eps=0.1, rng=None):
        self.density = density
        self.eps = eps
        super().__init__(n_components, n_features, rng=rng)

    def _check_params(self):
        if self.density != "auto":
            check_real(self.density, "density", low=0, high=1, low_inclusive=False)
        check_real(self.eps, "eps", low=0, high=1, low_inclusive=False, high_inclusive=False)
        super()._check_params()

    def _eps(self):
        return self.eps

    def _draw(self, gen, d, k, n_samples):
        density = 1 / math.sqrt(d) if self.density == "auto" else float(self.density)
        self.density_ = density
        nnz_per_row = gen.binomial(d, density, size=k)
        rows = np.repeat(np.arange(k), nnz_per_row)
        cols = np.concatenate([gen.choice(d, size=c, replace=False) for c in nnz_per_row]) if k else []
        signs = gen.integers(0, 2, size=rows.size) * 2.0 - 1.0
        self._set_matrix(rows, cols, signs * math.sqrt(1 / (density * k)), k, d)


class Achlioptas(VerySparse):
    """Achlioptas' database-friendly projection: entries ``sqrt(3/k) * {+1, 0, -1}`` w.p. ``{1/6, 2/3, 1/6}``.

    ``VerySparse`` with ``density = 1/3``.

    Parameters
    ----------
    n_components : int or "auto"
        Target dimension ``k``; ``"auto"`` takes ``jl_min_dim(n_samples, eps)`` at :meth:`fit`.
    n_features : int, optional
        Input dimension ``d`` (else taken at :meth:`fit`).
    eps : float
        Distortion used by ``n_components="auto"``, in ``(0, 1)``.
    rng : None, int or numpy.random.Generator
        Seed or generator of the random draw, as in scipy: the same seed gives the same operator.

    See Also
    --------
    VerySparse : The same entries at any density.
    SparseSign : A fixed number of nonzeros per column.

    References
    ----------
    .. [1] D. Achlioptas, "Database-friendly random projections: Johnson-Lindenstrauss with binary coins",
       J. Comput. Syst. Sci. 66(4), 2003.

    Examples
    --------
    >>> from lowrank_la.sketch import Achlioptas
    >>> round(float((Achlioptas(60, 600, rng=0).todense() != 0).mean()), 1)
    0.3
    """

    kind = "achlioptas"

    @refuse_random_state
    def __init__(self, n_components, n_features=None, *, eps=0.1, rng=None):
        super().__init__(n_components, n_features, density=1 / 3, eps=eps, rng=rng)


# -------------------------------------------------------------------- fast transforms: SRHT and FJLT

class _HadamardSketch(SketchOperator):
    """``S = R H D`` with random signs D, an orthogonal fast transform H (Hadamard or DCT) and a map R."""

    _needs_k_le_d = True

    def _check_transform(self):
        check_option(self.mixing, "mixing", ("hadamard", "dct"))

    def _dim(self, d):
        return next_pow2(d) if self.mixing == "hadamard" else d

    def _max_k(self):
        return self._dim(int(self.n_features))

    def _max_k_for(self, d):
        return self._dim(d)

    def _max_k_text(self):
        return "padded n_features" if self.mixing == "hadamard" else "n_features"

    def _draw_signs(self, gen, d):
        self._signs = gen.integers(0, 2, size=d, dtype=np.int8) * 2 - 1

    def spread(self, X):
        """The mixing step alone: ``H D x`` for each row of `X`, ``(N, d) -> (N, d')`` (NumPy or sparse input).

        ``S.apply(X)`` is this followed by the row selection (SRHT) or the sparse ``P`` (FJLT,
        :meth:`FJLT.sparse_step`); the two steps are exposed to time them apart.

        Parameters
        ----------
        X : (N, d) array_like or sparse matrix
            Rows to mix (NumPy or scipy.sparse).

        Returns
        -------
        (N, d') numpy.ndarray
            The rows zero-padded to ``d' = next_pow2(d)``, sign-flipped and Hadamard-transformed.

        See Also
        --------
        SRHT.apply : The whole map, mixing then reduction.
        FJLT.sparse_step : The reduction step of the FJLT.
        """
        self._check_fitted()
        X, _, shape, dtype, _ = _check_input(X, "X", axis=-1, ndim=(2,))
        check_shape_agrees("X.shape[1]", shape[1], self.n_features_in_, "n_features")
        return self._spread_rows(X.astype(dtype) if X.dtype != dtype else X)

    def _spread_rows(self, X):
        n, d = X.shape
        d_pad = self._dim(d)
        Z = np.empty((n, d_pad), dtype=X.dtype)
        Z[:, d:] = 0
        signs = self._signs.astype(X.dtype)
        if is_sparse(X):
            Z[:, :d] = (sp.csr_array(X) @ sp.diags_array(signs)).toarray()
        else:
            np.multiply(X, signs, out=Z[:, :d])
        if self.mixing == "hadamard":
            return fwht_numba(Z, 1 / math.sqrt(d_pad))  # Z is ours, C-contiguous and finite: the kernel directly
        return scipy.fft.dct(Z, type=2, norm="ortho", axis=-1, overwrite_x=True)

    def _rows(self, X):
        """Chunks of rows of about ``_CHUNK_BYTES``: the mixed rows stay in cache for the reduction step.

        Where the explicit matrix is cheaper (:meth:`_explicit_pays`: sparse input with ``nnz k`` below the
        ``N d' log2 d'`` of the transform, or a dense input with a small ``k``), ``X @ S.T`` with ``S`` formed
        without touching ``X`` instead: sparse input is never densified on that path.
        """
        if self._explicit_pays(X):
            return self._explicit_rows(X)
        n = X.shape[0]
        step = max(8, _CHUNK_BYTES // (self._dim(X.shape[1]) * X.dtype.itemsize))
        if n <= step:
            return self._reduce(self._spread_rows(X))
        out = np.empty((n, self.n_components_), dtype=X.dtype)
        for lo in range(0, n, step):
            out[lo:lo + step] = self._reduce(self._spread_rows(X[lo:lo + step]))
        return out

    def _reduce(self, Z):
        """From mixed rows ``H D x`` (N, d') to the sketch (N, k)."""
        raise NotImplementedError

    # ------------------------------------------------------------ the explicit matrix (sparse input)
    def _explicit_pays(self, X):
        """Whether ``X @ S.T`` with ``S`` explicit is cheaper than mixing the rows of `X`, by a cost model.

        In units of one butterfly of the FWHT (weights measured on one core, ``benchmarks/sketch.py``): mixing
        costs ``N d' (log2 d' + 4)`` (the transform, the padding and sign copies) plus 10 per nonzero of the map
        after the mixing, per row (a gather); the explicit product costs 2 per multiply-add of a sparse ``X``
        (``nnz(X) k``), 1 per multiply-add of a dense GEMM (``N d k``), plus forming ``S`` unless it is
        cached: ``k`` transforms of length ``d'``.
        """
        n, d = X.shape
        k, d_pad = self.n_components_, self._dim(d)
        log_d = max(1.0, math.log2(d_pad))
        mixing = n * d_pad * (log_d + 4) + 10 * n * self._after_mixing().nnz
        product = 2 * X.nnz * k if is_sparse(X) else n * d * k
        if ("explicit", str(X.dtype)) not in self._cache:
            product += k * d_pad * log_d
        return product < mixing

    def _explicit_bounds(self, d):
        """Column blocks ``[lo, hi)`` of ``S`` for the explicit path: aligned blocks of one power of two ``b``
        (what :meth:`_column_piece` needs to split the Hadamard transform) with ``k b`` float64 entries within
        ``_EXPLICIT_BLOCK_BYTES``, so forming ``S`` needs no temporary larger than one block."""
        width = min(self._dim(d), max(1, 1 << ((_EXPLICIT_BLOCK_BYTES // (8 * self.n_components_)).bit_length() - 1)))
        return [(lo, min(lo + width, d)) for lo in range(0, d, width)]

    def _explicit_piece(self, lo, hi, out):
        """Write ``S[:, lo:hi].T`` into `out`, a C-contiguous ``(hi - lo, k)`` array, formed from the ``k`` rows
        of the map after the mixing (``R`` for SRHT, ``P`` for FJLT): ``(R H D)[:, lo:hi] = R_r H_b D_r``, one
        transform of length ``b`` per row of the ``k x b`` sparse block ``R_r`` (:meth:`_column_piece`; ``H_b``
        is symmetric), done for a few rows at a time so that the transposition into `out` stays in cache."""
        piece = self._column_piece(lo, hi, np.float64)
        if not isinstance(piece, tuple):  # DCT mixing: the dense block itself
            out[...] = piece.T
            return
        signs, Pr, b = piece
        step = 32
        for r in range(0, Pr.shape[0], step):
            Z = fwht_numba(Pr[r:r + step].toarray(), 1 / math.sqrt(b))
            rows_to_columns(Z, signs, out[:, r:r + step])

    def _explicit_T(self, d, dtype):
        """``S.T``, a C-contiguous ``(d, k)`` array in `dtype`, formed block by block."""
        ST = np.empty((d, self.n_components_), dtype=dtype)
        for lo, hi in self._explicit_bounds(d):
            self._explicit_piece(lo, hi, ST[lo:hi])
        return ST

    def _explicit_rows(self, X):
        """``X @ S.T`` with ``S`` explicit, never densifying X: ``S.T`` is cached on the operator when it fits
        ``_EXPLICIT_CACHE_BYTES`` (``k d`` numbers, as a Gaussian sketch holds), else formed and applied by
        blocks of columns at each call."""
        n, d = X.shape
        k = self.n_components_
        if k * d * X.dtype.itemsize <= _EXPLICIT_CACHE_BYTES:
            ST = self._cached("explicit", str(X.dtype), make=lambda: self._explicit_T(d, X.dtype))
            if is_sparse(X):  # rows of S.T gathered per nonzero, in parallel over rows (scipy's is serial)
                return csr_matmat(X if X.format == "csr" else sp.csr_array(X), ST)
            return np.asarray(X @ ST)
        out = np.zeros((n, k), dtype=X.dtype)
        if is_sparse(X):
            X = sp.csc_array(X)  # cheap column slices
        for lo, hi in self._explicit_bounds(d):
            piece = np.empty((hi - lo, k), dtype=X.dtype)
            self._explicit_piece(lo, hi, piece)
            out += np.asarray(X[:, lo:hi] @ piece)
        return out

    def _rows_xp(self, X, xp):
        """CuPy: mix on the device (CUDA FWHT, or cuFFT's DCT), then reduce there; other namespaces: dense."""
        if not is_cupy_namespace(xp):
            return super()._rows_xp(X, xp)
        import cupy

        n, d = X.shape
        Z = cupy.zeros((n, self._dim(d)), dtype=X.dtype)
        Z[:, :d] = X * cupy.asarray(self._signs, dtype=X.dtype)
        if self.mixing == "hadamard":
            Z = fwht(Z, axis=-1, overwrite_x=True)
        else:
            import cupyx.scipy.fft

            Z = cupyx.scipy.fft.dct(Z, type=2, norm="ortho", axis=-1)
        return self._reduce_cupy(Z)

    def _align_dask(self, X):
        """Hadamard mixing: d-chunks of one power of two ``b`` (the largest not above X's largest d-chunk), so
        that ``H_d' = H_(d'/b) kron H_b`` splits the transform by chunks; memory stays one chunk."""
        if self.mixing != "hadamard":
            return X
        b = min(1 << (max(X.chunks[0]).bit_length() - 1), self._dim(self.n_features_in_))
        return X.rechunk({0: b})

    def _column_piece(self, lo, hi, dtype):
        """DCT: the dense block ``S[:, lo:hi]`` from the DCT-II formula. Hadamard: ``(signs, P_r, b)``, where
        the rows ``lo:hi = r b .. (r + 1) b`` of X contribute ``P_r H_b D_r X_r`` with the ``k x b`` sparse
        ``P_r = sum_p H_B[p, r] P[:, p b:(p + 1) b]`` (``P`` the sparse map after the mixing, ``B = d'/b``,
        ``b = next_pow2(hi - lo)``, which divides ``lo`` once :meth:`_align_dask` has aligned the chunks)."""
        signs = self._signs[lo:hi].astype(dtype)
        P = self._after_mixing()
        if self.mixing != "hadamard":
            i = np.asarray(P.indices)[:, None]  # the one kept coordinate of each row (SRHT)
            j = np.arange(lo, hi)[None, :]
            d = self.n_features_in_
            C = np.sqrt(2.0 / d) * np.cos(np.pi * i * (2 * j + 1) / (2 * d)) * np.where(i == 0, np.sqrt(0.5), 1.0)
            return np.ascontiguousarray((C * P.data[:, None] * self._signs[lo:hi]).astype(dtype))
        b = next_pow2(hi - lo)  # divides lo: the chunks are aligned multiples of a power of two >= hi - lo
        r, B = lo // b, P.shape[1] // b
        coo = P.tocoo()
        flips = np.where(np.bitwise_count((coo.col // b) & r) % 2 == 1, -1.0, 1.0)
        Pr = _csr(coo.data * flips / math.sqrt(B), coo.row, coo.col % b, (P.shape[0], b))
        return signs, Pr.astype(dtype), b

    @staticmethod
    def _apply_piece(piece, block):
        if not isinstance(piece, tuple):
            return np.asarray(piece @ np.asarray(block))
        signs, Pr, b = piece
        x = np.asarray(block)
        Z = np.zeros((x.shape[1], b), dtype=Pr.dtype)
        np.multiply(x.T, signs, out=Z[:, :x.shape[0]])
        fwht_numba(Z, 1 / math.sqrt(b))  # H_b of the chunk's rows, one transform per column of X
        return np.asarray(Pr @ Z.T)

    def _after_mixing(self):
        """The sparse ``k x d'`` map applied after ``H D``."""
        raise NotImplementedError

    def _unspread_cols(self, Z):
        """``D H^T z`` for each column of Z: (d', N) -> (d, N)."""
        d = self.n_features_in_
        if self.mixing == "hadamard":
            Z = fwht(Z, axis=0)
        else:
            Z = scipy.fft.idct(Z, type=2, norm="ortho", axis=0)
        return Z[:d] * self._signs.astype(Z.dtype)[:, None]


class SRHT(_HadamardSketch):
    """Subsampled randomized Hadamard transform ``S = sqrt(d'/k) R H D``.

    D holds random signs, H is the orthonormal Walsh-Hadamard transform (on ``x`` zero-padded to
    ``d' = next_pow2(d)``) or the orthonormal DCT-II (any ``d``, no padding), and R keeps ``k`` of the ``d'``
    coordinates, chosen uniformly without replacement.

    Parameters
    ----------
    n_components : int
        Target dimension ``k <= d'``.
    n_features : int, optional
        Input dimension ``d``.
    mixing : {"hadamard", "dct"}
        The orthogonal transform.
    rng : None, int or numpy.random.Generator
        Seed or generator of the random draw, as in scipy: the same seed gives the same operator.

    See Also
    --------
    FJLT : A sparse random matrix in place of the row subsampling.
    fwht : The fast Walsh-Hadamard transform it applies.
    lowrank_la.sklearn.SRHTProjection : As a scikit-learn transformer.

    Notes
    -----
    Cost ``O(d' log d')`` per vector whatever ``k``. A subspace embedding for an r-dimensional subspace
    with ``k ~ (sqrt(r) + sqrt(8 ln(r d)))^2 ln r``. The coordinates are sampled from all ``d'`` padded
    rows: sampling only from the first ``d`` would bias ``||S x||^2``. Sparse input is not densified: where
    ``nnz(X) k`` costs less than the transform, ``S`` is formed as an explicit ``k x d`` matrix (the ``k``
    sampled rows of ``H``, entries ``+-1/sqrt(d')``, from two small sign tables as ``H = H_B kron H_b``; kept
    on the operator up to 256 MiB) and applied in ``O(nnz(X) k)``.

    References
    ----------
    .. [1] J. A. Tropp, "Improved analysis of the subsampled randomized Hadamard transform", Adv. Adapt.
       Data Anal. 3, 2011.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.sketch import SRHT
    >>> S = SRHT(64, 1000, rng=0)
    >>> x = np.random.default_rng(1).standard_normal(1000)
    >>> bool(abs(np.linalg.norm(S @ x) / np.linalg.norm(x) - 1) < 0.3)
    True
    """

    kind = "srht"

    @refuse_random_state
    def __init__(self, n_components, n_features=None, *, mixing="hadamard", rng=None):
        self.mixing = mixing
        super().__init__(n_components, n_features, rng=rng)

    def _check_params(self):
        self._check_transform()
        super()._check_params()

    def _draw(self, gen, d, k, n_samples):
        self._draw_signs(gen, d)
        d_pad = self._dim(d)
        self._rows_kept = np.sort(gen.choice(d_pad, size=k, replace=False))
        self._scale = math.sqrt(d_pad / k)

    def _reduce(self, Z):
        return Z[:, self._rows_kept] * Z.dtype.type(self._scale)

    def _after_mixing(self):
        k = self.n_components_
        return self._cached("R", make=lambda: _csr(np.full(k, self._scale), np.arange(k), self._rows_kept,
                                                    (k, self._dim(self.n_features_in_))))

    def _reduce_cupy(self, Z):
        import cupy

        kept = self._cached("cupy kept", make=lambda: cupy.asarray(self._rows_kept))
        return Z[:, kept] * self._scale

    def _adjoint_cols(self, Y):
        Z = np.zeros((self._dim(self.n_features_in_), Y.shape[1]), dtype=Y.dtype)
        Z[self._rows_kept] = Y * Y.dtype.type(self._scale)
        return self._unspread_cols(Z)

    def _explicit_piece(self, lo, hi, out):
        """Hadamard mixing: ``S[:, lo:hi].T`` from the entries of the sampled rows, without a transform.

        ``H[i, j] = (-1)^popcount(i & j) / sqrt(d')`` factors over the high and low bits of ``i`` and ``j``
        (``H_d' = H_B kron H_b``, ``d' = B b``), so row ``j`` of ``S.T`` is ``scale sign_j H_B[j_hi, kept_hi] *
        H_b[j_lo, kept_lo]``: two small ``+-1`` tables and one product per entry, written in place.
        """
        if self.mixing != "hadamard":
            return super()._explicit_piece(lo, hi, out)
        d_pad = self._dim(self.n_features_in_)
        b = 1 << (d_pad.bit_length() // 2)
        high, low = self._cached("kron", make=lambda: (_parity(d_pad // b, self._rows_kept // b),
                                                       _parity(b, self._rows_kept % b)))
        high_scaled = high * (self._scale / math.sqrt(d_pad))
        signs = self._signs
        j = lo
        while j < hi:
            top = min(hi, (j // b + 1) * b)
            rows = out[j - lo:top - lo]
            np.multiply(low[j % b:j % b + top - j], high_scaled[j // b], out=rows)
            rows *= signs[j:top, None]
            j = top


class FJLT(_HadamardSketch):
    """Fast Johnson-Lindenstrauss transform ``S = (1/sqrt(k)) P H D`` (Ailon-Chazelle).

    D holds random signs, H is the orthonormal Walsh-Hadamard transform on ``x`` zero-padded to
    ``d' = next_pow2(d)``, and P is a sparse k x d' matrix whose entries are nonzero with probability q, and
    then ``+-1/sqrt(q)`` (or ``N(0, 1/q)``), so that ``E ||S x||^2 = ||x||^2``.

    Parameters
    ----------
    n_components : int or "auto"
        Target dimension ``k``; ``"auto"`` takes ``jl_min_dim(n_samples, eps)``.
    n_features : int, optional
        Input dimension ``d`` (else taken at :meth:`fit`).
    q : {"fhl", "ailon-chazelle"} or float
        Density of P. ``"ailon-chazelle"``: ``q d' = c_q ln(n)^2``. ``"fhl"``: the sparser rule of Fandina,
        Hogsgaard and Larsen, ``q d' = c_q ln(n)^2 / alpha`` with ``alpha = min(ln(1/eps)/eps, ln n)``.
        A float is the density itself. The rules are clipped to ``[1/d', 1]``.
    eps : float
        Target distortion, ``0 < eps < 1`` (for ``"fhl"`` and for ``n_components="auto"``).
    n_samples : int, optional
        Number of points ``n`` the rules are set for; defaults to the rows of ``X`` at :meth:`fit`.
    c_q : float
        Constant of the density rules (the papers state them up to constants). The default, 2, is the
        smallest that kept the maximum distortion at ``jl_min_dim`` within ``eps`` as often as a dense
        Gaussian sketch does in our measurements (``eps = 0.2``, 300 points, 40 seeds).
    entries : {"sign", "gaussian"}
        Distribution of the nonzeros of P: ``+-1/sqrt(q)`` (Matousek's variant; lower variance, the default)
        or ``N(0, 1/q)`` (Ailon and Chazelle's).
    rng : None, int or numpy.random.Generator
        Seed or generator of the random draw, as in scipy: the same seed gives the same operator.

    See Also
    --------
    SRHT : Row subsampling in place of the sparse matrix.
    jl_min_dim : The Johnson-Lindenstrauss target dimension.
    lowrank_la.sklearn.FJLTProjection : As a scikit-learn transformer.

    Notes
    -----
    Cost per vector ``O(d' log d' + k q d')``: ``O(d log d + k ln^2 n)`` with the Ailon-Chazelle density and
    ``O(d log d + k ln^2 n / alpha)`` with FHL's. The HD step spreads any vector (a spike included) over all
    coordinates, ``||HDx||_inf = O(sqrt(ln n / d)) ||x||`` w.h.p., which is what lets P be sparse; without it
    a sparse P misses spiky vectors. Sparse input is not densified: where ``nnz(X) k`` costs less than the
    transform (and for dense rows where ``N d k`` does), ``S`` is formed once as an explicit ``k x d`` matrix
    (``k`` transforms of the rows of ``P``, ``O(k d' log d')``, kept on the operator up to 256 MiB, else
    formed by blocks of columns at each call) and applied in ``O(nnz(X) k)``, like a Gaussian projection
    but cheaper to draw. :class:`SparseSign` costs ``O(s nnz(X))``, less still.

    References
    ----------
    .. [1] N. Ailon, B. Chazelle, "The fast Johnson-Lindenstrauss transform and approximate nearest
       neighbors", SIAM J. Comput. 39(1), 2009.
    .. [2] O. N. Fandina, M. M. Hogsgaard, K. G. Larsen, "The fast Johnson-Lindenstrauss transform is even
       faster", ICML 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.sketch import FJLT
    >>> X = np.random.default_rng(0).standard_normal((100, 4096))
    >>> S = FJLT("auto", eps=0.3, rng=0).fit(X)
    >>> Y = S.transform(X)
    >>> Y.shape, S.q_ < 0.01
    ((100, 511), True)
    """

    kind = "fjlt"

    @refuse_random_state
    def __init__(self, n_components, n_features=None, *, q="fhl", eps=0.1, n_samples=None, c_q=2.0,
                 entries="sign", rng=None):
        self.q = q
        self.eps = eps
        self.n_samples = n_samples
        self.c_q = c_q
        self.entries = entries
        self.mixing = "hadamard"
        super().__init__(n_components, n_features, rng=rng)

    def _check_params(self):
        if isinstance(self.q, str):
            check_option(self.q, "q", ("fhl", "ailon-chazelle"))
        else:
            check_real(self.q, "q", low=0, high=1, low_inclusive=False)
        check_real(self.eps, "eps", low=0, high=1, low_inclusive=False, high_inclusive=False)
        check_real(self.c_q, "c_q", low=0, low_inclusive=False)
        check_option(self.entries, "entries", ("sign", "gaussian"))
        if self.n_samples is not None:
            check_int(self.n_samples, "n_samples", low=2)
        super()._check_params()

    def _eps(self):
        return self.eps

    def density(self, d, n_samples):
        """The density q of P for input dimension `d` and `n_samples` points, by this operator's rule.

        Parameters
        ----------
        d : int
            Input dimension (before padding to a power of two).
        n_samples : int
            Number of points the embedding must preserve (enters through ``ln n``).

        Returns
        -------
        float
            The fraction ``q`` in ``(0, 1]`` of nonzero entries of ``P`` (the given `q` when it is a number).

        See Also
        --------
        FJLT.nnz_per_row_ : The nonzeros per row of the drawn matrix.
        """
        d_pad = next_pow2(d)
        if not isinstance(self.q, str):
            return float(self.q)
        ln_n = math.log(max(n_samples, 2))
        per_row = self.c_q * ln_n**2
        if self.q == "fhl":
            alpha = min(math.log(1 / self.eps) / self.eps, ln_n)
            per_row /= alpha
        return min(max(per_row / d_pad, 1 / d_pad), 1.0)

    def _draw(self, gen, d, k, n_samples):
        n = self.n_samples if self.n_samples is not None else n_samples
        if n is None and isinstance(self.q, str):
            n = k  # the rules need n; without it, the largest n that k = O(ln n / eps^2) can serve is ~k
        self.q_ = self.density(d, n if n is not None else 2)
        self._draw_signs(gen, d)
        d_pad = self._dim(d)
        nnz_per_row = gen.binomial(d_pad, self.q_, size=k)
        rows = np.repeat(np.arange(k), nnz_per_row)
        cols = np.concatenate([gen.choice(d_pad, size=c, replace=False) for c in nnz_per_row])
        if self.entries == "gaussian":
            values = gen.standard_normal(rows.size)
        else:
            values = gen.integers(0, 2, size=rows.size) * 2.0 - 1.0
        values *= 1 / math.sqrt(self.q_ * k)
        self._P = _csr(values, rows, cols, (k, d_pad))

    @property
    def nnz_per_row_(self) -> float:
        """Mean number of nonzeros per row of P.

        See Also
        --------
        FJLT.density : The density rule.
        """
        self._check_fitted()
        return self._P.nnz / self._P.shape[0]

    def _cast_P(self, dtype):
        return self._cached("cast P", str(dtype), make=lambda: self._P.astype(dtype))

    def _reduce(self, Z):
        return self._sparse_step(Z)

    def _after_mixing(self):
        return self._P

    def _reduce_cupy(self, Z):
        import cupyx.scipy.sparse as csp

        P = self._cached("cupy P", str(Z.dtype), make=lambda: csp.csr_matrix(self._cast_P(np.dtype(str(Z.dtype)))))
        return (P @ Z.T).T

    def _sparse_step(self, Z):
        packed = self._cached("packed P", str(Z.dtype), make=lambda: pack_columns(self._P, Z.dtype))
        return rows_times_sparse_t(Z, packed)

    def sparse_step(self, Z):
        """The sparse step alone: ``Z @ P.T / sqrt(k)`` for rows `Z` of shape (N, d') (see :meth:`spread`).

        Parameters
        ----------
        Z : (N, d') array_like
            Spread rows (the output of :meth:`spread`), dense: scipy.sparse input is refused with a
            ``TypeError``.

        Returns
        -------
        (N, k) numpy.ndarray
            ``Z @ P.T / sqrt(k)``.

        See Also
        --------
        FJLT.spread : The mixing step before it.
        """
        self._check_fitted()
        Z, _, shape, dtype, _ = _check_input(Z, "Z", axis=-1, ndim=(2,), sparse=False)
        check_shape_agrees("Z.shape[1]", shape[1], self._P.shape[1], "the padded n_features")
        return self._sparse_step(np.ascontiguousarray(Z, dtype=dtype))

    def _adjoint_cols(self, Y):
        Z = np.asarray(self._cast_P(Y.dtype).T @ Y)
        return self._unspread_cols(Z)


#: The sketches by name, ``{kind: class}``: the keys are the names :func:`make_sketch` accepts as `kind`.
SKETCH_KINDS = {
    cls.kind: cls for cls in (Gaussian, SparseSign, CountSketch, SRHT, FJLT, VerySparse, Achlioptas)
}


@refuse_random_state
def make_sketch(kind, n_components, n_features, **options) -> SketchOperator:
    """Build a sketch operator by name, the way the other subpackages ask for one.

    Parameters
    ----------
    kind : {"gaussian", "sparse_sign", "countsketch", "srht", "fjlt", "very_sparse", "achlioptas"}
        Name of the sketch (a key of ``SKETCH_KINDS``).
    n_components : int
        Target dimension ``k``.
    n_features : int
        Input dimension ``d``.
    **options
        Passed to the operator's class (``rng``, ``nnz_per_col``, ``transform``, ``q``, ``density``, ...).

    Returns
    -------
    SketchOperator
        An instance of ``SKETCH_KINDS[kind]``, drawn for ``(n_components, n_features)``.

    See Also
    --------
    SketchOperator : The interface of the returned operators.
    SKETCH_KINDS : The names and their classes.

    Examples
    --------
    >>> from lowrank_la.sketch import make_sketch
    >>> make_sketch("sparse_sign", 40, 500, nnz_per_col=4, rng=0)
    <SparseSign 40x500>
    """
    check_option(kind, "kind", list(SKETCH_KINDS))
    return SKETCH_KINDS[kind](n_components, n_features, **options)
