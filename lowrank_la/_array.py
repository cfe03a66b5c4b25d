"""The one place that knows about array backends.

What lives here:

* the namespace and device of an input (NumPy, CuPy, Dask, array-api-strict, torch: through
  array-api-compat; scipy/cupyx sparse matrices and LinearOperators map to the NumPy or CuPy namespace);
* the dtype policy: float32 stays float32, float64 stays float64, float16 computes in float32, integers and
  booleans promote to float64, complex is kept where a function allows it and refused otherwise;
* ``rng`` normalisation in scipy's SPEC-7 style, and reproducible independent streams for chunks;
* thin helpers for small dense work (economic QR, CholeskyQR2, the LU normaliser, small SVD, solves) that take
  the fast path per backend;
* ``ConvergenceWarning``, the result types ``SVDResult`` and ``SolverResult``, the sign rule ``flip_signs``;
* ``thread_limit``: bound the threads of BLAS and of the Numba kernels;
* the operator adapter ``as_operator``: block products ``A @ X`` and ``A.H @ Y`` for dense arrays, scipy and
  cupyx sparse matrices and arrays, LinearOperators and Dask arrays, counting passes over ``A`` and never
  densifying sparse input.
"""

from __future__ import annotations

import contextlib
import math
import numbers
from typing import Any, NamedTuple

import array_api_compat
import numpy as np
import scipy.linalg

from ._validate import check_int, check_matrix, check_shape_agrees, is_dask, is_linear_operator, is_sparse

__all__ = [
    "ConvergenceWarning",
    "MatrixOperator",
    "SVDResult",
    "SolverResult",
    "array_namespace",
    "as_operator",
    "as_rng",
    "cholesky_qr2",
    "device_of",
    "flip_signs",
    "is_cupy_namespace",
    "is_numpy_namespace",
    "lu_normalize",
    "one_blas_thread",
    "qr_econ",
    "random_normal",
    "solve",
    "spawn_rngs",
    "svd_small",
    "svd_tall",
    "thread_limit",
    "times_inverse_upper",
    "to_numpy",
    "working_dtype",
]


# --------------------------------------------------------------------------- shared result types

class ConvergenceWarning(UserWarning):
    """An iterative method stopped (iteration limit, breakdown) before meeting its tolerance."""


class SVDResult(NamedTuple):
    """A truncated SVD ``A ~ U @ diag(s) @ Vh`` with ``s`` descending.

    Attributes
    ----------
    U : (m, k) array
        Left singular vectors (orthonormal columns).
    s : (k,) array
        Singular values, descending.
    Vh : (k, n) array
        Right singular vectors, as rows.
    """

    U: Any
    s: Any
    Vh: Any


class SolverResult(dict):
    """Result of an iterative solver, in the style of ``scipy.optimize.OptimizeResult``.

    A dictionary whose keys are also attributes. Every solver sets at least ``converged`` (bool), ``n_iter``
    (int) and ``history`` (a dict of per-iteration arrays, such as the residual).

    Examples
    --------
    >>> res = SolverResult(x=1.0, converged=True, n_iter=3, history={"residual": [1.0, 0.1, 0.01]})
    >>> res.converged, res.n_iter
    (True, 3)
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    __setattr__ = dict.__setitem__
    __delattr__ = dict.__delitem__

    def __repr__(self) -> str:
        width = max((len(k) for k in self), default=0)
        lines = []
        for key, value in self.items():
            text = repr(value) if not hasattr(value, "shape") else f"<array {tuple(value.shape)}>"
            lines.append(f"{key.rjust(width)}: {text}")
        return "\n".join(lines)

    def __dir__(self):
        return list(self.keys())


# --------------------------------------------------------------------------- namespaces and devices

def array_namespace(*arrays):
    """Array-API namespace shared by `arrays` (Python scalars and None are ignored).

    scipy.sparse matrices and arrays and LinearOperators map to NumPy's namespace; cupyx sparse matrices to
    CuPy's. The namespaces are array-api-compat's wrappers, so ``xp.linalg`` and ``xp.isdtype`` are there for
    every backend.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> array_namespace(np.ones(3), sp.eye(3, format="csr")).__name__
    'array_api_compat.numpy'
    """
    proxies = []
    for a in arrays:
        if a is None or isinstance(a, (numbers.Number, str)):
            continue
        if is_sparse(a):
            proxies.append(a.data)
        elif is_linear_operator(a) and not hasattr(a, "__array_namespace__"):
            proxies.append(np.empty(0))
        else:
            proxies.append(a)
    if all(type(p) is np.ndarray for p in proxies):  # the common case, without array-api-compat's dispatch
        return _NUMPY_NAMESPACE
    return array_api_compat.array_namespace(*proxies)


_NUMPY_NAMESPACE = array_api_compat.array_namespace(np.empty(0))


def is_numpy_namespace(xp) -> bool:
    """True if `xp` is NumPy's namespace (plain or array-api-compat's wrapper)."""
    return array_api_compat.is_numpy_namespace(xp)


def is_cupy_namespace(xp) -> bool:
    """True if `xp` is CuPy's namespace (plain or array-api-compat's wrapper)."""
    return array_api_compat.is_cupy_namespace(xp)


def to_numpy(x):
    """A NumPy array with the values of `x`: NumPy arrays as they are, Dask arrays computed, CuPy arrays copied
    from the device, other array-API arrays through ``numpy.asarray``.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.arange(3.0)
    >>> to_numpy(a) is a
    True
    """
    if isinstance(x, np.ndarray):
        return x
    if is_dask(x):
        x = x.compute()
    if type(x).__module__.split(".")[0] == "cupy":
        return x.get()
    return np.asarray(x)


def device_of(x):
    """Device of an array or sparse matrix (``"cpu"`` for NumPy, scipy.sparse and LinearOperators)."""
    if is_sparse(x):
        x = x.data
    elif is_linear_operator(x) and not hasattr(x, "__array_namespace__"):
        return "cpu"
    return array_api_compat.device(x)


def working_dtype(dtype, xp, *, name: str = "A", allow_complex: bool = False):
    """The dtype a computation on data of `dtype` runs in, by the library's policy.

    float32 and float64 are kept; float16 computes in float32; booleans and integers promote to float64;
    complex64/complex128 are kept when `allow_complex`, refused with ``TypeError`` otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> xp = array_namespace(np.ones(1))
    >>> working_dtype(np.float32, xp), working_dtype(np.int64, xp), working_dtype(np.bool_, xp)
    (dtype('float32'), dtype('float64'), dtype('float64'))
    """
    if xp.isdtype(dtype, "real floating"):
        result = xp.float32 if _itemsize(dtype, xp) <= 4 else dtype
    elif xp.isdtype(dtype, "complex floating"):
        if not allow_complex:
            raise TypeError(f"{name} has complex dtype {dtype}, which this function does not support; "
                            "pass the real part or use a complex-capable routine")
        result = dtype
    elif xp.isdtype(dtype, ("bool", "integral")):
        result = xp.float64
    else:
        raise TypeError(f"{name} must hold numbers, got dtype {dtype}")
    return np.dtype(result) if is_numpy_namespace(xp) or is_cupy_namespace(xp) else result


def _itemsize(dtype, xp) -> int:
    return xp.finfo(dtype).bits // 8


# --------------------------------------------------------------------------- randomness

def as_rng(rng=None, xp=None, *, name: str = "rng"):
    """Normalise `rng` into a generator for the namespace `xp` (scipy's SPEC-7 rules).

    ``None`` gives fresh OS entropy, an int seeds a new generator, a ``numpy.random.Generator`` (or a
    ``numpy.random.SeedSequence``) is used as is. For CuPy arrays a ``cupy.random.Generator`` is also
    accepted, and ints and NumPy generators are turned into one, so the draws happen on the device. Every
    other namespace (Dask, array-api-strict, ...) draws on the host with NumPy and converts.

    Examples
    --------
    >>> a = as_rng(0).standard_normal(3)
    >>> b = as_rng(0).standard_normal(3)
    >>> bool((a == b).all())
    True
    >>> as_rng(-1)
    Traceback (most recent call last):
    ...
    ValueError: rng=-1 must satisfy rng >= 0
    """
    if xp is not None and is_cupy_namespace(xp):
        import cupy

        if isinstance(rng, cupy.random.Generator):
            return rng
        if isinstance(rng, np.random.Generator):
            return cupy.random.default_rng(int(rng.integers(2**63 - 1)))
        return cupy.random.default_rng(None if rng is None else _seed(rng, name))
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.RandomState):
        raise TypeError(f"{name} must be None, an int or a numpy.random.Generator; the legacy RandomState is "
                        "not accepted (use numpy.random.default_rng(seed))")
    return np.random.default_rng(_seed(rng, name))


def _seed(rng, name: str) -> int:
    if isinstance(rng, (bool, np.bool_)) or not isinstance(rng, numbers.Integral):
        raise TypeError(f"{name} must be None, an int or a numpy.random.Generator, got {type(rng).__name__}")
    return check_int(rng, name, low=0)


def spawn_rngs(rng, n: int) -> list:
    """`n` independent NumPy generators derived from `rng`, for reproducible per-chunk streams.

    The same `rng` (the same seed) gives the same list, whatever the order in which the chunks are computed,
    which is what makes Dask results reproducible.

    Examples
    --------
    >>> [g.integers(100) for g in spawn_rngs(7, 3)] == [g.integers(100) for g in spawn_rngs(7, 3)]
    True
    """
    gen = as_rng(rng)
    return list(gen.spawn(check_int(n, "n", low=0)))


def random_normal(gen, shape, *, dtype, xp, device=None):
    """Standard normal draws of `shape` in `dtype`, in namespace `xp` on `device`.

    NumPy and CuPy draw natively (float32 is drawn as float32, not drawn in float64 and cast); other
    namespaces draw on the host with a NumPy generator and convert.
    """
    if is_cupy_namespace(xp):
        return gen.standard_normal(shape, dtype=np.dtype(dtype))
    host_dtype = np.float32 if xp.finfo(dtype).bits == 32 else np.float64
    draws = gen.standard_normal(shape, dtype=host_dtype)
    if is_numpy_namespace(xp):
        return draws
    return xp.asarray(draws, device=device)


# --------------------------------------------------------------------------- small dense work

#: Why the small dense work of the iterative methods calls ``numpy.linalg`` rather than ``scipy.linalg``.
SMALL_WORK_NOTE = """\
NumPy and scipy wheels each bundle their own OpenBLAS, with their own thread pools. A pool's threads spin for a
while after each call before they sleep, so alternating between the two libraries in a loop (a GEMM in NumPy, a
triangular solve in scipy, ...) makes each pool's threads wait for cores the other pool's spinning threads hold.
On 2 cores this made a block Krylov SVD of a 6000 x 3000 matrix 2.5x slower (0.62 s against 0.25 s), the large
GEMMs included. The loops therefore keep to NumPy's library: ``numpy.linalg.qr``, ``svd``, ``eigh``,
``cholesky``, and ``inv`` of small triangles applied by GEMM instead of scipy's triangular solves. scipy remains
where NumPy has no equivalent (pivoted LU) and in one-off work outside the loops."""

def qr_econ(X, xp=None):
    """Economic QR ``X = Q R`` of a tall (m, l) block; returns ``(Q, R)``.

    NumPy goes through ``numpy.linalg.qr`` (LAPACK geqrf/orgqr, dtype kept; see :data:`SMALL_WORK_NOTE` for why
    not scipy's), CuPy through cuSOLVER, anything else through ``xp.linalg.qr``.
    """
    xp = array_namespace(X) if xp is None else xp
    return (np.linalg if is_numpy_namespace(xp) else xp.linalg).qr(X, mode="reduced")


def times_inverse_upper(X, R, xp=None):
    """``X @ inv(R)`` for an upper-triangular (l, l) `R`.

    On NumPy the (small) inverse is formed (``numpy.linalg.inv``: see :data:`SMALL_WORK_NOTE`) and applied by a
    GEMM, which runs at full BLAS-3 speed where a triangular solve with ``m`` right-hand sides in the wrong memory
    order is several times slower; CholeskyQR2's second round corrects the rounding this adds.
    """
    xp = array_namespace(X) if xp is None else xp
    if is_numpy_namespace(xp):
        return X @ np.linalg.inv(R)
    if is_cupy_namespace(xp):
        import cupyx.scipy.linalg

        return cupyx.scipy.linalg.solve_triangular(R, X.T, trans="T", lower=False).T
    return xp.linalg.solve(R.T, X.T).T


def cholesky_qr2(X, xp=None):
    """Orthonormalise the columns of a tall (m, l) block by CholeskyQR2; returns ``Q`` (m, l).

    Two rounds of ``G = X^H X = R^H R, X <- X R^{-1}``: BLAS-3 only, so it is the fastest orthonormaliser on
    GPUs and for very tall blocks. It needs ``cond(X) < ~1/sqrt(eps)``; when the Cholesky factorisation
    breaks down, or yields non-finite values, it falls back to Householder QR.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((100, 5))
    >>> Q = cholesky_qr2(X)
    >>> bool(np.allclose(Q.T @ Q, np.eye(5)))
    True
    """
    xp = array_namespace(X) if xp is None else xp
    factors = _cholqr2(X, xp)
    return qr_econ(X, xp)[0] if factors is None else factors[0]


def _cholqr2(X, xp):
    """``(Q, R)`` of ``X = Q R`` by CholeskyQR2, or None where a Cholesky factorisation breaks down."""
    hermitian = xp.isdtype(X.dtype, "complex floating")
    Q, R = X, None
    for _ in range(2):
        G = xp.matmul(xp.conj(Q.T) if hermitian else Q.T, Q)
        try:
            L = xp.linalg.cholesky(G)
        except Exception:  # LinAlgError of whichever backend: not positive definite
            return None
        Rj = xp.conj(L.T) if hermitian else L.T
        Q = times_inverse_upper(Q, Rj, xp)
        if not bool(xp.all(xp.isfinite(Q))):
            return None
        R = Rj if R is None else Rj @ R
    return Q, R


def svd_tall(X, xp=None, *, k=None):
    """Thin SVD of a tall (m, l) block, ``m >> l``, from small factorisations: the top `k` triplets, or all.

    ``X = Q R`` by two BLAS-3 CholeskyQR rounds, then ``R = W diag(s) Vh`` and ``U = Q W``: a few GEMMs with
    the tall block instead of LAPACK's bidiagonalisation of it (about 10x faster for 3000 x 180 on 2 cores).
    The factorisation is backward stable, like gesdd, while ``cond(X) < 0.1 / sqrt(eps)`` (CholeskyQR2's
    condition); beyond it, or where a Cholesky factorisation breaks down, it is :func:`svd_small`.

    With `k`, only the top `k` triplets are returned, and where they are well separated from rounding
    (``eps s_1^2 / s_k^2 < 1e-10``) they come from the eigenpairs of the Gram matrix ``X^H X`` (one GEMM and an
    (l, l) eigensolver): the relative error of ``s_i`` and the loss of orthogonality of ``U`` are then below
    ``eps s_1^2 / s_k^2``, under 1e-10.

    Single precision blocks are factored in double precision (they are small), and the factors returned in the
    input's dtype.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((500, 8))
    >>> U, s, Vh = svd_tall(X)
    >>> bool(np.allclose(s, np.linalg.svd(X, compute_uv=False)) and np.allclose(U.T @ U, np.eye(8)))
    True
    >>> U3, s3, Vh3 = svd_tall(X, k=3)
    >>> bool(np.allclose(s3, s[:3]) and np.allclose(np.abs(U3.T @ U[:, :3]), np.eye(3)))
    True
    """
    xp = array_namespace(X) if xp is None else xp
    m, l = X.shape
    if m < 2 * l:
        return _top(svd_small(X, xp), k)
    dtype = X.dtype
    wide = xp.float64 if dtype == xp.float32 else xp.complex128 if dtype == xp.complex64 else dtype
    Xw = xp.astype(X, wide)  # single precision factors in double: cond(X) up to ~1e7 instead of ~300
    Xh = xp.conj(Xw.T) if xp.isdtype(wide, "complex floating") else Xw.T
    eps = float(xp.finfo(wide).eps)

    def back(U, s, Vh):
        return SVDResult(xp.astype(U, dtype), xp.astype(s, xp.finfo(dtype).dtype), xp.astype(Vh, dtype))

    if k is not None and k < l:
        lam, Z = xp.linalg.eigh(Xh @ Xw)
        lam, Z = xp.flip(lam[l - k:]), xp.flip(Z[:, l - k:], axis=1)  # the top k, descending
        if float(lam[-1]) > 1e10 * eps * float(lam[0]):
            s = xp.sqrt(lam)
            Zh = xp.conj(Z.T) if xp.isdtype(wide, "complex floating") else Z.T
            return back((Xw @ Z) / xp.reshape(s, (1, -1)), s, Zh)
    factors = _cholqr2(Xw, xp)
    if factors is not None:
        W, s, Vh = svd_small(factors[1], xp)
        if float(s[-1]) > 10 * math.sqrt(eps) * float(s[0]):
            return _top(back(factors[0] @ W, s, Vh), k)
    return _top(svd_small(X, xp), k)


def _top(result, k):
    U, s, Vh = result
    return result if k is None else SVDResult(U[:, :k], s[:k], Vh[:k, :])


def lu_normalize(X, xp=None):
    """The LU normaliser of a tall (m, l) block: ``P L`` of ``X = P L U`` (unit lower L).

    Cheaper than QR and enough to keep the columns of a power iteration from collapsing onto the top singular
    vector; the basis is not orthonormal. Falls back to QR on backends without a pivoted LU.
    """
    xp = array_namespace(X) if xp is None else xp
    if is_numpy_namespace(xp):
        return scipy.linalg.lu(X, permute_l=True, check_finite=False)[0]
    if is_cupy_namespace(xp):
        import cupyx.scipy.linalg

        return cupyx.scipy.linalg.lu(X, permute_l=True)[0]
    return qr_econ(X, xp)[0]


def svd_small(X, xp=None):
    """Thin SVD ``X = U diag(s) Vh`` of a small dense block; returns ``SVDResult``.

    NumPy uses LAPACK gesdd and retries with the slower, more robust gesvd if gesdd fails to converge.
    """
    xp = array_namespace(X) if xp is None else xp
    if is_numpy_namespace(xp):
        try:
            return SVDResult(*np.linalg.svd(X, full_matrices=False))
        except np.linalg.LinAlgError:
            return SVDResult(*scipy.linalg.svd(X, full_matrices=False, check_finite=False,
                                               lapack_driver="gesvd"))
    return SVDResult(*xp.linalg.svd(X, full_matrices=False))


def solve(A, B, xp=None, *, assume_a: str = "gen"):
    """Solve ``A X = B`` for a small square `A` (``assume_a="pos"`` uses Cholesky on NumPy)."""
    xp = array_namespace(A, B) if xp is None else xp
    if is_numpy_namespace(xp):
        return scipy.linalg.solve(A, B, assume_a=assume_a, check_finite=False)
    return xp.linalg.solve(A, B)


def flip_signs(U, Vh=None, xp=None):
    """Make the largest-magnitude entry of each column of `U` positive, flipping the rows of `Vh` to match.

    For complex input the column is rotated by a unit phase so that entry is real and positive, and the row
    of `Vh` by the opposite phase, so that ``U @ diag(s) @ Vh`` is unchanged.

    This is lowrank_la's one sign rule for SVD-like results (``flip_sign=True`` everywhere), so that results
    are deterministic and comparable across backends and libraries.

    Examples
    --------
    >>> import numpy as np
    >>> U, Vh = flip_signs(np.array([[1.0], [-3.0]]), np.array([[2.0, 1.0]]))
    >>> U.ravel().tolist(), Vh.ravel().tolist()
    ([-1.0, 3.0], [-2.0, -1.0])
    """
    xp = array_namespace(U) if xp is None else xp
    rows = xp.argmax(xp.abs(U), axis=0)
    picked = xp.take_along_axis(U, xp.reshape(rows, (1, -1)), axis=0)[0, ...]
    if xp.isdtype(U.dtype, "complex floating"):  # complex: rotate the largest entry onto the positive reals
        size = xp.abs(picked)
        signs = xp.where(size > 0, xp.conj(picked) / xp.where(size > 0, size, 1), xp.ones_like(picked))
    else:
        signs = 1 - 2 * xp.astype(picked < 0, U.dtype)
    U = U * signs
    if Vh is None:
        return U
    return U, Vh * xp.reshape(xp.conj(signs) if xp.isdtype(U.dtype, "complex floating") else signs, (-1, 1))


# --------------------------------------------------------------------------- threads

@contextlib.contextmanager
def thread_limit(n: int | None):
    """Bound the threads of BLAS/LAPACK (through threadpoolctl) and of the Numba kernels inside a block.

    ``None`` changes nothing.

    Examples
    --------
    >>> with thread_limit(1):
    ...     pass
    """
    if n is None:
        yield
        return
    n = check_int(n, "n", low=1)
    import numba
    from threadpoolctl import threadpool_limits

    previous = numba.get_num_threads()
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        numba.set_num_threads(previous)


_BLAS_CONTROLLER = []  # one threadpoolctl controller, made on first use (making one rescans the libraries)


def one_blas_thread():
    """Context: BLAS and LAPACK on one thread, for loops of small dense work.

    A multithreaded BLAS call on a k x k matrix costs more in waking and synchronising threads than in
    arithmetic (and far more on a loaded machine, or where NumPy's and scipy's pools alternate: see
    :data:`SMALL_WORK_NOTE`). Entering and leaving costs about 30 us.

    Examples
    --------
    >>> import numpy as np
    >>> with one_blas_thread():
    ...     s = np.linalg.svd(np.eye(3), compute_uv=False)
    """
    if not _BLAS_CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _BLAS_CONTROLLER.append(ThreadpoolController())
    return _BLAS_CONTROLLER[0].limit(limits=1, user_api="blas")


# --------------------------------------------------------------------------- the operator adapter

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

    Attributes
    ----------
    kind : {"dense", "sparse", "linear_operator", "dask"}
    shape : (int, int)
    dtype : the working dtype of the products (see :func:`working_dtype`)
    xp : the array-API namespace of the products
    device : the device of ``A``
    n_passes : int
        Products formed so far (with Dask, products built; each reads ``A`` once when computed).
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
        # direction scatters, and stays with scipy
        real_scipy = kind == "sparse" and is_numpy_namespace(xp) and not np.iscomplexobj(A.data)
        self._row_kernel = getattr(A, "format", None) if real_scipy else None

    # -- the public face
    @property
    def shape(self) -> tuple[int, int]:
        return self._shape[::-1] if self._adjoint else self._shape

    @property
    def n_passes(self) -> int:
        return self._counter.count

    def reset_passes(self) -> None:
        """Set the pass counter back to zero."""
        self._counter.count = 0

    @property
    def is_complex(self) -> bool:
        return bool(self.xp.isdtype(self.dtype, "complex floating"))

    @property
    def H(self) -> MatrixOperator:
        """The adjoint (conjugate transpose), sharing this operator's pass counter."""
        return MatrixOperator(self._A, self.kind, self._shape, self.dtype, self.xp, self.device,
                              counter=self._counter, adjoint=not self._adjoint)

    @property
    def T(self) -> MatrixOperator:
        """The transpose; for real matrices the same as :attr:`H`."""
        if self.is_complex:
            return _ConjugatedOperator(self.H)
        return self.H

    def matmat(self, X):
        """``A @ X`` for a block `X` of shape (n, l) or a vector of shape (n,)."""
        check_shape_agrees("X.shape[0]", X.shape[0], self.shape[1], "the operator's shape[1]")
        self._counter.count += 1
        return self._rproduct(X) if self._adjoint else self._product(X)

    def rmatmat(self, Y):
        """``A^H @ Y`` for a block `Y` of shape (m, l) or a vector of shape (m,)."""
        return self.H.matmat(Y)

    __matmul__ = matmat

    def asarray(self, X):
        """`X` converted into this operator's namespace and device (no copy when it is there already)."""
        if self.kind == "dask":
            return X
        return self.xp.asarray(X, device=self.device) if not is_numpy_namespace(self.xp) else np.asarray(X)

    def __repr__(self) -> str:
        return (f"<MatrixOperator {self.shape[0]}x{self.shape[1]} {self.kind}, dtype={self.dtype}, "
                f"passes={self.n_passes}{', adjoint' if self._adjoint else ''}>")

    # -- the backends
    def _product(self, X):
        A = self._A
        if self.kind == "linear_operator":
            Y = A.matmat(X) if X.ndim == 2 else A.matvec(X)
            return self._as_result(Y)
        if self._numpy_dense and X.ndim == 2:
            return _dense_product(A, X, adjoint=False)
        if self._row_kernel == "csr" and _worth_a_kernel(X):
            return _csr_kernels().csr_matmat(A, X)
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
        if self.kind == "dask":
            A = A.T
            return (A @ Y.conj()).conj() if self.is_complex else A @ Y
        if self.is_complex:  # conj(A^T conj(Y)): avoids a conjugated copy of A
            return self.xp.conj(A.T @ self.xp.conj(Y))
        return A.T @ Y

    def _as_result(self, Y):
        Y = np.asarray(Y)
        return Y.astype(self.dtype, copy=False)


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


def _csr_kernels():
    from ._kernels import csr_dense  # Numba is loaded on first use only

    return csr_dense


class _ConjugatedOperator(MatrixOperator):
    """``conj(B)`` of an operator ``B``: ``conj(B) @ X = conj(B @ conj(X))``; used for complex transposes."""

    def __init__(self, base: MatrixOperator):
        super().__init__(base._A, base.kind, base._shape, base.dtype, base.xp, base.device,
                         counter=base._counter, adjoint=base._adjoint)

    def matmat(self, X):
        return self.xp.conj(super().matmat(self.xp.conj(X)))

    @property
    def H(self):
        return _ConjugatedOperator(super().H)

    @property
    def T(self):
        return super().H


def as_operator(A, *, name: str = "A", allow_complex: bool = False, check_finite: bool = True) -> MatrixOperator:
    """Wrap a matrix into a :class:`MatrixOperator` after validating it.

    Parameters
    ----------
    A : (m, n) array, sparse matrix or array, LinearOperator, or Dask array
        Dense arrays of any array-API namespace (NumPy, CuPy, array-api-strict, torch), scipy.sparse or
        cupyx.scipy.sparse matrices and arrays (kept sparse), ``scipy.sparse.linalg.LinearOperator``
        (anything with ``matmat``, ``rmatmat``, ``shape`` and ``dtype``), or a ``dask.array.Array``. Lists
        and ``numpy.matrix`` are converted with ``numpy.asarray``. A ``MatrixOperator`` is returned as is.
    name : str
        The argument's name in error messages.
    allow_complex : bool
        Accept complex input; otherwise it is refused with ``TypeError``.
    check_finite : bool
        Refuse NaN and Inf (in the stored entries, for sparse input). Dask arrays and LinearOperators
        cannot be checked without computing and are not.

    Returns
    -------
    MatrixOperator

    Raises
    ------
    ValueError
        If `A` is not 2-D, is empty, or holds NaN or Inf.
    TypeError
        If `A` is not a matrix, or has a dtype the function does not support.

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
    if isinstance(A, (list, tuple, np.matrix)):
        try:
            A = np.asarray(A)
        except ValueError:  # ragged nested lists
            A = np.empty(0, dtype=object)
        if A.dtype == object:
            raise TypeError(f"{name} must hold numbers; its entries could not be read as one numeric array")
    check_matrix(A, name, allow_complex=allow_complex, finite=check_finite)
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
