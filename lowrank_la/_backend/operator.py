"""The operator adapter ``as_operator``: block products ``A @ X`` and ``A.H @ Y`` for dense arrays, scipy and
cupyx sparse matrices and arrays, LinearOperators and Dask arrays, counting passes over ``A`` and never
densifying sparse input."""

from __future__ import annotations

import numpy as np

from .._validate import as_matrix, check_shape_agrees, is_dask, is_linear_operator, is_sparse
from .namespace import array_namespace, device_of, is_numpy_namespace, working_dtype

__all__ = ["MatrixOperator", "as_operator"]


class _PassCounter:
    __slots__ = ("count",)

    def __init__(self):
        self.count = 0


class MatrixOperator:
    """Block products with a matrix of any supported kind, counting passes over it.

    Built by :func:`as_operator`. ``op.matmat(X)`` is ``A @ X`` and ``op.rmatmat(Y)`` is ``A^H @ Y``; each
    call is one pass over ``A`` and adds one to ``op.n_passes``. ``op.H`` and ``op.T`` are views of the
    adjoint and the transpose that share the pass counter. Sparse input stays sparse, and ``A`` itself is
    never written to.

    Parameters
    ----------
    A : array, sparse matrix, LinearOperator or Dask array
        The matrix, already validated by :func:`as_operator`; kept by reference and never written to.
    kind : {"dense", "sparse", "linear_operator", "dask"}
        How the products are formed.
    shape : tuple of two ints
        The shape ``(m, n)`` of ``A``.
    dtype : dtype
        The working dtype of the products (see :func:`working_dtype`).
    xp : module
        The array-API namespace of the products.
    device : object
        The device of ``A`` (as ``array_api_compat.device`` gives it).
    counter : object, optional
        A pass counter to share (the adjoint and transpose views share their parent's); default a new one.
    adjoint : bool, optional
        Whether this operator is ``A^H`` rather than ``A``.

    Attributes
    ----------
    kind : {"dense", "sparse", "linear_operator", "dask"}
        How the products are formed.
    dtype : dtype
        The working dtype of the products.
    xp : module
        The array-API namespace of the products.
    device : object
        The device of ``A``.
    n_passes : int
        Products formed so far (with Dask, products built; each reads ``A`` once when computed).

    See Also
    --------
    as_operator : Validate a matrix and wrap it in a MatrixOperator (the way to build one).
    lowrank_la.svd.rsvd : A consumer of the operator, whose pass count it reports.
    lowrank_la.psd.KernelMatrix : A matrix-free kernel matrix with the same ``matmat`` and ``rmatmat`` interface.
    """

    def __init__(self, A, kind, shape, dtype, xp, device, *, counter=None, adjoint=False):
        self._A = A
        self.kind = kind
        self._shape = (int(shape[0]), int(shape[1]))
        self.dtype = dtype
        self.xp = xp
        self.device = device
        self._counter = counter if counter is not None else _PassCounter()
        self._adjoint = adjoint
        self._numpy_dense = kind == "dense" and type(A) is np.ndarray
        # scipy CSR (CSC): A @ X (A^T @ Y) goes row by row, which the parallel Numba kernel does; the other
        # direction scatters, into one accumulator per slab of rows where the non-zeros are many enough
        real_scipy = kind == "sparse" and is_numpy_namespace(xp) and not np.iscomplexobj(A.data)
        self._row_kernel = getattr(A, "format", None) if real_scipy else None

    # -- the public face
    @property
    def shape(self) -> tuple[int, int]:
        """The shape ``(m, n)`` of the operator (``(n, m)`` for the adjoint view).

        See Also
        --------
        MatrixOperator.T : The transpose view, of the swapped shape.
        MatrixOperator.H : The adjoint view, of the swapped shape.
        """
        return self._shape[::-1] if self._adjoint else self._shape

    @property
    def n_passes(self) -> int:
        """Products formed so far (with Dask, products built; each reads ``A`` once when computed).

        See Also
        --------
        MatrixOperator.reset_passes : Set the counter back to zero.
        MatrixOperator.matmat : A product, one pass each.
        """
        return self._counter.count

    def reset_passes(self) -> None:
        """Set the pass counter back to zero.

        See Also
        --------
        MatrixOperator.n_passes : The counter this resets.
        """
        self._counter.count = 0

    @property
    def is_complex(self) -> bool:
        """Whether the products are complex (the working dtype is a complex floating type).

        See Also
        --------
        MatrixOperator.H : The adjoint, which conjugates when the products are complex.
        """
        return bool(self.xp.isdtype(self.dtype, "complex floating"))

    @property
    def H(self) -> MatrixOperator:
        """The adjoint (conjugate transpose), sharing this operator's pass counter.

        See Also
        --------
        MatrixOperator.T : The transpose view (the adjoint without conjugation).
        MatrixOperator.rmatmat : The adjoint product on the operator itself.
        """
        return MatrixOperator(self._A, self.kind, self._shape, self.dtype, self.xp, self.device,
                              counter=self._counter, adjoint=not self._adjoint)

    @property
    def T(self) -> MatrixOperator:
        """The transpose; for real matrices the same as :attr:`H`.

        See Also
        --------
        MatrixOperator.H : The adjoint view, the same as the transpose for real matrices.
        MatrixOperator.rmatmat : The adjoint product ``A^H @ Y`` itself.
        """
        if self.is_complex:
            return _ConjugatedOperator(self.H)
        return self.H

    def matmat(self, X):
        """``A @ X`` for a block `X` of shape (n, l) or a vector of shape (n,).

        `X` is checked as a public argument: a dense array, 1-D or 2-D, numeric, finite, ``X.shape[0] == n``;
        lists and other array-likes are converted by the input rule, and sparse blocks are refused with a
        ``TypeError`` (the products are dense blocks). A block without columns, (n, 0), is valid (algorithms
        may form one): it costs no pass and gives an (m, 0) result, as ``scipy.sparse.linalg.LinearOperator``
        does.

        Parameters
        ----------
        X : (n, l) or (n,) array_like
            The block or vector to multiply.

        Returns
        -------
        (m, l) or (m,) array
            ``A @ X`` in the operator's namespace, on its device, in the working dtype (lazy for Dask).

        See Also
        --------
        MatrixOperator.rmatmat : The adjoint product ``A^H @ Y``.
        MatrixOperator.n_passes : The pass counter each call adds one to.
        """
        return self._apply(X, "X")

    def rmatmat(self, Y):
        """``A^H @ Y`` for a block `Y` of shape (m, l) or a vector of shape (m,).

        Parameters
        ----------
        Y : (m, l) or (m,) array_like
            The block or vector to multiply, checked as `X` of :meth:`matmat`.

        Returns
        -------
        (n, l) or (n,) array
            ``A^H @ Y`` (one pass over ``A``).

        See Also
        --------
        MatrixOperator.matmat : The product ``A @ X``.
        MatrixOperator.H : The adjoint as an operator, whose ``matmat`` is this product.
        """
        return self.H._apply(Y, "Y")

    __matmul__ = matmat

    def symmetric_matmat(self, X):
        """``A @ X`` for an ``A`` the caller knows to be symmetric, in BLAS's faster form.

        The same product as :meth:`matmat`, formed as ``A^T @ X`` where that is faster: for a real NumPy ``A`` in
        C order, ``(X^T A)^T`` (see :meth:`rmatmat`), 128 ms against 190 ms for ``A @ X`` with a 10,000 x 10,000
        ``A`` and 60 columns on 2 threads. Elsewhere it is :meth:`matmat`.

        Parameters
        ----------
        X : (n, l) or (n,) array_like
            The block or vector to multiply, checked as in :meth:`matmat`.

        Returns
        -------
        (n, l) or (n,) array
            ``A @ X`` (one pass over ``A``); for an ``A`` that is symmetric only to within a tolerance, the
            product with ``A^T``.

        See Also
        --------
        MatrixOperator.matmat : The product for any ``A``.
        """
        if self._numpy_dense and not self.is_complex:
            c_order = self._A.flags.c_contiguous or not self._A.flags.f_contiguous  # as _dense_product sees it
            if c_order != self._adjoint:
                return self.H._apply(X, "X")
        return self._apply(X, "X")

    def asarray(self, X):
        """Convert `X` into this operator's namespace and device.

        Parameters
        ----------
        X : array_like
            An array of any namespace (Dask operators return it as given).

        Returns
        -------
        array
            `X` in the operator's namespace, on its device (no copy when it is there already).

        See Also
        --------
        as_operator : The validation of the matrix itself.
        MatrixOperator.matmat : The product, which converts its block the same way.
        """
        if self.kind == "dask":
            return X
        return self.xp.asarray(X, device=self.device) if not is_numpy_namespace(self.xp) else np.asarray(X)

    def __repr__(self) -> str:
        return (f"<MatrixOperator {self.shape[0]}x{self.shape[1]} {self.kind}, dtype={self.dtype}, "
                f"passes={self.n_passes}{', adjoint' if self._adjoint else ''}>")

    # -- the backends
    def _apply(self, X, name):
        """``self @ X`` for the block `X`, checked under the name the caller knows it by."""
        if not _plain_finite_block(X) and (self.kind != "dask" or not is_dask(X)):
            X = as_matrix(X, name, ndim=(1, 2), allow_complex=True, sparse=False, allow_empty=True)
        check_shape_agrees(f"{name}.shape[0]", X.shape[0], self.shape[1], "the operator's shape[1]")
        if X.ndim == 2 and X.shape[1] == 0:
            return self._empty_result(X)
        self._counter.count += 1
        return self._blocks(X)

    def _blocks(self, X):
        return self._rproduct(X) if self._adjoint else self._product(X)

    def _product(self, X):
        A = self._A
        if self.kind == "linear_operator":
            Y = A.matmat(X) if X.ndim == 2 else A.matvec(X)
            return self._as_result(Y)
        if self._numpy_dense and X.ndim == 2:
            return _dense_product(A, X, adjoint=False)
        if self._row_kernel == "csr" and _worth_a_kernel(X):
            return _csr_kernels().csr_matmat(A, X)
        if self._row_kernel == "csc" and _worth_slabs(A.T, X):
            return _csr_kernels().csr_rmatmat(A.T, X)  # (A^T)^T X, A^T CSR: a scatter
        return A @ X

    def _rproduct(self, Y):
        A = self._A
        if self.kind == "linear_operator":
            X = A.rmatmat(Y) if Y.ndim == 2 else A.rmatvec(Y)
            return self._as_result(X)
        if self._numpy_dense and Y.ndim == 2 and not self.is_complex:
            return _dense_product(A, Y, adjoint=True)
        if self._row_kernel == "csc" and _worth_a_kernel(Y):
            return _csr_kernels().csr_matmat(A.T, Y)  # the transpose of a CSC matrix is CSR: rows in parallel
        if self._row_kernel == "csr" and _worth_slabs(A, Y):
            return _csr_kernels().csr_rmatmat(A, Y)
        if self.kind == "dask":
            A = A.T
            return (A @ Y.conj()).conj() if self.is_complex else A @ Y
        if self.is_complex:  # conj(A^T conj(Y)): avoids a conjugated copy of A
            return self.xp.conj(A.T @ self.xp.conj(Y))
        return A.T @ Y

    def _empty_result(self, X):
        xp = np if is_numpy_namespace(self.xp) else self.xp
        return xp.zeros((self.shape[0], 0), dtype=self.dtype)

    def _as_result(self, Y):
        Y = np.asarray(Y)
        return Y.astype(self.dtype, copy=False)


def _plain_finite_block(X) -> bool:
    """True for a float32 / float64 2-D contiguous ``numpy.ndarray`` whose entries are all finite: what
    :func:`as_matrix` would return unchanged, found in one BLAS dot product over the memory (the iterations' own
    blocks, C- or Fortran-ordered). False sends `X` through the full input rule (which also looks closer where
    the dot overflowed)."""
    if type(X) is not np.ndarray or X.ndim != 2 or X.dtype not in (np.float32, np.float64) or X.size == 0:
        return False
    if X.flags.c_contiguous:
        flat = X.reshape(-1)
    elif X.flags.f_contiguous:
        flat = X.T.reshape(-1)
    else:
        return False
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.dot(flat, flat)))


def _dense_product(A, X, *, adjoint):
    """``A @ X`` or ``A^T @ X`` for NumPy arrays, in the memory order BLAS runs fastest in.

    For a C-ordered ``A``, ``A^T @ Y`` is computed as ``(Y^T @ A)^T`` (about 1.5x faster with OpenBLAS), and
    ``A @ X`` with a C-ordered copy of a Fortran-ordered ``X`` (the output order of LAPACK's QR and LU).
    """
    c_order = A.flags.c_contiguous or not A.flags.f_contiguous
    if adjoint == c_order:
        return ((X.T @ A) if adjoint else (X.T @ A.T)).T
    return (A.T if adjoint else A) @ np.ascontiguousarray(X)


def _worth_a_kernel(X) -> bool:
    """The parallel sparse kernel pays for blocks of a few columns, with more than one thread to run on."""
    if X.ndim != 2 or X.shape[1] < 4 or np.iscomplexobj(X):
        return False
    import numba

    return numba.get_num_threads() > 1


def _worth_slabs(A, Y) -> bool:
    """Whether ``A^T @ Y`` (`A` CSR) is worth the parallel scatter: a kernel's block, split into two slabs at least
    (see :func:`~lowrank_la._kernels.csr_dense.scatter_slabs`)."""
    return _worth_a_kernel(Y) and _csr_kernels().scatter_slabs(A, Y.shape[1], Y.dtype.itemsize) > 1


def _csr_kernels():
    from .._kernels import csr_dense  # Numba is loaded on first use only

    return csr_dense


class _ConjugatedOperator(MatrixOperator):
    """``conj(B)`` of an operator ``B``: ``conj(B) @ X = conj(B @ conj(X))``; used for complex transposes."""

    def __init__(self, base: MatrixOperator):
        super().__init__(base._A, base.kind, base._shape, base.dtype, base.xp, base.device,
                         counter=base._counter, adjoint=base._adjoint)

    def _blocks(self, X):
        return self.xp.conj(super()._blocks(self.xp.conj(X)))

    @property
    def H(self):
        return _ConjugatedOperator(super().H)

    @property
    def T(self):
        return super().H


def sparse_kernel_input(A, *args, **kwargs) -> bool:
    """Whether the products with `A` run in the parallel sparse kernels: a real scipy sparse matrix or array, or a
    :class:`MatrixOperator` over one (the predicate of :func:`~lowrank_la._backend.blas_beside_kernels` for
    functions of a matrix `A`; the other arguments are ignored)."""
    if isinstance(A, MatrixOperator):
        return A._row_kernel is not None
    return is_sparse(A) and not np.iscomplexobj(getattr(A, "data", np.empty(0)))


def as_operator(A, *, name: str = "A", allow_complex: bool = False, check_finite: bool = True) -> MatrixOperator:
    """Wrap a matrix into a :class:`MatrixOperator` after validating it.

    Parameters
    ----------
    A : (m, n) array, sparse matrix or array, LinearOperator, or Dask array
        Dense arrays of any array-API namespace (NumPy, CuPy, array-api-strict, torch), scipy.sparse or
        cupyx.scipy.sparse matrices and arrays (kept sparse), ``scipy.sparse.linalg.LinearOperator``
        (anything with ``matmat``, ``rmatmat``, ``shape`` and ``dtype``), or a ``dask.array.Array``. Lists,
        tuples, pandas DataFrames and ``numpy.matrix`` are converted by the library's input rule
        (:func:`lowrank_la._validate.as_matrix`). Sparse input other than CSR and CSC is converted to CSR, and
        sparse index structure is checked. A ``MatrixOperator`` is returned as is.
    name : str
        The argument's name in error messages.
    allow_complex : bool
        Accept complex input; otherwise it is refused with ``TypeError``.
    check_finite : bool
        Refuse NaN and Inf (in the stored entries, for sparse input) and malformed sparse index structure.
        ``False`` skips both O(size) passes, for trusted input. Dask arrays and LinearOperators cannot be
        checked without computing and are not.

    Returns
    -------
    MatrixOperator
        The block products of `A`, with a pass counter starting at zero.

    Raises
    ------
    ValueError
        If `A` is not 2-D, is empty, holds NaN or Inf, or is a sparse matrix with malformed indices.
    TypeError
        If `A` is not a matrix, or has a dtype the function does not support.

    See Also
    --------
    MatrixOperator : The returned adapter: block products and the pass counter.
    lowrank_la.svd.rsvd : The randomized SVD, which accepts every input this function accepts.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> A = sp.random(50, 30, density=0.1, format="csr", random_state=0)
    >>> op = as_operator(A)
    >>> Y = op.matmat(np.ones((30, 4)))
    >>> Z = op.rmatmat(Y)
    >>> op.kind, Y.shape, Z.shape, op.n_passes
    ('sparse', (50, 4), (30, 4), 2)
    """
    if isinstance(A, MatrixOperator):
        return A
    A = as_matrix(A, name, allow_complex=allow_complex, finite=check_finite, operator=True)
    if is_linear_operator(A) and not hasattr(A, "__array_namespace__"):
        xp = array_namespace(np.empty(0))
        dtype = working_dtype(np.dtype(A.dtype), xp, name=name, allow_complex=allow_complex)
        return MatrixOperator(A, "linear_operator", A.shape, dtype, xp, "cpu")
    xp = array_namespace(A)
    dtype = working_dtype(A.dtype, xp, name=name, allow_complex=allow_complex)
    if is_sparse(A):
        if A.dtype != dtype:
            A = A.astype(dtype)  # a new sparse matrix: the caller's is untouched
        return MatrixOperator(A, "sparse", A.shape, dtype, xp, device_of(A))
    if A.dtype != dtype:
        A = xp.astype(A, dtype)
    kind = "dask" if is_dask(A) else "dense"
    return MatrixOperator(A, kind, A.shape, dtype, xp, device_of(A))
